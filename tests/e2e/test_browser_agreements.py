"""Agreements in a real browser, on a phone-sized screen, with the demo's agreements (as
`make run` loads them): Tom (Riverside Youth Trust) answers this month's check-in with the
web form and sends a PDF report on the upload page; Priya (the council's team) sees it in
her messages and replies; Tom asks for a change with the variation form. Every form page is
checked for labels and sideways scrolling, and every page the test reaches is checked with
axe-core (bundled in the axe-playwright-python wheel, so nothing is fetched) against WCAG
2.2 A and AA: any violation fails the test, saying which rule and where."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from bot.demo_agreements import YOUTH_CLUBS, load_demo_agreements
from bot.services import Services
from storage.agreement_tables import Agreement
from storage.conversation_tables import CheckinMessage
from storage.evidence_tables import EvidenceRow
from storage.monitoring_tables import CheckinRow
from storage.variation_tables import AgreementVariation
from tests.e2e.pages import PHONE, Accessibility, check_form_page
from tests.support import evidence_files
from tests.support.servers import RunningApp

pytestmark = pytest.mark.browser


async def _sign_in(page: Page, base: str, name: str, axe: Accessibility) -> None:
    await page.goto(f"{base}/signin")
    await axe.check(page)
    await page.get_by_role("button", name=f"Sign in as {name}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello {name.split()[0]}")
    await axe.check(page)


async def _form_page(page: Page, heading: str, axe: Accessibility) -> None:
    await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    await check_form_page(page)
    await axe.check(page)


async def _open_agreement(page: Page, base: str, axe: Accessibility) -> None:
    """From the home page, as a newcomer would: Agreements, then Show on the youth clubs."""
    await page.goto(f"{base}/do/agreements")
    await axe.check(page)
    await page.get_by_role("link", name="Show").first.click()
    await expect(page.get_by_role("heading", level=1).first).to_have_text(YOUTH_CLUBS)
    await axe.check(page)


async def _confirm(page: Page, axe: Accessibility, heading: str) -> None:
    """Links that change something ask first on the web, in the step's own words (with a
    way back): press the yes button."""
    await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    await expect(page.get_by_role("link", name="No, go back")).to_be_visible()
    await axe.check(page)
    await page.get_by_role("button", name="Yes, carry on").click()


async def test_a_checkin_a_report_a_reply_and_a_variation_in_a_browser(
    browser: Browser, app_server: RunningApp, services: Services, artifacts: Path
) -> None:
    await load_demo_agreements(services)
    async with services.db.session() as session:
        agreement = await session.scalar(select(Agreement).where(Agreement.title == YOUTH_CLUBS))
        assert agreement is not None
        waiting = await session.scalar(
            select(CheckinRow).where(
                CheckinRow.agreement_id == agreement.id, CheckinRow.answered_at.is_(None)
            )
        )
        assert waiting is not None
    base, axe = app_server.url, Accessibility()

    tom_context = await browser.new_context(viewport=PHONE)
    try:
        page = await tom_context.new_page()
        await _sign_in(page, base, "Tom Okafor", axe)
        await _open_agreement(page, base, axe)
        await page.get_by_role("link", name="Answer the check-in of").click()
        await _confirm(page, axe, "Answer this check-in?")
        await _form_page(page, "The questions", axe)
        await page.get_by_label("Is it effective?").fill("Yes: 35 young people a night.")
        await page.get_by_label("Green").check()
        await page.get_by_role("button", name="Save and continue").click()
        await check_form_page(page)
        await axe.check(page)
        await page.get_by_label("Sessions attended each week").fill("120")
        await page.get_by_role("button", name="Save and continue").click()
        await check_form_page(page)
        await axe.check(page)
        await page.get_by_role("button", name="Send").click()
        main = page.get_by_role("main")
        await expect(main).to_contain_text("your check-in for Youth clubs in Preston is sent")
        await axe.check(page)

        # The next step from the confirmation: the upload page, with a PDF report.
        await page.get_by_role("link", name="Send a report or photos").click()
        await _form_page(page, "Send files for your check-in", axe)
        await page.get_by_label("Choose your files").set_input_files(
            files=[
                {
                    "name": "November report.pdf",
                    "mimeType": "application/pdf",
                    "buffer": evidence_files.PDF,
                }
            ]
        )
        await page.get_by_label("The council's commissioning team may see these files").check()
        await page.get_by_role("button", name="Send the files").click()
        await expect(page.get_by_role("main")).to_contain_text("November report.pdf")
        await axe.check(page)
        await page.screenshot(path=str(artifacts / "checkin-report-sent-375px.png"))
    finally:
        await tom_context.close()

    priya_context = await browser.new_context(viewport=PHONE)
    try:
        page = await priya_context.new_page()
        await _sign_in(page, base, "Priya Shah", axe)
        await _open_agreement(page, base, axe)
        # Opening a check-in only records that it was seen: no question first.
        await page.get_by_role("link", name="Open the check-in of").last.click()
        main = page.get_by_role("main")
        await expect(main).to_contain_text("Yes: 35 young people a night.")
        await axe.check(page)
        await page.get_by_role("link", name="Reply").click()
        await _confirm(page, axe, "Reply about this check-in?")
        await check_form_page(page)
        await axe.check(page)
        await page.get_by_role("textbox").first.fill("Thank you, Tom: 35 a night is great.")
        await page.get_by_role("button", name="Send").click()
        await expect(page.get_by_role("main")).to_contain_text("Sent")
        await axe.check(page)
        await page.goto(f"{base}/do/agreements?words=evidence+{waiting.id}")
        await expect(page.get_by_role("main")).to_contain_text("November report.pdf")
        await axe.check(page)
    finally:
        await priya_context.close()

    tom_context = await browser.new_context(viewport=PHONE)
    try:
        page = await tom_context.new_page()
        await _sign_in(page, base, "Tom Okafor", axe)
        await _open_agreement(page, base, axe)
        await page.get_by_role("link", name="Ask for a change").click()
        await _form_page(page, "What changes and why", axe)
        await page.get_by_label("What would change?").fill("Open the clubs in the summer holidays")
        await page.get_by_label("Why is the change needed?").fill("Families asked for it")
        await page.get_by_role("button", name="Save and continue").click()
        await check_form_page(page)
        await axe.check(page)
        await page.get_by_label("How much would the value change?").fill("£6,000")
        await page.get_by_role("button", name="Send").click()
        await expect(page.get_by_role("main")).to_contain_text("Asked: variation")
        await axe.check(page)
        await page.get_by_role("link", name="See the variations").click()
        await expect(page.get_by_role("main")).to_contain_text("Open the clubs in the summer")
        await axe.check(page)
        await page.screenshot(path=str(artifacts / "variation-asked-375px.png"), full_page=True)
    finally:
        await tom_context.close()

    async with services.db.session() as session:
        answered = await session.get(CheckinRow, waiting.id)
        assert answered is not None and answered.rag == "green"
        (report,) = (
            await session.scalars(select(EvidenceRow).where(EvidenceRow.checkin_id == waiting.id))
        ).all()
        replies = (
            await session.scalars(
                select(CheckinMessage).where(CheckinMessage.checkin_id == waiting.id)
            )
        ).all()
        asked = (
            await session.scalars(
                select(AgreementVariation).where(AgreementVariation.agreement_id == agreement.id)
            )
        ).all()
    assert report.filename.endswith(".pdf") and report.kind == "report"
    assert [m.side for m in replies] == ["team"]
    assert any("summer holidays" in v.what_changes for v in asked)
    assert len(axe.pages) >= 20, axe.pages
    assert axe.violations == [], "\n".join(axe.violations)


async def test_the_accessibility_check_fails_on_a_page_with_a_violation(browser: Browser) -> None:
    """So a clean run above means axe-core really ran: a field with no label is caught."""
    page = await browser.new_page()
    try:
        await page.set_content(
            '<!DOCTYPE html><html lang="en"><head><title>t</title></head>'
            '<body><main><input type="text" name="what"></main></body></html>'
        )
        axe = Accessibility()
        await axe.check(page)
    finally:
        await page.close()
    assert any(": label (" in v for v in axe.violations), axe.violations
