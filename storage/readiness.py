"""Readiness across providers: counts and spreads per question, worked out in the database.

A commissioner needs the shape of the local sector ("how many could wait 60 days
to be paid?"), not a pile of individual answers, and the summary has to stay quick
with thousands of organisations. So every count, median and quartile here is
computed in SQL over each organisation's *latest submitted* answers for one
authority; Python only arranges the results. Drafts never count, nor do answers
given to another council.

Readiness is not a bid score (DOMAIN.md): nothing here orders organisations by
their answers. The one list of organisations (who asked for support) is ordered
by name.

Small groups: a summary shown beyond the commissioning team hides any count below
the minimum (`settings.suppression_minimum`) as "fewer than N", and any number
worked out from fewer than N organisations. Where a hidden count could be worked
out by subtraction, one more count is hidden (see `suppress_small_groups`).

How it is counted: each organisation's latest answers are picked with a window
function, then every answer is read out of the JSON once, into a kept ("wide") table
with one plain column per question; every count and quartile is worked out from
those columns. Reading the JSON is most of the cost (bench/readiness_summary.py
prints it separately), so if the summary ever needs to be much faster, the next step
is to store the latest answers in typed columns when they are sent, not a cleverer
query. What counts as answered: a string for a single choice, true/false for yes/no,
a JSON number for a number, a list with something in it for a multiple choice, and
non-empty text for text. Anything else (say, from an older form) is "not answered".
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import FieldType, FormDefinition, definition_checksum
from storage.models import (
    FormResponse,
    Organisation,
    OrganisationAreaServed,
    OrganisationServiceArea,
    Person,
    ResponseState,
)

FORM_KEY = "readiness"

#: Quartiles shown for number questions: lower quartile, median, upper quartile.
QUARTILES = (0.25, 0.5, 0.75)

#: The headline "can carry costs for more than 60 days": these answers to `arrears_days`.
ARREARS_FIELD = "arrears_days"
ARREARS_61_PLUS = ("61_90", "over_90")
OVERHEAD_FIELD = "overhead_rate"
SUPPORT_FIELD = "support_wanted"
RESPOND_FIELD = "respond_how"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class Kind(StrEnum):
    """How a question is summarised."""

    CHOICE = "choice"  # single choice and yes/no: one answer each, counts per option
    MULTIPLE = "multiple"  # several answers each, counts per option
    NUMBER = "number"  # money, whole number, percentage: median and quartiles
    TEXT = "text"  # free text: only how many answered; the words are never summarised


_KINDS: dict[FieldType, Kind] = {
    FieldType.SINGLE_CHOICE: Kind.CHOICE,
    FieldType.YES_NO: Kind.CHOICE,
    FieldType.SCALE: Kind.CHOICE,
    FieldType.MULTIPLE_CHOICE: Kind.MULTIPLE,
    FieldType.MONEY: Kind.NUMBER,
    FieldType.WHOLE_NUMBER: Kind.NUMBER,
    FieldType.PERCENTAGE: Kind.NUMBER,
    FieldType.SHORT_TEXT: Kind.TEXT,
    FieldType.LONG_TEXT: Kind.TEXT,
    FieldType.DATE: Kind.TEXT,
}


def kind_of(field_type: FieldType) -> Kind:
    return _KINDS[field_type]


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
# JSON access, by dialect
# --------------------------------------------------------------------------


def _key(field_id: str) -> str:
    """Field ids go into the SQL text as literals, so the database can match the same JSON
    expression wherever it appears and PostgreSQL never has to guess a key's type. The
    form model only allows plain identifiers; this checks again, as it is what keeps
    that safe."""
    if not _IDENTIFIER.fullmatch(field_id):
        raise ValueError(f"not a field id: {field_id!r}")
    return field_id


class JsonAnswers:
    """Reading one answer out of the `answers` JSON column: SQLite (JSON1) or PostgreSQL.

    Each method gives a plain SQL value (text, a double, 0/1, or the list as JSON), so
    the queries built on top look the same on both databases. The type of the stored
    JSON is checked, so an answer of the wrong type (say, from an older form) counts as
    not answered rather than being mis-counted. Each answer is read at most twice
    (its type, then its value) through a simple CASE, which evaluates its subject once.
    """

    def __init__(self, dialect: str) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"the readiness summary runs on SQLite or PostgreSQL, not {dialect}")
        self.postgres = dialect == "postgresql"

    def _parts(self, doc: ColumnElement[Any], field_id: str) -> tuple[Any, Any, Any]:
        """(JSON value, its SQL value, its JSON type) for one key.

        SQLite: `json_extract(doc, '$.key')` and `json_type(doc, '$.key')`, with types
        'text', 'integer', 'real', 'true', 'false', 'array'. PostgreSQL: `doc -> 'key'`,
        `doc ->> 'key'` and `jsonb_typeof`, with 'string', 'number', 'boolean', 'array'.
        """
        if self.postgres:
            key: ColumnElement[Any] = literal_column(f"'{_key(field_id)}'")
            value = doc.op("->")(key)
            return value, doc.op("->>")(key), func.jsonb_typeof(value)
        path: ColumnElement[Any] = literal_column(f"'$.{_key(field_id)}'")
        extracted = func.json_extract(doc, path)
        return extracted, extracted, func.json_type(doc, path)

    def choice(self, doc: ColumnElement[Any], field_id: str) -> ColumnElement[Any]:
        """A one-answer question: the option's value as text, or NULL if not answered."""
        _, text, kind = self._parts(doc, field_id)
        return case({"string" if self.postgres else "text": text}, value=kind, else_=None)

    def yes_no(self, doc: ColumnElement[Any], field_id: str) -> ColumnElement[Any]:
        """A yes/no question (stored as JSON true/false) as 'yes' or 'no', or NULL."""
        if self.postgres:
            value, _, _ = self._parts(doc, field_id)
            return case(
                {literal_column("'true'::jsonb"): "yes", literal_column("'false'::jsonb"): "no"},
                value=value,
                else_=None,
            )
        _, _, kind = self._parts(doc, field_id)
        return case({"true": "yes", "false": "no"}, value=kind, else_=None)

    def scale(self, doc: ColumnElement[Any], field_id: str) -> ColumnElement[Any]:
        """A 1-5 scale (stored as a JSON whole number) as text, or NULL."""
        _, text, kind = self._parts(doc, field_id)
        if self.postgres:
            return case((and_(kind == "number", text.op("~")(r"^-?[0-9]+$")), text), else_=None)
        return case({"integer": cast(text, String)}, value=kind, else_=None)

    def number(self, doc: ColumnElement[Any], field_id: str) -> ColumnElement[Any]:
        """A number answer (money in pence, a percentage, a count) as a double, or NULL."""
        _, text, kind = self._parts(doc, field_id)
        if self.postgres:
            return case({"number": cast(text, Float)}, value=kind, else_=None)
        return case({"integer": cast(text, Float), "real": text}, value=kind, else_=None)

    def answered_text(self, doc: ColumnElement[Any], field_id: str) -> ColumnElement[Any]:
        """1 if a free-text answer was given, else 0. The words never leave this query."""
        _, text, kind = self._parts(doc, field_id)
        string = "string" if self.postgres else "text"
        return case({string: case((text != "", 1), else_=0)}, value=kind, else_=0)

    def array(self, doc: ColumnElement[Any], field_id: str) -> ColumnElement[Any]:
        """A list answer as JSON (SQLite: its text; PostgreSQL: jsonb), or NULL."""
        value, _, kind = self._parts(doc, field_id)
        return case({"array": value}, value=kind, else_=None)

    def array_text(self, doc: ColumnElement[Any], field_id: str) -> ColumnElement[Any]:
        """A list answer as JSON text, to decode in Python, or NULL."""
        listed = self.array(doc, field_id)
        return cast(listed, String) if self.postgres else listed

    def non_empty(self, array: ColumnElement[Any]) -> ColumnElement[bool]:
        """The list from `array` has something in it."""
        if self.postgres:
            return and_(array.is_not(None), array != literal_column("'[]'::jsonb"))
        return and_(array.is_not(None), array != "[]")

    def elements(self, array: ColumnElement[Any], name: str) -> tuple[Any, ColumnElement[Any]]:
        """The items of a list from `array`, as a table to join to its row, and each item
        as text when it is a string (NULL otherwise). `json_each` on SQLite,
        `jsonb_array_elements` on PostgreSQL; both give no rows for NULL."""
        if self.postgres:
            items = func.jsonb_array_elements(array).table_valued("value", name=name)
            text = case(
                {"string": items.c.value.op("#>>")(literal_column("'{}'"))},
                value=func.jsonb_typeof(items.c.value),
                else_=None,
            )
            return items, text
        items = func.json_each(array).table_valued("value", "type", name=name)
        return items, case({"text": items.c.value}, value=items.c.type, else_=None)

    def has_item(self, array: ColumnElement[Any], value: ColumnElement[Any]) -> ColumnElement[bool]:
        """PostgreSQL only: the list holds this string (the jsonb `?` operator)."""
        return array.bool_op("?")(value)


# --------------------------------------------------------------------------
# Whose answers count
# --------------------------------------------------------------------------


def latest_responses(
    *,
    authority_id: int | BindParameter[int],
    service_area: str | BindParameter[str] | None = None,
    area: str | BindParameter[str] | None = None,
) -> CTE:
    """Each organisation's latest submitted readiness answers for this authority: one
    row per organisation, optionally only those working on a service area and serving
    an area (matched ignoring case; give `area` in lower case). A tie on time goes to
    the later row, so nobody is ever counted twice."""
    conditions: list[ColumnElement[bool]] = [
        FormResponse.form_key == FORM_KEY,
        FormResponse.state == ResponseState.SUBMITTED,
        FormResponse.authority_id == authority_id,
        FormResponse.organisation_id.is_not(None),
    ]
    if service_area is not None:
        conditions.append(
            FormResponse.organisation_id.in_(
                select(OrganisationServiceArea.organisation_id).where(
                    OrganisationServiceArea.value == service_area
                )
            )
        )
    if area is not None:
        conditions.append(
            FormResponse.organisation_id.in_(
                select(OrganisationAreaServed.organisation_id).where(
                    func.lower(OrganisationAreaServed.value) == area
                )
            )
        )
    ranked = (
        select(
            FormResponse.organisation_id,
            FormResponse.answers,
            FormResponse.submitted_at,
            FormResponse.respondent_id,
            func.row_number()
            .over(
                partition_by=FormResponse.organisation_id,
                order_by=(FormResponse.submitted_at.desc().nulls_last(), FormResponse.id.desc()),
            )
            .label("rn"),
        )
        .where(*conditions)
        .subquery("ranked")
    )
    return (
        select(
            ranked.c.organisation_id,
            ranked.c.answers,
            ranked.c.submitted_at,
            ranked.c.respondent_id,
        )
        .where(ranked.c.rn == 1)
        .cte("latest")
    )


# --------------------------------------------------------------------------
# The summary query
# --------------------------------------------------------------------------


def _out(part: str, field_id: str, option: Any, n: Any, *stats: Any) -> list[Any]:
    """Every part of the summary returns rows of this one shape, so the whole summary is
    a single UNION ALL: one round trip, and each answer document is read once."""
    a, b, c = (*stats, None, None, None)[:3]
    return [
        literal(part, String).label("part"),
        literal(field_id, String).label("field"),
        cast(option, String).label("option"),
        n.label("n"),
        cast(a, Float).label("a"),
        cast(b, Float).label("b"),
        cast(c, Float).label("c"),
    ]


def _column(field_id: str) -> str:
    return f"f_{field_id}"


def _wide(j: JsonAnswers, latest: CTE, definition: FormDefinition) -> CTE:
    """One row per organisation and one plain column per question, kept (MATERIALIZED)
    for the parts below. All JSON reading happens in this one pass: every later step
    works on plain columns."""
    doc = latest.c.answers
    columns: list[Any] = [latest.c.organisation_id]
    for fld in definition.all_fields():
        kind = kind_of(fld.type)
        if fld.type == FieldType.YES_NO:
            expression = j.yes_no(doc, fld.id)
        elif fld.type == FieldType.SCALE:
            expression = j.scale(doc, fld.id)
        elif kind == Kind.CHOICE:
            expression = j.choice(doc, fld.id)
        elif kind == Kind.MULTIPLE:
            expression = j.array(doc, fld.id)
        elif kind == Kind.NUMBER:
            expression = j.number(doc, fld.id)
        else:
            expression = j.answered_text(doc, fld.id)
        columns.append(expression.label(_column(fld.id)))
    return select(*columns).select_from(latest).cte("wide").prefix_with("MATERIALIZED")


def _choice_part(wide: CTE, field_id: str) -> Select[Any]:
    value = wide.c[_column(field_id)]
    return (
        select(*_out("option", field_id, value, func.count()))
        .where(value.is_not(None))
        .group_by(value)
    )


def _multiple_parts_sqlite(j: JsonAnswers, wide: CTE, field_id: str) -> list[Select[Any]]:
    """Per option, how many organisations chose it (each counted once), by unpacking each
    list with json_each; and how many gave any answer (a list with something in it)."""
    array = wide.c[_column(field_id)]
    items, text = j.elements(array, f"items_{field_id}")
    chosen = (
        select(wide.c.organisation_id.label("org"), text.label("value"))
        .select_from(wide)
        .join(items, true())
        .subquery(f"chosen_{field_id}")
    )
    per_option = (
        select(*_out("option", field_id, chosen.c.value, func.count(chosen.c.org.distinct())))
        .where(chosen.c.value.is_not(None))
        .group_by(chosen.c.value)
    )
    answered = select(*_out("answered", field_id, None, func.count())).where(j.non_empty(array))
    return [per_option, answered]


def _text_part(wide: CTE, field_id: str) -> Select[Any]:
    given = func.coalesce(func.sum(wide.c[_column(field_id)]), 0)
    return select(*_out("answered", field_id, None, given))


def _postgres_parts(j: JsonAnswers, wide: CTE, definition: FormDefinition) -> list[Select[Any]]:
    """PostgreSQL: nearly everything in one pass over `wide`, into a one-row `totals`.

    Each extra pass over `wide` costs about as much as the counting itself, so instead of
    a part per question: one aggregate row holds every multiple-choice option count (jsonb
    `?`: is this string in the list?), answered counts, and every question's quartiles
    (`percentile_cont`); one GROUPING SETS pass counts every one-answer question's
    options; and lists holding a value the form no longer offers are the only ones
    unpacked. The rows are then read back out of `totals` in the common shape.
    """
    columns: list[Any] = [func.count().label("n")]
    reads: list[tuple[str, str, str | None, str]] = []  # part, field, option, totals column

    def add(part: str, field_id: str, option: str | None, expression: Any) -> None:
        name = f"t{len(columns)}"
        columns.append(expression.label(name))
        reads.append((part, field_id, option, name))

    choices: list[Any] = []
    others: list[Select[Any]] = []
    for fld in definition.all_fields():
        kind = kind_of(fld.type)
        x = wide.c[_column(fld.id)]
        if kind == Kind.CHOICE:
            choices.append(x)
        elif kind == Kind.MULTIPLE:
            options = [c.value for c in fld.choices]
            for option in options:
                add("option", fld.id, option, func.count().filter(j.has_item(x, literal(option))))
            add("answered", fld.id, None, func.count().filter(j.non_empty(x)))
            listed: ColumnElement[Any] = literal_column(f"'{json.dumps(options)}'::jsonb")
            items, text = j.elements(x, f"items_{fld.id}")
            unpacked = (
                select(wide.c.organisation_id.label("org"), text.label("value"))
                .select_from(wide)
                .join(items, true())
                .where(x.is_not(None), not_(x.bool_op("<@")(listed)))
                .subquery(f"others_{fld.id}")
            )
            others.append(
                select(
                    *_out("option", fld.id, unpacked.c.value, func.count(unpacked.c.org.distinct()))
                )
                .where(unpacked.c.value.is_not(None), unpacked.c.value.not_in(options))
                .group_by(unpacked.c.value)
            )
        elif kind == Kind.TEXT:
            add("answered", fld.id, None, func.coalesce(func.sum(x), 0))
        else:
            add("number", fld.id, None, func.count(x))
            add(
                "quartiles",
                fld.id,
                None,
                type_coerce(
                    func.percentile_cont(literal_column("ARRAY[0.25, 0.5, 0.75]")).within_group(x),
                    ARRAY(Float),
                ),
            )
    totals = select(*columns).select_from(wide).cte("totals")
    parts: list[Select[Any]] = [select(*_out("organisations", "", None, totals.c.n))]
    for part, field_id, label, name in reads:
        if part == "quartiles":
            continue
        if part == "number":
            q = totals.c[f"t{int(name[1:]) + 1}"]
            parts.append(select(*_out(part, field_id, None, totals.c[name], q[1], q[2], q[3])))
        else:
            parts.append(select(*_out(part, field_id, literal(label, String), totals.c[name])))
    if choices:
        names = [c.name.removeprefix("f_") for c in choices]
        which = case(
            *(
                (func.grouping(c) == 0, literal(n, String))
                for c, n in zip(choices, names, strict=True)
            )
        )
        value = func.coalesce(*choices) if len(choices) > 1 else choices[0]
        grouped = (
            select(
                literal("option", String).label("part"),
                which.label("field"),
                cast(value, String).label("option"),
                func.count().label("n"),
                *(cast(None, Float).label(c) for c in ("a", "b", "c")),
            )
            .group_by(func.grouping_sets(*(tuple_(c) for c in choices)))
            .having(value.is_not(None))
        )
        parts.append(grouped)
    return [*parts, *others]


def _number_part_sqlite(wide: CTE, field_id: str) -> Select[Any]:
    """SQLite has no percentile_cont, so: number the sorted values (row_number), keep only
    the rows either side of p × (n − 1) for each quartile, and interpolate between them
    with the same arithmetic PostgreSQL uses (lo + (hi − lo) × fraction)."""
    x = wide.c[_column(field_id)]
    ordered = (
        select(
            x.label("x"),
            (func.row_number().over(order_by=x) - 1).label("i"),
            func.count().over().label("n"),
        )
        .where(x.is_not(None))
        .subquery(f"sorted_{field_id}")
    )

    def position(p: float) -> ColumnElement[Any]:
        return literal_column(repr(p), Float) * (ordered.c.n - 1)

    def index(p: float) -> ColumnElement[Any]:
        return cast(position(p), Integer)

    wanted = [i for p in QUARTILES for i in (index(p), index(p) + 1)]
    picked = (
        select(ordered.c.x, ordered.c.i, ordered.c.n)
        .where(or_(*(ordered.c.i == i for i in wanted)))
        .subquery(f"picked_{field_id}")
    )
    picks: list[Any] = []
    for p in QUARTILES:
        spot = literal_column(repr(p), Float) * (picked.c.n - 1)
        at = cast(spot, Integer)
        fraction = func.max(spot - at)
        low = func.max(case((picked.c.i == at, picked.c.x)))
        high = func.max(case((picked.c.i == at + 1, picked.c.x)))
        picks.append(case((fraction == 0, low), else_=low + (high - low) * fraction))
    n = func.coalesce(func.max(picked.c.n), 0)
    return select(*_out("number", field_id, None, n, *picks))


def summary_query(dialect: str, definition: FormDefinition, latest: CTE) -> Select[Any]:
    """The whole summary as one statement: counts per option, answered counts, and
    quartiles, for every question. Exposed so the benchmark and tests can run it."""
    j = JsonAnswers(dialect)
    wide = _wide(j, latest, definition)
    if j.postgres:
        return union_all(*_postgres_parts(j, wide, definition))  # type: ignore[return-value]
    parts: list[Select[Any]] = [
        select(*_out("organisations", "", None, func.count())).select_from(wide)
    ]
    for fld in definition.all_fields():
        kind = kind_of(fld.type)
        if kind == Kind.CHOICE:
            parts.append(_choice_part(wide, fld.id))
        elif kind == Kind.MULTIPLE:
            parts.extend(_multiple_parts_sqlite(j, wide, fld.id))
        elif kind == Kind.TEXT:
            parts.append(_text_part(wide, fld.id))
        else:
            parts.append(_number_part_sqlite(wide, fld.id))
    return union_all(*parts)  # type: ignore[return-value]


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
    """Exact summary from the query's rows (part, field, option, n, a, b, c)."""
    total = 0
    options: dict[str, dict[str, int]] = defaultdict(dict)
    answered: dict[str, int] = {}
    spreads: dict[str, tuple[int, Spread | None]] = {}
    for part, field_id, option, n, a, b, c in rows:
        count = int(n or 0)
        if part == "organisations":
            total = count
        elif part == "option":
            options[field_id][str(option)] = count
        elif part == "answered":
            answered[field_id] = count
        elif part == "number":
            spreads[field_id] = (
                count,
                None if count == 0 else Spread(float(a), float(b), float(c)),
            )
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


_statements: dict[tuple[str, str, int, str, bool, bool], Select[Any]] = {}


def _cached_statement(
    dialect: str, definition: FormDefinition, *, by_service_area: bool, by_area: bool
) -> Select[Any]:
    """The summary statement for this form version and set of filters, built once.

    Building the SQLAlchemy construct for 24 questions takes longer than running it on
    a small council's data, so it is kept, with the authority and filters as bound
    parameters. Form versions never change once stored, but the checksum is in the key
    anyway in case an unsaved definition is passed in.
    """
    key = (
        dialect,
        definition.key,
        definition.version,
        definition_checksum(definition),
        by_service_area,
        by_area,
    )
    statement = _statements.get(key)
    if statement is None:
        latest = latest_responses(
            authority_id=bindparam("authority_id", type_=Integer),
            service_area=bindparam("service_area", type_=String) if by_service_area else None,
            area=bindparam("area", type_=String) if by_area else None,
        )
        statement = _statements[key] = summary_query(dialect, definition, latest)
    return statement


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
    area and area served. `suppress` hides small groups, for anyone beyond the
    authority's commissioning team."""
    dialect = session.get_bind().dialect.name
    statement = _cached_statement(
        dialect, definition, by_service_area=bool(service_area), by_area=bool(area)
    )
    params: dict[str, Any] = {"authority_id": authority_id}
    if service_area:
        params["service_area"] = service_area
    if area:
        params["area"] = area.lower()
    rows = (await session.execute(statement, params)).all()
    exact = assemble(definition, rows)
    return suppress_small_groups(exact, minimum) if suppress else exact


# --------------------------------------------------------------------------
# Small groups
# --------------------------------------------------------------------------


def _protect(values: Sequence[int], minimum: int) -> list[Count]:
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
            cells = _protect([*(_value(o.count) for o in q.options), skipped], minimum)
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
                OptionCount(o.value, _protect([_value(o.count)], minimum)[0]) for o in q.options
            )
            answered, not_answered = _protect([given, skipped], minimum)
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


# --------------------------------------------------------------------------
# Support asked for
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportAsker:
    """An organisation that asked for a kind of help, and how to reach it."""

    organisation_id: int
    name: str
    respond_how: tuple[str, ...]
    asked_at: datetime | None
    contact_name: str | None
    contact_email: str | None


async def support_requests(
    session: AsyncSession,
    *,
    authority_id: int,
    service_area: str | None = None,
    area: str | None = None,
) -> dict[str, list[SupportAsker]]:
    """For each kind of support (a `support_wanted` option), the organisations whose
    latest answers ask for it, by name (never by anything from their answers), with
    how they like to be contacted and who sent the answers. "None right now" is left out.

    This is for the commissioning team, who may see who asked: that is the point.
    """
    dialect = session.get_bind().dialect.name
    j = JsonAnswers(dialect)
    latest = latest_responses(
        authority_id=authority_id,
        service_area=service_area or None,
        area=(area or "").lower() or None,
    )
    items, text = j.elements(j.array(latest.c.answers, SUPPORT_FIELD), "asked")
    query = (
        select(
            text.label("support"),
            Organisation.id,
            Organisation.name,
            j.array_text(latest.c.answers, RESPOND_FIELD).label("respond_how"),
            latest.c.submitted_at,
            Person.name.label("contact_name"),
            Person.email.label("contact_email"),
        )
        .select_from(latest)
        .join(Organisation, Organisation.id == latest.c.organisation_id)
        .outerjoin(Person, Person.id == latest.c.respondent_id)
        .join(items, true())
        .where(text.is_not(None), text != "none")
    )
    found: dict[str, dict[int, SupportAsker]] = defaultdict(dict)
    for support, org_id, name, respond_how, submitted_at, contact, email in (
        await session.execute(query)
    ).all():
        how = _decode_list(respond_how)
        found[support][org_id] = SupportAsker(
            organisation_id=org_id,
            name=name,
            respond_how=how,
            asked_at=submitted_at,
            contact_name=contact,
            contact_email=email,
        )
    return {
        support: sorted(askers.values(), key=lambda a: (a.name.casefold(), a.organisation_id))
        for support, askers in found.items()
    }


def _decode_list(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(str(v) for v in value if isinstance(v, str)))
