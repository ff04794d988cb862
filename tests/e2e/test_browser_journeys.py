"""Every journey, by role, in a real browser (issue 17's acceptance test). Each person signs
in (the only address typed) and then only clicks links and buttons and fills in forms:

- a provider (Tom Okafor): says he is interested in an opportunity, sees it said, withdraws
  (the confirm page says what will happen, and "No, go back" goes back); answers an
  engagement's questions page by page, sees when he sent them, and changes them; opens his
  organisation's profile form; reads his messages;
- a commissioner (Priya Shah): follows a dashboard number to its list; sets up an engagement,
  reviews it and publishes it (the confirm page names what and to how many); sees who is
  interested in an opportunity and opens their profile; opens an agreement, its check-ins
  and its feedback; the exports page;
- an admin (Alex Morgan): home, deliveries, and finding an organisation.

axe-core checks every page reached against WCAG 2.2 A and AA (no violations allowed); the
admin's journey and part of the provider's run again at 320px and with text at 200%; and the
provider's journey runs once more with JavaScript off, so its forms must work without it.
The scene is set through the app's own handlers on a fixed weekday morning (in the evening,
quiet hours would hold messages back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from bot.demo_agreements import load_demo_agreements
from bot.services import Services
from tests.e2e.pages import (
    DESKTOP,
    NARROW,
    Accessibility,
    fits_the_screen,
    sign_in,
    with_large_text,
)
from tests.features import opportunity_story
from tests.features.engagement_story import make_engagement
from tests.support.inprocess import TestDoor
from tests.support.servers import RunningApp

pytestmark = pytest.mark.browser


@dataclass
class Journey:
    """One person's browser tab: each click lands on a page that is checked (a title of its
    own, nothing wider than the screen, and axe when JavaScript is on)."""

    page: Page
    axe: Accessibility | None
    seen: list[str] = field(default_factory=list)

    @property
    def main(self):  # type: ignore[no-untyped-def]
        return self.page.get_by_role("main")

    async def landed(self, heading: str | re.Pattern[str] | None = None) -> None:
        if heading is not None:
            await expect(self.page.get_by_role("heading", level=1).first).to_have_text(heading)
        title = await self.page.title()
        assert title.endswith(" – Convene") and title != "Convene", f"{self.page.url}: {title}"
        await fits_the_screen(self.page)
        if self.axe is not None:
            await self.axe.check(self.page)
        self.seen.append(f"{title} {self.page.url}")

    async def nav(self, label: str, heading: str | re.Pattern[str] | None = None) -> None:
        menu = self.page.get_by_role("navigation", name="Main")
        await menu.get_by_role("link", name=re.compile(f"^{re.escape(label)}")).click()
        await self.landed(heading)

    async def link(
        self, name: str | re.Pattern[str], heading: str | re.Pattern[str] | None = None
    ) -> None:
        await self.main.get_by_role("link", name=name).first.click()
        await self.landed(heading)

    async def button(
        self, name: str | re.Pattern[str], heading: str | re.Pattern[str] | None = None
    ) -> None:
        await self.main.get_by_role("button", name=name).first.click()
        await self.landed(heading)


async def _open(
    browser: Browser,
    base: str,
    name: str,
    axe: Accessibility | None,
    *,
    viewport: ViewportSize = DESKTOP,
    large_text: bool = False,
) -> tuple[BrowserContext, Journey]:
    context = await browser.new_context(viewport=viewport, java_script_enabled=axe is not None)
    page = await context.new_page()
    if large_text:
        await page.route("**/static/convene.css", with_large_text)
    await sign_in(page, base, name)
    journey = Journey(page, axe)
    await journey.landed()
    return context, journey


async def _set_the_scene(services: Services) -> None:
    """An open opportunity that fits Riverside Youth Trust (Asha Women's Centre says it is
    interested), an open engagement, and the demo agreements, all through the handlers."""
    door = TestDoor(services)
    door.freeze(opportunity_story.NOW)  # Monday 12 January 2026, 9am in London
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await opportunity_story.post(priya)
    await priya.say(f"opportunities publish {opportunity_id}")
    assert "Published" in priya.text(), priya.text()
    amina = await door.sign_in("Amina Begum")
    await amina.say(f"opportunities interest {opportunity_id}")
    assert "interested" in amina.text(), amina.text()
    await make_engagement(services)
    await load_demo_agreements(services)


# --- the journeys ----------------------------------------------------------------------------


async def _provider_opportunity(tom: Journey) -> None:
    await tom.nav("Opportunities", "Opportunities that fit your work")
    await tom.link("See it", opportunity_story.TITLE)
    await tom.link("We're interested", "Say you are interested?")
    await expect(tom.main).to_contain_text("The council's team will see your organisation's name")
    await tom.button("Yes, I am interested")
    await expect(tom.main).to_contain_text("Riverside Youth Trust is down as interested")
    await tom.link("We're no longer interested", re.compile("interest", re.I))
    await expect(tom.main).to_contain_text("Please confirm")
    # Back to where he came from: the thank-you page was the answer to a form, so its
    # address is the list's.
    await tom.link("No, go back", "Opportunities that fit your work")
    await tom.link("See it", opportunity_story.TITLE)
    await tom.link("We're no longer interested", re.compile("interest", re.I))
    await tom.button(re.compile("^Yes"))
    await expect(tom.main).to_contain_text("no longer")


async def _provider(tom: Journey) -> None:
    await tom.nav("Home", "Hello Tom")
    await _provider_opportunity(tom)

    await tom.nav("Engagements", "Open engagements")
    await tom.link("See details", "Warm spaces this winter")
    await tom.link(re.compile("^(Answer the questions|Change your answers)$"))
    await expect(tom.main).to_contain_text("Page 1 of 2")
    await tom.page.get_by_label("What would make this work possible").fill("Three years")
    await tom.button("Save and continue")
    await expect(tom.main).to_contain_text("Page 2 of 2")
    await tom.button(re.compile("^Send"))
    await expect(tom.main).to_contain_text("Thank you. We saved your questions")
    await expect(tom.main).not_to_contain_text("type ")
    await tom.nav("Engagements", "Open engagements")
    await tom.link("See details", "Warm spaces this winter")
    await expect(tom.main).to_contain_text("You sent your answers on Monday 12 January 2026")
    await tom.link("Change your answers")
    await expect(tom.main).to_contain_text("Page 1 of 2")
    await expect(tom.page.get_by_label("What would make this work possible")).to_have_value(
        "Three years"
    )

    await tom.nav("Our organisation", "Riverside Youth Trust")
    await tom.link("Change the profile", "About your organisation")
    await expect(tom.main).to_contain_text("Page 1 of 3")
    await tom.nav("Messages", "Messages")


async def _commissioner(priya: Journey) -> None:
    await priya.nav("Dashboard", re.compile("^Dashboard"))
    await priya.link("Open: 1", "Your council's engagements")

    await priya.nav("Engagements", "Your council's engagements")
    await priya.link("Set up an engagement", "What it is about")
    await expect(priya.main).to_contain_text("Page 1 of 3")
    form = priya.page
    await form.get_by_label("What is this engagement called?").fill("Lunch clubs in Burnley")
    await form.get_by_label("What is it for?").fill("Hot meals and company for older people.")
    await form.get_by_label("Older people").check()
    areas = form.get_by_role("group", name="Which areas will it cover?")
    await areas.get_by_label("Type council names or postcodes").fill("Burnley")
    await priya.button("Save and continue", "Money and timing")
    await form.get_by_label("When does the engagement close?").fill("2026-03-13")
    await form.get_by_label("What do you promise providers about confidentiality?").fill(
        "We keep what you say private."
    )
    await priya.button("Save and continue", "Questions to ask")
    await priya.button(re.compile("^Send"), "Draft: Lunch clubs in Burnley")
    # The review shows the questions providers will be asked.
    await expect(priya.main).to_contain_text("What would make this work possible")
    await priya.link("Publish", "Publish this engagement?")
    await expect(priya.main).to_contain_text(
        re.compile(r"Publish 'Lunch clubs in Burnley' to \d+ organisations? now\?")
    )
    await priya.button("Yes, publish it")
    await expect(priya.main).to_contain_text("Published")

    await priya.nav("Opportunities", "Your council's opportunities")
    await priya.link("Open", opportunity_story.TITLE)
    await priya.link("Who is interested")
    await priya.link("Asha Women's Centre", "Asha Women's Centre")

    await priya.nav("Agreements", re.compile("^Agreements"))
    await priya.link("Show", "Youth clubs in Preston")
    await expect(priya.main).to_contain_text("Set up a feedback point")
    await priya.link(re.compile("^Open the check-in of"))
    await expect(priya.main).to_contain_text("Youth clubs in Preston")

    await priya.nav("Exports", "What would you like to download?")


async def _admin(alex: Journey) -> None:
    await alex.nav("Home", "Hello Alex")
    await alex.link("Deliveries", "Deliveries")
    await alex.nav("Find an organisation", "Find an organisation")
    await alex.page.get_by_label("Organisation's name").fill("Riverside")
    await alex.button("Find")
    await expect(alex.main).to_contain_text("Riverside Youth Trust")


async def test_every_journey_by_role_in_a_browser(
    browser: Browser, app_server: RunningApp, services: Services
) -> None:
    await _set_the_scene(services)
    base, axe = app_server.url, Accessibility()

    # With JavaScript off first (axe needs it): every form must work without scripts.
    context, tom = await _open(browser, base, "Tom Okafor", None)
    try:
        await _provider(tom)
    finally:
        await context.close()

    for name, journey in (
        ("Tom Okafor", _provider),
        ("Priya Shah", _commissioner),
        ("Alex Morgan", _admin),
    ):
        context, person = await _open(browser, base, name, axe)
        try:
            await journey(person)
        finally:
            await context.close()

    # Some of it again on a 320px phone, and with text at 200%.
    for name, journey, viewport, large_text in (
        ("Tom Okafor", _provider_opportunity, NARROW, False),
        ("Alex Morgan", _admin, NARROW, False),
        ("Tom Okafor", _provider_opportunity, DESKTOP, True),
    ):
        context, person = await _open(
            browser, base, name, axe, viewport=viewport, large_text=large_text
        )
        try:
            await journey(person)
        finally:
            await context.close()

    assert len(axe.pages) >= 40, axe.pages
    assert axe.violations == [], "\n".join(axe.violations)
