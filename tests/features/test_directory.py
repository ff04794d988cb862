"""The provider directory, in-process on the test door: commissioners browse and filter;
providers may not.

Filters are chosen from the directory's own filter bar (the neutral `FilterBar` every door
renders), using its filter names and option values, so a renamed filter or option breaks
these tests as it would break the page. The directory must show only public and size/shape
facts: never drafts or answers to other forms, even to a commissioner who may see those
elsewhere. The web page's filter form itself is tested over HTTP in
tests/integration/test_directory_web.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select

from bot.core.reply import FilterBar, Message, Reply
from bot.core.turn import Intent
from bot.services import Services
from storage.models import (
    AuditEvent,
    Authority,
    FormResponse,
    Organisation,
    Person,
    ResponseState,
)
from tests.support.areas import code
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of

ALL = [
    "Asha Women's Centre",
    "Eastgate Community Kitchen",
    "Riverside Youth Trust",
    "Silver Threads Befriending",
]
ALLOWED_FACTS = ["Works on", "Areas served", "Kind", "Yearly income", "Led by and for"]
#: Shown after those when the organisation has them: the reserved-contract flags, then its
#: registration numbers, each linked to its public register (commissioners check them there).
REGISTER_FACTS = [
    "Public service mutual",
    "Supported employment provider",
    "Charity number (England and Wales)",
    "Company number",
    "Scottish charity number",
    "Northern Ireland charity number",
    "Society number (FCA Mutuals Public Register)",
    "Public Procurement Organisation Number (PPON)",
]


def listed(replies: Sequence[Reply]) -> dict[str, dict[str, str]]:
    """The organisations listed, each with the facts shown about it."""
    return {
        section.heading: {fact.label: fact.value for fact in section.facts}
        for reply in replies
        if isinstance(reply, Message)
        for section in reply.sections
        if section.heading
    }


def filter_form(replies: Sequence[Reply]) -> dict[str, tuple[list[str], str]]:
    """The filter bar's filters: name -> (option values, selected value)."""
    return {
        f.name: ([o.value for o in f.options], f.selected)
        for reply in replies
        if isinstance(reply, FilterBar)
        for f in reply.filters
    }


async def filter_as_the_form_does(user: Conversation, chosen: dict[str, str]) -> list[Reply]:
    """Open the directory, then choose these filters from its filter bar. Every filter is
    sent, as the page's form sends them; the door drops the blank ("Any") ones."""
    form = filter_form(await user.say("directory"))
    assert set(chosen) <= set(form), f"no such filter: {set(chosen) - set(form)}"
    for name, value in chosen.items():
        assert value in form[name][0], f"{value!r} is not an option of {name}"
    sent = {name: chosen.get(name, "") for name in form}
    return await user.say("directory", **{k: v for k, v in sent.items() if v})


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
    door: TestDoor, chosen: dict[str, str], expected: list[str]
) -> None:
    priya = await door.sign_in("Priya Shah")
    replies = await filter_as_the_form_does(priya, chosen)
    assert sorted(listed(replies)) == expected
    page = text_of(replies)
    if expected:
        plural = "s" if len(expected) != 1 else ""
        assert f"{len(expected)} organisation{plural} found." in page
    else:
        assert "No organisations match these filters. Try removing one." in page
    # The form shows what it filtered by, so the person can change one filter at a time.
    form = filter_form(replies)
    for name, (_, selected) in form.items():
        assert selected == chosen.get(name, ""), name


async def test_directory_shows_only_public_and_size_facts(
    door: TestDoor, services: Services
) -> None:
    """Drafts and answers to other forms stay out of it; sent registration numbers are in."""
    # Grace saves a draft of her profile with changes she has not sent yet.
    grace = await door.sign_in("Grace Lee")
    form = form_in(await grace.say("profile"))
    replies = await grace.send_page(
        form,
        {"name": "Unsent Draft Name", "legal_form": "cic", "company_number": "07777777"},
        page=0,
        intent=Intent.SAVE,
    )
    assert "Nothing is sent yet" in text_of(replies)
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

    priya = await door.sign_in("Priya Shah")
    replies = await priya.say("directory")
    shown = listed(replies)
    assert sorted(shown) == ALL  # the stored name, not the draft's
    for name, facts in shown.items():
        assert list(facts)[:5] == ALLOWED_FACTS, name
        extra = list(facts)[5:]
        assert extra == [label for label in REGISTER_FACTS if label in extra], name
    page = text_of(replies)
    for secret in (
        "Unsent Draft Name",
        "07777777",
        "Confidential-Cashflow-Worry",
        "Paid staff",
        "Volunteers",
    ):
        assert secret not in page, secret
    assert shown["Eastgate Community Kitchen"] == {
        "Works on": "Community development, Food",  # ordered by code
        "Areas served": "Burnley",
        "Kind": "Community interest company (CIC)",
        "Yearly income": "£10,000 to £100,000",
        "Led by and for": "Yes",
        "Supported employment provider": "Yes",
        "Company number": "12000002",  # the sent one, not the draft's
        "Public Procurement Organisation Number (PPON)": "PLMN-2293-XBTD",
    }
    # Each number links to its own entry on its public register; a PPON has no public page.
    links = {
        (fact.label, fact.url)
        for reply in replies
        if isinstance(reply, Message)
        for section in reply.sections
        for fact in section.facts
        if fact.url
    }
    assert links == {
        (
            "Company number",
            "https://find-and-update.company-information.service.gov.uk/company/12000002",
        ),
        (
            "Charity number (England and Wales)",
            "https://register-of-charities.charitycommission.gov.uk/charity-details/"
            "?regid=1100001&subid=0",
        ),
        (
            "Charity number (England and Wales)",
            "https://register-of-charities.charitycommission.gov.uk/charity-details/"
            "?regid=1100003&subid=0",
        ),
    }
    assert "Public service mutual" not in shown["Riverside Youth Trust"], (
        "a No is not a reason to list someone"
    )


async def test_provider_is_politely_refused_and_it_is_audited(
    door: TestDoor, services: Services
) -> None:
    tom = await door.sign_in("Tom Okafor")
    # The page's form sends every filter; the door drops the blank ones.
    replies = await tom.say("directory", service="food")
    page = text_of(replies)
    assert "The provider directory is for council commissioners" in page
    # The way on: on the web a link to the person's own profile, never "type profile".
    assert "go to your profile" in page and "type profile" not in page
    assert listed(replies) == {} and filter_form(replies) == {}
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
    door: TestDoor, services: Services
) -> None:
    """The control for the audit test above: the event means a refusal, not any visit."""
    priya = await door.sign_in("Priya Shah")
    await filter_as_the_form_does(priya, {"service": "food"})
    async with services.db.session() as session:
        refused = (
            await session.scalars(
                select(AuditEvent.id).where(AuditEvent.action == "directory.refused")
            )
        ).all()
    assert refused == []
