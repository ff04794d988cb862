"""The provider directory over real HTTP: commissioners browse and filter; providers may not.

Filters are sent the way the page's own filter form sends them (a GET with every
select, blanks meaning "Any"), using the field names and option values read from
that form, so a renamed filter or option breaks these tests as it would break the
page. The directory must show only public and size/shape facts: never drafts or
answers to other forms, even to a commissioner who may see those elsewhere.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.services import Services
from storage.models import (
    AuditEvent,
    Authority,
    FormResponse,
    Organisation,
    Person,
    ResponseState,
)
from tests.support.areas import code, codes
from tests.support.web import WebUser, form_action, text_of

ALL = [
    "Asha Women's Centre",
    "Eastgate Community Kitchen",
    "Riverside Youth Trust",
    "Silver Threads Befriending",
]
ALLOWED_FACTS = ["Works on", "Areas served", "Kind", "Yearly income", "Led by and for"]

SECTION = re.compile(r'<div class="section">\s*<h2>(.*?)</h2>(.*?)</div>\s*(?=<div class|<p|</)')
FACT = re.compile(r"<dt>(.*?)</dt><dd>(.*?)</dd>")
SELECT = re.compile(r'<select id="filter-\w+" name="(\w+)">(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]*)"( selected)?>')


def listed(html: str) -> dict[str, dict[str, str]]:
    """The organisations on the page, each with the facts shown about it."""
    return {
        unescape(name): {unescape(k): unescape(v) for k, v in FACT.findall(body)}
        for name, body in SECTION.findall(html)
    }


def filter_form(html: str) -> dict[str, tuple[list[str], str]]:
    """The filter form's selects: name -> (option values, selected value)."""
    form: dict[str, tuple[list[str], str]] = {}
    for name, options in SELECT.findall(html):
        found = OPTION.findall(options)
        selected = [unescape(v) for v, chosen in found if chosen]
        form[name] = ([unescape(v) for v, _ in found], selected[0] if selected else "")
    return form


async def filter_as_the_form_does(user: WebUser, chosen: dict[str, str]) -> str:
    """Open the directory, then submit its filter form with these choices."""
    status, html = await user.get("/do/directory")
    assert status == 200
    form = filter_form(html)
    assert set(chosen) <= set(form), f"no such filter: {set(chosen) - set(form)}"
    for name, value in chosen.items():
        assert value in form[name][0], f"{value!r} is not an option of {name}"
    query = urlencode([(name, chosen.get(name, "")) for name in form])
    status, html = await user.get(f"/do/directory?{query}")
    assert status == 200
    return html


async def test_commissioner_sees_every_provider(web_user: WebUser) -> None:
    await web_user.sign_in_locally("Priya Shah")
    status, html = await web_user.get("/do/directory")
    assert status == 200
    assert sorted(listed(html)) == ALL
    assert "4 organisations found." in text_of(html)
    form = filter_form(html)
    assert list(form) == ["service", "area", "form", "income", "led"]
    assert all(selected == "" for _, selected in form.values())  # all "Any"
    # Codes, listed by name; Asha Women's Centre serves the county that holds the others.
    assert form["area"][0] == ["", *codes("Burnley", "Lancashire", "Lancaster", "Preston")]


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ({"service": "food"}, ["Eastgate Community Kitchen"]),
        (
            {"area": code("Preston")},
            ["Asha Women's Centre", "Riverside Youth Trust", "Silver Threads Befriending"],
        ),
        ({"form": "charity"}, ["Asha Women's Centre", "Riverside Youth Trust"]),
        ({"income": "under_10k"}, ["Silver Threads Befriending"]),
        ({"led": "yes"}, ["Asha Women's Centre", "Eastgate Community Kitchen"]),
        (
            {"area": code("Burnley"), "led": "yes"},
            ["Asha Women's Centre", "Eastgate Community Kitchen"],
        ),
        (
            {"area": code("Preston"), "form": "charity", "income": "100k_1m", "led": "partly"},
            ["Riverside Youth Trust"],
        ),
        ({"service": "mental_health", "area": code("Lancaster")}, ["Asha Women's Centre"]),
        ({"service": "food", "area": code("Preston")}, []),
    ],
    ids=[
        "service",
        "area",
        "legal form",
        "income",
        "led by and for",
        "area+led",
        "four at once",
        "service+area",
        "nothing matches",
    ],
)
async def test_commissioner_filters_the_directory(
    web_user: WebUser, chosen: dict[str, str], expected: list[str]
) -> None:
    await web_user.sign_in_locally("Priya Shah")
    html = await filter_as_the_form_does(web_user, chosen)
    assert sorted(listed(html)) == expected
    page = text_of(html)
    if expected:
        plural = "s" if len(expected) != 1 else ""
        assert f"{len(expected)} organisation{plural} found." in page
    else:
        assert "No organisations match these filters. Try removing one." in page
    # The form shows what it filtered by, so the person can change one filter at a time.
    form = filter_form(html)
    for name, (_, selected) in form.items():
        assert selected == chosen.get(name, ""), name


async def test_directory_shows_only_public_and_size_facts(
    web_user: WebUser, services: Services
) -> None:
    """Drafts, numbers kept for the council, and answers to other forms stay out of it."""
    # Grace saves a draft of her profile with changes she has not sent yet.
    grace = WebUser(web_user.base)
    try:
        await grace.sign_in_locally("Grace Lee")
        status, html = await grace.get("/do/profile")
        assert status == 200
        status, html = await grace.post(
            form_action(html),
            {
                "_page": "0",
                "_intent": "save",
                "name": "Unsent Draft Name",
                "legal_form": "cic",
                "company_number": "DRAFT-77",
            },
        )
        assert status == 200 and "Nothing is sent yet" in text_of(html)
    finally:
        await grace.close()
    # An answer to another form (a readiness-style question) the council can see elsewhere.
    async with services.db.session() as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "asha-womens-centre")
        )
        authority = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert org is not None and authority is not None
        session.add(
            FormResponse(
                form_key="readiness_check",
                form_version=1,
                organisation_id=org.id,
                authority_id=authority.id,
                state=ResponseState.SUBMITTED,
                answers={"biggest_risk": "Confidential-Cashflow-Worry"},
                submitted_at=services.clock.now(),
            )
        )

    await web_user.sign_in_locally("Priya Shah")
    status, html = await web_user.get("/do/directory")
    assert status == 200
    shown = listed(html)
    assert sorted(shown) == ALL  # the stored name, not the draft's
    for name, facts in shown.items():
        assert list(facts) == ALLOWED_FACTS, name
    page = text_of(html)
    for secret in (
        "Unsent Draft Name",
        "DRAFT-77",
        "Confidential-Cashflow-Worry",
        "1100001",  # charity numbers
        "1100003",
        "12000002",  # company number
        "Paid staff",
        "Volunteers",
        "Charity number",
        "Company number",
    ):
        assert secret not in page, secret
    assert shown["Eastgate Community Kitchen"] == {
        "Works on": "Community development, Food",  # ordered by code
        "Areas served": "Burnley",
        "Kind": "Community interest company (CIC)",
        "Yearly income": "£10,000 to £100,000",
        "Led by and for": "Yes",
    }


async def test_provider_is_politely_refused_and_it_is_audited(
    web_user: WebUser, services: Services
) -> None:
    await web_user.sign_in_locally("Tom Okafor")
    status, html = await web_user.get("/do/directory?service=food&area=&form=&income=&led=")
    assert status == 200
    page = text_of(html)
    assert "The provider directory is for council commissioners" in page
    assert "type profile" in page
    assert listed(html) == {} and filter_form(html) == {}
    for name in ALL:
        if name != "Riverside Youth Trust":  # Tom's own organisation may appear in the header
            assert name not in page, name
    async with services.db.session() as session:
        tom = await session.scalar(select(Person.id).where(Person.name == "Tom Okafor"))
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "directory.refused")
            )
        ).all()
    assert [(e.actor_id, e.object_type, e.door) for e in events] == [(tom, "directory", "web")]


async def test_a_commissioner_browsing_is_not_recorded_as_refused(
    web_user: WebUser, services: Services
) -> None:
    """The control for the audit test above: the event means a refusal, not any visit."""
    await web_user.sign_in_locally("Priya Shah")
    await filter_as_the_form_does(web_user, {"service": "food"})
    async with services.db.session() as session:
        refused = (
            await session.scalars(
                select(AuditEvent.id).where(AuditEvent.action == "directory.refused")
            )
        ).all()
    assert refused == []
