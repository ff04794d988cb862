"""Paying an agreement's instalments (issue 15): `agreements invoice P [day]` records the day
a correct invoice for payment P came (today when no day is given), which starts the clock:
pay by that day plus the payment terms (30 days at most by law, s.68; s.73 when a
consortium's lead pays a member). `agreements paid P [day]` marks it paid: who and when go
on the record, and its reminder stops.

Who may: for a payment from the council, its commissioning team; for the lead paying a
member, the lead organisation's people. Anyone else is refused, nothing changes, and the
attempt is on the record. The reminder before the pay-by day is a key date
(`handlers/agreements/key_dates.py`), so recording an invoice or a payment reschedules them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_date
from bot.core.forms import Field, FieldType
from bot.core.forms.kinds import kind_of
from bot.core.forms.kinds.common import AnswerError
from bot.core.reply import Button, Message, Notice, Reply, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.agreements.common import (
    COMMAND,
    NOT_FOUND,
    NotYours,
    Refused,
    load_for_viewer,
    refuse,
    runs_it,
    today,
)
from handlers.agreements.details import load_details
from handlers.agreements.key_dates import schedule_key_dates
from handlers.agreements.views import payment_words
from handlers.engagements.common import words_of
from handlers.steps import load_locked
from storage import audit
from storage.agreement_detail_tables import AgreementPayment, Payer
from storage.agreement_tables import Agreement, PartyRole
from storage.agreements import parties_of

_DAY = Field(id="day", type=FieldType.DATE, label="The day")


class NotThePayer(Refused):
    """Only the side that pays a payment may record its invoice or mark it paid."""


@dataclass(frozen=True)
class PaymentDone:
    """What changed: the payment, its agreement, and the words for its state now."""

    agreement: Agreement
    payment: AgreementPayment
    words: str


def _day_given(turn: Turn, on: date) -> date | None:
    """The day typed after the payment's number (`... paid 7 3 March 2027`), or today."""
    words = words_of(turn)[2:]
    if not words and not turn.args.get("on"):
        return on
    text = turn.args.get("on") or " ".join(words)
    try:
        return date.fromisoformat(kind_of(FieldType.DATE).parse(_DAY, text))
    except AnswerError:
        return None


async def _load_for_payer(
    session: AsyncSession, turn: Turn, payment_id: int, attempted: str
) -> tuple[AgreementPayment, Agreement]:
    """The payment, for the side that pays it only (else refused, on the record)."""
    assert turn.actor is not None
    payment = await load_locked(session, AgreementPayment, payment_id)
    if payment is None:
        await refuse(session, turn, None, attempted, "no such payment", payment=payment_id)
        raise NotYours(NOT_FOUND)
    agreement = await load_for_viewer(session, turn, payment.agreement_id, attempted)
    if payment.payer == Payer.COUNCIL:
        pays = runs_it(turn, agreement)
        who = "the council's commissioning team"
    else:
        leads = {
            o.id for p, o in await parties_of(session, agreement.id) if p.role != PartyRole.MEMBER
        }
        pays = bool(leads & turn.actor.member_of())
        who = "the consortium's lead"
    if not pays:
        await refuse(session, turn, agreement, attempted, "not the payer", payment=payment.id)
        raise NotThePayer(
            f"Only {who} can record this for payment {payment.id}, because they pay it. "
            "Nothing was changed."
        )
    return payment, agreement


async def record_invoice(
    session: AsyncSession, turn: Turn, services: Services, payment_id: int
) -> PaymentDone:
    """The payer records the day a correct invoice came; the pay-by day follows from it."""
    payment, agreement = await _load_for_payer(session, turn, payment_id, "record invoice")
    now = today(services)
    day = _day_given(turn, now)
    problem = None
    if day is None:
        problem = ("day does not parse", "We could not read that day. Write it like 3 March 2027.")
    elif day > now:
        problem = ("invoice in the future", "An invoice can't have come on a day still to come.")
    elif payment.paid_on is not None:
        problem = ("already paid", f"Payment {payment.id} is already marked paid.")
    if problem is not None:
        await refuse(session, turn, agreement, "record invoice", problem[0], payment=payment.id)
        raise NotThePayer(f"{problem[1]} Nothing was changed.")
    assert day is not None
    payment.invoice_received_on = day
    await session.flush()
    await schedule_key_dates(session, agreement, services)
    await audit.record_turn(
        session,
        turn,
        "agreement.invoice_recorded",
        object_type="agreement_payment",
        object_id=payment.id,
        authority_id=agreement.authority_id,
        agreement_id=agreement.id,
        received_on=day.isoformat(),
    )
    return await _done(session, agreement, payment, now, runs_it(turn, agreement))


async def mark_paid(
    session: AsyncSession, turn: Turn, services: Services, payment_id: int
) -> PaymentDone:
    """The payer marks a payment paid: who and when go on the record; its reminder stops."""
    assert turn.actor is not None
    payment, agreement = await _load_for_payer(session, turn, payment_id, "mark paid")
    now = today(services)
    day = _day_given(turn, now)
    problem = None
    if day is None:
        problem = ("day does not parse", "We could not read that day. Write it like 3 March 2027.")
    elif day > now:
        problem = ("paid in the future", "A payment can't be marked paid on a day still to come.")
    elif payment.paid_on is not None:
        problem = (
            "already paid",
            f"Payment {payment.id} was already marked paid on {format_date(payment.paid_on)}.",
        )
    if problem is not None:
        await refuse(session, turn, agreement, "mark paid", problem[0], payment=payment.id)
        raise NotThePayer(f"{problem[1]} Nothing was changed.")
    assert day is not None
    payment.paid_on = day
    payment.paid_by = turn.actor.person_id
    payment.paid_recorded_at = services.clock.now()
    await session.flush()
    await schedule_key_dates(session, agreement, services)
    await audit.record_turn(
        session,
        turn,
        "agreement.payment_marked_paid",
        object_type="agreement_payment",
        object_id=payment.id,
        authority_id=agreement.authority_id,
        agreement_id=agreement.id,
        paid_on=day.isoformat(),
        amount_pence=payment.amount_pence,
    )
    return await _done(session, agreement, payment, now, runs_it(turn, agreement))


async def _done(
    session: AsyncSession,
    agreement: Agreement,
    payment: AgreementPayment,
    on: date,
    for_team: bool,
) -> PaymentDone:
    details = await load_details(session, agreement)
    row = next(r for r in details.payments if r.payment.id == payment.id)
    return PaymentDone(agreement, payment, payment_words(row, on=on, for_team=for_team))


def done_message(done: PaymentDone, said: str) -> Message:
    lead_pays = done.payment.payer == Payer.LEAD
    return Message(
        title=f"{said}: payment {done.payment.id}, {done.agreement.title}",
        text=(
            f"{done.words}\n\n"
            + (
                "We have stopped reminding about it."
                if done.payment.paid_on
                else "We remind the people named for finance before the pay-by day. When it "
                f"is paid: {command_ref(f'{COMMAND} paid {done.payment.id}', 'Mark it paid')}."
            )
        ),
        buttons=[
            Button(
                label="Show the agreement",
                action=f"cmd.{COMMAND}",
                value=f"show {done.agreement.id}",
            )
        ],
        who_sees=(
            "The consortium's lead and the council's commissioning team see this payment."
            if lead_pays
            else "The council's commissioning team and the organisations party to the "
            "agreement see this payment. Only the team is told if it is late."
        ),
    )


async def invoice(turn: Turn, services: Services, payment_id: int) -> list[Reply]:
    """`agreements invoice P [day]`."""
    async with services.db.session() as session:
        try:
            done = await record_invoice(session, turn, services, payment_id)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
        return [done_message(done, "Invoice recorded")]


async def paid(turn: Turn, services: Services, payment_id: int) -> list[Reply]:
    """`agreements paid P [day]`."""
    async with services.db.session() as session:
        try:
            done = await mark_paid(session, turn, services, payment_id)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
        return [done_message(done, "Marked paid")]
