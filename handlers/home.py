"""Home: the person's open tasks (forms to finish, messages) in one place.

Home shows drafts and messages itself; every other section comes from the feature that
owns it (`Feature.home_sections`), so a new feature adds to Home without editing it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import as_utc, format_when
from bot.core.feature import Command, Feature, NavLink
from bot.core.reply import Button, Message, Reply, Section
from bot.core.turn import Door, Turn
from bot.services import Services
from handlers import features
from handlers.forms import purpose_for
from handlers.membership import JOIN_PATH
from handlers.organisations import FIND_PATH
from storage.forms import definition_at
from storage.models import FormResponse, InboxItem, ResponseState


async def show_home(turn: Turn, services: Services) -> list[Reply]:
    assert turn.actor is not None
    actor = turn.actor
    sections: list[Section] = []
    async with services.db.session() as session:
        member_of = actor.member_of()
        if member_of:
            drafts = (
                await session.scalars(
                    select(FormResponse).where(
                        FormResponse.organisation_id.in_(member_of),
                        FormResponse.state == ResponseState.DRAFT,
                    )
                )
            ).all()
            now = services.clock.now()
            for draft in drafts:
                if not has_an_answer(draft):
                    # Opened and never answered: nothing to finish. Opening the form again
                    # resumes it; one nobody came back to for a while is tidied away.
                    if draft.respondent_id == actor.person_id and (
                        as_utc(draft.updated_at) < now - UNANSWERED_DRAFTS_KEPT
                    ):
                        await session.delete(draft)
                    continue
                sections.append(
                    Section(
                        heading="Form to finish",
                        text=f"{await _form_title(session, draft)}, last saved "
                        f"{format_when(draft.updated_at, actor.timezone)}.",
                        buttons=_carry_on(draft),
                    )
                )
        for declared in features().home_sections():
            sections.extend(await declared.sections(session, actor, services))
        unread = await session.scalar(
            select(func.count())
            .select_from(InboxItem)
            .where(InboxItem.person_id == actor.person_id, InboxItem.read_at.is_(None))
        )
    if unread:
        sections.insert(
            0,
            Section(
                heading="Messages",
                text=f"You have {unread} new message{'s' if unread != 1 else ''}.",
            ),
        )
    if not sections:
        sections.append(Section(text="Nothing needs doing right now."))
    sections.extend(next_steps(turn))
    return [Message(title=f"Hello {actor.first_name}", sections=sections)]


#: How long a draft opened and never answered is kept, so opening it again soon resumes it.
UNANSWERED_DRAFTS_KEPT = timedelta(days=7)


def has_an_answer(draft: FormResponse) -> bool:
    """Whether the draft holds at least one answer (not only blanks from opening it)."""
    return any(value not in (None, "", [], {}) for value in (draft.answers or {}).values())


def _page_button(turn: Turn, label: str, path: str, command: str) -> Button:
    """A button to a web page (`/join`); on a chat door, the command the page runs."""
    if turn.door == Door.WEB:
        return Button(label=label, action=f"home.{command}", url=path)
    return Button(label=label, action=f"cmd.{command}")


def next_steps(turn: Turn) -> list[Section]:
    """Every person's Home ends with what they can do next, by role, so nobody lands on a
    page with nowhere to go."""
    assert turn.actor is not None
    actor = turn.actor
    steps: list[Section] = []
    if not actor.member_of() and not actor.is_commissioner and not actor.is_admin:
        steps.append(
            Section(
                heading="Join your organisation",
                text="You are not part of an organisation in Convene yet. If a colleague gave "
                "you a code, join with it. If not, ask your organisation's admins to let you in.",
                buttons=[
                    _page_button(turn, "Join with a code", JOIN_PATH, "join"),
                    _page_button(turn, "Find an organisation", FIND_PATH, "organisation"),
                ],
            )
        )
    if actor.member_of():
        steps.append(
            Section(
                heading="What you can do next",
                text="See work councils want to fund or buy, and say if you are interested. "
                "Keep your organisation's details up to date, so councils can find you.",
                buttons=[
                    Button(label="See opportunities", action="cmd.opportunities", style="primary"),
                    Button(label="Our organisation", action="cmd.organisation"),
                ],
            )
        )
    if actor.is_commissioner:
        steps.append(
            Section(
                heading="What you can do next",
                text="Plan or post work for local providers, and see who could do it.",
                buttons=[
                    Button(label="Opportunities", action="cmd.opportunities", style="primary"),
                    Button(label="Find providers", action="cmd.directory"),
                    Button(label="Readiness summary", action="cmd.readiness"),
                ],
            )
        )
    if actor.is_admin:
        steps.append(
            Section(
                heading="What you can do as a Convene admin",
                text="See messages Convene could not deliver, and try them again. Look up an "
                "organisation to see who belongs to it.",
                buttons=[
                    Button(label="Deliveries", action="cmd.deliveries", style="primary"),
                    _page_button(turn, "Find an organisation", FIND_PATH, "organisation"),
                ],
            )
        )
    return steps


def _carry_on(draft: FormResponse) -> list[Button]:
    """The button that reopens a draft: the command of whatever feature owns the form."""
    purpose = purpose_for(draft.form_key)
    if purpose is None:
        return []
    return [
        Button(
            label="Carry on",
            action=f"cmd.{purpose.command}",
            value=purpose.resume(draft),
            style="primary",
        )
    ]


async def _form_title(session: AsyncSession, draft: FormResponse) -> str:
    definition = await definition_at(session, draft.form_key, draft.form_version)
    return definition.title if definition else draft.form_key.replace("_", " ").capitalize()


FEATURE = Feature(
    name="home",
    nav=(
        NavLink("Dashboard", "dashboard", "commissioners", order=0, fallback="home"),
        NavLink("Home", "home", order=1),
    ),
    commands=(Command("home", "what needs doing", show_home),),
)
