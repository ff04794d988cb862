"""The words of the agreements register: the team's list, a provider's own agreements, one
agreement in full (with the s.52 KPI warning), and what saving says back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.clock import LONDON, format_date
from bot.core.law import ROUTE_NAMES, Route
from bot.core.reply import Button, Fact, Message, Notice, Reply, Section, command_ref
from handlers.agreements.common import COMMAND, KpiShortfall, kpi_shortfall
from handlers.agreements.details import AgreementDetails, PaymentRow, role_words
from handlers.opportunities.common import money
from handlers.opportunities.views import areas_text
from storage.agreement_detail_tables import AgreementPerson, DatedItemKind, Payer, Side
from storage.agreement_tables import (
    Agreement,
    AgreementKpi,
    AgreementParty,
    PartyRole,
    VatBasis,
)
from storage.feedback_summary import PointSummary
from storage.models import Authority, Organisation

Parties = list[tuple[AgreementParty, Organisation]]

TEAM_SEES = (
    "Your council's commissioning team sees this, and so does each organisation that is "
    "party to the agreement. No other provider sees it."
)
PARTY_SEES = (
    "You see this because your organisation is party to it. The council's commissioning "
    "team sees it too. No other provider sees it."
)
VAT_WORDS = {
    VatBasis.INCLUDING: "including VAT",
    VatBasis.EXCLUDING: "excluding VAT",
    VatBasis.NOT_APPLICABLE: "VAT does not apply",
}


def route_words(route: str) -> str:
    return ROUTE_NAMES[Route(route)] if route in set(Route) else "Not known"


def value_words(agreement: Agreement) -> str:
    if agreement.value_pence is None:
        return "Not given"
    return f"{money(agreement.value_pence)} ({VAT_WORDS.get(VatBasis(agreement.vat_basis), '')})"


def regime_words(agreement: Agreement) -> str:
    flags = [
        (agreement.grant_funded, "grant"),
        (agreement.light_touch, "light-touch"),
        (agreement.below_threshold, "below the threshold"),
        (agreement.reserved, "reserved"),
        (agreement.framework_call_off, "framework call-off"),
    ]
    words = [word for on, word in flags if on]
    return ", ".join(words) if words else "standard contract rules"


def parties_words(parties: Parties) -> str:
    """'Riverside Youth Trust (lead, 60%), Eastgate Community Kitchen (40%)'."""
    out = []
    for party, organisation in parties:
        bits = []
        if party.role == PartyRole.LEAD:
            bits.append("lead")
        if party.share_percent is not None:
            bits.append(f"{party.share_percent}%")
        out.append(f"{organisation.name} ({', '.join(bits)})" if bits else organisation.name)
    return ", ".join(out) or "Not given"


def dates_words(agreement: Agreement) -> str:
    return f"{format_date(agreement.starts_on)} to {format_date(agreement.ends_on)}"


def breaks_words(agreement: Agreement) -> str:
    out = []
    for clause in agreement.break_clauses or []:
        day = format_date(date.fromisoformat(clause["on"]))
        notice = clause.get("notice_days")
        out.append(f"{day}, with {notice} days' notice" if notice is not None else day)
    return "; ".join(out) or "None"


def people_words(people: list[AgreementPerson], side: Side, none: str = "Nobody yet") -> str:
    """'Priya Shah (contract manager); Sam Lee (finance, sam@example.org, not on Convene
    yet, so no reminders)'."""
    out = []
    for person in people:
        if person.side != side:
            continue
        bits = [role_words(person.role)]
        if person.person_id is None:
            bits += [person.email or "", "not on Convene yet, so no reminders"]
        out.append(f"{person.name} ({', '.join(b for b in bits if b)})")
    return "; ".join(out) or none


def own_date_words(details: AgreementDetails, kind: DatedItemKind, none: str) -> str:
    found = [
        format_date(d.on) + (", then on that day every year" if d.yearly else "")
        for d in details.dates
        if d.kind == kind
    ]
    return "; ".join(found) or none


def payment_words(row: PaymentRow, *, on: date, for_team: bool) -> str:
    """'£10,000 from Preston City Council to Riverside Youth Trust. Invoice received ...'.
    Lateness is for the team's eyes only."""
    payment = row.payment
    words = f"{money(payment.amount_pence)} from {row.payer_name} to {row.payee_name}."
    if payment.payer == Payer.LEAD:
        words += " The lead pays the member (Procurement Act 2023 s.73)."
    if payment.paid_on is not None:
        return f"{words} Paid on {format_date(payment.paid_on)}."
    if payment.invoice_received_on is None:
        return f"{words} No invoice yet."
    words += f" Invoice received on {format_date(payment.invoice_received_on)}."
    if row.pay_by is not None:
        words += f" Pay by {format_date(row.pay_by)}."
        if for_team and row.pay_by < on:
            words += " This is late."
    return words


def details_sections(
    agreement: Agreement, details: AgreementDetails, *, on: date, for_team: bool
) -> list[Section]:
    """The named people, the agreement's own dates, and its payments."""
    facts = [
        Fact(label="Named for the council", value=people_words(details.people, Side.COUNCIL)),
        Fact(label="Named for the provider", value=people_words(details.people, Side.PROVIDER)),
        Fact(
            label="Signed",
            value=own_date_words(details, DatedItemKind.SIGNED, "Not given (we use the start)"),
        ),
        Fact(label="Reviews", value=own_date_words(details, DatedItemKind.REVIEW, "None set")),
        Fact(
            label="Price rises",
            value=own_date_words(details, DatedItemKind.PRICE_UPLIFT, "None set"),
        ),
        Fact(
            label="Staff moving (TUPE)",
            value=own_date_words(details, DatedItemKind.TUPE_TRANSFER, "None"),
        ),
    ]
    if agreement.notes:
        facts.append(Fact(label="Notes", value=agreement.notes))
    payments = [
        Fact(
            label=f"Payment {row.payment.id}, due {format_date(row.payment.due_on)}",
            value=payment_words(row, on=on, for_team=for_team),
        )
        for row in details.payments
    ]
    late = sum(
        1
        for row in details.payments
        if for_team and row.payment.paid_on is None and row.pay_by and row.pay_by < on
    )
    how = " ".join(
        f"Payment {row.payment.id}: "
        f"{command_ref(f'{COMMAND} invoice {row.payment.id}', f'Invoice came for payment {row.payment.id}')}, "
        f"{command_ref(f'{COMMAND} paid {row.payment.id}', f'Mark payment {row.payment.id} paid')}."
        for row in details.payments
        if row.payment.paid_on is None
    )
    return [
        Section(heading="People and dates", facts=facts),
        Section(
            heading="Payments",
            text=(f"{late} late. " if late else "") + (how if payments else "None set."),
            facts=payments,
        ),
    ]


@dataclass(frozen=True)
class DetailCells:
    """The register file's cells for the agreement's details, in words."""

    reviews: str
    price_uplifts: str
    payments: str
    council_people: str
    provider_people: str


def details_cells(agreement: Agreement, details: AgreementDetails) -> DetailCells:
    payments = "; ".join(
        f"{format_date(r.payment.due_on)}: {money(r.payment.amount_pence)} from {r.payer_name} "
        f"to {r.payee_name}"
        for r in details.payments
    )
    if agreement.notes:
        payments = f"{payments}. Notes: {agreement.notes}" if payments else agreement.notes
    return DetailCells(
        reviews=own_date_words(details, DatedItemKind.REVIEW, ""),
        price_uplifts=own_date_words(details, DatedItemKind.PRICE_UPLIFT, ""),
        payments=payments,
        council_people=people_words(details.people, Side.COUNCIL, ""),
        provider_people=people_words(details.people, Side.PROVIDER, ""),
    )


def shortfall_words(shortfall: KpiShortfall) -> str:
    return (
        f"This contract is worth more than £{shortfall.over_pounds:,}, so the law says it "
        f"needs at least {shortfall.required} key performance indicators ({shortfall.citation}). "
        f"It has {shortfall.has}. Add them in each agreement's details (open it from "
        f"{command_ref(COMMAND, 'your agreements')}). They go in the contract details notice."
    )


def agreement_message(
    agreement: Agreement,
    parties: Parties,
    kpis: list[AgreementKpi],
    details: AgreementDetails | None = None,
    *,
    for_team: bool,
    on: date | None = None,
) -> list[Reply]:
    """One agreement in full, with its people, dates and payments (late ones flagged for
    the team only, as of `on`), and the KPI warning when the law needs more."""
    facts = [
        Fact(label="Number", value=str(agreement.id)),
        Fact(label="How it was funded or bought", value=route_words(agreement.route)),
        Fact(label="Rules", value=regime_words(agreement)),
        Fact(label="Worth", value=value_words(agreement)),
        Fact(label="With", value=parties_words(parties)),
        Fact(label="Dates", value=dates_words(agreement)),
        Fact(label="Areas", value=areas_text(list(agreement.area_served))),
        Fact(label="Extensions", value=agreement.extension_options or "None"),
        Fact(label="Break clauses", value=breaks_words(agreement)),
        Fact(
            label="Paid within",
            value=f"{agreement.payment_terms_days} days of a correct invoice",
        ),
    ]
    if agreement.opportunity_id is not None:
        facts.append(Fact(label="From opportunity", value=str(agreement.opportunity_id)))
    kpi_facts = [
        Fact(label=k.name, value=f"Measured by: {k.measure}. Target: {k.target}.") for k in kpis
    ]
    sections = [Section(facts=facts)]
    if details is not None:
        sections += details_sections(
            agreement, details, on=on or agreement.starts_on, for_team=for_team
        )
    sections.append(
        Section(
            heading="Key performance indicators",
            text=None if kpi_facts else "None yet.",
            facts=kpi_facts,
        )
    )
    buttons = (
        [Button(label="Change it", action=f"cmd.{COMMAND}", value=f"edit {agreement.id}")]
        if for_team
        else []
    )
    replies: list[Reply] = [
        Message(
            title=agreement.title,
            sections=sections,
            buttons=buttons,
            who_sees=TEAM_SEES if for_team else PARTY_SEES,
        )
    ]
    shortfall = kpi_shortfall(agreement, len(kpis))
    if shortfall is not None and for_team:
        replies.append(Notice(text=shortfall_words(shortfall), level="warning"))
    return replies


def saved_replies(
    agreement: Agreement,
    parties: Parties,
    kpis: list[AgreementKpi],
    details: AgreementDetails | None = None,
    *,
    new: bool,
    on: date,
) -> list[Reply]:
    said = "Recorded" if new else "Changed"
    return [
        Notice(
            text=f"{said}: {agreement.title}, number {agreement.id}. Your team and the "
            f"organisations party to it ({parties_words(parties)}) can see it. Nobody is sent "
            "a message.",
            level="success",
        ),
        *agreement_message(agreement, parties, kpis, details, for_team=True, on=on),
    ]


def _row(agreement: Agreement, parties: Parties, kpi_count: int, for_team: bool) -> Section:
    text = None
    if for_team:
        shortfall = kpi_shortfall(agreement, kpi_count)
        if shortfall is not None:
            text = (
                f"Needs at least {shortfall.required} key performance indicators "
                f"({shortfall.citation}); it has {shortfall.has}."
            )
    return Section(
        heading=f"{agreement.id}. {agreement.title}",
        text=text,
        facts=[
            Fact(label="With", value=parties_words(parties)),
            Fact(label="Worth", value=value_words(agreement)),
            Fact(label="Dates", value=dates_words(agreement)),
        ],
        buttons=[Button(label="Show", action=f"cmd.{COMMAND}", value=f"show {agreement.id}")],
    )


def team_register(
    authority: Authority,
    rows: list[tuple[Agreement, Parties, int]],
    links: str,
) -> Message:
    """The team's register for one council, with the export links."""
    base = f"{links}/agreements/{authority.slug}/register"
    return Message(
        title=f"Agreements: {authority.name}",
        text=None
        if rows
        else "No agreements recorded yet. Record one: "
        f"{command_ref(f'{COMMAND} new', 'Record an agreement')}.",
        sections=[_row(a, p, k, True) for a, p, k in rows],
        buttons=[
            Button(label="Record an agreement", action=f"cmd.{COMMAND}", value="new"),
            Button(label="Register (CSV)", action="agreements.link", url=f"{base}.csv"),
            Button(label="Register (Excel)", action="agreements.link", url=f"{base}.xlsx"),
        ],
        who_sees="Only your council's commissioning team sees this list and its files.",
    )


def provider_register(rows: list[tuple[Agreement, Parties, int]]) -> Message:
    """A provider's own agreements only."""
    return Message(
        title="Your organisation's agreements",
        text=None
        if rows
        else "Your organisation is not party to any agreement recorded in Convene yet.",
        sections=[_row(a, p, k, False) for a, p, k in rows],
        who_sees="Only your organisation and the council that made each agreement see these.",
    )


FEEDBACK_COMMAND = "feedback"


def _answers_words(count: int, *, provider: bool, minimum: int) -> str:
    """How many answered, as this person may see it: beyond the service (the council's
    team), a count below the minimum is only "fewer than N", so nobody can be picked out."""
    if count == 0:
        return "Nobody yet"
    if provider or count >= minimum:
        return str(count)
    return f"Fewer than {minimum}"


def feedback_message(
    agreement_id: int, points: list[PointSummary], *, provider: bool, minimum: int
) -> Message:
    """What people who use the service said, beside the check-ins: each feedback point with
    how many answered and the newest "you said, we did", or a way to set one up."""
    sections = []
    for point in points:
        facts = [
            Fact(label="Open", value="Yes" if point.open else "No, closed"),
            Fact(
                label="Answers",
                value=_answers_words(point.answers, provider=provider, minimum=minimum),
            ),
        ]
        if point.latest_said and point.latest_said_at:
            day = format_date(point.latest_said_at.astimezone(LONDON).date())
            facts.append(Fact(label=f"You said, we did ({day})", value=point.latest_said))
        sections.append(
            Section(
                heading=point.service_name,
                facts=facts,
                buttons=[
                    Button(
                        label=f"See feedback: {point.service_name}",
                        action=f"cmd.{FEEDBACK_COMMAND}",
                        value=f"show {point.point_id}",
                    )
                ],
            )
        )
    setup = Button(
        label="Set up a feedback point",
        action=f"cmd.{FEEDBACK_COMMAND}",
        value=f"new agreement {agreement_id}",
    )
    beyond = (
        ""
        if provider
        else f" You see the answers once at least {minimum} people have answered; "
        "until then the provider sees them."
    )
    return Message(
        title="Feedback from people who use the service",
        text=(
            None
            if points
            else "No feedback point yet. A feedback point is a page, a QR code and a poster "
            "where people who use the service can say what they think, with no account."
        ),
        sections=sections,
        buttons=[] if points else [setup],
        who_sees=(
            "The council's commissioning team and the provider see this. The provider sees "
            "every answer first; the council sees the details once enough people have "
            f"answered.{beyond} Feedback is never used to rate a member of staff, and never "
            "used in the performance assessment."
        ),
    )
