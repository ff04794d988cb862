"""How an opportunity reads to a provider: the plain "Is this for us?" card first, then the
full details. The team's preview is built from the same function, so what they check is
exactly what providers get."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import format_when
from bot.core.areas import area_label
from bot.core.cpv import cpv_label
from bot.core.law import ROUTE_NAMES, Route
from bot.core.reply import Button, Fact, Message, Section
from handlers.opportunities import guardrails as g
from handlers.opportunities.announce import Told
from handlers.opportunities.common import (
    COMMAND,
    FORMAT_WORDS,
    PAYMENT_WORDS,
    TUPE_WORDS,
    deadline_text,
    money,
    value_range,
)
from storage.opportunity_tables import Opportunity, OpportunityLot

#: Said under every announcement and card: who sees what a provider does here.
WHO_SEES = (
    "Every provider this fits is sent this same message at the same time, unless they "
    "chose quiet hours or a weekly list. If you say you are "
    "interested, only the council's commissioning team sees your name. Other providers "
    "never see who is interested."
)


def _length(months: int | None) -> str:
    if months is None:
        return "Not given yet"
    years, rest = divmod(months, 12)
    if rest == 0 and years:
        return f"{years} year{'s' if years != 1 else ''}"
    return f"{months} month{'s' if months != 1 else ''}"


def bid_effort(opportunity: Opportunity, lots: list[OpportunityLot]) -> str:
    """An honest, rough guess at the work of bidding, from the value and what is asked.
    It says it is a guess: nobody has measured it."""
    top = opportunity.value_max_pence or opportunity.value_min_pence or 0
    pounds = top // 100
    if pounds < 25_000:
        effort = "about a day"
    elif pounds < 100_000:
        effort = "about 2 to 3 days"
    elif pounds < 500_000:
        effort = "about 1 to 2 weeks"
    else:
        effort = "2 weeks or more"
    extra = ""
    formats = set(opportunity.submission_formats or [])
    if formats and formats != {"writing"}:
        extra = (
            " You don't have to write it all: "
            + ", ".join(FORMAT_WORDS.get(f, f) for f in opportunity.submission_formats)
            + " are welcome."
        )
    if len(lots) > 1:
        extra += " Bidding for one lot is less work than bidding for all."
    return f"Our rough guess: {effort} of work for a small organisation.{extra}"


def areas_text(codes: list[str]) -> str:
    return ", ".join(area_label(c) for c in codes) or "Everywhere the council covers"


def is_this_for_us(
    opportunity: Opportunity, lots: list[OpportunityLot], council: str, tz: ZoneInfo
) -> Section:
    """The plain card: the few facts that decide whether to read on."""
    facts = [
        Fact(label="Who it's for", value=opportunity.people_served or opportunity.purpose),
        Fact(label="Where", value=areas_text(list(opportunity.area_served))),
        Fact(
            label="Value",
            value=value_range(opportunity.value_min_pence, opportunity.value_max_pence),
        ),
        Fact(label="How long", value=_length(opportunity.length_months)),
        Fact(
            label="When money is paid",
            value=PAYMENT_WORDS.get(opportunity.payment_model or "", "Not given yet"),
        ),
        Fact(
            label="Staff and pensions",
            value=TUPE_WORDS.get(opportunity.tupe or "", "Not given yet")
            + (f". Pensions: {opportunity.pensions}" if opportunity.pensions else ""),
        ),
        Fact(
            label="Lots",
            value="; ".join(
                f"Lot {lot.number}: {lot.title} ({value_range(lot.value_min_pence, lot.value_max_pence)})"
                for lot in lots
            )
            or "One lot: the whole work",
        ),
        Fact(label="Deadline for bids", value=deadline_text(opportunity, tz)),
        Fact(
            label="Working with partners",
            value="Welcome: groups of organisations can bid together"
            if opportunity.partners_wanted
            else "Not asked for, but you can still bid together",
        ),
        Fact(label="Work to bid", value=bid_effort(opportunity, lots)),
    ]
    return Section(heading=f"Is this for us? From {council}", facts=facts)


def full_details(
    opportunity: Opportunity, lots: list[OpportunityLot], tz: ZoneInfo
) -> list[Section]:
    """Everything the team wrote, in seed 002's order: purpose, the work, how to apply."""
    o = opportunity
    sections: list[Section] = []

    def add(heading: str, text: str | None) -> None:
        if text:
            sections.append(Section(heading=heading, text=text))

    add("What it is for", o.purpose)
    add("Why now", o.context)
    add("What people need, and what already works", o.needs_and_strengths)
    add("Where the money comes from", o.funding_sources)
    add("What should change for people", o.outcomes)
    add("Standards and legal duties", o.standards_and_duties)
    add("Can it be made longer", o.extensions)
    add("Buildings, equipment and other assets", o.assets)
    for lot in lots:
        sections.append(
            Section(
                heading=f"Lot {lot.number}: {lot.title}",
                text=lot.description,
                facts=[
                    Fact(
                        label="Value",
                        value=value_range(lot.value_min_pence, lot.value_max_pence),
                    ),
                    Fact(label="Where", value=areas_text(list(lot.area_served or o.area_served))),
                ],
            )
        )
    process = [
        Fact(label="Deadline for bids", value=deadline_text(o, tz)),
        Fact(
            label="Last day for questions",
            value=deadline_text_at(o.clarification_deadline, tz),
        ),
        *(
            [
                Fact(
                    label="Briefing for providers",
                    value=format_when(o.briefing_at, tz)
                    + (f", {o.briefing_where}" if o.briefing_where else ""),
                )
            ]
            if o.briefing_at
            else []
        ),
        Fact(
            label="How bids are judged",
            value=f"Quality {o.quality_weight}%, price {o.price_weight}%, "
            f"social value {o.social_value_weight}%",
        ),
        Fact(
            label="Ways to send your bid",
            value=", ".join(FORMAT_WORDS.get(f, f) for f in o.submission_formats) or "In writing",
        ),
    ]
    sections.append(Section(heading="How to apply", text=o.how_to_submit, facts=process))
    add("Timeline", o.timeline)
    add("Asking questions", o.clarification_process)
    add("What we look for", o.assessment_criteria)
    add("What every bid must have", o.pass_fail_criteria)
    add("Who to contact", o.contacts)
    if o.cpv_codes:
        add("What is being bought (CPV codes)", "\n".join(cpv_label(c) for c in o.cpv_codes))
    if o.notice_links:
        add("Notices and documents", "\n".join(o.notice_links))
    add("How the council is funding or buying it", route_words(o.route))
    return sections


def route_words(route: str | None) -> str | None:
    """The route by name, and who may take part when it is kept for some organisations."""
    if route not in {r.value for r in Route}:
        return None
    words = ROUTE_NAMES[Route(route)] + "."
    if route == Route.RESERVED_SUPPORTED_EMPLOYMENT:
        words += (
            " Only supported employment providers can take part (Procurement Act 2023 s.32). "
            "If you are one, say so in your profile."
        )
    elif route == Route.RESERVED_MUTUAL:
        words += (
            " Only public service mutuals can take part (Procurement Act 2023 s.33). If you "
            "are one, say so in your profile."
        )
    return words


def deadline_text_at(when: datetime | None, tz: ZoneInfo) -> str:
    return format_when(when, tz) if when is not None else "Not set"


def provider_buttons(opportunity: Opportunity) -> list[Button]:
    o = opportunity.id
    return [
        Button(
            label="We're interested",
            action=f"cmd.{COMMAND}",
            value=f"interest {o}",
            style="primary",
        ),
        Button(label="Full details", action=f"cmd.{COMMAND}", value=f"show {o}"),
        Button(
            label="Add the deadline to my calendar", action=f"cmd.{COMMAND}", value=f"calendar {o}"
        ),
    ]


def announcement(
    opportunity: Opportunity, lots: list[OpportunityLot], council: str, tz: ZoneInfo
) -> Message:
    """The message every fitting provider gets at publishing: the card, then the buttons."""
    return Message(
        title=f"New opportunity: {opportunity.title}",
        text=f"{council} is looking for organisations to do this work. Here is what you "
        "need to decide if it is for you. Press Full details to read everything.",
        sections=[is_this_for_us(opportunity, lots, council, tz)],
        buttons=provider_buttons(opportunity),
        who_sees=WHO_SEES,
    )


def waiting_words(told: Told) -> str:
    """Who hears later, by their own choice: overnight, or in a weekly digest."""
    said = ""
    if told.in_the_morning:
        n = told.in_the_morning
        said += (
            f" {n} of them {'does' if n == 1 else 'do'} not get messages at this time of "
            "day, so theirs will go when their day starts."
        )
    if told.in_digest:
        n = told.in_digest
        said += (
            f" {n} more {'person' if n == 1 else 'people'} chose to hear once a week, so "
            "it goes in their next weekly list."
        )
    return said


#: Said under every deadline reminder.
REMINDER_WHO_SEES = (
    "We send this only to people in organisations that said they are interested. Only the "
    "council's commissioning team sees who is interested."
)

_HOW_CLOSE = {
    "14_days": "That is about two weeks away.",
    "3_working_days": "That is 3 working days away.",
    "morning_of": "That is today.",
}


def deadline_reminder(
    opportunity: Opportunity, which: str, council: str, tz: ZoneInfo, *, today: bool = True
) -> Message:
    """A reminder to an interested provider: the title, the deadline in full, what to do
    next, and the calendar file button."""
    o = opportunity
    when = deadline_text(o, tz)
    how_close = _HOW_CLOSE.get(which, "")
    if which == "morning_of" and not today:
        how_close = "This is your last reminder."
    how = (o.how_to_submit or "").strip()
    next_step = (
        f"What to do next: send your bid before then. How to send it: {how}"
        if how
        else "What to do next: send your bid before then. Press Full details to see how."
    )
    return Message(
        title=f"Deadline reminder: {o.title}",
        text=f"Bids for {o.title}, from {council}, close on {when}. {how_close}\n\n"
        f"{next_step}\n\nAdd the deadline to your calendar with the button below. If you no "
        'longer plan to bid, press "We\'re no longer interested" and we will stop '
        "reminding you.",
        buttons=[
            Button(label="Full details", action=f"cmd.{COMMAND}", value=f"show {o.id}"),
            Button(
                label="Add the deadline to my calendar (.ics)",
                action=f"cmd.{COMMAND}",
                value=f"calendar {o.id}",
            ),
            Button(
                label="We're no longer interested",
                action=f"cmd.{COMMAND}",
                value=f"leave {o.id}",
            ),
        ],
        who_sees=REMINDER_WHO_SEES,
    )


def guardrail_text(guardrail: object) -> str:
    """What the team reads for each guardrail (`guardrails.py` decides which apply)."""
    if isinstance(guardrail, g.TooShortForTheLaw):
        words = (
            f"Providers would get {guardrail.days} days to bid. On this route the law says "
            f"at least {guardrail.minimum} days ({guardrail.citation}). Only after a "
            "qualifying planned procurement notice, or when it is truly urgent, can it be "
            f"as short as {guardrail.reduced_minimum} days, and Convene can't record those "
            "yet. "
        )
        if guardrail.certain:
            return words + "Choose a later deadline for bids."
        return words + (
            "If this is a tender under the Procurement Act, choose a later deadline for bids."
        )
    if isinstance(guardrail, g.UnderGoodPractice):
        return (
            f"Providers get {guardrail.days} days to bid. We suggest at least six weeks, so "
            "small groups and people who work together have time (seed 004)."
        )
    if isinstance(guardrail, g.LotTooLarge):
        what = (
            f"Lot {guardrail.lot_number}, {guardrail.lot_title},"
            if guardrail.lot_number is not None
            else "The work"
        )
        return (
            f"{what} is worth up to {money(guardrail.yearly_pence)} a year. That is more "
            f"than most of the {guardrail.answered} providers who told us their largest "
            "contract said they could take on. Think about smaller lots, or welcome bids "
            "from groups working together."
        )
    if isinstance(guardrail, g.UnfundedAdditionality):
        return (
            "It asks for additional social value (additionality), but where the money "
            "comes from does not say social value is paid for. Small groups can't give extra "
            "for free. Add the money for it, or stop asking for extra"
            + (
                f". Scoring social value ({guardrail.social_value_weight}%) does not pay for it."
                if guardrail.social_value_weight
                else "."
            )
        )
    if isinstance(guardrail, g.PriceLed):
        return (
            "Price counts for more than quality. Bids led by price often shut out small "
            "local groups. Are you sure?"
        )
    if isinstance(guardrail, g.NobodyToTell):
        return "It names no kind of work and no area, so we can't tell anyone about it."
    raise TypeError(f"no words for {guardrail!r}")
