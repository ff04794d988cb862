"""Readiness across providers: counts and spreads per question, worked out in the database.

A commissioner needs the shape of the local sector ("how many could wait 60 days
to be paid?"), not a pile of individual answers, and the summary has to stay quick
with thousands of organisations. So every count, median and quartile is computed here,
in SQL, over each organisation's *latest submitted* answers for one authority
(`summary_rows`); the readiness feature (`handlers/readiness_statistics.py`) puts the
rows together and hides small groups. Drafts never count, nor do answers given to
another council. Nothing here orders organisations by their answers; the one list of
organisations (who asked for support) is ordered by name.

How it is counted: reading answers out of the `answers` JSON was most of the cost, so
the latest answers are also kept typed, in `readiness_answers` ("facts"): written when
answers are sent, in the same transaction (`refresh_readiness_facts`, from the
readiness form's `on_submit`), replaced by the next submission, while every version
stays in `form_responses`. The summary is then one GROUP BY over that table (plus the
quartiles), using its indexes. `answer_facts` is the one place that says what counts as
answered: a string for a single choice, true/false for yes/no, a whole number for a
scale, a JSON number for a number, a list with something in it for a multiple choice
(each string in it counted once as an option chosen), non-empty text for text, and a
list of place codes for places (each code kept as a `choice`, so the summary's area
filter is one indexed lookup). Anything else (say, from an older form) is "not answered".
"""

from __future__ import annotations

import json
import math
import re
import typing
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    Row,
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

from bot.core.areas import area as known_area
from bot.core.forms import FormDefinition
from bot.core.forms.kinds import SummaryKind
from bot.core.forms.kinds import kind_of as field_kind
from storage.engagements import matching_area_codes
from storage.forms import definition_at, latest_definition
from storage.models import (
    FormResponse,
    Organisation,
    OrganisationServiceArea,
    Person,
    ReadinessAnswer,
    ResponseState,
)

FORM_KEY = "readiness"

#: Quartiles shown for number questions: lower quartile, median, upper quartile.
QUARTILES = (0.25, 0.5, 0.75)

SUPPORT_FIELD = "support_wanted"
#: The places a provider could cover: what the summary's area filter reads.
AREA_FIELD = "areas_covered"
RESPOND_FIELD = "respond_how"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


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
    areas: Sequence[str] | None = None,
) -> CTE:
    """Each organisation's latest submitted readiness answers for this authority: one
    row per organisation, optionally only those working on a service area and whose
    answers cover one of `areas` (codes, as `matching_area_codes` gives them). A tie on
    time goes to the later row, so nobody is ever counted twice."""
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
    if areas is not None:
        conditions.append(FormResponse.organisation_id.in_(_covering(authority_id, areas)))
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
    one row per option chosen (each once); places (a list of GSS codes) a row with
    neither, plus one row per place as its `choice`. An answer of the wrong type for its
    question gives no row, so it counts as not answered.

    Places are told by their value, not the question's kind: migration 0012 turned
    answers given to older versions (when the question was free text) into codes, and
    those versions still call the question text.
    """
    facts: list[Fact] = [(SUBMITTED, None, None)]
    for fld in definition.all_fields():
        value = answers.get(fld.id)
        kind = field_kind(fld.type).summary
        if kind == SummaryKind.CHOICE:
            option = field_kind(fld.type).summary_option(value)
            if option is not None:
                facts.append((fld.id, option, None))
        elif kind == SummaryKind.NUMBER:
            number = _finite(value)
            if number is not None:
                facts.append((fld.id, None, number))
        elif kind == SummaryKind.MULTIPLE:
            if isinstance(value, list) and value:
                facts.append((fld.id, None, None))
                chosen = dict.fromkeys(v for v in value if isinstance(v, str))
                facts.extend((fld.id, option, None) for option in chosen)
        elif isinstance(value, str) and value != "":
            facts.append((fld.id, None, None))
        elif codes := _place_codes(value):
            facts.append((fld.id, None, None))
            facts.extend((fld.id, code, None) for code in codes)
    return facts


def _place_codes(value: Any) -> list[str]:
    """A list of GSS codes (each once), or nothing if the value is anything else: a
    list of words is not a list of places."""
    if not isinstance(value, list) or not value:
        return []
    if not all(isinstance(v, str) and known_area(v) is not None for v in value):
        return []
    return list(dict.fromkeys(v.upper() for v in value))


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


def _covering(
    authority_id: int | BindParameter[int], areas: Sequence[str] | BindParameter[Any]
) -> Select[Any]:
    """Organisations whose latest answers to this authority cover any of these places
    (give them as `storage.engagements.matching_area_codes` does, so a county covers
    its councils and the other way round). One index lookup on the facts."""
    return select(ReadinessAnswer.organisation_id).where(
        ReadinessAnswer.authority_id == authority_id,
        ReadinessAnswer.question == _key(AREA_FIELD),
        ReadinessAnswer.choice.in_(areas),
    )


def _facts_counted(
    authority_id: int | BindParameter[int],
    service_area: str | BindParameter[str] | None,
    areas: Sequence[str] | BindParameter[Any] | None,
) -> list[ColumnElement[bool]]:
    """The facts of one authority's organisations, optionally only those working on a
    service area and whose answers cover one of `areas` (codes)."""
    conditions: list[ColumnElement[bool]] = [ReadinessAnswer.authority_id == authority_id]
    if service_area is not None:
        conditions.append(
            ReadinessAnswer.organisation_id.in_(
                select(OrganisationServiceArea.organisation_id).where(
                    OrganisationServiceArea.value == service_area
                )
            )
        )
    if areas is not None:
        conditions.append(ReadinessAnswer.organisation_id.in_(_covering(authority_id, areas)))
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
    areas: Sequence[str] | BindParameter[Any] | None = None,
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
    where = _facts_counted(authority_id, service_area, areas)
    if dialect == "sqlite" and (service_area is not None or areas is not None):
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
        quartiles = _quartiles_sqlite(where, _number_questions(definition))
    return union_all(counts, *quartiles)  # type: ignore[return-value]


_statements: dict[tuple[str, tuple[str, ...], bool, bool], Select[Any]] = {}


def _cached_statement(
    dialect: str, definition: FormDefinition, *, by_service_area: bool, by_area: bool
) -> Select[Any]:
    """The summary statement for this form's number questions and set of filters, built
    once, with the authority and filters as bound parameters: building the SQLAlchemy
    construct takes longer than running it on a small council's data."""
    key = (dialect, _number_questions(definition), by_service_area, by_area)
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = summary_query(
            dialect,
            definition,
            authority_id=bindparam("authority_id", type_=Integer),
            service_area=bindparam("service_area", type_=String) if by_service_area else None,
            areas=bindparam("areas", type_=String, expanding=True) if by_area else None,
        )
    return statement


def _number_questions(definition: FormDefinition) -> tuple[str, ...]:
    return tuple(
        f.id for f in definition.all_fields() if field_kind(f.type).summary == SummaryKind.NUMBER
    )


async def summary_rows(
    session: AsyncSession,
    *,
    authority_id: int,
    definition: FormDefinition,
    service_area: str | None = None,
    area: str | None = None,
) -> list[Row[Any]]:
    """The summary query's rows (part, question, option, n, a, b, c) over each
    organisation's latest submitted answers for this authority, filtered by service area
    and by a place (a code) their answers cover, a county covering its councils and the
    other way round. The readiness feature puts them together (`assemble`)."""
    dialect = session.get_bind().dialect.name
    statement = _cached_statement(
        dialect, definition, by_service_area=bool(service_area), by_area=bool(area)
    )
    params: dict[str, Any] = {"authority_id": authority_id}
    if service_area:
        params["service_area"] = service_area
    if area:
        params["areas"] = matching_area_codes([area])
    return list((await session.execute(statement, params)).all())


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
        areas=matching_area_codes([area]) if area else None,
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


# --------------------------------------------------------------------------
# Places answers cover
# --------------------------------------------------------------------------


async def places_covered(session: AsyncSession, *, authority_id: int) -> list[str]:
    """Every place (a code) some organisation's latest answers to this authority say it
    could cover: what the summary's area filter offers first."""
    rows = await session.scalars(
        select(ReadinessAnswer.choice)
        .where(
            ReadinessAnswer.authority_id == authority_id,
            ReadinessAnswer.question == _key(AREA_FIELD),
            ReadinessAnswer.choice.is_not(None),
        )
        .distinct()
    )
    return [code for code in rows.all() if code is not None]


LARGEST_VALUE_FIELD = "largest_value"


async def largest_contract_counts(
    session: AsyncSession, *, authority_id: int, pence: int
) -> tuple[int, int]:
    """How many providers told this council the largest yearly contract they could take on,
    and how many of them said less than `pence`. Two counts, never names: the opportunity
    guardrail asks this in aggregate only. One query over the typed facts."""
    fact = ReadinessAnswer
    row = (
        await session.execute(
            select(
                func.count(func.distinct(fact.organisation_id)),
                func.count(func.distinct(case((fact.number < pence, fact.organisation_id)))),
            ).where(
                fact.authority_id == authority_id,
                fact.question == LARGEST_VALUE_FIELD,
                fact.number.is_not(None),
            )
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)
