"""Variations to an agreement (issue 15): asked for, answered, decided, and counted
against the Act.

Either side asks: `agreements vary N what="..." why="..." value=-£5,000 term=30` (or
`ends=2028-09-30` for a new end date) `evidence="..."`. The other side answers:
`agreements variation V agree` or `... disagree reason="..."`. The council's approvers (its
commissioning team) decide: `agreements variation V approve reason="..."` or `reject`.
All of it, with the reasons, is on the record and shown with the agreement
(`agreements variations N`, and under `agreements show N`).

After each approval the running totals against the agreement's original value and term
come from `bot.core.monitoring.variations.running_totals` (which asks
`bot.core.law.modifications`): never a change notice for a light-touch contract, never
for a grant. When a contract change notice (UK10) is needed, the team is told at once and
reminded every week, at the start of a working day, until it records the notice's
identifier: `agreements variation V notice id=UK10-...`. An approved variation that
changes the end date moves the agreement's end date (and, through
`handlers.agreements.rescheduling`, the key dates and check-ins worked out from it); one that
changes the value writes it to the agreement's current value, while the value and end on
award are kept (`agreement_originals`) for the totals. A variation on an agreement that has
ended is refused. Every refusal changes nothing and is on the record.

`agreements vary N` alone (or `agreements change N`) opens the same request as a form
(`handlers.agreements.variation_form`). Either way, a change can be marked as one of a series
with earlier variations of the same agreement (`linked=3,5`): s.75(4)-(5) adds such changes
together, so the totals do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON, format_date
from bot.core.forms import Field, FieldType
from bot.core.forms.kinds import kind_of
from bot.core.forms.kinds.common import AnswerError
from bot.core.law import LawError
from bot.core.law.modifications import AwardedContract
from bot.core.monitoring.moments import start_of_working_day
from bot.core.monitoring.variations import RunningTotal, Variation, running_totals
from bot.core.reply import Button, Fact, Message, Notice, Reply, ReplyList, Section, command_ref
from bot.core.turn import Turn
from bot.core.words import counted
from bot.services import Services
from handlers.agreements.common import (
    COMMAND,
    NOT_FOUND,
    Refused,
    is_party,
    load_for_team,
    load_for_viewer,
    refuse,
    runs_it,
    today,
)
from handlers.agreements.key_dates import schedule_key_dates
from handlers.agreements.rescheduling import follow_new_end
from handlers.agreements.telling import tell
from handlers.engagements.common import words_of
from handlers.opportunities.common import money
from handlers.steps import load_locked
from storage import audit
from storage.agreement_tables import Agreement
from storage.agreements import parties_of
from storage.engagements import commissioning_team
from storage.models import Reminder
from storage.outbox import send_to_people
from storage.reminders import cancel_reminders, schedule_reminder
from storage.variation_link_tables import AgreementOriginal, VariationLink
from storage.variation_tables import AgreementVariation, Side, VariationState
from storage.variations import (
    approved_in_order,
    keep_original,
    links_of,
    original_of,
    party_people,
    variations_of,
)

NOTICE_KIND = "agreement.change_notice"
TARGET_TYPE = "agreement_variation"
#: How often the team is reminded to record a change notice.
EVERY = timedelta(days=7)

_MONEY = Field(id="value", type=FieldType.MONEY, label="Change in value", example="£5,000")

WHO_SEES = (
    "The council's commissioning team and the organisations party to this agreement see "
    "its variations. No other provider sees them."
)


class BadVariation(Refused):
    """A variation request or answer that can't be read or doesn't fit."""


class Ended(Refused):
    """The agreement has ended: it can't be varied."""


class WrongSide(Refused):
    """This person is on the wrong side, or the variation isn't at this stage."""


# --- reading a request (pure) ---------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    what: str
    why: str
    value_change_pence: int
    term_change_days: int
    new_ends_on: date | None
    evidence: str | None
    #: Earlier variations (their numbers) this one is one of a series with (s.75(4)).
    linked: tuple[int, ...] = ()


def read_linked(text: str) -> tuple[int, ...]:
    """'3, 5' or '3 and 5' as (3, 5); blank or 'none' as (). A `ValueError` otherwise."""
    words = text.replace(",", " ").replace(" and ", " ").split()
    if not words or [w.lower() for w in words] in (["none"], ["no"]):
        return ()
    return tuple(sorted({int(w.removeprefix("#")) for w in words}))


def signed_pence(text: str) -> int:
    """'-£5,000' as -500000; '+£1.2 million' or '£300' as positive pence."""
    raw = text.strip().replace("\u2212", "-")
    sign = -1 if raw.startswith("-") else 1
    return sign * int(kind_of(FieldType.MONEY).parse(_MONEY, raw.lstrip("+-").strip()))


def read_request(args: Mapping[str, str], agreement: Agreement) -> Request:
    """The request's words made sense of, or a `BadVariation` saying what to fix."""
    what, why = (args.get("what") or "").strip(), (args.get("why") or "").strip()
    if not what or not why:
        raise BadVariation(
            "Say what changes and why, for example: "
            f'{COMMAND} vary {agreement.id} what="Two more youth clubs" '
            'why="More young people asked" value=£20,000 term=90 evidence="Waiting list"'
        )
    value_text = args.get("value", "").strip()
    try:
        value_change = signed_pence(value_text) if value_text else 0
    except (AnswerError, ValueError) as error:
        raise BadVariation(
            f'We could not read "{value_text}" as an amount of money. Write the change in '
            "pounds, with a minus sign if it goes down, like £20,000 or -£5,000."
        ) from error
    term_text, ends_text = args.get("term", "").strip(), args.get("ends", "").strip()
    if term_text and ends_text:
        raise BadVariation(
            "Give the change in term in days (term=90) or the new end date "
            "(ends=2028-09-30), not both."
        )
    term_change, new_end = 0, None
    if term_text:
        try:
            term_change = int(term_text.removesuffix("days").strip())
        except ValueError as error:
            raise BadVariation(
                f'We could not read "{term_text}" as a number of days. Write it like '
                "term=90, or term=-30 to make it shorter."
            ) from error
    if ends_text:
        try:
            new_end = date.fromisoformat(ends_text)
        except ValueError as error:
            raise BadVariation(
                f'We could not read "{ends_text}" as a date. Write it like ends=2028-09-30.'
            ) from error
        if new_end < agreement.starts_on:
            raise BadVariation(
                f"The agreement can't end ({format_date(new_end)}) before it starts "
                f"({format_date(agreement.starts_on)})."
            )
        term_change = (new_end - agreement.ends_on).days
    elif term_change and agreement.ends_on + timedelta(days=term_change) < agreement.starts_on:
        raise BadVariation(
            f"Taking {abs(term_change)} days off would end the agreement before it starts "
            f"({format_date(agreement.starts_on)})."
        )
    if value_change == 0 and term_change == 0 and not what:
        raise BadVariation("Say what changes.")
    evidence = (args.get("evidence") or "").strip() or None
    linked_text = (args.get("linked") or "").strip()
    try:
        linked = read_linked(linked_text)
    except ValueError as error:
        raise BadVariation(
            f'We could not read "{linked_text}" as variation numbers. Write them like '
            "linked=3,5, or leave it out if this change is not one of a series."
        ) from error
    return Request(what[:2000], why[:2000], value_change, term_change, new_end, evidence, linked)


# --- the running totals, from the monitoring core ---------------------------------------------


@dataclass(frozen=True)
class Totals:
    """The running totals after each approved variation (in the order approved), or why
    there are none."""

    rows: list[tuple[AgreementVariation, RunningTotal]]
    original_value_pence: int | None
    original_ends_on: date
    why_none: str | None = None


def series_positions(
    approved: list[AgreementVariation], links: Mapping[int, set[int]]
) -> list[frozenset[int]]:
    """For each approved variation, the positions of the earlier approved ones in its series.

    A series is followed through its links (variation 3 with 2, and 2 with 1, puts 1, 2
    and 3 in one series): each was judged one of the same run of changes, so s.75(4) adds
    them together. Links to variations not approved, or approved later, count for nothing.
    """
    position = {v.id: i for i, v in enumerate(approved)}
    result: list[frozenset[int]] = []
    for here, variation in enumerate(approved):
        seen: set[int] = set()
        todo = list(links.get(variation.id, ()))
        while todo:
            other = todo.pop()
            if other in seen:
                continue
            seen.add(other)
            todo.extend(links.get(other, ()))
        result.append(frozenset(position[i] for i in seen if position.get(i, here) < here))
    return result


def totals_for(
    agreement: Agreement,
    variations: list[AgreementVariation],
    links: Mapping[int, set[int]] | None = None,
    original: AgreementOriginal | None = None,
) -> Totals:
    """Running totals against the value and term on award: the kept original when the
    agreement has been varied, else today's value and end less the approved changes."""
    approved = approved_in_order(variations)
    if original is not None:
        original_end, original_value = original.ends_on, original.value_pence
    else:
        original_end = agreement.ends_on - timedelta(days=sum(v.term_change_days for v in approved))
        original_value = agreement.value_pence
    if original_value is None or original_value <= 0:
        return Totals([], original_value, original_end, "no value was recorded for it")
    series = series_positions(approved, links or {})
    try:
        award = AwardedContract(
            value=Decimal(original_value) / 100,
            max_term_days=(original_end - agreement.starts_on).days + 1,
            started_on=agreement.starts_on,
            light_touch=agreement.light_touch,
        )
        totals = running_totals(
            award,
            [
                Variation(
                    value_change=Decimal(v.value_change_pence) / 100,
                    term_change_days=v.term_change_days,
                    linked_with=linked,
                )
                for v, linked in zip(approved, series, strict=True)
            ],
            grant=agreement.grant_funded,
        )
    except LawError:
        return Totals([], original_value, original_end, "it began before the Procurement Act 2023")
    except ValueError:
        return Totals([], original_value, original_end, "its dates or value don't add up")
    return Totals(list(zip(approved, totals, strict=True)), original_value, original_end)


async def totals_of(session: AsyncSession, agreement: Agreement) -> Totals:
    """`totals_for` with the agreement's variations, their links and its original terms."""
    return totals_for(
        agreement,
        await variations_of(session, agreement.id),
        await links_of(session, agreement.id),
        await original_of(session, agreement.id),
    )


# --- the service steps --------------------------------------------------------------------------


async def side_of(session: AsyncSession, turn: Turn, agreement: Agreement) -> Side:
    return Side.COUNCIL if runs_it(turn, agreement) else Side.PROVIDER


async def still_running(
    session: AsyncSession, turn: Turn, services: Services, agreement: Agreement
) -> None:
    """Refused (and on the record) once the agreement has ended."""
    if agreement.ends_on < today(services):
        await refuse(session, turn, agreement, "vary", "agreement has ended")
        raise Ended(
            f"This agreement ended on {format_date(agreement.ends_on)}, so it can't be "
            "changed. Nothing was changed. If the work goes on, record a new agreement."
        )


async def checked_request(
    session: AsyncSession, turn: Turn, agreement: Agreement, args: Mapping[str, str]
) -> Request:
    """The request read, and its links checked against the agreement's own variations;
    a `BadVariation` (on the record) otherwise."""
    try:
        request = read_request(args, agreement)
        earlier = {v.id for v in await variations_of(session, agreement.id)}
        strangers = [i for i in request.linked if i not in earlier]
        if strangers:
            raise BadVariation(
                f"Variation {strangers[0]} is not an earlier variation of this agreement, so "
                "this change can't be linked with it. Pick from the variations listed with "
                f"the agreement ({COMMAND} variations {agreement.id}). Nothing was changed."
            )
    except BadVariation as bad:
        await refuse(session, turn, agreement, "vary", "request does not read", said=bad.message)
        raise
    return request


async def request_variation(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    agreement_id: int,
    args: Mapping[str, str] | None = None,
) -> AgreementVariation:
    """Either side asks for a change (typed, or sent from the variation form as `args`):
    kept, on the record, and the other side and the approvers told at once."""
    assert turn.actor is not None
    agreement = await load_for_viewer(session, turn, agreement_id, "vary")
    await still_running(session, turn, services, agreement)
    request = await checked_request(session, turn, agreement, turn.args if args is None else args)
    side = await side_of(session, turn, agreement)
    organisation_id = None
    if side == Side.PROVIDER:
        mine = turn.actor.member_of()
        organisation_id = next(
            (
                p.organisation_id
                for p, _ in await parties_of(session, agreement.id)
                if p.organisation_id in mine
            ),
            None,
        )
    variation = AgreementVariation(
        agreement_id=agreement.id,
        side=side,
        requested_by=turn.actor.person_id,
        requested_for_organisation_id=organisation_id,
        what_changes=request.what,
        why=request.why,
        value_change_pence=request.value_change_pence,
        term_change_days=request.term_change_days,
        new_ends_on=request.new_ends_on,
        evidence=request.evidence,
        state=VariationState.REQUESTED,
        change_notice_required=False,
        created_at=services.clock.now(),
    )
    session.add(variation)
    await session.flush()
    for earlier in request.linked:
        session.add(VariationLink(variation_id=variation.id, linked_variation_id=earlier))
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        "agreement.variation_requested",
        object_type="agreement_variation",
        object_id=variation.id,
        authority_id=agreement.authority_id,
        agreement_id=agreement.id,
        side=str(side),
        linked_with=list(request.linked),
    )
    now = services.clock.now()
    team = [
        p.id
        for p in await commissioning_team(session, agreement.authority_id)
        if p.id != turn.actor.person_id
    ]
    if side == Side.COUNCIL:
        # The provider answers; the rest of the team (the approvers) are told it is coming.
        await tell(
            session,
            await party_people(session, agreement.id),
            asked_message(agreement, variation),
            f"variation:{variation.id}:asked:person:{{person_id}}",
            now,
        )
        await tell(
            session,
            team,
            approvers_message(agreement, variation),
            f"variation:{variation.id}:approvers:person:{{person_id}}",
            now,
        )
    else:
        # The team is both the other side and the approvers.
        await tell(
            session,
            team,
            asked_message(agreement, variation),
            f"variation:{variation.id}:asked:person:{{person_id}}",
            now,
        )
    return variation


async def _load_variation(
    session: AsyncSession, turn: Turn, variation_id: int, attempted: str
) -> tuple[AgreementVariation, Agreement]:
    variation = await load_locked(session, AgreementVariation, variation_id)
    if variation is None:
        await refuse(session, turn, None, attempted, "no such variation", variation=variation_id)
        raise WrongSide(NOT_FOUND)
    agreement = await load_for_viewer(session, turn, variation.agreement_id, attempted)
    return variation, agreement


async def answer_variation(
    session: AsyncSession, turn: Turn, services: Services, variation_id: int, agree: bool
) -> AgreementVariation:
    """The other side agrees or disagrees (a reason is needed to disagree)."""
    assert turn.actor is not None
    attempted = "agree to variation" if agree else "disagree with variation"
    variation, agreement = await _load_variation(session, turn, variation_id, attempted)
    side = await side_of(session, turn, agreement)
    reason = (turn.args.get("reason") or "").strip()
    problem = None
    if variation.state != VariationState.REQUESTED:
        problem = (
            "already answered",
            "This variation has already been answered. Nothing was changed.",
        )
    elif side == variation.side:
        problem = (
            "same side",
            "Your side asked for this variation, so the other side answers it. Nothing was "
            "changed.",
        )
    elif not agree and not reason:
        problem = (
            "no reason",
            f'Say why you disagree: {COMMAND} variation {variation.id} disagree reason="...". '
            "Nothing was changed.",
        )
    if problem is not None:
        await refuse(session, turn, agreement, attempted, problem[0], variation=variation.id)
        raise WrongSide(problem[1])
    variation.state = VariationState.AGREED if agree else VariationState.DISAGREED
    variation.other_side_agreed = agree
    variation.response_reason = reason or None
    variation.responded_by = turn.actor.person_id
    variation.responded_at = services.clock.now()
    await audit.record_turn(
        session,
        turn,
        "agreement.variation_answered",
        object_type="agreement_variation",
        object_id=variation.id,
        authority_id=agreement.authority_id,
        agreement_id=agreement.id,
        agreed=agree,
        reason=reason or None,
    )
    return variation


@dataclass(frozen=True)
class Decided:
    variation: AgreementVariation
    agreement: Agreement
    totals: Totals
    notice_required: bool


async def decide_variation(
    session: AsyncSession, turn: Turn, services: Services, variation_id: int, approve: bool
) -> Decided:
    """The council's approvers approve or reject, with a reason."""
    assert turn.actor is not None
    attempted = "approve variation" if approve else "reject variation"
    variation = await load_locked(session, AgreementVariation, variation_id)
    if variation is None:
        await refuse(session, turn, None, attempted, "no such variation", variation=variation_id)
        raise WrongSide(NOT_FOUND)
    agreement = await load_for_team(session, turn, variation.agreement_id, attempted, lock=True)
    reason = (turn.args.get("reason") or "").strip()
    problem = None
    if variation.state in (VariationState.APPROVED, VariationState.REJECTED):
        problem = (
            "already decided",
            "This variation has already been decided. Nothing was changed.",
        )
    elif variation.state == VariationState.REQUESTED:
        who = "the provider" if variation.side == Side.COUNCIL else "your team"
        problem = (
            "not answered",
            f"The other side has not answered yet: {who} must agree or disagree first. "
            "Nothing was changed.",
        )
    elif approve and variation.state == VariationState.DISAGREED:
        problem = (
            "other side disagreed",
            "The other side disagreed, so this variation can't be approved. Reject it, or "
            "ask for a new one. Nothing was changed.",
        )
    elif not reason:
        word = "approve" if approve else "reject"
        problem = (
            "no reason",
            f"Give the reason for the record: {COMMAND} variation {variation.id} {word} "
            'reason="...". Nothing was changed.',
        )
    elif approve and agreement.ends_on < today(services):
        problem = (
            "agreement has ended",
            f"This agreement ended on {format_date(agreement.ends_on)}, so it can't be "
            "changed. Nothing was changed.",
        )
    if problem is not None:
        await refuse(session, turn, agreement, attempted, problem[0], variation=variation.id)
        raise WrongSide(problem[1])
    now = services.clock.now()
    variation.state = VariationState.APPROVED if approve else VariationState.REJECTED
    variation.decision_reason = reason
    variation.decided_by = turn.actor.person_id
    variation.decided_at = now
    if approve:
        # The value and end on award are kept first: the Act's limits are against them.
        await keep_original(session, agreement)
        if variation.new_ends_on is not None:
            variation.term_change_days = (variation.new_ends_on - agreement.ends_on).days
        if variation.term_change_days:
            agreement.ends_on = agreement.ends_on + timedelta(days=variation.term_change_days)
            agreement.updated_at = now
        if variation.value_change_pence and agreement.value_pence is not None:
            agreement.value_pence += variation.value_change_pence
            agreement.updated_at = now
    await session.flush()
    if approve and variation.term_change_days:
        # A new end moves every key date worked out from it (end of term, extension
        # decision, the 6- and 3-month warnings), as saving the agreement would, and the
        # check-ins of the agreed monitoring plan.
        await schedule_key_dates(session, agreement, services)
        await follow_new_end(session, agreement, services, variation.id)
    totals = await totals_of(session, agreement)
    mine = [t for v, t in totals.rows if v.id == variation.id]
    notice = bool(approve and mine and mine[0].change_notice_required)
    variation.change_notice_required = notice
    await audit.record_turn(
        session,
        turn,
        "agreement.variation_decided",
        object_type="agreement_variation",
        object_id=variation.id,
        authority_id=agreement.authority_id,
        agreement_id=agreement.id,
        approved=approve,
        reason=reason,
        change_notice_required=notice,
        ends_on=agreement.ends_on.isoformat(),
        value_pence=agreement.value_pence,
    )
    if notice:
        await _tell_team(session, agreement, variation, f"variation:{variation.id}:notice-needed")
        await _schedule_next(session, variation, now)
    return Decided(variation, agreement, totals, notice)


async def record_notice(
    session: AsyncSession, turn: Turn, services: Services, variation_id: int
) -> AgreementVariation:
    """The team records the contract change notice it published, by its identifier."""
    assert turn.actor is not None
    variation = await load_locked(session, AgreementVariation, variation_id)
    if variation is None:
        await refuse(session, turn, None, "record change notice", "no such variation")
        raise WrongSide(NOT_FOUND)
    agreement = await load_for_team(session, turn, variation.agreement_id, "record change notice")
    identifier = (turn.args.get("id") or "").strip()
    problem = None
    if not variation.change_notice_required:
        problem = (
            "no notice needed",
            "This variation does not need a change notice. Nothing was changed.",
        )
    elif variation.change_notice_id:
        problem = (
            "already recorded",
            f"The change notice {variation.change_notice_id} is already recorded. Nothing was "
            "changed.",
        )
    elif not identifier:
        problem = (
            "no identifier",
            "Give the notice's identifier from Find a Tender: "
            f"{COMMAND} variation {variation.id} notice id=... Nothing was changed.",
        )
    if problem is not None:
        await refuse(
            session, turn, agreement, "record change notice", problem[0], variation=variation.id
        )
        raise WrongSide(problem[1])
    variation.change_notice_id = identifier[:100]
    variation.change_notice_recorded_at = services.clock.now()
    variation.change_notice_recorded_by = turn.actor.person_id
    await cancel_reminders(
        session, kind=NOTICE_KIND, target_type=TARGET_TYPE, target_ids=[str(variation.id)]
    )
    await audit.record_turn(
        session,
        turn,
        "agreement.change_notice_recorded",
        object_type="agreement_variation",
        object_id=variation.id,
        authority_id=agreement.authority_id,
        agreement_id=agreement.id,
        notice=variation.change_notice_id,
    )
    return variation


# --- telling and reminding the team -----------------------------------------------------------


def next_reminder_moment(after: datetime) -> datetime:
    """A week on, at the start of a working day (8am London, never a weekend or bank
    holiday)."""
    return start_of_working_day((after + EVERY).astimezone(LONDON).date(), LONDON)


async def _schedule_next(
    session: AsyncSession, variation: AgreementVariation, now: datetime
) -> None:
    await schedule_reminder(
        session,
        kind=NOTICE_KIND,
        due_at=next_reminder_moment(now),
        target_type=TARGET_TYPE,
        target_id=variation.id,
        payload={"variation_id": variation.id},
    )


async def _tell_team(
    session: AsyncSession, agreement: Agreement, variation: AgreementVariation, key: str
) -> None:
    team = await commissioning_team(session, agreement.authority_id)
    message = notice_needed_message(agreement, variation)
    await send_to_people(
        session,
        [p.id for p in team],
        ReplyList(replies=[message]).model_dump(mode="json"),
        f"{key}:person:{{person_id}}",
    )


async def remind_to_record_notice(reminder: Reminder, services: Services) -> None:
    """Weekly until the notice is recorded: tell the team again, and plan the next one."""
    variation_id = int(reminder.target_id)
    async with services.db.session() as session:
        variation = await session.get(AgreementVariation, variation_id)
        if variation is None or not variation.change_notice_required or variation.change_notice_id:
            return
        agreement = await session.get(Agreement, variation.agreement_id)
        if agreement is None:
            return
        await _tell_team(session, agreement, variation, f"reminder:{reminder.id}")
        await _schedule_next(session, variation, services.clock.now())


# --- the words ------------------------------------------------------------------------------


def pounds_change(pence: int) -> str:
    if pence == 0:
        return "no change"
    return f"{'up' if pence > 0 else 'down'} {money(abs(pence))}"


def days_change(days: int) -> str:
    if days == 0:
        return "no change"
    return f"{'longer' if days > 0 else 'shorter'} by {abs(days)} days"


STATE_WORDS = {
    VariationState.REQUESTED: "Asked for: waiting for the other side to agree or disagree",
    VariationState.AGREED: "Both sides agree: waiting for the council's approvers",
    VariationState.DISAGREED: "The other side disagreed: waiting for the council's approvers",
    VariationState.APPROVED: "Approved",
    VariationState.REJECTED: "Rejected",
}


def asked_message(agreement: Agreement, variation: AgreementVariation) -> Message:
    """To the other side: a change has been asked for; please agree or disagree."""
    asker = "The council" if variation.side == Side.COUNCIL else "The provider"
    return Message(
        title=f"A change is asked for: {agreement.title}",
        text=(
            f"{asker} asks to change agreement {agreement.id}: {variation.what_changes}. "
            f"Why: {variation.why}. Value: {pounds_change(variation.value_change_pence)}. "
            f"Term: {term_words(variation)}. Please say whether you agree: press Agree, or say "
            "why not: "
            + command_ref(f"{COMMAND} variation {variation.id} disagree", "Disagree")
            + ". Then the council's approvers decide. Nothing changes until they approve it."
        ),
        buttons=[
            Button(
                label="Agree",
                action=f"cmd.{COMMAND}",
                value=f"variation {variation.id} agree",
            ),
            Button(
                label="See the variation",
                action=f"cmd.{COMMAND}",
                value=f"variations {agreement.id}",
            ),
        ],
        who_sees=WHO_SEES,
    )


def term_words(variation: AgreementVariation) -> str:
    if variation.new_ends_on is not None:
        return f"new end date {format_date(variation.new_ends_on)}"
    return days_change(variation.term_change_days)


def approvers_message(agreement: Agreement, variation: AgreementVariation) -> Message:
    """To the rest of the council's team (the approvers) when one of them asks."""
    return Message(
        title=f"A change is asked for: {agreement.title}",
        text=(
            f"Your team asked to change agreement {agreement.id}: {variation.what_changes}. "
            f"Why: {variation.why}. Value: {pounds_change(variation.value_change_pence)}. "
            f"Term: {term_words(variation)}. The provider agrees or disagrees first; then "
            "you approve or reject it, with a reason: "
            + command_ref(f"{COMMAND} variation {variation.id} approve", "Approve")
            + " or "
            + command_ref(f"{COMMAND} variation {variation.id} reject", "Reject")
            + "."
        ),
        buttons=[
            Button(
                label="See the variation",
                action=f"cmd.{COMMAND}",
                value=f"variations {agreement.id}",
            )
        ],
        who_sees="Only your council's commissioning team gets this.",
    )


def notice_needed_message(agreement: Agreement, variation: AgreementVariation) -> Message:
    return Message(
        title=f"A contract change notice is needed: {agreement.title}",
        text=(
            f"Variation {variation.id} to agreement {agreement.id} ({variation.what_changes}) "
            "needs a contract change notice (UK10) under section 75 of the Procurement Act "
            "2023, published before the change is made. When you have published it, record "
            "its identifier: "
            + command_ref(f"{COMMAND} variation {variation.id} notice", "Record the change notice")
            + ". We will remind you every week until you do."
        ),
        buttons=[
            Button(
                label="See the variations",
                action=f"cmd.{COMMAND}",
                value=f"variations {agreement.id}",
            )
        ],
        who_sees="Only your council's commissioning team gets this.",
    )


def variation_section(
    variation: AgreementVariation,
    total: RunningTotal | None,
    *,
    for_team: bool,
    linked: set[int] | None = None,
) -> Section:
    facts = [
        Fact(
            label="Asked for by",
            value="the council" if variation.side == Side.COUNCIL else "the provider",
        ),
        Fact(label="Why", value=variation.why),
        Fact(label="Value", value=pounds_change(variation.value_change_pence)),
        Fact(label="Term", value=term_words(variation)),
        Fact(label="Evidence", value=variation.evidence or "None given"),
        Fact(
            label="One of a series with",
            value=", ".join(f"variation {i}" for i in sorted(linked))
            + " (counted together, section 75(4))"
            if linked
            else "None: counted on its own",
        ),
        Fact(label="Where it is", value=STATE_WORDS[VariationState(variation.state)]),
    ]
    if variation.responded_at is not None:
        answer = "Agreed" if variation.other_side_agreed else "Disagreed"
        if variation.response_reason:
            answer += f": {variation.response_reason}"
        facts.append(Fact(label="The other side's answer", value=answer))
    if variation.decided_at is not None:
        facts.append(Fact(label="Approvers' reason", value=variation.decision_reason or ""))
    if total is not None:
        facts.append(
            Fact(
                label="Running total",
                value=f"value {money(int(total.value * 100))} ({total.value_change_percent:+}%), "
                f"term {total.term_days} days ({total.term_change_percent:+}%)",
            )
        )
    if for_team and variation.change_notice_required:
        facts.append(
            Fact(
                label="Contract change notice",
                value=f"Recorded: {variation.change_notice_id}"
                if variation.change_notice_id
                else "Needed (UK10, section 75), not recorded yet",
            )
        )
    return Section(
        heading=f"Variation {variation.id}: {variation.what_changes}",
        facts=facts,
        buttons=answer_buttons(variation, for_team=for_team),
    )


def answer_buttons(variation: AgreementVariation, *, for_team: bool) -> list[Button]:
    """What the viewer's side can do with it now. Disagree, approve and reject ask for the
    reason in a short form (`reason_form`), so each works on the web as typed in chat."""
    steps: tuple[tuple[str, str], ...] = ()
    answers_it = (variation.side == Side.PROVIDER) == for_team
    if variation.state == VariationState.REQUESTED and answers_it:
        steps = (("Agree", "agree"), ("Disagree", "disagree"))
    elif variation.state == VariationState.AGREED and for_team:
        steps = (("Approve", "approve"), ("Reject", "reject"))
    elif variation.state == VariationState.DISAGREED and for_team:
        steps = (("Reject", "reject"),)
    return [
        Button(label=label, action=f"cmd.{COMMAND}", value=f"variation {variation.id} {step}")
        for label, step in steps
    ]


def variations_message(
    agreement: Agreement,
    variations: list[AgreementVariation],
    *,
    for_team: bool,
    links: Mapping[int, set[int]] | None = None,
    original: AgreementOriginal | None = None,
) -> Message:
    links = links or {}
    totals = totals_for(agreement, variations, links, original)
    by_id = {v.id: t for v, t in totals.rows}
    sections = [
        variation_section(v, by_id.get(v.id), for_team=for_team, linked=links.get(v.id))
        for v in variations
    ]
    if totals.original_value_pence is not None and not totals.why_none:
        latest = totals.rows[-1][1] if totals.rows else None
        summary = (
            f"Worth {money(totals.original_value_pence)} when agreed, "
            f"ending {format_date(totals.original_ends_on)}."
        )
        if latest is not None:
            summary += (
                f" After {counted(len(totals.rows), 'approved variation')}: worth "
                f"{money(int(latest.value * 100))} ({latest.value_change_percent:+}%), ending "
                f"{format_date(agreement.ends_on)} ({latest.term_change_percent:+}% of the term)."
            )
            if for_team and latest.together_beyond_limits and not agreement.light_touch:
                summary += (
                    " Taken together, the changes so far are beyond the limits for changes "
                    "without a notice. Ask whether they could have been made together (section "
                    "75(4)); if so, a change notice is needed, and the next change should be "
                    "marked as one of a series with them."
                )
        if agreement.grant_funded:
            summary += " This is a grant: change notices never apply."
        elif agreement.light_touch:
            summary += " This is a light-touch contract: it never needs a change notice."
    else:
        summary = f"We can't add up the changes because {totals.why_none}."
    return Message(
        title=f"Variations: {agreement.title}",
        text=summary
        + (
            ""
            if variations
            else " No variations yet. Either side can ask for one: "
            f"{command_ref(f'{COMMAND} change {agreement.id}', 'the form to ask for a change')}."
        ),
        sections=sections,
        buttons=[
            Button(
                label="Ask for a change",
                action=f"cmd.{COMMAND}",
                value=f"change {agreement.id}",
            )
        ],
        who_sees=WHO_SEES,
    )


def requested_replies(agreement: Agreement, variation: AgreementVariation) -> list[Reply]:
    other = "the provider" if variation.side == Side.COUNCIL else "the council's commissioning team"
    return [
        Notice(
            level="success",
            text=f"Asked: variation {variation.id} to {agreement.title}. Next, {other} is "
            "sent a message to agree or disagree; then the council's approvers decide. Both "
            "sides and the council can see it. Nothing changes until it is approved.",
            # A way on from the confirmation (on the web it was a dead end).
            buttons=[
                Button(
                    label="See the variations",
                    action=f"cmd.{COMMAND}",
                    value=f"variations {agreement.id}",
                ),
                Button(
                    label="Back to the agreement",
                    action=f"cmd.{COMMAND}",
                    value=f"show {agreement.id}",
                ),
            ],
        )
    ]


# --- the steps ------------------------------------------------------------------------------


def _refused(refusal: Refused) -> list[Reply]:
    return [Notice(text=refusal.message, level=refusal.level)]


async def vary(turn: Turn, services: Services, agreement_id: int) -> list[Reply]:
    """`agreements vary N what=... why=... value=... term=...|ends=... evidence=...`"""
    async with services.db.session() as session:
        try:
            variation = await request_variation(session, turn, services, agreement_id)
        except Refused as refusal:
            return _refused(refusal)
        agreement = await session.get(Agreement, variation.agreement_id)
        assert agreement is not None
        return requested_replies(agreement, variation)


async def show_variations(turn: Turn, services: Services, agreement_id: int) -> list[Reply]:
    """`agreements variations N`: the team and the agreement's parties only."""
    async with services.db.session() as session:
        try:
            agreement = await load_for_viewer(session, turn, agreement_id, "variations")
        except Refused as refusal:
            return _refused(refusal)
        return [await variations_reply(session, turn, agreement)]


async def variations_reply(session: AsyncSession, turn: Turn, agreement: Agreement) -> Message:
    """The variations and totals, for an agreement the caller has already checked."""
    for_team = runs_it(turn, agreement)
    assert for_team or await is_party(session, turn, agreement)
    return variations_message(
        agreement,
        await variations_of(session, agreement.id),
        for_team=for_team,
        links=await links_of(session, agreement.id),
        original=await original_of(session, agreement.id),
    )


async def variation(turn: Turn, services: Services, variation_id: int) -> list[Reply]:
    """`agreements variation V agree|disagree|approve|reject|notice ...`"""
    async with services.db.session() as session:
        return await variation_in(session, turn, services, variation_id)


async def variation_in(
    session: AsyncSession, turn: Turn, services: Services, variation_id: int
) -> list[Reply]:
    """The step in a unit of work already open (the reason form runs it too)."""
    words = words_of(turn)
    what = words[2] if len(words) > 2 else ""
    try:
        if what in ("agree", "disagree"):
            done = await answer_variation(session, turn, services, variation_id, what == "agree")
            said = "agreed to" if what == "agree" else "disagreed with"
            return [
                Notice(
                    level="success",
                    text=f"You {said} variation {done.id}. The council's approvers decide "
                    "next. Both sides can see your answer.",
                )
            ]
        if what in ("approve", "reject"):
            decided = await decide_variation(
                session, turn, services, variation_id, what == "approve"
            )
            return decided_replies(decided)
        if what == "notice":
            noted = await record_notice(session, turn, services, variation_id)
            return [
                Notice(
                    level="success",
                    text=f"Recorded the change notice {noted.change_notice_id} for variation "
                    f"{noted.id}. There will be no more reminders about it.",
                )
            ]
    except Refused as refusal:
        return _refused(refusal)
    await refuse(session, turn, None, "variation", "unknown step", step=what)
    return [
        Notice(
            level="warning",
            text="A variation can be agreed, disagreed, approved, rejected, or have its notice "
            "recorded. See what you can do: "
            + command_ref(f"{COMMAND} variations", f"the {COMMAND} list")
            + ".",
        )
    ]


def decided_replies(decided: Decided) -> list[Reply]:
    v, agreement = decided.variation, decided.agreement
    if v.state == VariationState.REJECTED:
        return [
            Notice(
                level="success",
                text=f"Rejected variation {v.id}. Nothing about the agreement changes. Both "
                "sides can see the decision and your reason.",
            )
        ]
    text = f"Approved variation {v.id}. Both sides can see the decision and your reason."
    if v.term_change_days:
        text += f" The agreement now ends on {format_date(agreement.ends_on)}."
    replies: list[Reply] = [Notice(level="success", text=text)]
    if decided.notice_required:
        replies.append(
            Notice(
                level="warning",
                text="This change needs a contract change notice (UK10, section 75), published "
                "before the change is made. Your team has been told, and will be reminded every "
                "week until you record it: "
                + command_ref(f"{COMMAND} variation {v.id} notice", "Record the change notice")
                + ".",
            )
        )
    return replies
