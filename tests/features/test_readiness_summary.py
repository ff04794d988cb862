"""The commissioners' readiness summary, in-process on the test door, with generated
providers.

Priya Shah (Riverside's commissioner) reads the summary, looks at the version with small
groups hidden, and at the list of support providers asked for. A provider and a
commissioner of another council are refused, and the refusals are recorded. Every number
shown is checked against the same sums done in Python from the generated answers.

The web page's own filter form (its fields, the choice kept chosen, the council kept when
filtering) is tested over HTTP in tests/integration/test_readiness_summary_web.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select

from bench.readiness_summary import (
    HOME,
    OTHER,
    RISKS,
    GeneratedOrganisation,
    latest_answers,
    readiness_definition,
)
from bot.core.forms import FormDefinition
from bot.core.reply import FormView, Message, Reply
from bot.core.turn import Door, Turn
from bot.services import Services
from storage.models import AuditEvent, Authority, Person, Role
from storage.people import grant, load_actor
from tests.features.readiness_population import (
    TINY,
    Shown,
    check_numbers,
    expected,
    populate,
)
from tests.support.inprocess import TestDoor, text_of


def sections(replies: Sequence[Reply]) -> Shown:
    """Each section's heading and facts, as the replies give them."""
    return {
        section.heading: {fact.label: fact.value for fact in section.facts}
        for reply in replies
        if isinstance(reply, Message)
        for section in reply.sections
        if section.heading
    }


def fact_order(replies: Sequence[Reply], heading: str) -> list[str]:
    for reply in replies:
        if isinstance(reply, Message):
            for section in reply.sections:
                if section.heading == heading:
                    return [fact.label for fact in section.facts]
    raise KeyError(heading)


@pytest.fixture
def definition() -> FormDefinition:
    return readiness_definition()


@pytest.fixture
async def generated(
    services: Services, definition: FormDefinition
) -> tuple[list[GeneratedOrganisation], dict[str, int]]:
    return await populate(services, definition)


async def test_commissioner_reads_the_summary(
    door: TestDoor,
    generated: tuple[list[GeneratedOrganisation], dict[str, int]],
    definition: FormDefinition,
) -> None:
    population, _ = generated
    priya = await door.sign_in("Priya Shah")
    replies = await priya.say("readiness", view="summary")
    page = text_of(replies)
    assert "Readiness across local providers" in page
    assert "We never rank organisations by these answers" in page
    assert "Only Riverside Borough Council's commissioning team can see this page" in page
    summary = expected(population, definition)
    check_numbers(sections(replies), summary, definition)
    median = summary.median_overhead
    assert median is not None
    overhead = Decimal(repr(median)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    assert (
        sections(replies)["At a glance"]["Typical share of costs that are overheads (median)"]
        == f"{str(overhead).rstrip('0').rstrip('.')}%"
    )
    # An overview, not a list of organisations: no names, no written answers.
    assert not [o.name for o in population if o.name in page]
    assert not [risk for risk in RISKS if risk in page]
    # Questions appear in the form's order, after the headline facts.
    headings = list(sections(replies))
    assert headings == ["At a glance", *(f.label for f in definition.all_fields())]


async def test_small_groups_are_hidden_in_the_version_to_share(
    door: TestDoor,
    generated: tuple[list[GeneratedOrganisation], dict[str, int]],
    definition: FormDefinition,
) -> None:
    population, _ = generated
    priya = await door.sign_in("Priya Shah")
    replies = await priya.say("readiness", view="summary", area=TINY)
    assert sections(replies)["At a glance"]["Organisations that answered"] == "3"
    replies = await priya.say("readiness", view="shared", area=TINY)
    page = text_of(replies)
    assert "Fewer than 5 organisations match, so we don't show a summary" in page
    assert sections(replies) == {}
    # Without the filter there are enough organisations, but some answers are rare.
    replies = await priya.say("readiness", view="shared")
    page = text_of(replies)
    assert "version you can share" in page and "you can share this page" in page
    shown = sections(replies)
    summary = expected(population, definition)
    assert shown["At a glance"]["Organisations that answered"] == f"{summary.organisations.value}"
    values = [v for facts in shown.values() for v in facts.values()]
    assert "fewer than 5" in values
    # Nothing on the page is a count between 1 and 4.
    assert not [v for v in values if re.fullmatch(r"[1-4] \(.*\)", v)]


async def test_commissioner_sees_who_asked_for_support(
    door: TestDoor,
    generated: tuple[list[GeneratedOrganisation], dict[str, int]],
    definition: FormDefinition,
) -> None:
    population, _ = generated
    priya = await door.sign_in("Priya Shah")
    replies = await priya.say("readiness", view="needs")
    page = text_of(replies)
    assert "Support providers asked for" in page
    assert "Only Riverside Borough Council's commissioning team can see who asked" in page
    field = definition.field("support_wanted")
    respond = definition.field("respond_how")
    shown = sections(replies)
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
        assert fact_order(replies, heading) == names
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
    door: TestDoor,
    services: Services,
    generated: tuple[list[GeneratedOrganisation], dict[str, int]],
) -> None:
    population, _ = generated
    provider = await door.sign_in("Tom Okafor")
    for view in ("summary", "shared", "needs"):
        replies = await provider.say("readiness", view=view)
        page = text_of(replies)
        assert "The readiness summary is for council commissioning teams" in page
        assert "go to your readiness answers" in page and "type readiness" not in page
        assert sections(replies) == {}
        assert not [o.name for o in population if o.name in page]
    refused = await _refusals(services)
    assert [e.details["view"] for e in refused] == ["summary", "shared", "needs"]
    async with services.db.session() as session:
        tom = await session.scalar(select(Person).where(Person.name == "Tom Okafor"))
    assert tom is not None and {e.actor_id for e in refused} == {tom.id}
    # Asking for Riverside by name changes nothing.
    replies = await provider.say("readiness", view="summary", **{"for": "riverside"})
    assert "for council commissioning teams" in text_of(replies)
    assert len(await _refusals(services)) == 4


async def test_another_councils_commissioner_is_refused(
    door: TestDoor,
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
    sam_other = await door.sign_in("Sam Other")
    for view in ("summary", "needs"):
        replies = await sam_other.say("readiness", view=view, **{"for": "riverside"})
        page = text_of(replies)
        assert "Only Riverside Borough Council's commissioning team can see" in page
        assert sections(replies) == {}
    refused = await _refusals(services)
    assert [(e.actor_id, e.authority_id) for e in refused] == [
        (sam_id, authorities[HOME]),
        (sam_id, authorities[HOME]),
    ]
    # Sam's own council's summary counts only what was sent to Eastshire.
    replies = await sam_other.say("readiness", view="summary")
    own = expected(population, definition, authority=OTHER)
    assert sections(replies)["At a glance"]["Organisations that answered"] == (
        f"{own.organisations.value}"
    )
    assert "Only Eastshire Council's commissioning team can see this page" in text_of(replies)
