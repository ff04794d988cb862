"""What the browser tests share: signing in (the one address they type), axe-core against
WCAG 2.2 A and AA, text at 200%, the screen sizes, and what every form page must have: a
label on every control (radios and checkboxes in a fieldset with a legend), no missing
`aria-describedby` targets, no id used twice, and nothing wider than the screen."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, Route, ViewportSize, expect

PHONE: ViewportSize = {"width": 375, "height": 812}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
NARROW: ViewportSize = {"width": 320, "height": 640}

#: WCAG 2.0, 2.1 and 2.2 at levels A and AA, as axe-core tags them.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Every visible control must have a <label> with text; radios and checkboxes must also
# sit in a fieldset whose legend asks the question. Returns the problems found and how
# many controls were looked at (so an empty page cannot pass by having nothing to check).
LABEL_AUDIT = """
() => {
  const problems = [];
  const controls = Array.from(document.querySelectorAll('input, textarea, select'))
    .filter((el) => el.type !== 'hidden');
  for (const el of controls) {
    const name = `${el.tagName.toLowerCase()} ${el.name || el.id || '(no name)'}`;
    const labels = Array.from(el.labels || []).filter((l) => l.textContent.trim());
    if (!labels.length) problems.push(`${name}: no <label>`);
    if (el.type === 'radio' || el.type === 'checkbox') {
      const legend = el.closest('fieldset')?.querySelector(':scope > legend');
      if (!legend || !legend.textContent.trim()) problems.push(`${name}: no fieldset legend`);
    }
    for (const id of (el.getAttribute('aria-describedby') || '').split(/\\s+/)) {
      if (id && !document.getElementById(id)) problems.push(`${name}: describedby ${id} missing`);
    }
  }
  const ids = Array.from(document.querySelectorAll('[id]')).map((el) => el.id);
  for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) {
    problems.push(`id ${id} is used twice`);
  }
  return { problems, checked: controls.length };
}
"""


async def check_form_page(page: Page) -> None:
    """Labels on every control, and nothing wider than a 375px phone."""
    audit: dict[str, Any] = await page.evaluate(LABEL_AUDIT)
    assert audit["checked"] > 0, "no form controls on the page"
    assert audit["problems"] == [], f"{page.url}: {audit['problems']}"
    await fits_the_screen(page)


async def fits_the_screen(page: Page) -> None:
    """Nothing on the page is wider than the screen (no sideways scrolling)."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    assert width <= viewport["width"], f"{page.url} scrolls sideways: {width}px wide"


async def sign_in(page: Page, base: str, name: str) -> None:
    """The sign-in page (the only address a browser test types), then the demo button."""
    await page.goto(f"{base}/signin")
    await page.get_by_role("button", name=f"Sign in as {name}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello {name.split()[0]}")


class Accessibility:
    """axe-core on each page the test reaches (bundled in the axe-playwright-python wheel,
    so nothing is fetched); what it found, kept to fail on at the end (so one run lists
    every page's problems, not only the first)."""

    def __init__(self) -> None:
        self.axe = Axe()
        self.pages: list[str] = []
        self.violations: list[str] = []

    async def check(self, page: Page) -> None:
        results = await self.axe.run(
            page,
            options={
                "runOnly": {"type": "tag", "values": WCAG_TAGS},
                "resultTypes": ["violations"],
            },
        )
        response: dict[str, Any] = results.response
        assert response["testEngine"]["name"] == "axe-core"
        self.pages.append(page.url)
        for violation in response["violations"]:
            where = [" ".join(node["target"]) for node in violation["nodes"]][:5]
            self.violations.append(
                f"{page.url}: {violation['id']} ({violation['impact']}): "
                f"{violation['help']} at {where}"
            )


async def with_large_text(route: Route) -> None:
    """The site's stylesheet with every text size doubled, as a browser's text zoom does
    (use with `page.route("**/static/convene.css", with_large_text)`)."""
    response = await route.fetch()
    css = await response.text()
    await route.fulfill(
        response=response, body=css + "\nhtml { font-size: 200%; } body { font-size: 38px; }\n"
    )
