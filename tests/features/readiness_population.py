"""Generated providers answering the readiness questions, and the summary's numbers worked
out in Python, for the summary's tests on the test door and on the web door.

The numbers are checked against a section heading -> {label: value} view of what was
shown, which each test reads from its own door (neutral replies, or the rendered page).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select, update

from bench.readiness_summary import (
    HOME,
    OTHER,
    GeneratedOrganisation,
    generate_population,
    insert_population,
    latest_answers,
    summarise_in_python,
)
from bot.core.forms import FormDefinition
from bot.services import Services
from handlers.readiness_statistics import Summary
from storage.models import Authority, FormResponse, Person, ResponseState
from storage.readiness import AREA_FIELD
from tests.support.areas import code

SEED = 7
#: A place only three providers say they could cover, far from everybody else's.
TINY = code("Isles of Scilly")

#: What a door showed: each section's heading, and its facts (label -> value).
Shown = dict[str, dict[str, str]]


def share(n: int, total: int) -> str:
    percent = (Decimal(n * 100) / Decimal(total)).quantize(Decimal(1), ROUND_HALF_UP)
    return f"{n:,} ({'less than 1' if 0 < n * 100 < total else percent}%)"


def pounds(pence: float) -> str:
    return f"£{int((Decimal(repr(pence)) / 100).quantize(Decimal(1), ROUND_HALF_UP)):,}"


async def populate(
    services: Services, definition: FormDefinition
) -> tuple[list[GeneratedOrganisation], dict[str, int]]:
    """40 generated providers answering Riverside (and a few Eastshire), three of them
    also covering a tiny area nobody else covers."""
    population = generate_population(40, seed=SEED, definition=definition, prefix="web")
    answered = [
        o
        for o in population
        if any(r.authority == HOME and r.state == ResponseState.SUBMITTED for r in o.responses)
    ]
    for org in answered[:3]:
        for response in org.responses:
            covered = response.answers.get(AREA_FIELD)
            places = covered if isinstance(covered, list) else []
            response.answers[AREA_FIELD] = [*places, TINY]
    async with services.db.session() as session:
        home = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert home is not None
        other = Authority(name="Eastshire Council", slug="eastshire")
        contact = Person(name="Kim Contact", email="kim@generated.example")
        session.add_all([other, contact])
        await session.flush()
        authorities = {HOME: home.id, OTHER: other.id}
        await insert_population(session, population, authorities=authorities, definition=definition)
        # Every generated answer was sent by Kim, so the support list can name a contact.
        await session.execute(update(FormResponse).values(respondent_id=contact.id))
    return population, authorities


def expected(
    population: list[GeneratedOrganisation], definition: FormDefinition, **filters: Any
) -> Summary:
    return summarise_in_python(latest_answers(population, **filters), definition)


def check_numbers(shown: Shown, summary: Summary, definition: FormDefinition) -> None:
    """Every count shown, and the money medians, as Python worked them out."""
    total = summary.organisations.value
    assert total
    glance = shown["At a glance"]
    assert glance["Organisations that answered"] == f"{total:,}"
    late = summary.arrears_61_plus.value or 0
    assert glance["Could wait more than 60 days to be paid"] == share(late, total)
    for question in summary.questions:
        field = definition.field(question.field_id)
        facts = shown[field.label]
        labels = {c.value: c.label for c in field.choices}
        for option in question.options:
            label = labels.get(option.value, f"{option.value} (no longer asked)")
            assert facts[label] == share(option.count.value or 0, total), (field.id, label)
        if question.options:
            assert facts["Not answered"] == share(question.not_answered.value or 0, total)
        else:
            assert facts["Answered"] == share(question.answered.value or 0, total)
        if field.type == "money" and question.spread is not None:
            assert facts["Middle answer (median)"] == pounds(question.spread.median)
            assert facts["Middle half of answers"] == (
                f"{pounds(question.spread.lower)} to {pounds(question.spread.upper)}"
            )
