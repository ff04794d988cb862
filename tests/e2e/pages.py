"""What every browser test checks on a form page: a label on every control (radios and
checkboxes in a fieldset with a legend), no missing `aria-describedby` targets, no id used
twice, and nothing wider than a 375px phone screen."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, ViewportSize

PHONE: ViewportSize = {"width": 375, "height": 812}

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
    width = await page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    assert width <= viewport["width"], f"{page.url} scrolls sideways: {width}px wide"
