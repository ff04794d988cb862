"""The acceptance test, in a real browser: a provider keeps its profile up to date.

Headless Chromium signs in as a demo provider, fills in the profile, types a value
the form cannot understand, sees the error the way a screen-reader user would get
it (summary, link to the field, field described by the message), fixes it, sends
the form and sees it saved; then the row is checked in the database. It is driven
like a person: by visible labels and button names, never by CSS selectors, so a
control without a proper label makes the test fail.

Along the way every form page is checked for labels, for a 375px-wide phone
screen (no sideways scrolling) and, in a second context, for working without
JavaScript at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from bot.services import Services
from storage.models import FormResponse, Organisation, Person, ResponseState
from tests.e2e.pages import PHONE, check_form_page
from tests.support.areas import codes
from tests.support.servers import RunningApp

pytestmark = pytest.mark.browser


async def sign_in_and_open_profile(context: BrowserContext, base: str, name: str) -> Page:
    """Sign in from the demo list and reach the profile from the home page, as a person would."""
    page = await context.new_page()
    await page.goto(f"{base}/signin")
    await page.get_by_role("button", name=f"Sign in as {name}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello {name.split()[0]}")
    await page.get_by_role("link", name="See or change your profile").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("About your organisation")
    return page


async def test_provider_fixes_a_mistake_and_sends_profile_in_a_browser(
    browser: Browser, app_server: RunningApp, services: Services, artifacts: Path
) -> None:
    context = await browser.new_context(viewport=PHONE)
    try:
        page = await sign_in_and_open_profile(context, app_server.url, "Grace Lee")

        # Page 1: about the organisation (pre-filled from the demo profile).
        await check_form_page(page)
        await page.get_by_label("Organisation name").fill("Eastgate Community Kitchen CIC")
        await page.get_by_label("Community interest company (CIC)").check()
        await page.get_by_label("Company number").fill("12000002")
        await page.get_by_role("button", name="Save and continue").click()

        # Page 2: size, with a value the form cannot understand.
        await expect(page.get_by_role("heading", level=1)).to_have_text("Size")
        await check_form_page(page)
        await page.get_by_label("£10,000 to £100,000").check()
        await page.get_by_label("Paid staff").fill("lots")
        await page.get_by_label("Volunteers").fill("30")
        await page.get_by_role("button", name="Save and continue").click()

        summary = page.get_by_role("alert")
        await expect(summary).to_have_count(1)
        await expect(summary).to_contain_text("There is a problem")
        link = summary.get_by_role("link")
        await expect(link).to_have_count(1)
        await expect(link).to_have_attribute("href", "#staff_count")
        message = (await link.inner_text()).strip()
        assert "Paid staff" in message or "paid staff" in message, message

        field = page.get_by_label("Paid staff")
        await expect(field).to_have_attribute("id", "staff_count")
        await expect(field).to_have_value("lots")  # what was typed is kept, to fix it
        described_by = (await field.get_attribute("aria-describedby") or "").split()
        assert "staff_count-error" in described_by, described_by
        await expect(page.locator("#staff_count-error")).to_contain_text(message)
        await expect(field).to_have_accessible_description(re.compile(re.escape(message)))
        # The title is read out first when the page comes back, so it says there is an error.
        await expect(page).to_have_title(re.compile(r"^Error: Size"))
        await check_form_page(page)  # the error styling must not push the page sideways
        await page.screenshot(path=str(artifacts / "profile-error-375px.png"), full_page=True)

        # Following the link in the summary puts the cursor in the field to fix.
        await link.click()
        await expect(field).to_be_focused()
        await field.fill("3")
        await page.get_by_role("button", name="Save and continue").click()

        # Page 3: the work, ticking boxes by their label text.
        await expect(page.get_by_role("heading", level=1)).to_have_text("Your work")
        await expect(page.get_by_role("alert")).to_have_count(0)
        await expect(page).not_to_have_title(re.compile("Error"))
        await check_form_page(page)
        works_on = page.get_by_role("group", name="What do you work on?")
        await works_on.get_by_label("Food").check()
        await works_on.get_by_label("Older people").check()
        await works_on.get_by_label("Community development").uncheck()
        # Places: Burnley is ticked already; more are typed by name or postcode.
        places = page.get_by_role("group", name="Which areas do you serve?")
        await expect(places.get_by_label("Burnley")).to_be_checked()
        await places.get_by_label("Type council names or postcodes").fill("preston")
        led = page.get_by_role("group", name="Are you led by and for the people you serve?")
        await led.get_by_label("Yes", exact=True).check()
        await page.get_by_role("button", name="Send").click()

        await expect(page.get_by_role("heading", level=1)).to_contain_text("Thank you")
        await expect(page.get_by_role("main")).to_contain_text("Eastgate Community Kitchen CIC")
        await page.screenshot(path=str(artifacts / "profile-sent-375px.png"), full_page=True)
    finally:
        await context.close()

    async with services.db.session() as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "eastgate-community-kitchen")
        )
        assert org is not None
        assert org.name == "Eastgate Community Kitchen CIC"
        assert org.legal_form == "cic"
        assert org.income_band == "10k_100k"
        assert (org.staff_count, org.volunteer_count) == (3, 30)
        assert org.led_by_and_for == "yes"
        assert sorted(a.value for a in org.service_areas) == ["food", "older_people"]
        assert sorted(a.value for a in org.areas_served) == sorted(codes("Burnley", "Preston"))
        grace = await session.scalar(select(Person).where(Person.name == "Grace Lee"))
        response = await session.scalar(
            select(FormResponse).where(FormResponse.organisation_id == org.id)
        )
        assert grace is not None and response is not None
        assert response.state == ResponseState.SUBMITTED
        assert response.respondent_id == grace.id


async def test_profile_page_works_without_javascript(
    browser: Browser, app_server: RunningApp, services: Services
) -> None:
    """Plain HTML forms: someone with JavaScript off (or a script that failed) can still save."""
    context = await browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = await sign_in_and_open_profile(context, app_server.url, "Amina Begum")
        await check_form_page(page)
        await page.get_by_label("Organisation name").fill("Asha Women's Centre CIO")
        await page.get_by_label("Charity number (England and Wales)").fill("1100003")
        await page.get_by_role("button", name="Save and continue").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Size")
        await check_form_page(page)
    finally:
        await context.close()

    async with services.db.session() as session:
        draft = await session.scalar(
            select(FormResponse)
            .join(Organisation, Organisation.id == FormResponse.organisation_id)
            .where(Organisation.slug == "asha-womens-centre")
        )
        assert draft is not None and draft.state == ResponseState.DRAFT
        assert draft.current_page == 1
        assert draft.answers["name"] == "Asha Women's Centre CIO"
