"""The readiness summary's web page over real HTTP: its own filter form.

Filters are sent the way the page's filter form sends them (its action, its selects and
their options, read from the page), the choice stays chosen, and a commissioner for two
councils keeps the council they chose while filtering. The summary's numbers, views and
refusals are tested in-process in tests/features/test_readiness_summary.py.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bench.readiness_summary import (
    OTHER,
    GeneratedOrganisation,
    latest_answers,
    readiness_definition,
)
from bot.core.forms import FormDefinition
from bot.services import Services
from storage.models import AuditEvent, Person, Role
from storage.people import grant
from tests.features.readiness_population import TINY, Shown, check_numbers, expected, populate
from tests.support.areas import code
from tests.support.web import WebUser, text_of

SECTION = re.compile(
    r'<div class="section">\s*<h2>(.*?)</h2>(.*?)</div>\s*(?=<div class|<p|</)', re.S
)
FACT = re.compile(r"<dt>(.*?)</dt><dd>(.*?)</dd>")
SELECT = re.compile(r'<select id="filter-\w+" name="(\w+)">(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]*)"( selected)?>')
FILTER_FORM = re.compile(r'<form method="get" action="([^"]+)" class="filters"')


def sections(html: str) -> Shown:
    """Each section's heading and facts, as the page shows them."""
    return {
        unescape(heading): {unescape(k): unescape(v) for k, v in FACT.findall(body)}
        for heading, body in SECTION.findall(html)
    }


@pytest.fixture
def definition() -> FormDefinition:
    return readiness_definition()


@pytest.fixture
async def generated(
    services: Services, definition: FormDefinition
) -> tuple[list[GeneratedOrganisation], dict[str, int]]:
    return await populate(services, definition)


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
    check_numbers(
        sections(html), expected(population, definition, service_area=busiest), definition
    )
    assert "Only organisations that work on" in text_of(html)
    # The chosen filter stays chosen; a place can be typed by name, in any case, and
    # counts everyone covering Lancashire, the county it is in.
    assert f'<option value="{busiest}" selected>' in html
    status, html = await web_user.get(
        f"/do/readiness?{urlencode({'view': 'summary', 'area': 'preston'})}"
    )
    check_numbers(
        sections(html), expected(population, definition, area=code("Preston")), definition
    )
    assert f'<option value="{code("Preston")}" selected>' in html
    assert "said they could cover Preston, or a place that includes it" in text_of(html)


async def _refusals(services: Services) -> list[AuditEvent]:
    async with services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "readiness.summary_refused")
                )
            ).all()
        )


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
    _, html = await web_user.get(f"{action}?{urlencode({'service': '', 'area': 'preston'})}")
    check_numbers(
        sections(html),
        expected(population, definition, authority=OTHER, area=code("Preston")),
        definition,
    )
    assert "told Eastshire Council" in text_of(html)
