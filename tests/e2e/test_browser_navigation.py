"""Getting around the web door in a real browser, with JavaScript off: each demo person signs
in and goes to every page in their main navigation by clicking its links (never by typing
an address), on a desktop screen, on a 320px-wide phone and with text at 200%. Each page
is marked as the current one in the navigation, has a title of its own, fits the screen,
and passes axe-core's WCAG 2.2 A and AA checks."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.pages import DESKTOP, NARROW, Accessibility, fits_the_screen, with_large_text
from tests.support.servers import RunningApp

pytestmark = pytest.mark.browser

PEOPLE = {
    "Tom Okafor": ["Home", "Opportunities", "Engagements", "Agreements", "Our organisation"],
    "Priya Shah": ["Dashboard", "Providers", "Readiness", "Feedback", "Exports"],
    "Alex Morgan": ["Home", "Deliveries", "Find an organisation"],
}


async def _walk(page: Page, base: str, name: str, axe: Accessibility | None) -> list[str]:
    """Sign in, then click each of the person's navigation links; the titles seen."""
    await page.goto(f"{base}/signin")
    await page.get_by_role("button", name=f"Sign in as {name}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello {name.split()[0]}")
    nav = page.get_by_role("navigation", name="Main")
    titles = [await page.title()]
    for label in [*PEOPLE[name], "Messages"]:
        await nav.get_by_role("link", name=re.compile(f"^{re.escape(label)}")).click()
        await expect(nav.locator('[aria-current="page"]')).to_have_text(
            re.compile(f"^{re.escape(label)}")
        )
        title = await page.title()
        assert title.endswith(" – Convene") and title != "Convene", f"{page.url}: {title}"
        titles.append(title)
        await fits_the_screen(page)
        if axe is not None:
            await axe.check(page)
    return titles


@pytest.mark.parametrize("name", list(PEOPLE))
async def test_each_person_clicks_through_their_navigation(
    browser: Browser, app_server: RunningApp, name: str
) -> None:
    axe = Accessibility()
    # With JavaScript off (axe needs it, so it looks at the same pages in the other runs:
    # the site sends no scripts, so they are the same pages), then with axe at each size.
    runs = (
        (NARROW, False, False),
        (DESKTOP, True, False),
        (NARROW, True, False),
        (DESKTOP, True, True),
    )
    for viewport, with_axe, text_zoom in runs:
        context = await browser.new_context(viewport=viewport, java_script_enabled=with_axe)
        try:
            page = await context.new_page()
            if text_zoom:
                await page.route("**/static/convene.css", with_large_text)
            titles = await _walk(page, app_server.url, name, axe if with_axe else None)
            # Home is reached twice (after signing in, then from the nav); all else differ.
            assert len(set(titles[1:])) == len(titles) - 1, titles
        finally:
            await context.close()
    assert axe.pages, "axe looked at no pages"
    assert axe.violations == [], "\n".join(axe.violations)
