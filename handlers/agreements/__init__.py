"""The agreements register (issue 15, first slice): the grants and contracts a council has
made with providers, with their parties, money, dates and KPIs.

`agreements` lists them: the team's own council's register (with the s.52 KPI warnings and
the register file), or, for providers, only the agreements their organisation is party to.
Team steps: `new` (a new agreement; `new N` starts from opportunity N, carrying over its
title, route, value, areas and its confirmed consortium), `edit N`. `show N` is for the team
and the agreement's parties; anyone else is told it was not found, and the attempt is on
the record. `outcomes N` shows the agreement's outcomes framework and the proposals waiting;
`framework N ...` proposes a change to it, or accepts or declines the other side's
(`handlers/agreements/outcomes.py`). `invoice P` and `paid P` record a payment's invoice
and mark it paid (`handlers/agreements/payments.py`). Variations (`vary N`, `variations N`, `variation V ...`)
are in `handlers/agreements/variations.py`; files sent for a check-in (`upload C`, `evidence
C`) in `handlers/agreements/evidence.py`. Performance assessments (s.71: `assess N`, `rate
N`, `assessments N`, `assessment A ...`) are in `handlers/agreements/assessments.py`; ending
an agreement (`end N`, `ending N`, `termination N id=...` for s.80) in
`handlers/agreements/ending.py`. The register file is a web download for the team
(`/agreements/{council}/register.csv` or `.xlsx`), and the check-in history and variations
files are for the team and, with only their own rows, for providers
(`handlers/agreements/export.py`): linked from the list on every door.
"""

from __future__ import annotations

from bot.core.feature import Command, Feature, NavLink, SubCommand, link_pressed, run_step
from bot.core.reply import Button, Notice, Reply
from bot.core.turn import Door, Turn
from bot.services import Services
from handlers.agreements import (
    assessments,
    confirming,
    conversation,
    ending,
    evidence,
    framework_form,
    monitoring,
    monitoring_forms,
    outcomes,
    payments,
    reason_form,
    register,
    variation_form,
    variations,
)
from handlers.agreements.call_calendar import CallCalendars
from handlers.agreements.common import (
    COMMAND,
    Refused,
    is_party,
    load_for_viewer,
    runs_it,
    today,
)
from handlers.agreements.details import load_details
from handlers.agreements.export import PAGES, files_message
from handlers.agreements.feedback import feedback_reply
from handlers.agreements.key_date_views import upcoming_message
from handlers.agreements.key_dates import REMINDER_KIND, planned_for, remind_of_key_date, upcoming
from handlers.agreements.views import agreement_message, provider_register, team_register
from handlers.forms import form_step, open_form
from storage.agreements import (
    agreements_of_councils,
    agreements_of_organisations,
    kpis_of,
    parties_of,
    with_parties_and_kpi_counts,
)
from storage.models import Authority


def _links(turn: Turn, services: Services) -> str:
    """Web links: the same site on the web, the full address from chat."""
    return "" if turn.door == Door.WEB else services.settings.base_url


async def list_agreements(turn: Turn, services: Services) -> list[Reply]:
    """The team's register for each council it commissions for; a provider's own."""
    assert turn.actor is not None
    actor = turn.actor
    replies: list[Reply] = []
    async with services.db.session() as session:
        for authority_id in sorted(actor.commissioner_for()):
            authority = await session.get(Authority, authority_id)
            if authority is None:
                continue
            rows = await with_parties_and_kpi_counts(
                session, await agreements_of_councils(session, {authority_id})
            )
            replies.append(team_register(authority, rows, _links(turn, services)))
            replies.append(files_message(_links(turn, services), authority))
        if actor.member_of() or not actor.is_commissioner:
            rows = await with_parties_and_kpi_counts(
                session, await agreements_of_organisations(session, actor.member_of())
            )
            replies.append(provider_register(rows))
            if rows:
                replies.append(files_message(_links(turn, services), None))
    return replies


async def new(turn: Turn, services: Services) -> list[Reply]:
    return await open_form(turn, services, register.FORM)


async def show(turn: Turn, services: Services, agreement_id: int | None) -> list[Reply]:
    """`agreements show 4`: for the team and the agreement's parties only."""
    async with services.db.session() as session:
        try:
            agreement = await load_for_viewer(session, turn, agreement_id, "show")
        except Refused as refusal:
            # A way on from the refusal: on the web there is nowhere to type `agreements`.
            back = Button(label="See your agreements", action=f"cmd.{COMMAND}", value="list")
            return [Notice(text=refusal.message, level=refusal.level, buttons=[back])]
        for_team = runs_it(turn, agreement)
        assert for_team or await is_party(session, turn, agreement)
        dates = upcoming(await planned_for(session, agreement), today(services), for_team=for_team)
        kpis = await kpis_of(session, agreement.id)
        return [
            *agreement_message(
                agreement,
                await parties_of(session, agreement.id),
                kpis,
                await load_details(session, agreement),
                for_team=for_team,
                on=today(services),
            ),
            upcoming_message(dates, for_team=for_team),
            *await monitoring.monitoring_sections(
                session, turn, agreement, now=services.clock.now()
            ),
            await feedback_reply(session, turn, services, agreement),
            *await outcomes.summary_sections(session, turn, agreement),
            await variations.variations_reply(session, turn, agreement),
            *([await assessments.assessments_reply(session, turn, agreement)] if kpis else []),
        ]


#: Every step of `agreements`, each declared once with what it does.
STEPS: tuple[SubCommand, ...] = (
    SubCommand("new", new, opens_form=True),
    SubCommand("edit", new, opens_form=True),
    SubCommand("show", show, numbered=True),
    SubCommand(
        "plan",
        monitoring_forms.plan_step,
        numbered=True,
        changes_things=True,
        opens_form=True,
        confirm=confirming.PLAN,
    ),
    SubCommand(
        "accept", monitoring.accept, numbered=True, changes_things=True, confirm=confirming.accept
    ),
    SubCommand("monitoring", monitoring.show_monitoring, numbered=True),
    # Opening a check-in only records when it was first seen (the reporter's clock):
    # nothing anyone decided changes, so a link may open it without asking first.
    SubCommand("checkin", monitoring.open_checkin, numbered=True),
    SubCommand(
        "answer",
        monitoring_forms.answer_step,
        numbered=True,
        changes_things=True,
        opens_form=True,
        confirm=confirming.ANSWER,
    ),
    SubCommand(
        "reply",
        conversation.reply,
        numbered=True,
        changes_things=True,
        opens_form=True,
        confirm=confirming.REPLY,
    ),
    SubCommand(
        "call",
        conversation.call,
        numbered=True,
        changes_things=True,
        opens_form=True,
        confirm=confirming.CALL,
    ),
    SubCommand(
        "pick", conversation.pick, numbered=True, changes_things=True, confirm=confirming.PICK
    ),
    SubCommand("calendar", conversation.call_file, numbered=True),
    # Showing an indicator only records that the team looked (for the burden meter).
    SubCommand("indicator", conversation.indicator, numbered=True),
    SubCommand("away", monitoring.set_away, changes_things=True, confirm=confirming.AWAY),
    SubCommand(
        "upload", evidence.upload, numbered=True, changes_things=True, confirm=confirming.UPLOAD
    ),
    SubCommand("evidence", evidence.show_evidence, numbered=True),
    SubCommand(outcomes.SHOW_STEP, outcomes.show_framework, numbered=True),
    SubCommand(
        outcomes.CHANGE_STEP,
        framework_form.change_framework,
        numbered=True,
        changes_things=True,
        opens_form=True,
        confirm=confirming.FRAMEWORK,
    ),
    # Only open a form (a link to them changes nothing, so the web asks no confirmation).
    SubCommand("change", form_step(variation_form.FORM), opens_form=True),
    SubCommand("propose", form_step(framework_form.FORM), opens_form=True),
    SubCommand(
        "vary",
        variation_form.vary,
        numbered=True,
        changes_things=True,
        opens_form=True,
        confirm=confirming.VARY,
    ),
    SubCommand("variations", variations.show_variations, numbered=True),
    SubCommand(
        "variation",
        reason_form.variation,
        numbered=True,
        changes_things=True,
        confirm=confirming.variation,
    ),
    SubCommand("assess", form_step(assessments.FORM), opens_form=True),
    SubCommand(
        "rate", assessments.rate, numbered=True, changes_things=True, confirm=confirming.RATE
    ),
    SubCommand("assessments", assessments.show_assessments, numbered=True),
    SubCommand(
        "assessment",
        reason_form.assessment,
        numbered=True,
        changes_things=True,
        confirm=confirming.assessment,
    ),
    SubCommand("end", form_step(ending.FORM), opens_form=True),
    SubCommand("ending", ending.ending, numbered=True),
    SubCommand(
        "termination",
        ending.termination,
        numbered=True,
        changes_things=True,
        confirm=confirming.termination,
    ),
    SubCommand(
        "invoice", payments.invoice, numbered=True, changes_things=True, confirm=confirming.INVOICE
    ),
    SubCommand("paid", payments.paid, numbered=True, changes_things=True, confirm=confirming.PAID),
)
_STEPS = {step.name: step for step in STEPS}


async def agreements(turn: Turn, services: Services) -> list[Reply]:
    """Route `agreements <step> …` to the step; a bare `agreements` lists them."""
    return await run_step(COMMAND, _STEPS, turn, services, listing=list_agreements)


FEATURE = Feature(
    name="agreements",
    nav=(
        NavLink("Agreements", COMMAND, "providers", order=40),
        NavLink("Agreements", COMMAND, "commissioners", order=40),
    ),
    commands=(
        Command(
            COMMAND,
            "grants and contracts made with providers (councils: record yours)",
            agreements,
            subcommands=STEPS,
            teams_scopes=frozenset({"personal"}),
            private=True,
        ),
    ),
    actions={"agreements.": link_pressed},
    form_purposes=(
        register.FORM,
        assessments.FORM,
        ending.FORM,
        monitoring_forms.CHECKIN,
        monitoring_forms.PLAN,
        conversation.REPLY,
        conversation.CALL,
        variation_form.FORM,
        framework_form.FORM,
        reason_form.FORM,
    ),
    reminders={
        REMINDER_KIND: remind_of_key_date,
        monitoring.CHECKIN_KIND: monitoring.send_checkin,
        monitoring.CHASE_KIND: monitoring.chase_checkin,
        variations.NOTICE_KIND: variations.remind_to_record_notice,
        assessments.ASSESS_KIND: assessments.remind_to_assess,
        assessments.NOTICE_KIND: assessments.remind_to_record_notice,
        ending.NOTICE_KIND: ending.remind_to_record_notice,
    },
    pages=PAGES + evidence.PAGES,
    exports=(CallCalendars,),
)
