"""The features. Each module takes neutral turns and returns neutral replies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.router import Router

if TYPE_CHECKING:
    from bot.scheduler import ReminderHandler


def build_router() -> Router:
    """Every command, action and form the product offers, on every door."""
    from handlers.deliveries import retry_delivery, show_deliveries
    from handlers.directory import show_directory
    from handlers.engagements import CHANGING_STEPS, FORM_STEPS, engagements
    from handlers.engagements.events import record_attendance
    from handlers.exports import export, link_opened
    from handlers.forms import answer_in_chat, submit_page
    from handlers.home import show_home
    from handlers.membership import HOW_TO_JOIN, decide, invite, join
    from handlers.organisations import show_organisation
    from handlers.profile import show_profile_form
    from handlers.readiness import show_readiness

    router = Router()
    router.command(
        "profile", "see and change your organisation's profile", "providers", opens_form=True
    )(show_profile_form)
    router.command("directory", "browse and filter local providers", "commissioners")(
        show_directory
    )
    router.command(
        "readiness",
        "answer questions about costs, risk and capacity (or: readiness summary)",
        "providers",
        opens_form=True,
    )(show_readiness)
    router.command(
        "export", "download readiness answers or the directory as a spreadsheet", "commissioners"
    )(export)
    router.action("export.")(link_opened)
    router.command(
        "engagements",
        "pre-market engagement: take part, ask questions, book events (councils: set one up)",
        opens_form=FORM_STEPS,
        changes_things=CHANGING_STEPS,
    )(engagements)
    router.action("engagement.attended")(record_attendance)
    router.command("home", "what needs doing")(show_home)
    router.command("organisation", "see an organisation: yours in full, others' public details")(
        show_organisation
    )
    router.command(
        "join", "join your organisation with a code, or ask to join", changes_things=True
    )(join)
    router.command("invite", "get a code so a colleague can join your organisation", "providers")(
        invite
    )
    router.action("join.")(decide)
    router.command("deliveries", "messages Convene could not deliver, and why", "admins")(
        show_deliveries
    )
    router.action("deliveries.")(retry_delivery)
    router.unlinked_hint = HOW_TO_JOIN
    router.submissions = submit_page
    router.chat = answer_in_chat
    return router


def reminder_handlers() -> dict[str, ReminderHandler]:
    """Reminder kinds and the handler the due sweep calls for each."""
    from handlers.engagements import REMINDERS
    from handlers.readiness import REFRESH_KIND, remind_to_refresh

    return {REFRESH_KIND: remind_to_refresh, **REMINDERS}
