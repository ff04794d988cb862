"""Readiness statistics: the summary's counts, spreads and small-group suppression.

Every count, median and quartile is worked out in the database (`storage.readiness`,
over the typed `readiness_answers` facts); this module is the readiness feature's
service that puts those rows together into a `Summary`, and hides small groups before a
summary is shown beyond the commissioning team.

Readiness is not a bid score (DOMAIN.md): nothing here orders organisations by their
answers.

Small groups: a summary shown beyond the commissioning team hides any count below the
minimum (`settings.suppression_minimum`) as "fewer than N", and any number worked out
from fewer than N organisations. Where a hidden count could be worked out by
subtraction, one more count is hidden (see `suppress_small_groups`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import FieldType, FormDefinition
from bot.core.forms.kinds import SummaryKind
from bot.core.forms.kinds import kind_of as field_kind
from storage.readiness import SUBMITTED, summary_rows

#: The headline "can carry costs for more than 60 days": these answers to `arrears_days`.
ARREARS_FIELD = "arrears_days"
ARREARS_61_PLUS = ("61_90", "over_90")
OVERHEAD_FIELD = "overhead_rate"


#: How a question is summarised (choice, multiple, number, text): each field kind says.
Kind = SummaryKind


def kind_of(field_type: FieldType) -> Kind:
    return field_kind(field_type).summary


class Hidden(StrEnum):
    """Why a count is not shown."""

    FEWER = "fewer"  # below the minimum: shown as "fewer than 5"
    COMPLEMENT = "complement"  # big enough, but would let a hidden count be worked out


@dataclass(frozen=True)
class Count:
    """A number of organisations. When hidden, the number itself is not kept at all,
    so no later code can show it by mistake."""

    value: int | None
    hidden: Hidden | None = None

    @property
    def shown(self) -> bool:
        return self.hidden is None


@dataclass(frozen=True)
class OptionCount:
    value: str
    count: Count


@dataclass(frozen=True)
class Spread:
    """Lower quartile, median and upper quartile, by the convention in `quantile`."""

    lower: float
    median: float
    upper: float


@dataclass(frozen=True)
class QuestionSummary:
    field_id: str
    kind: Kind
    answered: Count
    not_answered: Count
    options: tuple[OptionCount, ...] = ()
    spread: Spread | None = None

    def option(self, value: str) -> Count:
        for item in self.options:
            if item.value == value:
                return item.count
        raise KeyError(value)


@dataclass(frozen=True)
class Summary:
    """What the latest readiness answers say, across the organisations in a group."""

    organisations: Count
    questions: tuple[QuestionSummary, ...]
    arrears_61_plus: Count
    minimum: int | None = None  # set when small groups were hidden

    def question(self, field_id: str) -> QuestionSummary:
        for item in self.questions:
            if item.field_id == field_id:
                return item
        raise KeyError(field_id)

    @property
    def median_overhead(self) -> float | None:
        try:
            spread = self.question(OVERHEAD_FIELD).spread
        except KeyError:
            return None
        return None if spread is None else spread.median

    @property
    def too_few(self) -> bool:
        """Too few organisations in the group to say anything about them."""
        return not self.organisations.shown


# --------------------------------------------------------------------------
# The median convention, shared by the SQL and by anything that checks it
# --------------------------------------------------------------------------


def quantile(ordered: Sequence[float], p: float) -> float:
    """PostgreSQL's `percentile_cont`: linear interpolation between the two values either
    side of position p × (n − 1) in the sorted values. So the median of 1, 2, 3, 10 is 2.5.

    The SQLite query computes the same thing with the same floating-point steps
    (lo + (hi − lo) × fraction), so both databases give identical numbers.
    """
    if not ordered:
        raise ValueError("no values")
    position = p * (len(ordered) - 1)
    index = int(position)
    fraction = position - index
    low = float(ordered[index])
    if fraction == 0:
        return low
    high = float(ordered[index + 1])
    return low + (high - low) * fraction


# --------------------------------------------------------------------------
# Putting the rows together
# --------------------------------------------------------------------------


def _options_in_order(choices: Sequence[str], found: Mapping[str, int]) -> tuple[OptionCount, ...]:
    """Every option in the form's order (0 when nobody chose it), then any values the
    form no longer offers (answers given to an older version), alphabetically."""
    known = [OptionCount(value, Count(found.get(value, 0))) for value in choices]
    extra = [
        OptionCount(value, Count(n)) for value, n in sorted(found.items()) if value not in choices
    ]
    return (*known, *extra)


def assemble(definition: FormDefinition, rows: Iterable[Sequence[Any]]) -> Summary:
    """Exact summary from the query's rows (part, question, option, n, a, b, c).

    "count" rows are facts per (question, option): for a one-answer or multiple-choice
    question with an option, how many chose it; with no option, how many answered a
    multiple-choice or text question; for SUBMITTED, how many organisations. "number"
    rows give how many answered a number question, and its quartiles.
    """
    kinds = {fld.id: kind_of(fld.type) for fld in definition.all_fields()}
    total = 0
    options: dict[str, dict[str, int]] = defaultdict(dict)
    answered: dict[str, int] = {}
    spreads: dict[str, tuple[int, Spread | None]] = {}
    for part, question, option, n, a, b, c in rows:
        count = int(n or 0)
        kind = kinds.get(question)
        if part == "number":
            if kind == Kind.NUMBER:
                spreads[question] = (
                    count,
                    None if count == 0 else Spread(float(a), float(b), float(c)),
                )
        elif question == SUBMITTED:
            total = count
        elif option is not None:
            if kind in (Kind.CHOICE, Kind.MULTIPLE):
                options[question][str(option)] = count
        elif kind in (Kind.MULTIPLE, Kind.TEXT):
            answered[question] = count
    questions: list[QuestionSummary] = []
    for field in definition.all_fields():
        kind = kind_of(field.type)
        spread: Spread | None = None
        given: int
        if kind == Kind.CHOICE:
            given = sum(options[field.id].values())
        elif kind == Kind.NUMBER:
            given, spread = spreads.get(field.id, (0, None))
        else:
            given = answered.get(field.id, 0)
        choices = [c.value for c in field.choices] if kind in (Kind.CHOICE, Kind.MULTIPLE) else []
        questions.append(
            QuestionSummary(
                field_id=field.id,
                kind=kind,
                answered=Count(given),
                not_answered=Count(total - given),
                options=_options_in_order(choices, options[field.id]) if choices else (),
                spread=spread,
            )
        )
    summary = Summary(
        organisations=Count(total), questions=tuple(questions), arrears_61_plus=Count(0)
    )
    return replace(summary, arrears_61_plus=Count(_arrears_61_plus(summary)))


def _arrears_61_plus(summary: Summary) -> int:
    try:
        question = summary.question(ARREARS_FIELD)
    except KeyError:
        return 0
    return sum(item.count.value or 0 for item in question.options if item.value in ARREARS_61_PLUS)


async def readiness_summary(
    session: AsyncSession,
    *,
    authority_id: int,
    definition: FormDefinition,
    service_area: str | None = None,
    area: str | None = None,
    suppress: bool = False,
    minimum: int = 5,
) -> Summary:
    """Counts per option, and median and quartiles per number question, over each
    organisation's latest submitted answers for this authority, filtered by service
    area and by a place (a code) their answers cover: a county covers its councils and
    the other way round, as in engagement matching. `suppress` hides small groups, for
    anyone beyond the authority's commissioning team, after filtering."""
    rows = await summary_rows(
        session,
        authority_id=authority_id,
        definition=definition,
        service_area=service_area,
        area=area,
    )
    exact = assemble(definition, rows)
    return suppress_small_groups(exact, minimum) if suppress else exact


# --------------------------------------------------------------------------
# Small groups
# --------------------------------------------------------------------------


def protect_counts(values: Sequence[int], minimum: int) -> list[Count]:
    """Counts that add up to a known total (a question's options plus "not answered").

    Any count below the minimum is hidden. If that hides only one of them, it could be
    worked out by taking the others from the total, so the smallest other count is
    hidden too ("secondary suppression")."""
    hidden = [value < minimum for value in values]
    if hidden.count(True) == 1 and len(values) > 1:
        others = [(value, i) for i, value in enumerate(values) if not hidden[i]]
        _, extra = min(others)
        hidden[extra] = True
        return [
            Count(None, Hidden.FEWER if values[i] < minimum else Hidden.COMPLEMENT)
            if hidden[i]
            else Count(values[i])
            for i in range(len(values))
        ]
    return [
        Count(None, Hidden.FEWER) if h else Count(v) for v, h in zip(values, hidden, strict=True)
    ]


def _value(count: Count) -> int:
    assert count.value is not None, "suppression starts from an exact summary"
    return count.value


def suppress_small_groups(summary: Summary, minimum: int) -> Summary:
    """The summary as it may be shown beyond the commissioning team.

    - Fewer organisations than the minimum in the whole group: nothing is shown but that.
    - Any count below the minimum shows as "fewer than N" (the number is dropped).
    - In a question whose counts add up to the total, if only one is hidden, the
      smallest other one is hidden too, so it cannot be worked out by subtraction.
    - A median or quartile is shown only if at least N organisations gave a number.
    - "Can wait more than 60 days" adds up two options, so it is shown only when both
      are shown; otherwise it could give a hidden one away.
    """
    if summary.minimum is not None:
        return summary
    total = _value(summary.organisations)
    if total < minimum:
        fewer = Count(None, Hidden.FEWER)
        return Summary(
            organisations=fewer,
            questions=tuple(
                QuestionSummary(
                    field_id=q.field_id,
                    kind=q.kind,
                    answered=fewer,
                    not_answered=fewer,
                    options=tuple(OptionCount(o.value, fewer) for o in q.options),
                    spread=None,
                )
                for q in summary.questions
            ),
            arrears_61_plus=fewer,
            minimum=minimum,
        )
    questions: list[QuestionSummary] = []
    for q in summary.questions:
        given, skipped = _value(q.answered), _value(q.not_answered)
        if q.kind == Kind.CHOICE:
            cells = protect_counts([*(_value(o.count) for o in q.options), skipped], minimum)
            options = tuple(OptionCount(o.value, c) for o, c in zip(q.options, cells, strict=False))
            not_answered = cells[-1]
            # Answered = total − not answered, so it hides exactly when "not answered" does.
            answered = (
                Count(given)
                if not_answered.shown and given >= minimum
                else Count(None, Hidden.FEWER if given < minimum else Hidden.COMPLEMENT)
            )
        else:
            # Options of a multiple-choice question overlap, so they don't add up to
            # anything known: each is only checked against the minimum.
            options = tuple(
                OptionCount(o.value, protect_counts([_value(o.count)], minimum)[0])
                for o in q.options
            )
            answered, not_answered = protect_counts([given, skipped], minimum)
        questions.append(
            QuestionSummary(
                field_id=q.field_id,
                kind=q.kind,
                answered=answered,
                not_answered=not_answered,
                options=options,
                spread=q.spread if given >= minimum else None,
            )
        )
    hidden = Summary(
        organisations=Count(total),
        questions=tuple(questions),
        arrears_61_plus=Count(0),
        minimum=minimum,
    )
    exact_61 = _value(summary.arrears_61_plus)
    try:
        parts = [hidden.question(ARREARS_FIELD).option(v) for v in ARREARS_61_PLUS]
    except KeyError:
        parts = []
    if parts and all(p.shown for p in parts):
        headline = Count(exact_61)
    else:
        headline = Count(None, Hidden.FEWER if exact_61 < minimum else Hidden.COMPLEMENT)
    return replace(hidden, arrears_61_plus=headline)
