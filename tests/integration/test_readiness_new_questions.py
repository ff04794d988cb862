"""Pensions, cash flow and bid capacity in the readiness questions, over real HTTP.

They are optional like every readiness question, say why they are asked (the arrears help
names the 30-day payment term the Act implies), and reach the commissioners' summary as
counts and ranges only, never one organisation's answer.
"""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from bot.core.forms import FormDefinition, load_definition_file
from bot.core.forms.validation import validate_all
from bot.services import Services
from storage.forms import SHIPPED
from storage.models import FormResponse
from tests.support.web import WebUser, form_action, text_of

NEW = ("cash_flow_months", "lgps_admission", "cessation_debt", "bid_hours", "bids_per_year")
HEADING = re.compile(r'<div class="section">\s*<h2>(.*?)</h2>')


def readiness() -> FormDefinition:
    return load_definition_file(SHIPPED / "readiness.yaml")


def test_the_new_questions_are_optional_and_explain_themselves() -> None:
    definition = readiness()
    assert validate_all(definition, {}) == {}, "every readiness question can be left blank"
    for field_id in NEW:
        assert not definition.field(field_id).required, field_id
    arrears = definition.field("arrears_days").help or ""
    assert "30 days" in arrears and "section" in arrears and "68" in arrears
    bid = definition.field("bid_hours").help or ""
    assert "115 hours" in bid and "£4,865" in bid
    assert "cessation debt" in (definition.field("cessation_debt").help or "")
    assert "admitted body" in (definition.field("lgps_admission").help or "")


async def test_a_provider_answers_them_and_the_summary_counts_them(
    web_user: WebUser, services: Services
) -> None:
    definition = readiness()
    await web_user.sign_in_locally("Tom Okafor")
    _, html = await web_user.get("/do/readiness")
    action = form_action(html)
    pages = {
        0: {"cash_flow_months": "3_5"},
        1: {"lgps_admission": "could_become", "cessation_debt": "not_aware"},
    }
    # A number that is not one is explained; nothing from the page is kept.
    status, html = await web_user.post(
        action, [("_page", "4"), ("_intent", "next"), ("bid_hours", "a lot")]
    )
    assert status == 422 and "like 40" in text_of(html)
    pages[4] = {"bid_hours": "115", "bids_per_year": "3"}
    for index in range(len(definition.pages)):
        last = index == len(definition.pages) - 1
        form = [("_page", str(index)), ("_intent", "submit" if last else "next")]
        form.extend(pages.get(index, {}).items())
        status, html = await web_user.post(action, form)
        assert status == 200, text_of(html)
    assert "Thank you" in text_of(html)
    async with services.db.session() as session:
        sent = await session.scalar(
            select(FormResponse).where(FormResponse.form_key == "readiness")
        )
        assert sent is not None
        answers = sent.answers
    assert {k: answers.get(k) for k in NEW} == {
        "cash_flow_months": "3_5",
        "lgps_admission": "could_become",
        "cessation_debt": "not_aware",
        "bid_hours": 115,
        "bids_per_year": 3,
    }

    commissioner = WebUser(web_user.base)
    try:
        await commissioner.sign_in_locally("Priya Shah")
        _, html = await commissioner.get("/do/readiness?view=summary")
        headings = [unescape(h) for h in HEADING.findall(html)]
        for field_id in NEW:
            assert definition.field(field_id).label in headings, field_id
        # One organisation is a small group: the version to share shows no summary at all.
        _, html = await commissioner.get("/do/readiness?view=shared")
        assert "Fewer than 5 organisations match" in text_of(html)
        assert definition.field("bid_hours").label not in unescape(html)
    finally:
        await commissioner.close()
