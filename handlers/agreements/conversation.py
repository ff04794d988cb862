"""After a check-in, a conversation, not command and control (issue 15).

    agreements reply C                 write to the other side about check-in C (a form)
    agreements reply C text="..."      the same, typed
    agreements call C                  the team offers one to three times for a call (a form)
    agreements pick K 2                the provider takes the second time of call offer K
    agreements pick K none note="..."  none of the times suit, with a note
    agreements calendar K              the agreed call as a calendar file (.ics)
    agreements indicator N 1.2         one indicator's values over time

Only the commissioning team and the reporting organisation (the sole provider, or a
consortium's lead) see a check-in's thread and calls: anyone else is told it was not found,
and the attempt is on the record. Messages go through the outbox in each person's working
hours, as the check-ins do. When the team opens an indicator it is recorded (who, when), so
the burden meter can point at indicators nobody has looked at in a year.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_date, format_when
from bot.core.forms import FormDefinition
from bot.core.reply import Button, Message, Notice, Reply, Section, command_ref
from bot.core.turn import Turn, parse_command
from bot.core.words import counted
from bot.services import Services
from handlers.agreements.call_calendar import call_offer, may_join
from handlers.agreements.common import (
    COMMAND,
    NOT_FOUND,
    Refused,
    load_for_viewer,
    refuse,
    runs_it,
)
from handlers.agreements.monitoring import (
    conversation_buttons,
    load_checkin,
    reporters,
    send_in_working_hours,
)
from handlers.agreements.outcomes import framework_of
from handlers.engagements.common import number_at
from handlers.forms import FormPurpose, Subject, open_form
from handlers.steps import load_locked
from storage import audit
from storage.agreement_tables import Agreement
from storage.conversation_tables import (
    CallState,
    CheckinCall,
    CheckinMessage,
    IndicatorOpened,
    IndicatorValue,
)
from storage.engagements import commissioning_team
from storage.models import FormResponse, Organisation
from storage.monitoring_tables import CheckinRow, Side
from storage.visibility import Refusal

PRIVATE = (
    "Only the council's commissioning team and the organisation that answered the check-in "
    "see this. No other provider does."
)
LONGEST = 4000


def _plain(text: str) -> list[Reply]:
    return [Notice(text=text, level="warning")]


async def _name_of(session: AsyncSession, organisation_id: int) -> str:
    organisation = await session.get(Organisation, organisation_id)
    return organisation.name if organisation else "The provider"


async def _team(session: AsyncSession, agreement: Agreement) -> list[int]:
    return [p.id for p in await commissioning_team(session, agreement.authority_id)]


# --- replies --------------------------------------------------------------------------------


async def send_reply(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    checkin_id: int | None,
    text: str,
) -> list[Reply]:
    """The one step behind a typed reply and the reply form: keep the message on the
    check-in's thread and send it to the other side (raises Refused, on the record)."""
    assert turn.actor is not None
    checkin, agreement, reporter = await load_checkin(session, turn, checkin_id, "reply")
    text = text.strip()
    if not text:
        await refuse(session, turn, agreement, "reply", "empty reply")
        raise Refused(
            f'Write your message, like {COMMAND} reply {checkin.id} text="Thank you: could we '
            'hear more about the sessions?". Nothing was sent.'
        )
    now = services.clock.now()
    side = Side.PROVIDER if reporter else Side.TEAM
    message = CheckinMessage(
        checkin_id=checkin.id,
        side=side,
        person_id=turn.actor.person_id,
        text=text[:LONGEST],
        sent_at=now,
    )
    session.add(message)
    await session.flush()
    if side == Side.TEAM:
        to = await reporters(session, checkin.organisation_id)
        heading = f"The council's team replied about your check-in for {agreement.title}"
    else:
        to = await _team(session, agreement)
        name = await _name_of(session, checkin.organisation_id)
        heading = f"{name} replied about their check-in for {agreement.title}"
    await send_in_working_hours(
        session,
        [p for p in to if p != turn.actor.person_id],
        Message(
            title=heading,
            text=f"{turn.actor.name}: {message.text}",
            buttons=conversation_buttons(checkin, for_team=side == Side.PROVIDER),
            who_sees=PRIVATE,
        ),
        f"checkin-reply:{message.id}:{{person_id}}",
        now,
    )
    await audit.record_turn(
        session,
        turn,
        "agreement.checkin_reply",
        object_type="agreement",
        object_id=agreement.id,
        authority_id=agreement.authority_id,
        checkin_id=checkin.id,
    )
    other = "the provider" if side == Side.TEAM else "the council's team"
    return [
        Notice(
            text=f"Sent to {other}. They can reply back the same way; the whole conversation "
            f"is on {COMMAND} checkin {checkin.id}. {PRIVATE}",
            level="success",
        )
    ]


class CheckinReply(FormPurpose):
    """A message about a check-in, from the team or the reporting organisation."""

    form_key = "checkin_reply"
    command = COMMAND
    confirms_itself = True

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        try:
            checkin, agreement, _ = await load_checkin(session, turn, number_at(turn, 1), "reply")
        except Refused as refusal:
            return Refusal(refusal.message)
        return Subject(
            None, agreement.authority_id, label=agreement.title, topic=f"reply:{checkin.id}"
        )

    def resume(self, response: FormResponse) -> str:
        return f"reply {(response.topic or ':').split(':')[1]}"

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        checkin_id = int((response.topic or ":").split(":")[1])
        try:
            return await send_reply(
                session, turn, services, checkin_id, str(response.answers.get("text") or "")
            )
        except Refused as refusal:  # no longer theirs to write on: nothing is sent
            return _plain(refusal.message)


REPLY = CheckinReply()


async def reply(turn: Turn, services: Services, checkin_id: int | None) -> list[Reply]:
    """`agreements reply C`: the form; with text="...", sent straight away."""
    _, args = parse_command(turn.text or "")
    if "text" not in args:
        return await open_form(turn, services, REPLY)
    async with services.db.session() as session:
        try:
            return await send_reply(session, turn, services, checkin_id, args["text"])
        except Refused as refusal:
            return _plain(refusal.message)


# --- calls ----------------------------------------------------------------------------------


class OfferCall(FormPurpose):
    """The team offers one to three times for a call about a check-in."""

    form_key = "checkin_call"
    command = COMMAND
    confirms_itself = True

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        try:
            checkin, agreement = await _team_checkin(session, turn, number_at(turn, 1))
        except Refused as refusal:
            return Refusal(refusal.message)
        return Subject(
            None, agreement.authority_id, label=agreement.title, topic=f"call:{checkin.id}"
        )

    async def may_answer(
        self, session: AsyncSession, turn: Turn, services: Services, response: FormResponse
    ) -> Refusal | None:
        assert turn.actor is not None
        if response.respondent_id != turn.actor.person_id or (
            response.authority_id not in turn.actor.commissioner_for()
        ):
            return Refusal("This belongs to someone else, so you can't change it.")
        return None

    async def check_against_records(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        answers: dict[str, Any],
    ) -> dict[str, str]:
        now = services.clock.now()
        return {
            key: "This time has passed. Offer a time that is still to come."
            for key in ("option_1", "option_2", "option_3")
            if answers.get(key) and datetime.fromisoformat(str(answers[key])) <= now
        }

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        checkin_id = int((response.topic or ":").split(":")[1])
        options = [
            str(response.answers[key])
            for key in ("option_1", "option_2", "option_3")
            if response.answers.get(key)
        ]
        try:
            return await offer_call(session, turn, services, checkin_id, options)
        except Refused as refusal:  # no longer on the team: nothing is sent
            return _plain(refusal.message)


async def _team_checkin(
    session: AsyncSession, turn: Turn, checkin_id: int | None
) -> tuple[CheckinRow, Agreement]:
    checkin, agreement, _ = await load_checkin(session, turn, checkin_id, "offer a call")
    if not runs_it(turn, agreement):
        await refuse(session, turn, agreement, "offer a call", "not the team")
        raise Refused(
            "Only the council's commissioning team offers times for a call. To ask for one, "
            f'reply to them: {COMMAND} reply {checkin.id} text="Could we talk?".'
        )
    return checkin, agreement


async def offer_call(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    checkin_id: int,
    options: list[str],
) -> list[Reply]:
    """Keep the offer and send the reporting organisation a button for each time."""
    assert turn.actor is not None
    checkin, agreement = await _team_checkin(session, turn, checkin_id)
    now = services.clock.now()
    call = CheckinCall(
        checkin_id=checkin.id,
        offered_by=turn.actor.person_id,
        offered_at=now,
        options=options,
        state=CallState.OFFERED,
    )
    session.add(call)
    await session.flush()
    times = [format_when(datetime.fromisoformat(o)) for o in options]
    message = Message(
        title=f"The council's team would like a call about your check-in for {agreement.title}",
        text="They can talk at these times. Press the one that suits you, or say none suit "
        f'(you can add a note: {COMMAND} pick {call.id} none note="Mornings suit us better").',
        sections=[Section(heading="Times", text="\n".join(f"- {t}" for t in times))],
        buttons=[
            *[
                Button(
                    label=when[:75],
                    action=f"cmd.{COMMAND}",
                    value=f"pick {call.id} {index}",
                    style="primary" if index == 1 else "default",
                )
                for index, when in enumerate(times, start=1)
            ],
            Button(
                label="None of these suit", action=f"cmd.{COMMAND}", value=f"pick {call.id} none"
            ),
        ],
        who_sees=PRIVATE,
    )
    await send_in_working_hours(
        session,
        await reporters(session, checkin.organisation_id),
        message,
        f"checkin-call:{call.id}:{{person_id}}",
        now,
    )
    await audit.record_turn(
        session,
        turn,
        "agreement.checkin_call_offered",
        object_type="agreement",
        object_id=agreement.id,
        authority_id=agreement.authority_id,
        checkin_id=checkin.id,
    )
    return [
        Notice(
            text=f"Sent {counted(len(times), 'time')} to {await _name_of(session, checkin.organisation_id)}"
            f": {'; '.join(times)}. You will both get the time in full once they pick one. "
            f"{PRIVATE}",
            level="success",
        )
    ]


CALL = OfferCall()


async def call(turn: Turn, services: Services, checkin_id: int | None) -> list[Reply]:
    """`agreements call C`: the team's form of times for a call."""
    return await open_form(turn, services, CALL)


async def pick(turn: Turn, services: Services, call_id: int | None) -> list[Reply]:
    """`agreements pick K 2` or `agreements pick K none note="..."`: the reporting
    organisation answers a call offer; both sides get the outcome."""
    assert turn.actor is not None
    words, args = parse_command(turn.text or "")
    choice = words[3].lower() if len(words) > 3 else ""
    now = services.clock.now()
    async with services.db.session() as session:
        offer = await load_locked(session, CheckinCall, call_id)
        checkin = await session.get(CheckinRow, offer.checkin_id) if offer else None
        if (
            offer is None
            or checkin is None
            or checkin.organisation_id not in turn.actor.member_of()
        ):
            agreement = await session.get(Agreement, checkin.agreement_id) if checkin else None
            await refuse(session, turn, agreement, "pick a call time", "not the reporter")
            return _plain(NOT_FOUND)
        agreement = await session.get(Agreement, checkin.agreement_id)
        assert agreement is not None
        if offer.state != CallState.OFFERED:
            await refuse(session, turn, agreement, "pick a call time", "already answered")
            return _plain(
                "This call offer has already been answered, so nothing was changed. "
                f"The conversation is on {COMMAND} checkin {checkin.id}."
            )
        team = await _team(session, agreement)
        name = await _name_of(session, checkin.organisation_id)
        if choice == "none":
            offer.state = CallState.NONE_SUIT
            offer.note = (args.get("note") or "").strip()[:LONGEST] or None
            offer.answered_by = turn.actor.person_id
            offer.answered_at = now
            note = f' Their note: "{offer.note}"' if offer.note else ""
            told = Message(
                title=f"None of the times suit {name}",
                text=f"None of the times you offered for a call about {agreement.title} "
                f"suit them.{note} You can offer other times.",
                buttons=[
                    Button(
                        label="Offer other times",
                        action=f"cmd.{COMMAND}",
                        value=f"call {checkin.id}",
                        style="primary",
                    )
                ],
                who_sees=PRIVATE,
            )
            await send_in_working_hours(
                session, team, told, f"checkin-call:{offer.id}:none:{{person_id}}", now
            )
            await audit.record_turn(
                session,
                turn,
                "agreement.checkin_call_declined",
                object_type="agreement",
                object_id=agreement.id,
                authority_id=agreement.authority_id,
                checkin_id=checkin.id,
            )
            return [
                Notice(
                    text="Thank you: we told the council's team none of the times suit"
                    + (" and passed on your note." if offer.note else ".")
                    + " They can offer other times.",
                    level="success",
                )
            ]
        index = int(choice) if choice.isdigit() else 0
        if not 1 <= index <= len(offer.options):
            return _plain(
                f"Pick one of the times by its number, like {COMMAND} pick {offer.id} 1, or "
                f"say {COMMAND} pick {offer.id} none. Nothing was changed."
            )
        offer.state = CallState.AGREED
        offer.agreed_for = datetime.fromisoformat(offer.options[index - 1])
        offer.answered_by = turn.actor.person_id
        offer.answered_at = now
        when = format_when(offer.agreed_for)
        confirmed = Message(
            title=f"Call agreed: {when}",
            text=f"A call about the check-in for {agreement.title}, between {name} and the "
            f"council's commissioning team, on {when}.",
            buttons=[
                Button(
                    label="Add to calendar",
                    action=f"cmd.{COMMAND}",
                    value=f"calendar {offer.id}",
                )
            ],
            who_sees=PRIVATE,
        )
        people = [*team, *await reporters(session, checkin.organisation_id)]
        await send_in_working_hours(
            session,
            [p for p in people if p != turn.actor.person_id],
            confirmed,
            f"checkin-call:{offer.id}:agreed:{{person_id}}",
            now,
        )
        await audit.record_turn(
            session,
            turn,
            "agreement.checkin_call_agreed",
            object_type="agreement",
            object_id=agreement.id,
            authority_id=agreement.authority_id,
            checkin_id=checkin.id,
        )
        return [
            Notice(
                text=f"Agreed: a call on {when}. We told the council's team. {PRIVATE}",
                level="success",
            ),
            call_offer(services.settings, turn.door, turn.actor.person_id, offer),
        ]


async def call_file(turn: Turn, services: Services, call_id: int | None) -> list[Reply]:
    """`agreements calendar K`: the agreed call as a calendar file, for someone on the team
    or in the reporting organisation; anyone else is told it was not found (on the record)."""
    assert turn.actor is not None
    async with services.db.session() as session:
        offer = await session.get(CheckinCall, call_id) if call_id else None
        agreement = await may_join(session, turn.actor.person_id, offer) if offer else None
        if offer is None or agreement is None:
            await refuse(session, turn, None, "call calendar", "not the team or the reporter")
            return _plain(NOT_FOUND)
        if offer.state != CallState.AGREED or offer.agreed_for is None:
            return _plain("No time has been agreed for this call yet, so there is no file.")
        return [call_offer(services.settings, turn.door, turn.actor.person_id, offer)]


# --- indicators -----------------------------------------------------------------------------

_REF = re.compile(r"^(\d+)\.(\d+)$")


async def indicator(turn: Turn, services: Services, agreement_id: int | None) -> list[Reply]:
    """`agreements indicator N 1.2`: one indicator's values over time, for the team and the
    parties; the team opening it is recorded (who, when) for the burden meter."""
    assert turn.actor is not None
    words, _ = parse_command(turn.text or "")
    typed = words[3] if len(words) > 3 else ""
    async with services.db.session() as session:
        try:
            agreement = await load_for_viewer(session, turn, agreement_id, "indicator")
        except Refused as refusal:
            return _plain(refusal.message)
        framework = await framework_of(session, agreement)
        found = _REF.match(typed)
        item = None
        if found:
            outcome, inner = int(found[1]), int(found[2])
            if 1 <= outcome <= len(framework.outcomes):
                indicators = framework.outcomes[outcome - 1][1]
                if 1 <= inner <= len(indicators):
                    item = indicators[inner - 1]
        if item is None:
            await refuse(session, turn, agreement, "indicator", "no such indicator", typed=typed)
            return _plain(
                f"Say which indicator by its number, like {COMMAND} indicator {agreement.id} "
                f"1.2. See them: {command_ref(f'{COMMAND} outcomes {agreement.id}', 'the outcomes')}."
            )
        if runs_it(turn, agreement):
            session.add(
                IndicatorOpened(
                    item_id=item.id, person_id=turn.actor.person_id, opened_at=services.clock.now()
                )
            )
        rows = (
            await session.execute(
                select(CheckinRow.due_on, IndicatorValue.value)
                .join(CheckinRow, CheckinRow.id == IndicatorValue.checkin_id)
                .where(IndicatorValue.item_id == item.id)
                .order_by(CheckinRow.due_on, IndicatorValue.id)
            )
        ).all()
        lines = [f"{format_date(due)}: {value}" for due, value in rows]
        return [
            Message(
                title=f"Indicator {typed}: {item.text}",
                text=f"For {agreement.title}, from each check-in.",
                sections=[
                    Section(
                        heading="Values over time",
                        text="\n".join(lines) or "No values have been given yet.",
                    )
                ],
                who_sees="The council's commissioning team and the organisations party to "
                "this agreement see these values. No other provider does.",
            )
        ]
