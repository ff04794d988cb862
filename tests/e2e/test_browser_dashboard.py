"""The dashboards in a real browser: the commissioner's (with its charts) and the
provider's, each checked with axe-core against WCAG 2.2 A and AA at a normal width, on a
320px screen, with the text at 200% and with JavaScript switched off. Any violation
fails the test, saying which rule and where.

Every chart must be a figure with a title, a description, a picture whose alternative
text is that description, and the table of its numbers. The picture is an SVG drawn on
the server: its words must stay text (so they zoom and can be found), and its colours must
have enough contrast on white (4.5:1 for text, 3:1 for the bars)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from bench.dashboard import NOW, Size, seed
from bot.core.clock import FixedClock
from bot.services import Services
from storage.models import Person, Role
from storage.people import grant
from tests.e2e.test_browser_agreements import Accessibility
from tests.support.servers import RunningApp

pytestmark = pytest.mark.browser

SMALL = Size(organisations=60, engagements=6, opportunities=20, agreements=12, years=1, councils=2)
WIDE: ViewportSize = {"width": 1280, "height": 900}
NARROW: ViewportSize = {"width": 320, "height": 700}
#: How each page is looked at: (name, screen, text at 200%, JavaScript on).
WAYS = (
    ("normal width", WIDE, False, True),
    ("320px", NARROW, False, True),
    ("text at 200%", WIDE, True, True),
    ("no JavaScript", WIDE, False, False),
    ("320px, text at 200%, no JavaScript", NARROW, True, False),
)
#: Text at 200%: every size on the page is in rem or em (convene.css), so doubling the
#: root font size is what a browser's text-only zoom does. Set through the CSSOM, which
#: the page's Content Security Policy allows (an injected <style> it refuses).
TEXT_200 = "document.documentElement.style.setProperty('font-size', '200%', 'important')"

#: What each chart on the page says about itself, read in the browser.
CHARTS = """
() => Array.from(document.querySelectorAll('figure.chart')).map((f) => {
  const caption = f.querySelector('figcaption');
  const labelled = document.getElementById(f.getAttribute('aria-labelledby') || '');
  const img = f.querySelector('img');
  const table = f.querySelector('table');
  return {
    title: caption?.querySelector('h2')?.textContent.trim() || '',
    description: caption?.querySelector('p')?.textContent.trim() || '',
    labelled: labelled === caption,
    alt: img?.getAttribute('alt') || '',
    src: img?.getAttribute('src') || '',
    caption: table?.querySelector('caption')?.textContent.trim() || '',
    headers: Array.from(table?.querySelectorAll('thead th[scope=col]') || []).length,
    rows: Array.from(table?.querySelectorAll('tbody tr') || []).map((tr) => [
      tr.querySelector('th[scope=row]')?.textContent.trim() || '',
      tr.querySelector('td')?.textContent.trim() || '',
    ]),
    width: img ? img.getBoundingClientRect().width : 0,
  };
})
"""
COLOUR = re.compile(r"(fill|stroke)\s*:\s*(#[0-9a-fA-F]{6})")
TEXT = re.compile(r"<text\b[^>]*>(.*?)</text>", re.S)


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_on_white(colour: str) -> float:
    return 1.05 / (_luminance(colour) + 0.05)


def _text_styles(svg: str) -> Iterator[str]:
    """The style of each <text> element (matplotlib writes the colour there)."""
    for match in re.finditer(r"<text\b([^>]*)>", svg):
        style = re.search(r'style="([^"]*)"', match.group(1))
        yield style.group(1) if style else ""


def check_svg(svg: str, rows: list[list[str]], title: str) -> None:
    """Words as text, not outlines; colours with enough contrast on white."""
    texts = [unescape(re.sub(r"\s+", " ", t).strip()) for t in TEXT.findall(svg)]
    assert title in texts, (title, texts)
    for label, shown in rows:
        assert label in texts, (label, texts)
        assert shown in texts, (shown, texts)
    for style in _text_styles(svg):
        colours = [c for kind, c in COLOUR.findall(style) if kind == "fill"]
        # matplotlib leaves out a black fill; any colour written must read well.
        for colour in colours:
            assert contrast_on_white(colour) >= 4.5, (colour, style)
    fills = {c.lower() for kind, c in COLOUR.findall(svg) if kind == "fill"}
    assert fills - {"#ffffff"}, "the chart draws nothing in colour"
    for colour in fills - {"#ffffff"}:
        assert contrast_on_white(colour) >= 3, colour


async def _look(page: Page, axe: Accessibility, where: str, charts: bool) -> int:
    """Check the page as it is now: axe, nothing wider than the screen, and each chart
    whole. Returns how many charts there were."""
    await axe.check(page)
    width = await page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    assert width <= viewport["width"], f"{where}: {page.url} scrolls sideways: {width}px wide"
    found: list[dict[str, Any]] = await page.evaluate(CHARTS)
    if not charts:
        assert found == [], where
        return 0
    for chart in found:
        assert chart["title"], (where, chart)
        assert chart["description"], (where, chart)
        assert chart["labelled"], (where, chart["title"])
        assert chart["alt"] == chart["description"], (where, chart["title"])
        assert chart["caption"] and chart["headers"] == 2, (where, chart["title"])
        assert chart["rows"] and all(label and shown for label, shown in chart["rows"])
        assert 0 < chart["width"] <= viewport["width"], (where, chart["title"], chart["width"])
        prefix = "data:image/svg+xml;base64,"
        assert chart["src"].startswith(prefix), (where, chart["title"])
        svg = base64.b64decode(chart["src"][len(prefix) :]).decode()
        check_svg(svg, chart["rows"], chart["title"])
    return len(found)


async def _sign_in(page: Page, base: str, name: str) -> None:
    await page.goto(f"{base}/signin")
    await page.get_by_role("button", name=f"Sign in as {name}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello {name.split()[0]}")


async def test_both_dashboards_pass_axe_every_way_and_their_charts_read_without_pictures(
    browser: Browser, app_server: RunningApp, services: Services
) -> None:
    services.clock = FixedClock(NOW)
    async with services.db.session() as session:
        councils, _ = await seed(session, SMALL)
        dana = Person(name="Dana Reid", email="dana@bench.example", is_demo=True)
        sam = Person(name="Sam Patel", email="sam@bench.example", is_demo=True)
        session.add_all([dana, sam])
        await session.flush()
        await grant(session, dana, Role.COMMISSIONER, authority_id=councils[0])
        # The organisation party to the first agreement, so its dashboard has dates.
        await grant(session, sam, Role.PROVIDER_ADMIN, organisation_id=10_000 + 5)
    base, axe = app_server.url, Accessibility()
    looked: dict[str, int] = {}
    for where, viewport, text_200, javascript in WAYS:
        for name, heading, charts in (
            ("Dana Reid", "Dashboard: Bench Council 0", True),
            ("Sam Patel", "Dashboard: Organisation 10005", False),
        ):
            context = await browser.new_context(viewport=viewport, java_script_enabled=javascript)
            try:
                page = await context.new_page()
                await _sign_in(page, base, name)
                await page.goto(f"{base}/do/dashboard")
                await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
                if not javascript:
                    # axe and the page checks run in the page's script engine, which is off
                    # here; the same pages were checked with it on. Without scripts the page
                    # must still show its heading (above) and every chart with its table.
                    figures = page.locator("figure.chart")
                    looked[f"{name}, {where}"] = await figures.count()
                    tables = await page.locator("figure.chart table").count()
                    assert tables == looked[f"{name}, {where}"], (name, where)
                    continue
                if text_200:
                    await page.evaluate(TEXT_200)
                looked[f"{name}, {where}"] = await _look(page, axe, f"{name}, {where}", charts)
            finally:
                await context.close()
    assert len(axe.pages) == sum(2 for *_, javascript in WAYS if javascript)
    # The commissioner's page has its charts every way it is looked at.
    assert all(looked[f"Dana Reid, {where}"] >= 3 for where, *_ in WAYS), looked
    assert axe.violations == [], "\n".join(axe.violations)
