"""An agreement's details, as the register's form gives them (issue 15): the people named
on each side, the dates the parties set themselves, and the payment schedule.

The form asks for people one a line ("Priya Shah, contract manager"; someone not on Convene
adds an email), reviews and price rises as a first date that may repeat each year, the
signing day and a TUPE transfer day as dates, and payments one a line ("30 April 2026;
£10,000", or "...; to Eastgate Community Kitchen" for a consortium's lead paying a member,
s.73). Reading them is pure (`read_details`); matching the names to Convene people needs the
records (`match_people`); saving replaces the people and dates and keeps what is known of a
payment (its invoice, whether it was paid) when its line is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_date
from bot.core.forms import Field, FieldType
from bot.core.forms.kinds import kind_of
from bot.core.forms.kinds.common import AnswerError
from bot.core.monitoring import pay_by
from handlers.opportunities.common import money
from storage.agreement_detail_tables import (
    AgreementDate,
    AgreementPayment,
    AgreementPerson,
    DatedItemKind,
    Payer,
    PersonRole,
    Side,
)
from storage.agreement_details import named_people, own_dates, payments_of, person_named
from storage.agreement_tables import Agreement, PartyRole
from storage.agreements import parties_of
from storage.models import Authority, Organisation

_DAY = Field(id="payment_day", type=FieldType.DATE, label="The day it is due")
_AMOUNT = Field(id="payment_amount", type=FieldType.MONEY, label="The amount")

#: Words people write for each role (the first is how it is shown).
ROLE_WORDS: dict[PersonRole, tuple[str, ...]] = {
    PersonRole.CONTRACT_MANAGER: ("contract manager", "contract", "grant manager"),
    PersonRole.FINANCE: ("finance", "finance officer", "finance lead", "payments"),
    PersonRole.SAFEGUARDING_LEAD: ("safeguarding lead", "safeguarding"),
    PersonRole.MONITORING_CONTACT: ("monitoring contact", "monitoring"),
    PersonRole.SERVICE_MANAGER: ("service manager", "service lead", "manager"),
}
ROLE_LIST = "contract manager, finance, safeguarding lead, monitoring contact or service manager"

#: The form's fields for each side's people.
SIDE_FIELDS = {Side.COUNCIL: "council_people", Side.PROVIDER: "provider_contacts"}


def role_words(role: str) -> str:
    known = PersonRole(role) if role in set(PersonRole) else None
    return ROLE_WORDS[known][0] if known else role.replace("_", " ")


def read_role(words: str) -> PersonRole | None:
    wanted = " ".join(words.lower().split())
    for role, written in ROLE_WORDS.items():
        if wanted in written:
            return role
    for role, written in ROLE_WORDS.items():
        if any(w in wanted for w in written[:1]):
            return role
    return None


@dataclass(frozen=True)
class NamedLine:
    """One person as written: their name, role, and email if given."""

    side: Side
    name: str
    role: PersonRole
    email: str | None


@dataclass(frozen=True)
class PaymentLine:
    due_on: date
    amount_pence: int
    #: The member's name, when the consortium's lead pays a member (s.73).
    to_member: str | None


@dataclass
class Details:
    """The details read from the answers, and the problems found (field id -> words)."""

    people: list[NamedLine] = field(default_factory=list)
    dates: list[tuple[DatedItemKind, date, bool]] = field(default_factory=list)
    payments: list[PaymentLine] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def problem(self, field_id: str, words: str, reason: str) -> None:
        self.problems.setdefault(field_id, words)
        self.reasons.append(reason)


def _lines(text: Any) -> list[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def _day(answers: dict[str, Any], name: str) -> date | None:
    value = answers.get(name)
    return date.fromisoformat(value) if value else None


def read_details(answers: dict[str, Any]) -> Details:
    """Everything about the people, dates and payments that can be checked without the
    records: each line readable, each date inside the agreement's term."""
    details = Details()
    starts, ends = _day(answers, "starts_on"), _day(answers, "ends_on")
    for side, field_id in SIDE_FIELDS.items():
        for line in _lines(answers.get(field_id)):
            parts = [p.strip() for p in line.split(",")]
            role = read_role(parts[1]) if len(parts) in (2, 3) and all(parts) else None
            email = parts[2] if len(parts) == 3 else None
            if role is None or (email is not None and "@" not in email):
                details.problem(
                    field_id,
                    f'We could not read "{line}". Write the name, a comma, then their role: '
                    f"{ROLE_LIST}. For someone not on Convene yet, add a comma and their email.",
                    "named person does not parse",
                )
                continue
            details.people.append(NamedLine(side, parts[0][:200], role, email))
    for kind, day_field, yearly_field, what in (
        (DatedItemKind.SIGNED, "signed_on", None, "It can't be signed"),
        (DatedItemKind.REVIEW, "review_on", "review_yearly", "A review can't be"),
        (DatedItemKind.PRICE_UPLIFT, "uplift_on", "uplift_yearly", "The price can't go up"),
        (DatedItemKind.TUPE_TRANSFER, "tupe_transfer_on", None, "Staff can't move"),
    ):
        day = _day(answers, day_field)
        if day is None:
            continue
        if ends and day > ends:
            details.problem(
                day_field,
                f"{what} on {format_date(day)}: that is after the agreement ends "
                f"({format_date(ends)}). Check the dates.",
                f"{kind} after the end",
            )
        elif starts and day < starts and kind in (DatedItemKind.REVIEW, DatedItemKind.PRICE_UPLIFT):
            details.problem(
                day_field,
                f"{what} on {format_date(day)}: that is before the agreement starts "
                f"({format_date(starts)}). Check the dates.",
                f"{kind} before the start",
            )
        else:
            details.dates.append((kind, day, bool(yearly_field and answers.get(yearly_field))))
    for line in _lines(answers.get("payments")):
        payment = _read_payment(line)
        if payment is None:
            details.problem(
                "payments",
                f'We could not read "{line}". Write the day it is due, a semicolon (;), then '
                'the amount, like "30 April 2026; £10,000".',
                "payment line does not parse",
            )
        elif starts and payment.due_on < starts:
            details.problem(
                "payments",
                f"A payment due on {format_date(payment.due_on)} is before the agreement "
                f"starts ({format_date(starts)}). Check the day.",
                "payment before the start",
            )
        else:
            details.payments.append(payment)
    return details


def _read_payment(line: str) -> PaymentLine | None:
    parts = [p.strip() for p in line.split(";")]
    if len(parts) not in (2, 3) or not all(parts):
        return None
    to_member = None
    if len(parts) == 3:
        if not parts[2].lower().startswith("to "):
            return None
        to_member = parts[2][3:].strip()
    try:
        day = date.fromisoformat(kind_of(FieldType.DATE).parse(_DAY, parts[0]))
        amount = int(kind_of(FieldType.MONEY).parse(_AMOUNT, parts[1]))
    except AnswerError:
        return None
    return PaymentLine(day, amount, to_member) if amount > 0 else None


@dataclass(frozen=True)
class Matched:
    """A named person with the Convene person they are, if they are on Convene."""

    line: NamedLine
    person_id: int | None
    organisation_id: int | None
    #: Their name on Convene when they are on it (they may have been picked by email).
    name: str


async def match_people(
    session: AsyncSession,
    details: Details,
    authority_id: int,
    organisations: list[Organisation],
) -> list[Matched]:
    """Each named person matched to a Convene person on their side: the council's team, or
    a member of a party organisation. Someone not found must have an email (they are shown
    but never reminded); a name not found without one is a problem."""
    matched = []
    ids = [o.id for o in organisations]
    for line in details.people:
        found = None
        for words in (line.name, line.email or ""):
            if line.side == Side.COUNCIL:
                found = await person_named(session, words, authority_id=authority_id)
            else:
                found = await person_named(session, words, organisation_ids=ids)
            if found is not None:
                break
        field_id = SIDE_FIELDS[line.side]
        if found is None and line.email is None:
            where = (
                "your council's commissioning team"
                if line.side == Side.COUNCIL
                else "the organisations party to the agreement"
            )
            details.problem(
                field_id,
                f'We could not find "{line.name}" in {where} on Convene. Check the name, or '
                "add a comma and their email if they are not on Convene yet.",
                "named person not found",
            )
            continue
        if found is not None:
            matched.append(Matched(line, found[0].id, found[1], found[0].name))
        else:
            organisation = ids[0] if line.side == Side.PROVIDER and ids else None
            matched.append(Matched(line, None, organisation, line.name))
    return matched


def check_payees(details: Details, lead: str, members: list[str]) -> None:
    """A payment "to" someone is the lead paying a member of this consortium (s.73)."""
    names = {m.strip().lower() for m in members}
    for payment in details.payments:
        if payment.to_member is not None and payment.to_member.lower() not in names:
            details.problem(
                "payments",
                f'"{payment.to_member}" is not a member of this consortium, so {lead} does not '
                "pay them under this agreement. Use a member's name as it is above.",
                "payment to someone not a member",
            )


async def save_details(
    session: AsyncSession,
    agreement: Agreement,
    details: Details,
    matched: list[Matched],
    payees: dict[str | None, int],
) -> None:
    """Replace the agreement's named people and own dates; keep each unchanged payment
    (its invoice and whether it was paid), add the new ones, drop the rest."""
    await session.execute(
        delete(AgreementPerson).where(AgreementPerson.agreement_id == agreement.id)
    )
    await session.execute(delete(AgreementDate).where(AgreementDate.agreement_id == agreement.id))
    for position, person in enumerate(matched, start=1):
        session.add(
            AgreementPerson(
                agreement_id=agreement.id,
                position=position,
                side=person.line.side,
                role=person.line.role,
                person_id=person.person_id,
                organisation_id=person.organisation_id,
                name=person.name[:200],
                email=person.line.email,
            )
        )
    for kind, on, yearly in details.dates:
        session.add(AgreementDate(agreement_id=agreement.id, kind=kind, on=on, yearly=yearly))
    existing = {
        (p.due_on, p.payer, p.payee_organisation_id): p
        for p in await payments_of(session, agreement.id)
    }
    for line in details.payments:
        payer = Payer.LEAD if line.to_member else Payer.COUNCIL
        payee = payees.get(line.to_member.lower() if line.to_member else None)
        kept = existing.pop((line.due_on, payer, payee), None)
        if kept is not None:
            kept.amount_pence = line.amount_pence
            continue
        session.add(
            AgreementPayment(
                agreement_id=agreement.id,
                due_on=line.due_on,
                amount_pence=line.amount_pence,
                payer=payer,
                payee_organisation_id=payee,
            )
        )
    for gone in existing.values():
        await session.delete(gone)
    await session.flush()


async def details_answers(
    session: AsyncSession, agreement: Agreement, names: dict[int, str]
) -> dict[str, Any]:
    """The agreement's details as the form's answers, to change them. `names`: the party
    organisations' names by id."""
    answers: dict[str, Any] = {}
    for side, field_id in SIDE_FIELDS.items():
        lines = [
            ", ".join(
                [p.name, role_words(p.role), *([p.email] if p.email and not p.person_id else [])]
            )
            for p in await named_people(session, agreement.id)
            if p.side == side
        ]
        answers[field_id] = "\n".join(lines) or None
    fields = {
        DatedItemKind.SIGNED: ("signed_on", None),
        DatedItemKind.REVIEW: ("review_on", "review_yearly"),
        DatedItemKind.PRICE_UPLIFT: ("uplift_on", "uplift_yearly"),
        DatedItemKind.TUPE_TRANSFER: ("tupe_transfer_on", None),
    }
    for item in await own_dates(session, agreement.id):
        day_field, yearly_field = fields[DatedItemKind(item.kind)]
        answers.setdefault(day_field, item.on.isoformat())
        if yearly_field:
            answers.setdefault(yearly_field, item.yearly)
    lines = []
    for payment in await payments_of(session, agreement.id):
        line = f"{format_date(payment.due_on)}; {money(payment.amount_pence)}"
        if payment.payer == Payer.LEAD and payment.payee_organisation_id in names:
            line += f"; to {names[payment.payee_organisation_id]}"
        lines.append(line)
    answers["payments"] = "\n".join(lines) or None
    answers["notes"] = agreement.notes
    return answers


# --- what the agreement's page shows ----------------------------------------------------------


@dataclass(frozen=True)
class PaymentRow:
    """One payment with who pays whom and, once the invoice came, the day to pay by."""

    payment: AgreementPayment
    payer_name: str
    payee_name: str
    pay_by: date | None


@dataclass(frozen=True)
class AgreementDetails:
    people: list[AgreementPerson]
    dates: list[AgreementDate]
    payments: list[PaymentRow]


async def load_details(session: AsyncSession, agreement: Agreement) -> AgreementDetails:
    """The agreement's named people, own dates and payments (with pay-by days), to show."""
    from handlers.agreements.key_dates import dates_of, recorded_of

    recorded = await recorded_of(session, agreement)
    read = dates_of(agreement, 0, recorded)
    parties = await parties_of(session, agreement.id)
    names = {o.id: o.name for _, o in parties}
    lead = next((o.name for p, o in parties if p.role != PartyRole.MEMBER), "the provider")
    council = await session.get(Authority, agreement.authority_id)
    rows = []
    for payment in recorded.payments:
        by_lead = payment.payer == Payer.LEAD
        pay_by_day = None
        if read is not None and payment.invoice_received_on is not None:
            pay_by_day = pay_by(read, payment.invoice_received_on, subcontract=by_lead)
        rows.append(
            PaymentRow(
                payment,
                lead if by_lead else (council.name if council else "The council"),
                names.get(payment.payee_organisation_id or 0, lead),
                pay_by_day,
            )
        )
    return AgreementDetails(await named_people(session, agreement.id), recorded.dates, rows)
