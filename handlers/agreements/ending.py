"""Ending an agreement (issue 15): `agreements end N`, a form for the council's team only
(the day, why: it reached its end date, it was ended early, or the work was finished; and
notes), on every door.

Ending it stops what no longer makes sense after that day: check-ins due later and their
chases (`monitoring.py` schedules them), and every key-date reminder still waiting
(`key_dates.py`). Both are cancelled by their reminder kind and target, without changing
those modules. An agreement ended early now ends on that day, so it can no longer be
varied.

Then, by the legal data in force on the start day: for a public contract (not a grant, not
below the threshold; light-touch ones included) a contract termination notice (UK11) is due
within 30 days (s.80): the team is reminded every week, at the start of a working day,
until it records the identifier (`agreements termination N id=...`). Where s.71 applies,
a last performance assessment is owed (`assessments.py`). Ending twice, ending before the
start, and a provider trying are refused; each refusal changes nothing and is on the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_date
from bot.core.forms import FormDefinition
from bot.core.law import LawError
from bot.core.law.performance import termination_notice_due, termination_notice_required
from bot.core.reply import Button, Fact, Message, Notice, Reply, Section, command_ref
from bot.core.turn import Turn
from bot.core.words import counted
from bot.services import Services
from handlers.agreements import key_dates
from handlers.agreements.assessments import (
    EVERY,
    ending_of,
    plan_final_assessment,
    tell_team,
    working_morning,
)
from handlers.agreements.common import (
    COMMAND,
    Refused,
    is_party,
    load_for_team,
    load_for_viewer,
    refuse,
    runs_it,
    today,
)
from handlers.agreements.monitoring import CHASE_KIND, CHECKIN_KIND, checkins_of, plan_of
from handlers.engagements.common import number_at
from handlers.forms import Subject, topic_number
from handlers.opportunities.setup import TeamForm
from storage import audit
from storage.agreement_tables import Agreement
from storage.assessment_tables import AgreementEnding, EndReason
from storage.models import FormResponse, Reminder
from storage.reminders import cancel_reminders, pending_reminders, schedule_reminder
from storage.visibility import Refusal

FORM_KEY = "agreement_ending"
NOTICE_KIND = "agreement.termination_notice"
NOTICE_TARGET = "agreement_ending"
#: How `monitoring.py` targets its reminders (a plan's check-ins, a check-in's chases).
CHECKIN_TARGET = "monitoring_plan"
CHASE_TARGET = "monitoring_checkin"

REASON_WORDS = {
    EndReason.EXPIRED: "It reached its end date",
    EndReason.TERMINATED_EARLY: "It was ended early",
    EndReason.COMPLETED: "The work was finished",
}


class AlreadyEnded(Refused):
    level = "info"


class BadEnding(Refused):
    """An end that doesn't fit the agreement, or a notice step out of order."""


@dataclass(frozen=True)
class Ended:
    agreement: Agreement
    ending: AgreementEnding
    cancelled: int
    final_assessment_owed: bool


# --- the service steps --------------------------------------------------------------------------


async def _not_already_ended(
    session: AsyncSession, turn: Turn, agreement: Agreement, attempted: str
) -> None:
    found = await ending_of(session, agreement.id)
    if found is not None:
        await refuse(session, turn, agreement, attempted, "already ended")
        raise AlreadyEnded(
            f"{agreement.title} already ended on {format_date(found.ended_on)} "
            f"({REASON_WORDS[EndReason(found.reason)].lower()}). Nothing was changed."
        )


async def cancel_after(session: AsyncSession, agreement: Agreement, ended_on: date) -> int:
    """Cancel check-ins due after `ended_on` and their chases, and every key-date reminder
    still waiting; how many."""
    cancelled = 0
    keys = await pending_reminders(
        session,
        kind=key_dates.REMINDER_KIND,
        target_type=key_dates.TARGET_TYPE,
        target_prefix=f"{agreement.id}:",
    )
    cancelled += await cancel_reminders(
        session,
        kind=key_dates.REMINDER_KIND,
        target_type=key_dates.TARGET_TYPE,
        target_ids=[r.target_id for r in keys],
    )
    plan = await plan_of(session, agreement.id)
    if plan is not None:
        later = [
            r.target_id
            for r in await pending_reminders(
                session, kind=CHECKIN_KIND, target_type=CHECKIN_TARGET, target_prefix=f"{plan.id}:"
            )
            if date.fromisoformat(r.target_id.split(":", 1)[1]) > ended_on
        ]
        cancelled += await cancel_reminders(
            session, kind=CHECKIN_KIND, target_type=CHECKIN_TARGET, target_ids=later
        )
    for checkin in await checkins_of(session, agreement.id):
        if checkin.due_on <= ended_on:
            continue
        chases = await pending_reminders(
            session, kind=CHASE_KIND, target_type=CHASE_TARGET, target_prefix=f"{checkin.id}:"
        )
        cancelled += await cancel_reminders(
            session,
            kind=CHASE_KIND,
            target_type=CHASE_TARGET,
            target_ids=[r.target_id for r in chases],
        )
    return cancelled


async def end_agreement(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    agreement_id: int | None,
    ended_on: date,
    reason: EndReason,
    notes: str | None,
) -> Ended:
    """Record the end; stop what comes after it; plan the notices and the last assessment."""
    assert turn.actor is not None
    agreement = await load_for_team(session, turn, agreement_id, "end", lock=True)
    await _not_already_ended(session, turn, agreement, "end")
    if ended_on < agreement.starts_on:
        await refuse(session, turn, agreement, "end", "before the start", on=ended_on.isoformat())
        raise BadEnding(
            f"It can't end ({format_date(ended_on)}) before it starts "
            f"({format_date(agreement.starts_on)}). Nothing was changed."
        )
    ending = AgreementEnding(
        agreement_id=agreement.id,
        ended_on=ended_on,
        reason=reason,
        notes=(notes or "").strip()[:2000] or None,
        planned_ends_on=agreement.ends_on,
        recorded_by=turn.actor.person_id,
        recorded_at=services.clock.now(),
        notice_required=False,
    )
    if ended_on < agreement.ends_on:
        agreement.ends_on = ended_on
    try:
        if termination_notice_required(agreement.grant_funded, agreement.below_threshold):
            ending.notice_required = True
            ending.notice_due_on = termination_notice_due(ended_on, agreement.starts_on)
    except LawError:
        pass  # began before the Act: its notices are not the Act's
    session.add(ending)
    await session.flush()
    cancelled = await cancel_after(session, agreement, ended_on)
    if ending.notice_required:
        await schedule_reminder(
            session,
            kind=NOTICE_KIND,
            due_at=working_morning(max(ended_on, today(services))),
            target_type=NOTICE_TARGET,
            target_id=agreement.id,
            payload={"agreement_id": agreement.id},
        )
    owed = await plan_final_assessment(session, agreement, ending, services)
    await audit.record_turn(
        session,
        turn,
        "agreement.ended",
        object_type="agreement",
        object_id=agreement.id,
        authority_id=agreement.authority_id,
        ended_on=ended_on.isoformat(),
        reason=str(reason),
        reminders_cancelled=cancelled,
        termination_notice=ending.notice_required,
        final_assessment=owed,
    )
    return Ended(agreement, ending, cancelled, owed)


async def record_notice(
    session: AsyncSession, turn: Turn, services: Services, agreement_id: int
) -> AgreementEnding:
    """The published contract termination notice's identifier; the reminders stop."""
    assert turn.actor is not None
    attempted = "record termination notice"
    agreement = await load_for_team(session, turn, agreement_id, attempted, lock=True)
    ending = await ending_of(session, agreement.id)
    identifier = (turn.args.get("id") or "").strip()
    problem: tuple[str, str] | None = None
    if ending is None:
        problem = (
            "not ended",
            "Record the end first: "
            f"{command_ref(f'{COMMAND} end {agreement.id}', 'the form to record the end')}.",
        )
    elif not ending.notice_required:
        problem = ("not needed", "This agreement needs no contract termination notice.")
    elif ending.notice_id:
        problem = ("already recorded", f"The notice {ending.notice_id} is already recorded.")
    elif not identifier:
        problem = (
            "no identifier",
            "Give the notice's identifier from Find a Tender: "
            f"{COMMAND} termination {agreement.id} id=...",
        )
    if problem is not None:
        await refuse(session, turn, agreement, attempted, problem[0])
        raise BadEnding(problem[1] + " Nothing was changed.")
    assert ending is not None
    ending.notice_id = identifier[:100]
    ending.notice_recorded_by = turn.actor.person_id
    ending.notice_recorded_at = services.clock.now()
    await cancel_reminders(
        session, kind=NOTICE_KIND, target_type=NOTICE_TARGET, target_ids=[str(agreement.id)]
    )
    await audit.record_turn(
        session,
        turn,
        "agreement.termination_notice_recorded",
        object_type="agreement",
        object_id=agreement.id,
        authority_id=agreement.authority_id,
        notice=ending.notice_id,
    )
    return ending


async def remind_to_record_notice(reminder: Reminder, services: Services) -> None:
    """Weekly until the contract termination notice's identifier is recorded."""
    agreement_id = int(reminder.payload.get("agreement_id") or reminder.target_id)
    async with services.db.session() as session:
        agreement = await session.get(Agreement, agreement_id)
        ending = await ending_of(session, agreement_id)
        if agreement is None or ending is None or not ending.notice_required or ending.notice_id:
            return
        await tell_team(
            session, agreement, notice_needed_message(agreement, ending), f"reminder:{reminder.id}"
        )
        await schedule_reminder(
            session,
            kind=NOTICE_KIND,
            due_at=working_morning(today(services) + EVERY),
            target_type=NOTICE_TARGET,
            target_id=agreement.id,
            payload={"agreement_id": agreement.id},
        )


# --- the words ------------------------------------------------------------------------------


def notice_needed_message(agreement: Agreement, ending: AgreementEnding) -> Message:
    due = format_date(ending.notice_due_on) if ending.notice_due_on else "soon"
    return Message(
        title=f"A contract termination notice is needed: {agreement.title}",
        text=(
            f"Agreement {agreement.id} ended on {format_date(ending.ended_on)}. Section 80 of "
            "the Procurement Act 2023 needs a contract termination notice (UK11) on Find a "
            f"Tender by {due}. Then record its identifier: "
            + command_ref(f"{COMMAND} termination {agreement.id}", "Record the termination notice")
            + ". We will remind you every week until you do."
        ),
        buttons=[
            Button(label="See the ending", action=f"cmd.{COMMAND}", value=f"ending {agreement.id}")
        ],
        who_sees="Only your council's commissioning team gets this.",
    )


def ending_section(ending: AgreementEnding, *, for_team: bool) -> Section:
    facts = [
        Fact(label="Ended on", value=format_date(ending.ended_on)),
        Fact(label="Why", value=REASON_WORDS[EndReason(ending.reason)]),
        Fact(label="Notes", value=ending.notes or "None"),
    ]
    if ending.planned_ends_on != ending.ended_on:
        facts.append(Fact(label="It was due to end on", value=format_date(ending.planned_ends_on)))
    if for_team and ending.notice_required:
        facts.append(
            Fact(
                label="Contract termination notice",
                value=f"Recorded: {ending.notice_id}"
                if ending.notice_id
                else f"Needed by {format_date(ending.notice_due_on)} (UK11, section 80), "
                "not recorded yet"
                if ending.notice_due_on
                else "Needed (UK11, section 80), not recorded yet",
            )
        )
    return Section(heading="How it ended", facts=facts)


def ended_replies(ended: Ended) -> list[Reply]:
    agreement, ending = ended.agreement, ended.ending
    text = (
        f"Recorded: {agreement.title} ended on {format_date(ending.ended_on)}. We stopped "
        f"{counted(ended.cancelled, 'reminder')} that came after it: check-ins, their chases and key "
        "dates. Your team and the organisations party to it can see this."
    )
    replies: list[Reply] = [Notice(level="success", text=text)]
    if ending.notice_required and ending.notice_due_on is not None:
        replies.append(
            Notice(
                level="warning",
                text="Publish a contract termination notice (UK11, section 80) by "
                f"{format_date(ending.notice_due_on)}. We will remind your team every week until "
                f"you record it: "
                + command_ref(
                    f"{COMMAND} termination {agreement.id}", "Record the termination notice"
                )
                + ".",
            )
        )
    if ended.final_assessment_owed:
        replies.append(
            Notice(
                level="warning",
                text="Section 71 needs a last assessment of performance against the key "
                "performance indicators: "
                + command_ref(f"{COMMAND} assess {agreement.id}", "the assessment form")
                + ". We will remind your team until it is decided.",
            )
        )
    return replies


# --- the form and the steps -----------------------------------------------------------------


def agreement_of_topic(topic: str | None) -> int | None:
    return topic_number(topic)


class EndingForm(TeamForm):
    """`agreements end N`, by the team."""

    form_key = FORM_KEY
    command = COMMAND

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        agreement_id = number_at(turn, 1)
        if agreement_id is None:
            return Refusal(
                f"Which one? Find it in the list: {command_ref(COMMAND, f'the {COMMAND} list')}."
            )
        try:
            agreement = await load_for_team(session, turn, agreement_id, "end")
            await _not_already_ended(session, turn, agreement, "end")
        except Refused as refused:
            return Refusal(refused.message)
        return Subject(
            None, agreement.authority_id, label=agreement.title, topic=f"ending:{agreement.id}"
        )

    async def check_against_records(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        answers: dict[str, Any],
    ) -> dict[str, str]:
        agreement = await session.get(Agreement, agreement_of_topic(response.topic) or 0)
        ended_on = answers.get("ended_on")
        if agreement is None or not ended_on:
            return {}
        day = date.fromisoformat(str(ended_on))
        if day < agreement.starts_on:
            await refuse(session, turn, agreement, "end", "before the start", on=day.isoformat())
            return {
                "ended_on": f"It can't end before it starts ({format_date(agreement.starts_on)})."
            }
        if day > agreement.ends_on + timedelta(days=366 * 10):
            return {"ended_on": "That is too far ahead. Check the year."}
        return {}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        answers = response.answers
        try:
            ended = await end_agreement(
                session,
                turn,
                services,
                agreement_of_topic(response.topic),
                date.fromisoformat(str(answers["ended_on"])),
                EndReason(str(answers["reason"])),
                str(answers.get("notes") or "") or None,
            )
        except Refused as refused:
            return [Notice(text=refused.message, level=refused.level)]
        return ended_replies(ended)


FORM = EndingForm()


async def termination(turn: Turn, services: Services, agreement_id: int) -> list[Reply]:
    """`agreements termination N id=...`: the contract termination notice is published."""
    async with services.db.session() as session:
        try:
            noted = await record_notice(session, turn, services, agreement_id)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
        return [
            Notice(
                level="success",
                text=f"Recorded the contract termination notice {noted.notice_id}. There will "
                "be no more reminders about it.",
            )
        ]


async def ending(turn: Turn, services: Services, agreement_id: int) -> list[Reply]:
    """`agreements ending N`: how it ended, for the team and the agreement's parties."""
    async with services.db.session() as session:
        try:
            agreement = await load_for_viewer(session, turn, agreement_id, "ending")
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
        for_team = runs_it(turn, agreement)
        assert for_team or await is_party(session, turn, agreement)
        found = await ending_of(session, agreement.id)
        if found is None:
            more = (
                " To record its end: "
                + command_ref(f"{COMMAND} end {agreement.id}", "the form to record the end")
                + "."
                if for_team
                else ""
            )
            # A button as well: on the web there is nowhere to type.
            buttons = (
                [
                    Button(
                        label="Record its end", action=f"cmd.{COMMAND}", value=f"end {agreement.id}"
                    )
                ]
                if for_team
                else []
            )
            return [
                Notice(
                    level="info", text=f"{agreement.title} has not ended.{more}", buttons=buttons
                )
            ]
        return [
            Message(
                title=f"How it ended: {agreement.title}",
                sections=[ending_section(found, for_team=for_team)],
                who_sees="Your council's commissioning team and the organisations party to "
                "this agreement see this. No other provider does.",
            )
        ]
