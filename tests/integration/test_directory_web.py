"""The provider directory's web page over real HTTP: what a commissioner sees first, and the
page's own filter form (its fields, all set to "Any", the areas offered).

The directory's logic (each filter, what it may show, who is refused and recorded) is
tested in-process in tests/features/test_directory.py.
"""

from __future__ import annotations

import re
from html import unescape

from tests.features.test_directory import ALL
from tests.support.areas import codes
from tests.support.web import WebUser, text_of

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
