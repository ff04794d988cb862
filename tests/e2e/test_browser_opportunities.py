"""Opportunities in a real browser, on a phone-sized screen: a commissioner posts one
through every page of the form and answers the route questions, and a provider chooses a
weekly digest. Every form page is checked for labels and for no sideways scrolling, and
everything is driven by visible labels and button names, as a person would."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from bot.services import Services
from storage.models import Person
from storage.notification_tables import NotificationPreference
from storage.opportunity_tables import Opportunity, OpportunityState
from tests.e2e.pages import PHONE, check_form_page
from tests.support.servers import RunningApp

pytestmark = pytest.mark.browser


async def _sign_in(page: Page, base: str, name: str) -> None:
    await page.goto(f"{base}/signin")
    await page.get_by_role("button", name=f"Sign in as {name}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello {name.split()[0]}")


async def _next(page: Page, heading: str) -> None:
    await page.get_by_role("button", name="Save and continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    await check_form_page(page)


async def test_a_commissioner_posts_and_publishes_an_opportunity_in_a_browser(
    browser: Browser, app_server: RunningApp, services: Services, artifacts: Path
) -> None:
    context = await browser.new_context(viewport=PHONE)
    try:
        page = await context.new_page()
        await _sign_in(page, app_server.url, "Priya Shah")
        await page.goto(f"{app_server.url}/do/opportunities?words=new")
        await expect(page.get_by_role("heading", level=1)).to_have_text("What it is for")
        await check_form_page(page)
        await page.get_by_label("What is the opportunity called?").fill("Youth clubs in Preston")
        await page.get_by_label("What is it for?").fill("Safe places for young people.")
        await _next(page, "What the work is")
        kinds = page.get_by_role("group", name="Which kinds of work is it?")
        await kinds.get_by_label("Children and young people").check()
        places = page.get_by_role("group", name="Which areas will the work cover?")
        await places.get_by_label("Type council names or postcodes").fill("Preston")
        await _next(page, "Money and terms")
        await page.get_by_label("The least it might be worth, in total").fill("£40,000")
        await page.get_by_label("The most it might be worth, in total").fill("£60,000")
        await _next(page, "How to apply")
        await page.get_by_label("What is the deadline for bids?").fill("2099-03-06")
        await page.screenshot(path=str(artifacts / "opportunity-how-to-apply-375px.png"))
        await page.get_by_role("button", name="Send").click()
        await expect(page.get_by_role("main")).to_contain_text("Preview")

        async with services.db.session() as session:
            opportunity = await session.scalar(select(Opportunity))
        assert opportunity is not None and opportunity.state == OpportunityState.DRAFT
        # The route questions, on their own form page.
        await page.goto(f"{app_server.url}/do/opportunities?words=route+{opportunity.id}")
        await check_form_page(page)
        await page.get_by_label("We are giving a grant").check()
        health = page.get_by_role(
            "group", name="Is it a health care service, such as treatment or public health care?"
        )
        await health.get_by_label("No", exact=True).check()
        await page.get_by_label("Care, health, social, education or community services").check()
        await page.get_by_label("A competition open to anyone, in one stage").check()
        await page.get_by_label("No, anyone can apply").check()
        await page.get_by_role("button", name="Send").click()
        await expect(page.get_by_role("main")).to_contain_text("Grant")

        await page.goto(f"{app_server.url}/do/opportunities?words=preview+{opportunity.id}")
        main = page.get_by_role("main")
        await expect(main).to_contain_text("This is exactly what every provider it fits will see")
        await expect(main).not_to_contain_text("Before you can publish")
        await page.get_by_role("link", name="Publish").first.click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Publish this opportunity?")
        await expect(page.get_by_role("main")).to_contain_text(f"Publish '{opportunity.title}' to")
        await page.get_by_role("button", name="Yes, publish it").click()
        await expect(page.get_by_role("main")).to_contain_text("Published")
        await page.screenshot(
            path=str(artifacts / "opportunity-published-375px.png"), full_page=True
        )
    finally:
        await context.close()
    async with services.db.session() as session:
        published = await session.get(Opportunity, opportunity.id)
    assert published is not None and published.state == OpportunityState.OPEN


async def test_a_provider_chooses_a_weekly_digest_in_a_browser(
    browser: Browser, app_server: RunningApp, services: Services
) -> None:
    context = await browser.new_context(viewport=PHONE)
    try:
        page = await context.new_page()
        await _sign_in(page, app_server.url, "Grace Lee")
        await page.get_by_role("link", name="How we tell you").click()
        await check_form_page(page)
        await page.get_by_label("Once a week, all new ones in one message").check()
        await (
            page.get_by_role("group", name="If once a week, on which day?")
            .get_by_label("Wednesday")
            .check()
        )
        await page.get_by_label("Only from 8am to 8pm (the usual)").check()
        await page.get_by_role("button", name="Send").click()
        await expect(page.get_by_role("main")).to_contain_text("Wednesday")
    finally:
        await context.close()
    async with services.db.session() as session:
        grace = await session.scalar(select(Person).where(Person.name == "Grace Lee"))
        assert grace is not None
        chosen = await session.get(NotificationPreference, grace.id)
    assert chosen is not None and (chosen.opportunities, chosen.digest_weekday) == ("weekly", 2)
