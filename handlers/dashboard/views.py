"""The dashboards in words: numbers that link to the lists behind them, and charts.

Each number is a button or a table cell that opens the list it counts (the command that
lists those rows), on every door. Charts carry their data as a table; small groups are
hidden in a chart exactly as in its table, because both are drawn from the same rows.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from datetime import datetime

from bot.core.areas import ancestors, area_label
from bot.core.areas import area as known_place
from bot.core.clock import format_date, format_when
from bot.core.forms import FormDefinition
from bot.core.reply import (
    Button,
    Chart,
    ChartRow,
    Filter,
    FilterBar,
    FilterOption,
    Message,
    Reply,
    Section,
)
from handlers.dashboard.charts import Bar, svg_of
from handlers.dashboard.figures import FEEDBACK_QUESTIONS, CouncilFigures, ProviderDashboard
from handlers.readiness_statistics import ARREARS_FIELD, Count, Hidden, protect_counts
from storage.dashboard import NEXT_SHOWN, SCALE_VALUES, AgreementFigures

COMMAND = "dashboard"
PROTECTED = "hidden to protect a small group"
RAG = (("red", "Red"), ("amber", "Amber"), ("green", "Green"), (None, "No colour given yet"))
KEY_DATES = {
    "signed": "signed",
    "review": "review",
    "price_uplift": "price uplift",
    "tupe_transfer": "TUPE transfer",
    "ends": "ends",
}
SCALE_WORDS = {"yes": "Yes", "a_bit": "A bit", "no": "No", "dont_know": "I don't know"}


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def count_text(count: Count, minimum: int) -> str:
    """A count as shown beyond the team: the number, or why it is hidden."""
    if count.hidden == Hidden.FEWER:
        return f"fewer than {minimum}"
    if count.hidden == Hidden.COMPLEMENT or count.value is None:
        return PROTECTED
    return f"{count.value:,}"


def _link(label: str, action: str, value: str = "") -> Button:
    return Button(label=label, action=f"cmd.{action}", value=value)


def _chart(
    key: str,
    title: str,
    description: str,
    rows: list[ChartRow],
    *,
    label_heading: str = "What",
    value_heading: str = "Number",
    note: str | None = None,
) -> Chart:
    return Chart(
        key=key,
        title=title,
        description=description,
        rows=rows,
        label_heading=label_heading,
        value_heading=value_heading,
        note=note,
    )


def _draw(charts: Sequence[Chart]) -> None:
    """Each chart's SVG, as a `data:` URL the web page shows with its table (the page's
    content security policy allows `data:` images; an SVG in <img> runs nothing)."""
    for chart in charts:
        bars = [Bar(row.label, row.amount, row.shown) for row in chart.rows]
        svg = svg_of(chart.title, bars)
        chart.image_url = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


async def drawn(charts: Sequence[Chart]) -> None:
    """Draw the charts away from the event loop (matplotlib takes a few milliseconds
    each), so other people's pages are not held up."""
    await asyncio.to_thread(_draw, charts)


# --------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------


def area_options(covered: list[str], chosen: str) -> list[FilterOption]:
    """The places providers said they could cover, the counties and nations they are in,
    and the place chosen, by name (as the readiness summary offers them)."""
    codes = set(covered)
    for code in covered:
        codes.update(ancestors(code))
    if known_place(chosen) is not None:
        codes.add(chosen)
    options = [FilterOption(value=code, label=area_label(code)) for code in codes]
    return sorted(options, key=lambda o: (o.label.casefold(), o.value))


def filter_bar(figures: CouncilFigures, command: str, service: str, area: str) -> FilterBar:
    services = (
        [
            FilterOption(value=c.value, label=c.label)
            for c in figures.profile.field("service_areas").choices
        ]
        if figures.profile is not None
        else []
    )
    return FilterBar(
        command=command,
        filters=[
            Filter(name="service", label="Service area", options=services, selected=service),
            Filter(
                name="area",
                label="Area",
                options=area_options(figures.places, area),
                selected=area,
            ),
        ],
    )


# --------------------------------------------------------------------------
# The commissioner's dashboard
# --------------------------------------------------------------------------


def _engagements(figures: CouncilFigures) -> Section:
    e = figures.engagements
    return Section(
        heading="Engagements",
        text="Talking with local providers before anything is designed or bought.",
        buttons=[
            _link(f"Open: {e.open:,}", "engagements"),
            _link(f"Closed: {e.closed:,}", "engagements"),
            _link(f"Drafts: {e.drafts:,}", "engagements"),
            _link(f"Organisations invited: {e.invited:,}", "engagements"),
            _link(f"Organisations that took part: {e.took_part:,}", "engagements"),
            _link(f"Answers in: {e.answers_in:,}", "engagements"),
            _link(f"Events coming up: {e.events_coming:,}", "engagements"),
            _link(f"Questions waiting for an answer: {e.clarifications_waiting:,}", "engagements"),
        ],
    )


def _days_to(deadline: datetime | None, now: datetime) -> str:
    if deadline is None:
        return "no deadline set"
    days = (deadline.date() - now.date()).days
    if deadline < now:
        return f"closed {format_when(deadline)}"
    if days == 0:
        return f"closes today, {format_when(deadline)}"
    return f"closes {format_when(deadline)} (in {_n(days, 'day')})"


def _opportunities(figures: CouncilFigures, now: datetime) -> Section:
    o = figures.opportunities
    buttons = [
        _link(f"Open: {o.open:,}", "opportunities"),
        _link(f"Closed: {o.closed:,}", "opportunities"),
        _link(f"Drafts: {o.drafts:,}", "opportunities"),
        _link(f"Interest in open opportunities: {o.interested:,}", "opportunities"),
        _link(f"Questions waiting for an answer: {o.questions_waiting:,}", "opportunities"),
    ]
    buttons += [
        _link(
            f"{d.title}: {_days_to(d.deadline, now)}, {_n(d.interested, 'organisation')} interested",
            "opportunities",
            f"interested {d.opportunity_id}",
        )
        for d in o.next_deadlines
    ]
    text = "Chances to bid or be funded."
    if o.next_deadlines:
        text += (
            f" After the numbers: the next {min(len(o.next_deadlines), NEXT_SHOWN)} deadlines, "
            "each with who is interested."
        )
    return Section(heading="Opportunities", text=text, buttons=buttons)


def _labels(definition: FormDefinition | None, field_id: str) -> dict[str, str]:
    if definition is None:
        return {}
    try:
        return {c.value: c.label for c in definition.field(field_id).choices}
    except KeyError:
        return {}


def _grouped_rows(
    counts: dict[str | None, int], labels: dict[str, str], action: str
) -> list[ChartRow]:
    """One row per answer in the form's order, then any old answers, then "not said"."""
    order = [v for v in labels if v in counts] + sorted(
        v for v in counts if v is not None and v not in labels
    )
    rows = [
        ChartRow(label=labels.get(v, v), shown=f"{counts[v]:,}", amount=counts[v], action=action)
        for v in order
    ]
    if counts.get(None):
        rows.append(
            ChartRow(
                label="Not said", shown=f"{counts[None]:,}", amount=counts[None], action=action
            )
        )
    return rows


def _interest_charts(figures: CouncilFigures) -> list[Chart]:
    o = figures.opportunities
    if not o.interested:
        return []
    income = _grouped_rows(
        o.by_income, _labels(figures.profile, "income_band"), "cmd.opportunities"
    )
    kinds = _grouped_rows(o.by_kind, _labels(figures.profile, "legal_form"), "cmd.opportunities")
    return [
        _chart(
            "interest-by-size",
            "Interest in open opportunities, by yearly income",
            f"How many organisations said they are interested in {figures.authority.name}'s "
            "open opportunities, by the yearly income they gave. An organisation interested "
            "in two opportunities counts twice.",
            income,
            label_heading="Yearly income",
            value_heading="Organisations interested",
        ),
        _chart(
            "interest-by-kind",
            "Interest in open opportunities, by kind of organisation",
            "The same interest, by the kind of organisation each one said it is.",
            kinds,
            label_heading="Kind of organisation",
            value_heading="Organisations interested",
        ),
    ]


def _key_date(figures: AgreementFigures) -> list[Button]:
    return [
        _link(
            f"{d.title}: {KEY_DATES.get(d.kind, d.kind.replace('_', ' '))} on {format_date(d.on)}",
            "agreements",
            f"show {d.agreement_id}",
        )
        for d in figures.next_dates
    ]


def _agreements(a: AgreementFigures) -> Section:
    return Section(
        heading="Agreements",
        text="Grants and contracts, their check-ins and changes. Next key dates are listed "
        "after the numbers.",
        buttons=[
            _link(f"Running now: {a.live:,}", "agreements"),
            _link(f"Ending in the next 90 days: {a.ending_soon:,}", "agreements"),
            _link(f"Check-ins due in the next 14 days: {a.checkins_due:,}", "agreements"),
            _link(f"Check-ins overdue: {a.checkins_overdue:,}", "agreements"),
            _link(
                f"Changes (variations) waiting for a decision: {a.variations_open:,}", "agreements"
            ),
            *_key_date(a),
        ],
    )


def _rag_chart(a: AgreementFigures) -> Chart | None:
    if not a.rag:
        return None
    rows = [
        ChartRow(
            label=label,
            shown=f"{a.rag.get(colour, 0):,}",
            amount=a.rag.get(colour, 0),
            action="cmd.agreements",
        )
        for colour, label in RAG
    ]
    return _chart(
        "rag",
        "Latest red, amber, green ratings",
        "For each agreement whose monitoring plan uses red, amber, green: the colour given "
        "at its latest answered check-in.",
        rows,
        label_heading="Rating",
        value_heading="Agreements",
    )


def feedback_rows(figures: CouncilFigures) -> tuple[list[ChartRow], str | None]:
    """Answers to the three questions, each question's counts protected together (they
    add up to the number of answers): the same rule as the readiness summary's tables."""
    f = figures.feedback
    minimum = figures.minimum
    if f.entries < minimum:
        return [], (
            f"Fewer than {minimum} people have answered, so we don't show how they answered. "
            "With so few, someone could be picked out."
        )
    rows: list[ChartRow] = []
    for question in FEEDBACK_QUESTIONS:
        found = f.answers.get(question.key, {})
        values = [found.get(v, 0) for v in SCALE_VALUES] + [found.get(None, 0)]
        cells = protect_counts(values, minimum)
        words = [*(SCALE_WORDS[v] for v in SCALE_VALUES), "No answer"]
        for word, cell in zip(words, cells, strict=True):
            rows.append(
                ChartRow(
                    label=f"{question.text} {word}",
                    shown=count_text(cell, minimum),
                    amount=cell.value,
                    action="cmd.feedback",
                )
            )
    return rows, None


def _feedback(figures: CouncilFigures) -> tuple[Section, Chart | None]:
    f = figures.feedback
    minimum = figures.minimum
    answers = (
        f"{f.entries:,}" if f.entries >= minimum or f.entries == 0 else f"fewer than {minimum}"
    )
    section = Section(
        heading="Feedback from people who use services",
        text="What people said about services, through feedback points.",
        buttons=[
            _link(f"Feedback points: {f.points:,}", "feedback"),
            _link(f"Answers: {answers}", "feedback"),
            _link(f'Waiting for "you said, we did": {f.yousaid_pending:,}', "feedback"),
        ],
    )
    rows, why = feedback_rows(figures)
    if not rows:
        if why and f.entries:
            section.text = f"{section.text} {why}"
        return section, None
    chart = _chart(
        "feedback",
        "Answers to the three questions",
        "How people answered each of the three questions on feedback points. Each answer "
        f"counts once. Any number under {minimum} is hidden.",
        rows,
        label_heading="Question and answer",
        value_heading="People",
    )
    return section, chart


def _readiness_chart(figures: CouncilFigures, filters: str) -> tuple[Section, Chart | None]:
    summary, form = figures.readiness, figures.readiness_form
    link_value = f"view=shared{filters}"
    if summary is None or form is None:
        return Section(
            heading="Readiness", text="The readiness questions are not set up yet."
        ), None
    if summary.too_few:
        return (
            Section(
                heading="Readiness",
                text=f"Fewer than {figures.minimum} organisations match, so we don't show "
                "their readiness. This keeps their answers private.",
                buttons=[_link("See the readiness summary", "readiness", link_value)],
            ),
            None,
        )
    total = summary.organisations.value or 0
    section = Section(
        heading="Readiness",
        text="What local providers told the council about costs, risk and capacity. "
        "This is not a score.",
        buttons=[
            _link(f"Organisations that answered: {total:,}", "readiness", link_value),
        ],
    )
    try:
        field = form.field(ARREARS_FIELD)
        question = summary.question(ARREARS_FIELD)
    except KeyError:
        return section, None
    labels = {c.value: c.label for c in field.choices}
    rows = [
        ChartRow(
            label=labels.get(option.value, option.value),
            shown=count_text(option.count, figures.minimum),
            amount=option.count.value,
            action="cmd.readiness",
            value=link_value,
        )
        for option in question.options
    ]
    rows.append(
        ChartRow(
            label="Not answered",
            shown=count_text(question.not_answered, figures.minimum),
            amount=question.not_answered.value,
            action="cmd.readiness",
            value=link_value,
        )
    )
    chart = _chart(
        "readiness-arrears",
        "How long providers could wait to be paid",
        f"{field.label} How many organisations gave each answer. Any number under "
        f"{figures.minimum} is hidden.",
        rows,
        label_heading="Answer",
        value_heading="Organisations",
    )
    return section, chart


def council_view(
    figures: CouncilFigures,
    *,
    now: datetime,
    command: str,
    service: str,
    area: str,
    chosen: str,
) -> tuple[list[Reply], list[Chart]]:
    """The commissioner's dashboard, and the charts in it (to draw)."""
    name = figures.authority.name
    filters = "".join(
        f" {key}={value}" for key, value in (("service", service), ("area", area)) if value
    )
    feedback_section, feedback_chart = _feedback(figures)
    readiness_section, readiness_chart = _readiness_chart(figures, filters)
    rag = _rag_chart(figures.agreements)
    interest = _interest_charts(figures)
    charts = [c for c in (*interest, rag, feedback_chart, readiness_chart) if c is not None]
    intro = (
        f"Where {name} is today, {format_when(now)}. Choose any number to see the list behind it."
    )
    replies: list[Reply] = [
        Message(title=f"Dashboard: {name}", text="\n".join(t for t in (intro, chosen) if t)),
        filter_bar(figures, command, service, area),
        Message(sections=[_engagements(figures), _opportunities(figures, now)]),
        *interest,
        Message(sections=[_agreements(figures.agreements)]),
        *([rag] if rag else []),
        Message(sections=[feedback_section]),
        *([feedback_chart] if feedback_chart else []),
        Message(sections=[readiness_section]),
        *([readiness_chart] if readiness_chart else []),
        Message(
            who_sees=(
                f"Only {name}'s commissioning team can see this dashboard. Feedback and "
                f"readiness numbers under {figures.minimum} are hidden, so nobody can be "
                "picked out; the rest are exact."
            )
        ),
    ]
    return replies, charts


# --------------------------------------------------------------------------
# The provider's dashboard
# --------------------------------------------------------------------------


def provider_view(dashboard: ProviderDashboard) -> list[Reply]:
    f, a = dashboard.figures, dashboard.agreements
    name = dashboard.organisation.name
    return [
        Message(
            title=f"Dashboard: {name}",
            text="Your opportunities, engagements and agreements. Choose a number to see the list.",
            sections=[
                Section(
                    heading="Opportunities and engagements",
                    buttons=[
                        _link(
                            f"Open opportunities you are interested in: {f.interested_open:,}",
                            "opportunities",
                        ),
                        _link(
                            f"Open engagements you take part in: {f.engagements_open:,}",
                            "engagements",
                        ),
                        _link(
                            f"Engagements you sent answers to: {f.answers_sent:,}", "engagements"
                        ),
                    ],
                ),
                Section(
                    heading="Agreements",
                    buttons=[
                        _link(f"Running now: {a.live:,}", "agreements"),
                        _link(
                            f"Check-ins due in the next 14 days: {a.checkins_due:,}", "agreements"
                        ),
                        _link(f"Check-ins overdue: {a.checkins_overdue:,}", "agreements"),
                        _link(
                            f"Changes (variations) waiting for a decision: {a.variations_open:,}",
                            "agreements",
                        ),
                        *_key_date(a),
                    ],
                ),
            ],
            who_sees=f"Only people in {name} can see this dashboard.",
        )
    ]


def filters_text(figures: CouncilFigures, service: str, area: str) -> str:
    """The filters chosen, in words."""
    parts: list[str] = []
    if service and figures.profile is not None:
        labels = _labels(figures.profile, "service_areas")
        parts.append(f"in {labels.get(service, service).lower()}")
    if area:
        parts.append(f"covering {area_label(area)}")
    return f"Only things {' and '.join(parts)}." if parts else ""
