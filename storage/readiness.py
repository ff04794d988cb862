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

How it is counted: reading answers out of the `answers` JSON was most of the cost, so
the latest answers are also kept typed, in `readiness_answers` ("facts"): written when
answers are sent, in the same transaction (`refresh_readiness_facts`, from the
readiness form's `on_submit`), replaced by the next submission, while every version
stays in `form_responses`. The summary is then one GROUP BY over that table (plus the
quartiles), using its indexes. `answer_facts` is the one place that says what counts as
answered: a string for a single choice, true/false for yes/no, a whole number for a
scale, a JSON number for a number, a list with something in it for a multiple choice
(each string in it counted once as an option chosen), and non-empty text for text.
Anything else (say, from an older form) is "not answered".
"""

from __future__ import annotations

import json
import math
import re
import typing
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
    Table,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import FieldType, FormDefinition
from bot.core.forms.kinds import SummaryKind
from bot.core.forms.kinds import kind_of as field_kind
from storage.forms import definition_at, latest_definition
from storage.models import (
    FormResponse,
    Organisation,
    OrganisationAreaServed,
    OrganisationServiceArea,
    Person,
    ReadinessAnswer,
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

    The summary reads typed facts instead (`readiness_answers`); this is for the few
    queries that still read the answers themselves (who asked for support, and how they
    like to be contacted). The type of the stored JSON is checked, so an answer of the
    wrong type counts as not answered rather than being mis-read.
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

    def array(self, doc: ColumnElement[Any], field_id: str) -> ColumnElement[Any]:
        """A list answer as JSON (SQLite: its text; PostgreSQL: jsonb), or NULL."""
        value, _, kind = self._parts(doc, field_id)
        return case({"array": value}, value=kind, else_=None)

    def array_text(self, doc: ColumnElement[Any], field_id: str) -> ColumnElement[Any]:
        """A list answer as JSON text, to decode in Python, or NULL."""
        listed = self.array(doc, field_id)
        return cast(listed, String) if self.postgres else listed

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
# Facts: the latest answers, typed, kept up to date as they are sent
# --------------------------------------------------------------------------

#: The question of the one fact every counted submission has, even one with nothing
#: answered: how the summary counts organisations. Never a field id (those are
#: identifiers).
SUBMITTED = "*"

#: One row of `readiness_answers`: (question, choice, number).
Fact = tuple[str, str | None, float | None]


def _finite(value: Any) -> float | None:
    """A JSON number as a double (what the summary computes with), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def answer_facts(answers: Mapping[str, Any], definition: FormDefinition) -> list[Fact]:
    """What one set of answers says, as rows for `readiness_answers`.

    Always (SUBMITTED, None, None); then, for each question answered: a one-answer
    question its option as `choice` ('yes'/'no' for yes/no, the number as text for a
    scale); a number question its value as `number`; a text question a row with
    neither (the words are never copied); a multiple choice a row with neither, plus
    one row per option chosen (each once). An answer of the wrong type for its question
    gives no row, so it counts as not answered.
    """
    facts: list[Fact] = [(SUBMITTED, None, None)]
    for fld in definition.all_fields():
        value = answers.get(fld.id)
        kind = kind_of(fld.type)
        if kind == Kind.CHOICE:
            option = field_kind(fld.type).summary_option(value)
            if option is not None:
                facts.append((fld.id, option, None))
        elif kind == Kind.NUMBER:
            number = _finite(value)
            if number is not None:
                facts.append((fld.id, None, number))
        elif kind == Kind.MULTIPLE:
            if isinstance(value, list) and value:
                facts.append((fld.id, None, None))
                chosen = dict.fromkeys(v for v in value if isinstance(v, str))
                facts.extend((fld.id, option, None) for option in chosen)
        elif isinstance(value, str) and value != "":
            facts.append((fld.id, None, None))
    return facts


def _fact_rows(response: Any, definition: FormDefinition) -> list[dict[str, Any]]:
    """`answer_facts` for one submitted response, as rows ready to insert."""
    return [
        {
            "organisation_id": response.organisation_id,
            "authority_id": response.authority_id,
            "response_id": response.id,
            "question": question,
            "choice": choice,
            "number": number,
        }
        for question, choice, number in answer_facts(response.answers or {}, definition)
    ]


#: The facts table for Core statements: inserting through the ORM's bulk path splits the
#: rows by which columns are NULL, one statement per group; a plain executemany doesn't.
_FACTS = typing.cast(Table, ReadinessAnswer.__table__)
_INSERT_FACTS = insert(_FACTS)


async def _definitions(
    session: AsyncSession, versions: Iterable[int], known: Iterable[FormDefinition]
) -> dict[int, FormDefinition]:
    """The readiness form at each version answers were given against. Should one be
    missing from the database, the newest is used (as migration 0005 does)."""
    found = {d.version: d for d in known if d.key == FORM_KEY}
    for version in set(versions) - found.keys():
        definition = await definition_at(session, FORM_KEY, version)
        if definition is None:
            definition = await latest_definition(session, FORM_KEY)
        if definition is None:
            raise LookupError(f"no readiness form is stored to read version {version} with")
        found[version] = definition
    return found


async def refresh_readiness_facts(
    session: AsyncSession,
    *,
    organisation_id: int,
    authority_id: int,
    definition: FormDefinition | None = None,
) -> None:
    """Make the organisation's facts for this authority those of its latest submitted
    readiness answers (none, if it has none). Called in the transaction that submits
    the answers, so the summary never sees half a change. `definition` is the form the
    answers were given against, when the caller has it.

    Two people from one organisation may send answers at the same moment. On PostgreSQL
    the organisation's row is locked first (FOR NO KEY UPDATE, which does not block the
    foreign-key checks of rows that refer to it), so the second waits for the first to
    commit, then sees its answers; whichever is latest by (submitted_at, id) wins, as in
    `latest_responses`. SQLite lets one transaction write at a time anyway.
    """
    await session.execute(
        select(Organisation.id)
        .where(Organisation.id == organisation_id)
        .with_for_update(key_share=True)
    )
    latest = await session.scalar(
        select(FormResponse)
        .where(
            FormResponse.form_key == FORM_KEY,
            FormResponse.state == ResponseState.SUBMITTED,
            FormResponse.organisation_id == organisation_id,
            FormResponse.authority_id == authority_id,
        )
        .order_by(FormResponse.submitted_at.desc().nulls_last(), FormResponse.id.desc())
        .limit(1)
    )
    await session.execute(
        delete(_FACTS).where(
            _FACTS.c.organisation_id == organisation_id,
            _FACTS.c.authority_id == authority_id,
        )
    )
    if latest is None:
        return
    known = [definition] if definition is not None else []
    definitions = await _definitions(session, [latest.form_version], known)
    await session.execute(_INSERT_FACTS, _fact_rows(latest, definitions[latest.form_version]))


async def rebuild_readiness_facts(
    session: AsyncSession, *, definitions: Iterable[FormDefinition] = (), batch: int = 1_000
) -> int:
    """Work out every organisation's facts again, for every authority, from its latest
    submitted answers, in a few statements. For answers loaded in bulk (the benchmark,
    tests, an import), where going through each submission would be slow: the same
    rules (`answer_facts`) as a submission. Returns how many facts were written."""
    ranked = (
        select(
            FormResponse.id,
            FormResponse.form_version,
            FormResponse.organisation_id,
            FormResponse.authority_id,
            FormResponse.answers,
            func.row_number()
            .over(
                partition_by=(FormResponse.organisation_id, FormResponse.authority_id),
                order_by=(FormResponse.submitted_at.desc().nulls_last(), FormResponse.id.desc()),
            )
            .label("rn"),
        )
        .where(
            FormResponse.form_key == FORM_KEY,
            FormResponse.state == ResponseState.SUBMITTED,
            FormResponse.organisation_id.is_not(None),
            FormResponse.authority_id.is_not(None),
        )
        .subquery("ranked")
    )
    latest = (
        await session.execute(select(ranked).where(ranked.c.rn == 1).order_by(ranked.c.id))
    ).all()
    forms = await _definitions(session, {r.form_version for r in latest}, definitions)
    await session.execute(delete(_FACTS))
    rows = [row for r in latest for row in _fact_rows(r, forms[r.form_version])]
    for start in range(0, len(rows), batch):
        await session.execute(_INSERT_FACTS, rows[start : start + batch])
    return len(rows)


# --------------------------------------------------------------------------
# The summary query
# --------------------------------------------------------------------------


def _out(part: str, question: Any, option: Any, n: Any, *stats: Any) -> list[Any]:
    """Both parts of the summary return rows of this one shape, so the whole summary is
    a single UNION ALL: one round trip."""
    a, b, c = (*stats, None, None, None)[:3]
    return [
        literal(part, String).label("part"),
        question.label("question"),
        cast(option, String).label("option"),
        n.label("n"),
        cast(a, Float).label("a"),
        cast(b, Float).label("b"),
        cast(c, Float).label("c"),
    ]


def _facts_counted(
    authority_id: int | BindParameter[int],
    service_area: str | BindParameter[str] | None,
    area: str | BindParameter[str] | None,
) -> list[ColumnElement[bool]]:
    """The facts of one authority's organisations, optionally only those working on a
    service area and serving an area (matched ignoring case; give `area` in lower case)."""
    conditions: list[ColumnElement[bool]] = [ReadinessAnswer.authority_id == authority_id]
    if service_area is not None:
        conditions.append(
            ReadinessAnswer.organisation_id.in_(
                select(OrganisationServiceArea.organisation_id).where(
                    OrganisationServiceArea.value == service_area
                )
            )
        )
    if area is not None:
        conditions.append(
            ReadinessAnswer.organisation_id.in_(
                select(OrganisationAreaServed.organisation_id).where(
                    func.lower(OrganisationAreaServed.value) == area
                )
            )
        )
    return conditions


def _quartiles_sqlite(
    where: Sequence[ColumnElement[bool]], questions: Sequence[str]
) -> list[Select[Any]]:
    """SQLite has no percentile_cont, and numbering every value with a window function
    costs more than all the counting. So, per number question: n, and the values either
    side of p × (n − 1) for each quartile, each read by walking the (authority, question,
    number) index to that position (ORDER BY number LIMIT 1 OFFSET k); kept
    (MATERIALIZED) so each is read once; then the same interpolation PostgreSQL uses
    (lo + (hi − lo) × fraction)."""
    parts: list[Select[Any]] = []
    for question in questions:
        mine = [
            *where,
            ReadinessAnswer.question == _key(question),
            ReadinessAnswer.number.is_not(None),
        ]

        def count(mine: list[ColumnElement[bool]] = mine) -> Any:
            return select(func.count()).where(*mine).scalar_subquery()

        def nth(p: float, plus: int, mine: list[ColumnElement[bool]] = mine) -> Any:
            at = cast(literal_column(repr(p), Float) * (count(mine) - 1), Integer) + plus
            return (
                select(ReadinessAnswer.number)
                .where(*mine)
                .order_by(ReadinessAnswer.number)
                .limit(1)
                .offset(at)
                .scalar_subquery()
            )

        picked = (
            select(
                count().label("n"),
                *(
                    nth(p, plus).label(f"v{i}_{plus}")
                    for i, p in enumerate(QUARTILES)
                    for plus in (0, 1)
                ),
            )
            .cte(f"picked_{question}")
            .prefix_with("MATERIALIZED")
        )
        n = picked.c.n
        picks: list[Any] = []
        for i, p in enumerate(QUARTILES):
            spot = literal_column(repr(p), Float) * (n - 1)
            fraction = spot - cast(spot, Integer)
            low, high = picked.c[f"v{i}_0"], picked.c[f"v{i}_1"]
            picks.append(case((fraction == 0, low), else_=low + (high - low) * fraction))
        parts.append(select(*_out("number", literal(question, String), None, n, *picks)))
    return parts


def _quartiles_postgres(where: Sequence[ColumnElement[bool]]) -> list[Select[Any]]:
    """PostgreSQL's own percentile_cont: all three quartiles from one sort per question."""
    x = ReadinessAnswer.number
    quartiles = (
        select(
            ReadinessAnswer.question,
            func.count(x).label("n"),
            type_coerce(
                func.percentile_cont(literal_column("ARRAY[0.25, 0.5, 0.75]")).within_group(x),
                ARRAY(Float),
            ).label("q"),
        )
        .where(*where, x.is_not(None))
        .group_by(ReadinessAnswer.question)
        .subquery("quartiles")
    )
    q = quartiles.c.q
    return [select(*_out("number", quartiles.c.question, None, quartiles.c.n, q[1], q[2], q[3]))]


def _ranked_quartiles_sqlite(chosen: CTE) -> Select[Any]:
    """Quartiles for a filtered group on SQLite: its facts are already kept (`chosen`),
    and there are few enough of them to number: row_number per question over the sorted
    values, keep only the rows either side of p × (n − 1), and interpolate as above."""
    x = chosen.c.number
    ordered = (
        select(
            chosen.c.question,
            x.label("x"),
            (func.row_number().over(partition_by=chosen.c.question, order_by=x) - 1).label("i"),
            func.count().over(partition_by=chosen.c.question).label("n"),
        )
        .where(x.is_not(None))
        .subquery("sorted")
    )

    def index(p: float) -> ColumnElement[Any]:
        return cast(literal_column(repr(p), Float) * (ordered.c.n - 1), Integer)

    wanted = [i for p in QUARTILES for i in (index(p), index(p) + 1)]
    picked = (
        select(ordered.c.question, ordered.c.x, ordered.c.i, ordered.c.n)
        .where(or_(*(ordered.c.i == i for i in wanted)))
        .subquery("picked")
    )
    picks: list[Any] = []
    for p in QUARTILES:
        spot = literal_column(repr(p), Float) * (picked.c.n - 1)
        at = cast(spot, Integer)
        fraction = func.max(spot - at)
        low = func.max(case((picked.c.i == at, picked.c.x)))
        high = func.max(case((picked.c.i == at + 1, picked.c.x)))
        picks.append(case((fraction == 0, low), else_=low + (high - low) * fraction))
    return select(*_out("number", picked.c.question, None, func.max(picked.c.n), *picks)).group_by(
        picked.c.question
    )


def summary_query(
    dialect: str,
    definition: FormDefinition,
    *,
    authority_id: int | BindParameter[int],
    service_area: str | BindParameter[str] | None = None,
    area: str | BindParameter[str] | None = None,
) -> Select[Any]:
    """The whole summary as one statement over `readiness_answers`: how many facts per
    (question, option), which gives every count, and the quartiles of every number
    question. Exposed so the benchmark and tests can run it.

    On PostgreSQL the planner does well with the filters as they are. SQLite would
    check the filters again in every quartile's subquery, so with a filter it first
    keeps (MATERIALIZED) the group's facts, found through each organisation's own
    facts, and counts and numbers those."""
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"the readiness summary runs on SQLite or PostgreSQL, not {dialect}")
    where = _facts_counted(authority_id, service_area, area)
    if dialect == "sqlite" and (service_area is not None or area is not None):
        chosen = (
            select(ReadinessAnswer.question, ReadinessAnswer.choice, ReadinessAnswer.number)
            .where(*where)
            .cte("chosen")
            .prefix_with("MATERIALIZED")
        )
        counts = select(*_out("count", chosen.c.question, chosen.c.choice, func.count())).group_by(
            chosen.c.question, chosen.c.choice
        )
        return union_all(counts, _ranked_quartiles_sqlite(chosen))  # type: ignore[return-value]
    counts = (
        select(*_out("count", ReadinessAnswer.question, ReadinessAnswer.choice, func.count()))
        .where(*where)
        .group_by(ReadinessAnswer.question, ReadinessAnswer.choice)
    )
    if dialect == "postgresql":
        quartiles = _quartiles_postgres(where)
    else:
        numbers = [f.id for f in definition.all_fields() if kind_of(f.type) == Kind.NUMBER]
        quartiles = _quartiles_sqlite(where, numbers)
    return union_all(counts, *quartiles)  # type: ignore[return-value]


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


_statements: dict[tuple[str, tuple[str, ...], bool, bool], Select[Any]] = {}


def _cached_statement(
    dialect: str, definition: FormDefinition, *, by_service_area: bool, by_area: bool
) -> Select[Any]:
    """The summary statement for this form's number questions and set of filters, built
    once, with the authority and filters as bound parameters: building the SQLAlchemy
    construct takes longer than running it on a small council's data."""
    numbers = tuple(f.id for f in definition.all_fields() if kind_of(f.type) == Kind.NUMBER)
    key = (dialect, numbers, by_service_area, by_area)
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = summary_query(
            dialect,
            definition,
            authority_id=bindparam("authority_id", type_=Integer),
            service_area=bindparam("service_area", type_=String) if by_service_area else None,
            area=bindparam("area", type_=String) if by_area else None,
        )
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
