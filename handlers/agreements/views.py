"""The words of the agreements register: the team's list, a provider's own agreements, one
agreement in full (with the s.52 KPI warning), and what saving says back."""

from __future__ import annotations

from datetime import date

from bot.clock import format_date
from bot.core.law import ROUTE_NAMES, Route
from bot.core.reply import Button, Fact, Message, Notice, Reply, Section
from handlers.agreements.common import COMMAND, KpiShortfall, kpi_shortfall
from handlers.opportunities.common import money
from handlers.opportunities.views import areas_text
from storage.agreement_tables import (
    Agreement,
    AgreementKpi,
    AgreementParty,
    PartyRole,
    VatBasis,
)
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


def shortfall_words(shortfall: KpiShortfall) -> str:
    return (
        f"This contract is worth more than £{shortfall.over_pounds:,}, so the law says it "
        f"needs at least {shortfall.required} key performance indicators ({shortfall.citation}). "
        f"It has {shortfall.has}. Add them: type {COMMAND} edit and its number. They go in "
        "the contract details notice."
    )


def agreement_message(
    agreement: Agreement,
    parties: Parties,
    kpis: list[AgreementKpi],
    *,
    for_team: bool,
) -> list[Reply]:
    """One agreement in full, with the KPI warning when the law needs more."""
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
        Fact(label="Reviews", value=agreement.review_points or "None set"),
        Fact(label="Price rises", value=agreement.price_uplifts or "None set"),
        Fact(label="Payments", value=agreement.payment_schedule or "Not set"),
        Fact(
            label="Paid within",
            value=f"{agreement.payment_terms_days} days of a correct invoice",
        ),
        Fact(label="Named for the council", value=agreement.council_people or "Nobody yet"),
        Fact(label="Named for the provider", value=agreement.provider_contacts or "Nobody yet"),
    ]
    if agreement.opportunity_id is not None:
        facts.append(Fact(label="From opportunity", value=str(agreement.opportunity_id)))
    kpi_facts = [
        Fact(label=k.name, value=f"Measured by: {k.measure}. Target: {k.target}.") for k in kpis
    ]
    sections = [Section(facts=facts)]
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
    agreement: Agreement, parties: Parties, kpis: list[AgreementKpi], *, new: bool, on: date
) -> list[Reply]:
    said = "Recorded" if new else "Changed"
    return [
        Notice(
            text=f"{said}: {agreement.title}, number {agreement.id}. Your team and the "
            f"organisations party to it ({parties_words(parties)}) can see it. Nobody is sent "
            "a message.",
            level="success",
        ),
        *agreement_message(agreement, parties, kpis, for_team=True),
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
        else f"No agreements recorded yet. Type {COMMAND} new to record one, or {COMMAND} "
        "new and an opportunity's number to start from that opportunity.",
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
