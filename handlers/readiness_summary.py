"""The commissioners' view of readiness: what local providers said, added up.

Three views, all for the commissioning team of the authority the answers were given to:

- `readiness summary` (or `?view=summary`): exact counts and spreads per question,
  for the team's own planning;
- `readiness shared` (`?view=shared`): the same with small groups hidden, so it can
  be shown beyond the team (at a market event, in a report);
- `readiness needs` (`?view=needs`): each kind of support providers asked for, and
  who asked, so the council can offer it.

Readiness is not a bid score (DOMAIN.md), so no view ranks or orders organisations by
their answers; the only list of organisations is in name order. Anyone else gets a
polite refusal, and the refusal is recorded.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_day
from bot.core.areas import ancestors, area_label, near_areas
from bot.core.areas import area as known_place
from bot.core.forms import Field, FormDefinition, format_answer
from bot.core.forms.kinds import kind_of
from bot.core.reply import (
    Button,
    Fact,
    Filter,
    FilterBar,
    FilterOption,
    Message,
    Notice,
    Reply,
    Section,
    command_ref,
)
from bot.core.turn import Turn, parse_command
from bot.services import Services
from handlers.directory import _area_code as typed_area_code
from handlers.readiness_statistics import (
    ARREARS_FIELD,
    OVERHEAD_FIELD,
    Count,
    Hidden,
    Kind,
    QuestionSummary,
    Summary,
    readiness_summary,
)
from storage import audit
from storage.forms import latest_definition
from storage.models import Authority
from storage.readiness import (
    RESPOND_FIELD,
    SUPPORT_FIELD,
    SupportAsker,
    places_covered,
    support_requests,
)
from storage.visibility import Refusal, can_see_readiness_summary

VIEWS = ("summary", "shared", "needs")
PROTECTED = "hidden to protect a small group"
NOT_A_SCORE = "This is not a score. We never rank organisations by these answers."


def _args(turn: Turn) -> dict[str, str]:
    """Arguments from the text (`readiness summary for=riverside service=food`) and from
    the door (a web query string); the door's win."""
    _, typed = parse_command(turn.text or "")
    return {**typed, **turn.args}


def wanted_view(turn: Turn) -> str | None:
    """`readiness summary|shared|needs`, or `view=…` (how the web door's links ask)."""
    words, _ = parse_command(turn.text or "")
    view = _args(turn).get("view") or (words[1] if len(words) > 1 else "")
    return view if view in VIEWS else None


async def show_summary(turn: Turn, services: Services) -> list[Reply]:
    """Route to the view asked for; everyone but the authority's commissioners is refused."""
    assert turn.actor is not None
    view = wanted_view(turn) or "summary"
    args = _args(turn)
    async with services.db.session() as session:
        authority = await _authority(session, turn, args.get("for"))
        if isinstance(authority, Refusal):
            if not turn.actor.is_commissioner:  # a commissioner was only asked which council
                await audit.record_turn(
                    session,
                    turn,
                    "readiness.summary_refused",
                    object_type="readiness_summary",
                    view=view,
                )
            return [Notice(text=authority.message, level="warning")]
        if not can_see_readiness_summary(turn.actor, authority.id):
            await audit.record_turn(
                session,
                turn,
                "readiness.summary_refused",
                object_type="readiness_summary",
                object_id=authority.id,
                authority_id=authority.id,
                view=view,
            )
            return [Notice(text=_refusal_text(turn, authority), level="warning")]
        definition = await latest_definition(session, "readiness")
        profile = await latest_definition(session, "organisation_profile")
        if definition is None or profile is None:
            return [Notice(text="The readiness questions are not set up yet.", level="error")]
        service = args.get("service", "")
        # A code from the web's list, or a name or postcode typed in chat, as the
        # directory reads it.
        area = typed_area_code(args.get("area", ""))
        # Someone who commissions for more than one council keeps the one they chose.
        chosen_council = f" for={authority.slug}" if len(turn.actor.commissioner_for()) > 1 else ""
        filters = FilterBar(
            command=f"readiness {view}{chosen_council}",
            filters=[
                Filter(
                    name="service",
                    label="Works on",
                    options=[
                        FilterOption(value=c.value, label=c.label)
                        for c in profile.field("service_areas").choices
                    ],
                    selected=service,
                ),
                Filter(
                    name="area",
                    label="Areas they could cover",
                    options=_area_options(
                        await places_covered(session, authority_id=authority.id), area
                    ),
                    selected=area,
                ),
            ],
        )
        chosen = _filters_text(profile, service, area)
        unknown = _unknown_area(area)
        if unknown is not None:
            return [unknown, filters]
        if view == "needs":
            asked = await support_requests(
                session, authority_id=authority.id, service_area=service or None, area=area or None
            )
            return _needs_view(turn, authority, definition, asked, filters, chosen)
        summary = await readiness_summary(
            session,
            authority_id=authority.id,
            definition=definition,
            service_area=service or None,
            area=area or None,
            suppress=view == "shared",
            minimum=services.settings.suppression_minimum,
        )
    return _summary_view(view, authority, definition, summary, filters, chosen)


async def _authority(session: AsyncSession, turn: Turn, wanted: str | None) -> Authority | Refusal:
    """The authority asked about with for=…, or the one this person commissions for."""
    assert turn.actor is not None
    if wanted:
        found = await session.scalar(select(Authority).where(Authority.slug == wanted))
        return found or Refusal(f'We can\'t find a council called "{wanted}".')
    mine = sorted(turn.actor.commissioner_for())
    if not mine:
        return Refusal(
            "The readiness summary is for council commissioning teams. "
            f"Your own answers are yours to see and change: {command_ref('readiness', 'your readiness answers')}."
        )
    authorities = list(
        (await session.scalars(select(Authority).where(Authority.id.in_(mine)))).all()
    )
    if len(authorities) == 1:
        return authorities[0]
    names = ", ".join(
        f"{a.name} ({command_ref(f'readiness summary for={a.slug}', f'the summary for {a.name}')})"
        for a in authorities
    )
    return Refusal(f"Which council's summary would you like? {names}")


def _refusal_text(turn: Turn, authority: Authority) -> str:
    assert turn.actor is not None
    if turn.actor.is_commissioner:
        return (
            f"Only {authority.name}'s commissioning team can see its readiness summary. "
            "Providers gave their answers to that council alone."
        )
    return (
        "The readiness summary is for council commissioning teams. "
        f"Your own answers are yours to see and change: {command_ref('readiness', 'your readiness answers')}."
    )


def _area_options(covered: list[str], chosen: str) -> list[FilterOption]:
    """The places answers cover, the counties and nations they are in (choosing one
    counts everyone covering any part of it), and the place chosen, by name."""
    codes = set(covered)
    for code in covered:
        codes.update(ancestors(code))
    if known_place(chosen) is not None:
        codes.add(chosen)
    options = [FilterOption(value=code, label=area_label(code)) for code in codes]
    return sorted(options, key=lambda o: (o.label.casefold(), o.value))


def _unknown_area(typed: str) -> Notice | None:
    """Plain words for an area filter that names no single place, rather than an empty
    summary that looks like nobody works there."""
    if not typed or known_place(typed) is not None:
        return None
    near = near_areas(typed, limit=3)
    hint = (
        f"Did you mean {', '.join(a.label for a in near)}?"
        if near
        else "Type a council or county name, like Leeds, or a postcode, like LS6 1AA."
    )
    return Notice(
        text=f"We could not find one place called '{typed[:40]}'. {hint} "
        "Choose a place from the list, or type another name.",
        level="warning",
    )


def _filters_text(profile: FormDefinition, service: str, area: str) -> str:
    parts: list[str] = []
    if service:
        parts.append(f"work on {format_answer(profile.field('service_areas'), [service]).lower()}")
    if area:
        parts.append(
            f"said they could cover {area_label(area)}, or a place that includes it or is in it"
        )
    return f"Only organisations that {' and '.join(parts)}." if parts else ""


# --------------------------------------------------------------------------
# The summary
# --------------------------------------------------------------------------


def _count_text(count: Count, total: int, minimum: int | None) -> str:
    """'12 (24%)', or why the number is not shown."""
    if count.hidden == Hidden.FEWER:
        return f"fewer than {minimum}"
    if count.hidden == Hidden.COMPLEMENT or count.value is None:
        return PROTECTED
    if not total:
        return str(count.value)
    share = Decimal(count.value * 100) / Decimal(total)
    if 0 < share < 1:
        return f"{count.value:,} (less than 1%)"
    return f"{count.value:,} ({share.quantize(Decimal(1), ROUND_HALF_UP)}%)"


def _statistic(field: Field, value: float) -> str:
    """A median or quartile as people write it: money to the pound, a percentage to one
    decimal place, a count with one decimal place only when it falls between two."""
    shown = kind_of(field.type).statistic_value(value)
    if shown is not None:
        return format_answer(field, shown)
    return f"{value:,.1f}"


def _question_section(
    field: Field, question: QuestionSummary, total: int, minimum: int | None
) -> Section:
    facts: list[Fact] = []
    text: str | None = None
    if question.kind in (Kind.CHOICE, Kind.MULTIPLE):
        labels = {c.value: c.label for c in field.choices}
        for option in question.options:
            label = labels.get(option.value, f"{option.value} (no longer asked)")
            facts.append(Fact(label=label, value=_count_text(option.count, total, minimum)))
        facts.append(
            Fact(label="Not answered", value=_count_text(question.not_answered, total, minimum))
        )
        if question.kind == Kind.MULTIPLE:
            text = "People could choose more than one answer."
    else:
        facts.append(Fact(label="Answered", value=_count_text(question.answered, total, minimum)))
    if question.kind == Kind.NUMBER:
        if question.spread is not None:
            spread = question.spread
            facts.append(
                Fact(label="Middle answer (median)", value=_statistic(field, spread.median))
            )
            facts.append(
                Fact(
                    label="Middle half of answers",
                    value=f"{_statistic(field, spread.lower)} to {_statistic(field, spread.upper)}",
                )
            )
        elif minimum is not None and question.answered.value != 0:
            text = f"We show the middle answer only when at least {minimum} organisations gave one."
    if question.kind == Kind.TEXT:
        text = "Written answers are not shown here, only how many gave one."
    return Section(heading=field.label, text=text, facts=facts)


def _headline(summary: Summary, definition: FormDefinition, total: int) -> Section:
    minimum = summary.minimum
    facts = [Fact(label="Organisations that answered", value=f"{total:,}")]
    try:
        definition.field(ARREARS_FIELD)
        facts.append(
            Fact(
                label="Could wait more than 60 days to be paid",
                value=_count_text(summary.arrears_61_plus, total, minimum),
            )
        )
    except KeyError:
        pass
    try:
        overhead = definition.field(OVERHEAD_FIELD)
        median = summary.median_overhead
        if median is not None:
            shown = _statistic(overhead, median)
        elif summary.question(OVERHEAD_FIELD).answered.value == 0:
            shown = "no answers yet"
        else:
            shown = PROTECTED
        facts.append(Fact(label="Typical share of costs that are overheads (median)", value=shown))
    except KeyError:
        pass
    return Section(heading="At a glance", facts=facts)


def _summary_view(
    view: str,
    authority: Authority,
    definition: FormDefinition,
    summary: Summary,
    filters: FilterBar,
    chosen: str,
) -> list[Reply]:
    shared = view == "shared"
    title = (
        "Readiness across local providers: version you can share"
        if shared
        else "Readiness across local providers"
    )
    switch = (
        Button(label="See exact numbers", action="cmd.readiness", value="view=summary")
        if shared
        else Button(
            label="See a version you can share", action="cmd.readiness", value="view=shared"
        )
    )
    buttons = [
        switch,
        Button(label="Support providers asked for", action="cmd.readiness", value="view=needs"),
    ]
    if shared:
        who_sees = (
            f'Any number under {summary.minimum} shows as "fewer than {summary.minimum}". '
            "Sometimes we hide one more number, so nobody can work out a small one by "
            "adding up. This keeps each organisation's answers private, so you can share "
            "this page."
        )
    else:
        who_sees = (
            f"Only {authority.name}'s commissioning team can see this page, because it has "
            "exact numbers. To share it more widely, use the version that hides small numbers."
        )
    if summary.too_few:
        text = (
            f"Fewer than {summary.minimum} organisations match, so we don't show a summary. "
            "This keeps their answers private. Try removing a filter."
        )
        return [
            Message(title=title, text="\n".join(t for t in (chosen, text) if t)),
            filters,
            Message(buttons=buttons, who_sees=who_sees),
        ]
    total = summary.organisations.value or 0
    if total == 0:
        text = (
            "No organisations match these filters. Try removing one."
            if chosen
            else f"No organisations have sent readiness answers to {authority.name} yet."
        )
        return [
            Message(title=title, text=text),
            filters,
            Message(buttons=buttons, who_sees=who_sees),
        ]
    intro = (
        f"What {total:,} organisation{'s' if total != 1 else ''} told {authority.name}, "
        "from each one's latest answers."
    )
    sections = [_headline(summary, definition, total)]
    for question in summary.questions:
        field = definition.field(question.field_id)
        sections.append(_question_section(field, question, total, summary.minimum))
    return [
        Message(title=title, text="\n".join(t for t in (intro, chosen, NOT_A_SCORE) if t)),
        filters,
        Message(sections=sections, buttons=buttons, who_sees=who_sees),
    ]


# --------------------------------------------------------------------------
# Support asked for
# --------------------------------------------------------------------------


def _asker_fact(turn: Turn, respond: Field | None, asker: SupportAsker) -> Fact:
    """'Prefers: on a phone call. Sent by Tom Okafor (tom@…) on Friday 6 March 2026.'"""
    assert turn.actor is not None
    parts: list[str] = []
    if respond is not None and asker.respond_how:
        parts.append(f"Prefers: {format_answer(respond, list(asker.respond_how)).lower()}.")
    sent = "Sent"
    if asker.contact_name:
        sent += f" by {asker.contact_name}"
        if asker.contact_email:
            sent += f" ({asker.contact_email})"
    if asker.asked_at is not None:
        sent += f" on {format_day(asker.asked_at, turn.actor.timezone)}"
    if sent != "Sent":
        parts.append(f"{sent}.")
    return Fact(label=asker.name, value=" ".join(parts) or "No contact details given.")


def _needs_view(
    turn: Turn,
    authority: Authority,
    definition: FormDefinition,
    asked: dict[str, list[SupportAsker]],
    filters: FilterBar,
    chosen: str,
) -> list[Reply]:
    field = definition.field(SUPPORT_FIELD)
    try:
        respond: Field | None = definition.field(RESPOND_FIELD)
    except KeyError:
        respond = None
    labels = {c.value: c.label for c in field.choices}
    order = [c.value for c in field.choices if c.value != "none"]
    order += sorted(v for v in asked if v not in order)
    sections: list[Section] = []
    for value in order:
        askers = asked.get(value, [])
        if not askers:
            continue
        count = len(askers)
        label = labels.get(value, f"{value} (no longer asked)")
        sections.append(
            Section(
                heading=f"{label}: {count} organisation{'s' if count != 1 else ''}",
                facts=[_asker_fact(turn, respond, a) for a in askers],
            )
        )
    if sections:
        text = (
            f"These organisations told {authority.name} they would like help. "
            "Please get in touch about support you can offer. "
            "Organisations are listed by name."
        )
    elif chosen:
        text = "No organisations that match these filters have asked for support. Try removing one."
    else:
        text = "No organisations have asked for support yet."
    return [
        Message(
            title="Support providers asked for", text="\n".join(t for t in (text, chosen) if t)
        ),
        filters,
        Message(
            sections=sections,
            buttons=[
                Button(label="Back to the summary", action="cmd.readiness", value="view=summary")
            ],
            who_sees=(
                f"Only {authority.name}'s commissioning team can see who asked. "
                "We told each organisation that you can see their request."
            ),
        ),
    ]
