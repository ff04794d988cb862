"""Invitations and the directory match areas by code, where places share ground, in both
directions; the web form picks places by name or postcode without JavaScript."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.core.areas import _data
from bot.services import Services
from storage.engagement_tables import Engagement
from storage.engagements import matching_organisations
from storage.models import Authority, Organisation
from storage.organisations import DirectoryFilter, search_directory, set_areas_served
from tests.support.areas import code, codes
from tests.support.web import WebUser, form_action, text_of

PROVIDERS = {
    "county-wide": ["Lancashire"],
    "preston-only": ["Preston"],
    "burnley-only": ["Burnley"],
    "leeds-only": ["Leeds"],
}


async def _invited(services: Services, places: list[str]) -> set[str]:
    """Which of our test providers an engagement covering these places invites."""
    now = services.clock.now()
    async with services.db.session() as session:
        authority = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert authority is not None
        for slug, served in PROVIDERS.items():
            if await session.scalar(select(Organisation.id).where(Organisation.slug == slug)):
                continue
            org = Organisation(name=slug, slug=slug, created_at=now, updated_at=now)
            set_areas_served(org, codes(*served))
            session.add(org)
        engagement = Engagement(
            authority_id=authority.id,
            title="Warm spaces",
            purpose="Warmth.",
            area_served=codes(*places),
            closes_at=now + timedelta(weeks=8),
            confidentiality="Private.",
        )
        session.add(engagement)
        await session.flush()
        ids = set((await session.scalars(matching_organisations(engagement))).all())
        slugs = (
            await session.scalars(select(Organisation.slug).where(Organisation.id.in_(ids)))
        ).all()
    return set(slugs) & set(PROVIDERS)


async def test_a_county_wide_provider_is_invited_to_work_in_one_of_its_councils(
    services: Services,
) -> None:
    assert await _invited(services, ["Preston"]) == {"county-wide", "preston-only"}


async def test_a_council_provider_is_invited_to_work_across_its_county(
    services: Services,
) -> None:
    assert await _invited(services, ["Lancashire"]) == {
        "county-wide",
        "preston-only",
        "burnley-only",
    }


async def test_places_that_share_no_ground_invite_nobody_from_elsewhere(
    services: Services,
) -> None:
    assert await _invited(services, ["Leeds"]) == {"leeds-only"}
    assert await _invited(services, ["England"]) == set(PROVIDERS)


async def test_the_directory_area_filter_counts_a_county_as_serving_its_councils(
    services: Services,
) -> None:
    async with services.db.session() as session:
        found = await search_directory(session, DirectoryFilter(area=code("Burnley")))
        names = [org.name for org in found]
    # Eastgate Community Kitchen serves Burnley; Asha Women's Centre serves all Lancashire.
    assert names == ["Asha Women's Centre", "Eastgate Community Kitchen"]


async def test_the_web_form_lists_chosen_places_and_offers_every_place_to_search(
    web_user: WebUser, services: Services
) -> None:
    await web_user.sign_in_locally("Grace Lee")
    status, html = await web_user.get("/do/profile")
    assert status == 200
    action = form_action(html)
    for page in ("0", "1"):
        status, html = await web_user.post(action, {"_page": page, "_intent": "next"})
    # Grace's kitchen serves Burnley: a ticked box she can untick, and a box to type more.
    burnley = code("Burnley")
    assert re.search(rf'<input type="checkbox"[^>]*value="{burnley}" checked>', html), html
    assert '<datalist id="areas_served-places">' in html
    assert '<option value="Leeds">' in html and '<option value="City of Bristol">' in html

    # A misspelt name is refused with the near match, and the ticked place stays ticked.
    status, html = await web_user.post(
        action,
        [
            ("_page", "2"),
            ("_intent", "submit"),
            ("areas_served", burnley),
            ("areas_served", "Prestn"),
        ],
    )
    assert status == 422
    assert "Did you mean Preston?" in text_of(html)
    assert re.search(rf'value="{burnley}" checked', html)
    assert 'value="Prestn"' in html

    # Unticking Burnley and typing a postcode replaces it.
    status, html = await web_user.post(
        action, [("_page", "2"), ("_intent", "submit"), ("areas_served", "LS6 1AA")]
    )
    assert status == 200, text_of(html)
    async with services.db.session() as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "eastgate-community-kitchen")
        )
        assert org is not None
        assert [a.value for a in org.areas_served] == [code("Leeds")]


async def test_the_directory_reads_a_typed_place_or_postcode(web_user: WebUser) -> None:
    """`directory area=burnley` in chat, or a postcode, filters like the web's list does."""
    await web_user.sign_in_locally("Priya Shah")
    sector = next(s for s, c in _data()["sectors"].items() if c == code("Burnley"))
    for typed in ("burnley", f"{sector}AA"):
        status, html = await web_user.get(f"/do/directory?area={typed.replace(' ', '+')}")
        assert status == 200
        page = text_of(html)
        assert "2 organisations found." in page, typed
        assert "Asha Women's Centre" in page and "Eastgate Community Kitchen" in page
        assert "Silver Threads Befriending" not in page
