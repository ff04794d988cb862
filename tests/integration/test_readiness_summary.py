"""The commissioners' readiness summary over real HTTP, with generated providers.

Priya Shah (Riverside's commissioner) reads the summary, filters it with the page's
own filter form, looks at the version with small groups hidden, and at the list of
support providers asked for. A provider and a commissioner of another council are
refused, and the refusals are recorded. Every number on the page is checked against
the same sums done in Python from the generated answers.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from html import unescape
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, update

from bench.readiness_summary import (
    HOME,
    OTHER,
    RISKS,
    GeneratedOrganisation,
    generate_population,
    insert_population,
    latest_answers,
    readiness_definition,
    summarise_in_python,
)
from bot.core.forms import FormDefinition
from bot.core.reply import FormView, Message
from bot.core.turn import Door, Turn
from bot.services import Services
from handlers.readiness_statistics import Summary
from storage.models import AuditEvent, Authority, FormResponse, Person, ResponseState, Role
from storage.people import grant, load_actor
from tests.support.web import WebUser, text_of

SEED = 7
TINY = "Tiny Hamlet"
SECTION = re.compile(
    r'<div class="section">\s*<h2>(.*?)</h2>(.*?)</div>\s*(?=<div class|<p|</)', re.S
)
FACT = re.compile(r"<dt>(.*?)</dt><dd>(.*?)</dd>")
SELECT = re.compile(r'<select id="filter-\w+" name="(\w+)">(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]*)"( selected)?>')
FILTER_FORM = re.compile(r'<form method="get" action="([^"]+)" class="filters"')


def sections(html: str) -> dict[str, dict[str, str]]:
    """Each section's heading and facts, as the page shows them."""
    return {
        unescape(heading): {unescape(k): unescape(v) for k, v in FACT.findall(body)}
        for heading, body in SECTION.findall(html)
    }


def fact_order(html: str, heading: str) -> list[str]:
    for found, body in SECTION.findall(html):
        if unescape(found) == heading:
            return [unescape(k) for k, _ in FACT.findall(body)]
    raise KeyError(heading)


def share(n: int, total: int) -> str:
    percent = (Decimal(n * 100) / Decimal(total)).quantize(Decimal(1), ROUND_HALF_UP)
    return f"{n:,} ({'less than 1' if 0 < n * 100 < total else percent}%)"


def pounds(pence: float) -> str:
    return f"£{int((Decimal(repr(pence)) / 100).quantize(Decimal(1), ROUND_HALF_UP)):,}"


@pytest.fixture
def definition() -> FormDefinition:
    return readiness_definition()


@pytest.fixture
async def generated(
    services: Services, definition: FormDefinition
) -> tuple[list[GeneratedOrganisation], dict[str, int]]:
    """40 generated providers answering Riverside (and a few Eastshire), three of them
    also serving a tiny area nobody else serves."""
    population = generate_population(40, seed=SEED, definition=definition, prefix="web")
    answered = [
        o
        for o in population
        if any(r.authority == HOME and r.state == ResponseState.SUBMITTED for r in o.responses)
    ]
    for org in answered[:3]:
        org.areas.append(TINY)
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


def check_numbers(html: str, summary: Summary, definition: FormDefinition) -> None:
    """Every count on the page, and the money medians, as Python worked them out."""
    shown = sections(html)
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


async def test_commissioner_reads_the_summary(
    web_user: WebUser,
    generated: tuple[list[GeneratedOrganisation], dict[str, int]],
    definition: FormDefinition,
) -> None:
    population, _ = generated
    await web_user.sign_in_locally("Priya Shah")
    status, html = await web_user.get("/do/readiness?view=summary")
    assert status == 200
    page = text_of(html)
    assert "Readiness across local providers" in page
    assert "We never rank organisations by these answers" in page
    assert "Only Riverside Borough Council's commissioning team can see this page" in page
    summary = expected(population, definition)
    check_numbers(html, summary, definition)
    median = summary.median_overhead
    assert median is not None
    overhead = Decimal(repr(median)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    assert (
        sections(html)["At a glance"]["Typical share of costs that are overheads (median)"]
        == f"{str(overhead).rstrip('0').rstrip('.')}%"
    )
    # An overview, not a list of organisations: no names, no written answers.
    assert not [o.name for o in population if o.name in page]
    assert not [risk for risk in RISKS if risk in page]
    # Questions appear in the form's order, after the headline facts.
    headings = list(sections(html))
    assert headings == ["At a glance", *(f.label for f in definition.all_fields())]


async def test_commissioner_filters_with_the_pages_own_form(
    web_user: WebUser,
    generated: tuple[list[GeneratedOrganisation], dict[str, int]],
    definition: FormDefinition,
) -> None:
    population, _ = generated
    await web_user.sign_in_locally("Priya Shah")
    _, html = await web_user.get("/do/readiness?view=summary")
    action = unescape(FILTER_FORM.search(html).group(1))  # type: ignore[union-attr]
    form = {name: [v for v, _ in OPTION.findall(options)] for name, options in SELECT.findall(html)}
    assert set(form) == {"service", "area"}
    busiest = max(
        (v for v in form["service"] if v),
        key=lambda v: len(latest_answers(population, service_area=v)),
    )
    assert TINY in form["area"]
    status, html = await web_user.get(f"{action}?{urlencode({'service': busiest, 'area': ''})}")
    assert status == 200
    check_numbers(html, expected(population, definition, service_area=busiest), definition)
    assert "Only organisations that work on" in text_of(html)
    # The chosen filter stays chosen, and area is matched whatever its case.
    assert f'<option value="{busiest}" selected>' in html
    status, html = await web_user.get(
        f"/do/readiness?{urlencode({'view': 'summary', 'area': 'north ward'})}"
    )
    check_numbers(html, expected(population, definition, area="North Ward"), definition)


async def test_small_groups_are_hidden_in_the_version_to_share(
    web_user: WebUser,
    generated: tuple[list[GeneratedOrganisation], dict[str, int]],
    definition: FormDefinition,
) -> None:
    population, _ = generated
    await web_user.sign_in_locally("Priya Shah")
    _, html = await web_user.get(f"/do/readiness?{urlencode({'view': 'summary', 'area': TINY})}")
    assert sections(html)["At a glance"]["Organisations that answered"] == "3"
    _, html = await web_user.get(f"/do/readiness?{urlencode({'view': 'shared', 'area': TINY})}")
    page = text_of(html)
    assert "Fewer than 5 organisations match, so we don't show a summary" in page
    assert sections(html) == {}
    # Without the filter there are enough organisations, but some answers are rare.
    _, html = await web_user.get("/do/readiness?view=shared")
    page = text_of(html)
    assert "version you can share" in page and "you can share this page" in page
    shown = sections(html)
    summary = expected(population, definition)
    assert shown["At a glance"]["Organisations that answered"] == f"{summary.organisations.value}"
    values = [v for facts in shown.values() for v in facts.values()]
    assert "fewer than 5" in values
    # Nothing on the page is a count between 1 and 4.
    assert not [v for v in values if re.fullmatch(r"[1-4] \(.*\)", v)]


async def test_commissioner_sees_who_asked_for_support(
    web_user: WebUser,
    generated: tuple[list[GeneratedOrganisation], dict[str, int]],
    definition: FormDefinition,
) -> None:
    population, _ = generated
    await web_user.sign_in_locally("Priya Shah")
    status, html = await web_user.get("/do/readiness?view=needs")
    assert status == 200
    page = text_of(html)
    assert "Support providers asked for" in page
    assert "Only Riverside Borough Council's commissioning team can see who asked" in page
    field = definition.field("support_wanted")
    respond = definition.field("respond_how")
    shown = sections(html)
    for choice in field.choices:
        askers = [
            o
            for o in population
            if (latest := latest_answers([o]))
            and isinstance(latest[0].get("support_wanted"), list)
            and choice.value in latest[0]["support_wanted"]
        ]
        heading = f"{choice.label}: {len(askers)} organisation{'s' if len(askers) != 1 else ''}"
        if choice.value == "none" or not askers:
            assert heading not in shown
            continue
        # By name, never by anything they answered.
        names = sorted((o.name for o in askers), key=str.casefold)
        assert fact_order(html, heading) == names
        for org in askers:
            value = shown[heading][org.name]
            how = latest_answers([org])[0].get("respond_how")
            if isinstance(how, list) and how:
                label = {c.value: c.label.lower() for c in respond.choices}
                assert value.startswith(
                    f"Prefers: {', '.join(label[v] for v in dict.fromkeys(how))}."
                )
            else:
                assert "Prefers" not in value
            assert "Sent by Kim Contact (kim@generated.example) on " in value


async def test_typed_commands_reach_the_same_views(
    services: Services, generated: tuple[list[GeneratedOrganisation], dict[str, int]]
) -> None:
    async with services.db.session() as session:
        priya = await session.scalar(select(Person).where(Person.name == "Priya Shah"))
        tom = await session.scalar(select(Person).where(Person.name == "Tom Okafor"))
        assert priya is not None and tom is not None
        commissioner = await load_actor(session, priya.id, services.tz)
        provider = await load_actor(session, tom.id, services.tz)
    titles = {}
    for text in ("readiness summary", "readiness shared", "readiness needs"):
        replies = await services.router.dispatch(
            Turn(door=Door.SLACK, actor=commissioner, conversation="D1", text=text), services
        )
        titles[text] = next(r.title for r in replies if isinstance(r, Message) and r.title)
    assert titles == {
        "readiness summary": "Readiness across local providers",
        "readiness shared": "Readiness across local providers: version you can share",
        "readiness needs": "Support providers asked for",
    }
    # A provider typing readiness still gets their own questions.
    replies = await services.router.dispatch(
        Turn(door=Door.WEB, actor=provider, text="readiness", args={"for": "riverside"}), services
    )
    assert any(isinstance(r, FormView) for r in replies)


async def _refusals(services: Services) -> list[AuditEvent]:
    async with services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "readiness.summary_refused")
                )
            ).all()
        )


async def test_a_provider_is_refused_politely_and_it_is_recorded(
    web_user: WebUser,
    services: Services,
    generated: tuple[list[GeneratedOrganisation], dict[str, int]],
) -> None:
    population, _ = generated
    await web_user.sign_in_locally("Tom Okafor")
    for view in ("summary", "shared", "needs"):
        status, html = await web_user.get(f"/do/readiness?view={view}")
        assert status == 200
        page = text_of(html)
        assert "The readiness summary is for council commissioning teams" in page
        assert "type readiness" in page
        assert sections(html) == {}
        assert not [o.name for o in population if o.name in page]
    refused = await _refusals(services)
    assert [e.details["view"] for e in refused] == ["summary", "shared", "needs"]
    async with services.db.session() as session:
        tom = await session.scalar(select(Person).where(Person.name == "Tom Okafor"))
    assert tom is not None and {e.actor_id for e in refused} == {tom.id}
    # Asking for Riverside by name changes nothing.
    _, html = await web_user.get("/do/readiness?view=summary&for=riverside")
    assert "for council commissioning teams" in text_of(html)
    assert len(await _refusals(services)) == 4


async def test_another_councils_commissioner_is_refused(
    web_user: WebUser,
    services: Services,
    generated: tuple[list[GeneratedOrganisation], dict[str, int]],
    definition: FormDefinition,
) -> None:
    population, authorities = generated
    async with services.db.session() as session:
        other = await session.get(Authority, authorities[OTHER])
        sam = Person(name="Sam Other", email="sam@eastshire.example", is_demo=True)
        session.add(sam)
        await session.flush()
        assert other is not None
        await grant(session, sam, Role.COMMISSIONER, authority_id=other.id)
        sam_id = sam.id
    await web_user.sign_in_locally("Sam Other")
    for view in ("summary", "needs"):
        _, html = await web_user.get(f"/do/readiness?view={view}&for=riverside")
        page = text_of(html)
        assert "Only Riverside Borough Council's commissioning team can see" in page
        assert sections(html) == {}
    refused = await _refusals(services)
    assert [(e.actor_id, e.authority_id) for e in refused] == [
        (sam_id, authorities[HOME]),
        (sam_id, authorities[HOME]),
    ]
    # Sam's own council's summary counts only what was sent to Eastshire.
    _, html = await web_user.get("/do/readiness?view=summary")
    own = expected(population, definition, authority=OTHER)
    assert sections(html)["At a glance"]["Organisations that answered"] == (
        f"{own.organisations.value}"
    )
    assert "Only Eastshire Council's commissioning team can see this page" in text_of(html)


async def test_a_commissioner_for_two_councils_chooses_one(
    web_user: WebUser,
    services: Services,
    generated: tuple[list[GeneratedOrganisation], dict[str, int]],
    definition: FormDefinition,
) -> None:
    population, authorities = generated
    async with services.db.session() as session:
        both = Person(name="Robin Both", email="robin@shared.example", is_demo=True)
        session.add(both)
        await session.flush()
        for authority_id in authorities.values():
            await grant(session, both, Role.COMMISSIONER, authority_id=authority_id)
    await web_user.sign_in_locally("Robin Both")
    _, html = await web_user.get("/do/readiness?view=summary")
    assert "Which council's summary would you like?" in text_of(html)
    assert await _refusals(services) == []  # a question, not a refusal
    _, html = await web_user.get("/do/readiness?view=summary&for=eastshire")
    own = expected(population, definition, authority=OTHER)
    assert sections(html)["At a glance"]["Organisations that answered"] == (
        f"{own.organisations.value}"
    )
    # Filtering keeps the council chosen.
    action = unescape(FILTER_FORM.search(html).group(1))  # type: ignore[union-attr]
    assert action == "/do/readiness summary for=eastshire"
    _, html = await web_user.get(f"{action}?{urlencode({'service': '', 'area': 'north ward'})}")
    check_numbers(
        html, expected(population, definition, authority=OTHER, area="North Ward"), definition
    )
    assert "told Eastshire Council" in text_of(html)
