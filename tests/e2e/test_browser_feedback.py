"""Feedback from people who use a service, in a real browser (issue 16's acceptance test).

Tom (Riverside Youth Trust) sets up a feedback point for the youth clubs through the web
pages, naming Priya (the council's commissioner) as its safeguarding lead. Then people with
no account, each in a fresh browser (no cookies), open the point's address as a QR scan
would: one answers with a photo (a real PNG made here) and both consent ticks, one opens
the easy read version, one answers in Welsh, one writes about harm and sees who to call at
once, one writes a phone number, an email and a postcode. Priya finds the safeguarding
message in her messages; Tom and Priya see "[removed]" where the details were; Tom posts
"you said, we did" and it shows on the public page.

axe-core checks every page against WCAG 2.2 A and AA three ways: at a desktop width, at
320px, and with everything zoomed to 200% (CSS `zoom: 2` on the page, as the browser's own
zoom does; the test checks the heading really is twice as tall). Any violation fails. The
public part runs again with JavaScript switched off, to show the pages need none (axe-core
itself needs script, so it checks those same pages in the first run). The clock
is fixed on a weekday morning, so nothing depends on the time the test runs.
"""

from __future__ import annotations

import re
import struct
import zlib
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect
from sqlalchemy import select

from bot.app import SENDER
from bot.clock import LONDON, format_date
from bot.demo_agreements import YOUTH_CLUBS, load_demo_agreements
from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.agreement_tables import Agreement
from storage.feedback_tables import FeedbackEntry, FeedbackPoint
from storage.testimony_tables import FeedbackTestimony
from tests.e2e.pages import WCAG_TAGS, check_form_page
from tests.support.inprocess import TestDoor
from tests.support.polling import settle
from tests.support.servers import RunningApp

pytestmark = pytest.mark.browser


def weekday_morning() -> datetime:
    """10:30 on the next weekday, London time: nobody here is in their quiet hours. In the
    future, not the past, because the outbox stamps what it queues with the real time, and
    its sender (on the app's clock) must find the safeguarding message due."""
    day = datetime.now(LONDON).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 30), LONDON)


WIDE: ViewportSize = {"width": 1280, "height": 900}
NARROW: ViewportSize = {"width": 320, "height": 720}
LINE = "01772 906 906"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "safeguarding_phone": LINE,
        "feedback_welsh": True,
        # The council's team reads an agreement's answers once this many people answered.
        "suppression_minimum": 3,
        "feedback_per_client_per_hour": 100,
        "feedback_per_point_per_hour": 100,
    }


def tiny_png() -> bytes:
    """A real 8x8 PNG, made here: red, with a text chunk that must not be kept."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xd4\x35\x1c" * 8 for _ in range(8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"tEXt", b"Comment\x00taken at 12 Acacia Avenue")
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class Accessibility:
    """axe-core on each page, at three sizes: as it is, at 320px wide, and zoomed to 200%.
    Problems are kept to fail on at the end, so one run lists every page's problems."""

    def __init__(self) -> None:
        self.axe = Axe()
        self.pages: list[str] = []
        self.violations: list[str] = []

    async def _run(self, page: Page, how: str) -> None:
        results = await self.axe.run(
            page,
            options={
                "runOnly": {"type": "tag", "values": WCAG_TAGS},
                "resultTypes": ["violations"],
            },
        )
        response: dict[str, Any] = results.response
        assert response["testEngine"]["name"] == "axe-core"
        self.pages.append(f"{page.url} ({how})")
        for violation in response["violations"]:
            where = [" ".join(node["target"]) for node in violation["nodes"]][:5]
            self.violations.append(
                f"{page.url} ({how}): {violation['id']} ({violation['impact']}): "
                f"{violation['help']} at {where}"
            )

    async def _fits(self, page: Page, how: str) -> None:
        """Nothing wider than the screen: no sideways scrolling (WCAG 1.4.10 reflow)."""
        wide = await page.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
        if wide:
            self.violations.append(f"{page.url} ({how}): scrolls sideways")

    async def check(self, page: Page) -> None:
        size = page.viewport_size
        assert size is not None
        await self._run(page, "as it is")
        await page.set_viewport_size(NARROW)
        await self._run(page, "320px")
        await self._fits(page, "320px")
        await page.set_viewport_size(size)
        before = await _heading_height(page)
        await page.evaluate("document.documentElement.style.zoom = '2'")
        after = await _heading_height(page)
        assert after >= 1.9 * before, (page.url, before, after)  # the text really doubled
        await self._run(page, "200% zoom")
        await self._fits(page, "200% zoom")
        await page.evaluate("document.documentElement.style.zoom = ''")


class Skipped(Accessibility):
    """No axe-core where scripts are off (it could not run); the pages are checked above."""

    async def check(self, page: Page) -> None:
        return None


async def _heading_height(page: Page) -> float:
    """How tall the page's first heading (or, on a page without one, its first paragraph)
    is drawn, to show the zoom really doubled the text."""
    height = await page.evaluate(
        "(() => { const h = document.querySelector('main h1, main h2, main p');"
        " return h ? h.getBoundingClientRect().height : 0 })()"
    )
    assert height > 0, f"{page.url} has no heading or paragraph"
    return float(height)


async def _sign_in(context: BrowserContext, base: str, name: str, axe: Accessibility) -> Page:
    page = await context.new_page()
    await page.goto(f"{base}/signin")
    await page.get_by_role("button", name=f"Sign in as {name}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello {name.split()[0]}")
    await axe.check(page)
    return page


async def _set_up_point(page: Page, base: str, agreement_id: int, axe: Accessibility) -> str:
    """Tom sets up the point through the web form; the link it shows, as printed on the poster."""
    await page.goto(f"{base}/do/feedback?words=new+agreement+{agreement_id}")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("feedback point")
    await check_form_page(page)
    await axe.check(page)
    await page.get_by_label("What do people call the service?").fill("Preston youth club")
    await page.get_by_label("Who should we tell if someone writes about harm?").fill(
        "priya.shah@riverside.example"
    )
    await page.get_by_role("button", name=re.compile("^(Send|Save|Set it up)")).first.click()
    main = page.get_by_role("main")
    await expect(main).to_contain_text("Your feedback point is ready: Preston youth club")
    await axe.check(page)
    # The page names the point's address (the poster's QR code holds the same one).
    found = re.search(r"(?:https?://[^\s\"<]+)?(/f/[A-Za-z0-9_-]+)", await main.inner_text())
    assert found, await main.inner_text()
    return base + found.group(1)


async def _answer(
    page: Page,
    axe: Accessibility,
    *,
    helping: str,
    words: str,
    photo: bytes | None = None,
    send: str = "Send",
) -> None:
    """Pick a face for the first question, write some words, maybe add a photo, send."""
    await check_form_page(page)
    face = re.compile(rf"\s{re.escape(helping)}$")  # the label is a face, then its words
    await page.locator("fieldset.scale").first.get_by_label(face).check()
    await page.locator("textarea").first.fill(words)
    if photo is not None:
        await page.locator("input[type=file]").set_input_files(
            files=[{"name": "club.png", "mimeType": "image/png", "buffer": photo}]
        )
        for tick in await page.locator("fieldset.ticks input[type=checkbox]").all():
            await tick.check()
    await page.get_by_role("button", name=send, exact=True).click()


async def _public_part(
    browser: Browser,
    link: str,
    axe: Accessibility,
    *,
    javascript: bool,
    artifacts: Path,
) -> None:
    """Everything a member of the public does, each person in a fresh browser."""
    tag = "js" if javascript else "nojs"
    if not javascript:
        # axe-core needs script (and its timers) to run, so it checks these same pages in
        # the run with JavaScript; here the point is that the pages work without it.
        axe = Skipped()

    async def visitor() -> tuple[BrowserContext, Page]:
        context = await browser.new_context(viewport=WIDE, java_script_enabled=javascript)
        return context, await context.new_page()

    # A photo with both consent ticks.
    context, page = await visitor()
    try:
        await page.goto(link)  # as the QR code opens it
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Tell us what you think of Preston youth club"
        )
        await axe.check(page)
        await _answer(page, axe, helping="Yes", words="The coaches are kind.", photo=tiny_png())
        await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        await axe.check(page)
        assert await context.cookies() == []
    finally:
        await context.close()

    # The easy read version, answered there.
    context, page = await visitor()
    try:
        await page.goto(link)
        await page.get_by_role("link", name="Easy read version").click()
        await expect(page).to_have_url(re.compile(r"view=easy"))
        await expect(page.locator("svg.pictogram").first).to_be_attached()
        await axe.check(page)
        await _answer(page, axe, helping="Yes", words="I like the games.")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        await axe.check(page)
    finally:
        await context.close()

    # In Welsh, from the "Cymraeg" link: the page says it is Welsh, and is answered there.
    context, page = await visitor()
    try:
        await page.goto(link)
        await page.get_by_role("link", name="Cymraeg").click()
        await expect(page.locator("html")).to_have_attribute("lang", "cy")
        await expect(page.get_by_role("link", name="English")).to_be_visible()
        await axe.check(page)
        await page.get_by_role("link", name=re.compile("hawdd ei ddeall", re.I)).click()
        await expect(page.locator("html")).to_have_attribute("lang", "cy")
        await axe.check(page)
        await page.go_back()
        await _answer(page, axe, helping="Ie", words="Mae'r clwb yn dda.", send="Anfon")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Diolch")
        await expect(page.locator("html")).to_have_attribute("lang", "cy")
        await axe.check(page)
    finally:
        await context.close()

    # Harm: who to call shows at once, on the thank-you page.
    context, page = await visitor()
    try:
        await page.goto(link)
        await _answer(page, axe, helping="No", words=f"My brother hits me at home ({tag}).")
        alert = page.get_by_role("alert")
        await expect(alert).to_contain_text("call 999")
        await expect(alert).to_contain_text(LINE)
        await axe.check(page)
        await page.screenshot(path=str(artifacts / f"feedback-harm-help-{tag}.png"))
    finally:
        await context.close()

    # Personal details, scrubbed before they are kept.
    context, page = await visitor()
    try:
        await page.goto(link)
        await _answer(
            page,
            axe,
            helping="I don't know",
            words=f"Ring me on 07700 900123 or write to sam@example.com, PR1 2AB ({tag}).",
        )
        await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    finally:
        await context.close()

    # Unknown point and a closed point's words, in English and Welsh.
    context, page = await visitor()
    try:
        base = link.rsplit("/f/", 1)[0]
        response = await page.goto(f"{base}/f/nosuchpoint")
        assert response is not None and response.status == 404
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "We could not find this feedback page"
        )
        await axe.check(page)
        response = await page.goto(f"{base}/f/nosuchpoint?lang=cy")
        assert response is not None and response.status == 404
        await expect(page.locator("html")).to_have_attribute("lang", "cy")
        await expect(page.get_by_role("heading", level=1)).not_to_have_text(
            "We could not find this feedback page"
        )
        await axe.check(page)
    finally:
        await context.close()


async def test_feedback_from_setting_up_to_you_said_we_did_in_a_browser(
    browser: Browser,
    app_server: RunningApp,
    services: Services,
    door: TestDoor,
    artifacts: Path,
) -> None:
    morning = weekday_morning()
    door.freeze(morning)
    await load_demo_agreements(services)
    async with services.db.session() as session:
        agreement = await session.scalar(select(Agreement).where(Agreement.title == YOUTH_CLUBS))
        assert agreement is not None
    base, axe = app_server.url, Accessibility()
    sender: OutboxSender = app_server.runner.app[SENDER]

    tom = await browser.new_context(viewport=WIDE)
    try:
        page = await _sign_in(tom, base, "Tom Okafor", axe)
        link = await _set_up_point(page, base, agreement.id, axe)
    finally:
        await tom.close()
    assert link.startswith(base + "/f/")

    await _public_part(browser, link, axe, javascript=True, artifacts=artifacts)
    await _public_part(browser, link, axe, javascript=False, artifacts=artifacts)

    async with services.db.session() as session:
        point = (await session.scalars(select(FeedbackPoint))).one()
        kept = (await session.scalars(select(FeedbackEntry))).all()
        files = (await session.scalars(select(FeedbackTestimony))).all()
        photos = (await session.scalars(select(FeedbackTestimony.data))).all()
    assert len(kept) == 10, [e.comments for e in kept]  # five people, twice
    assert sum(e.safeguarding for e in kept) == 2
    assert len(files) == 2 and all(f.council_may_quote for f in files)
    assert len(photos) == 2 and all(b"Acacia" not in data for data in photos)
    said = " ".join(" ".join(e.comments.values()) for e in kept)
    assert "07700" not in said and "sam@example.com" not in said and "PR1 2AB" not in said

    # Priya, the safeguarding lead, finds the flag in her messages.
    await settle(sender)
    priya = await browser.new_context(viewport=WIDE)
    try:
        page = await _sign_in(priya, base, "Priya Shah", axe)
        await page.get_by_role("link", name=re.compile("^Messages")).click()
        main = page.get_by_role("main")
        await expect(main).to_contain_text(
            "Safeguarding: please read feedback about Preston youth club"
        )
        await expect(main).to_contain_text("My brother hits me at home (js).")
        await axe.check(page)
        # The commissioner reads the answers: the details are "[removed]".
        await page.goto(f"{base}/do/feedback?words=show+{point.id}")
        main = page.get_by_role("main")
        await expect(main).to_contain_text("Ring me on [removed]")
        await expect(main).not_to_contain_text("07700")
        await axe.check(page)
    finally:
        await priya.close()

    tom = await browser.new_context(viewport=WIDE)
    try:
        page = await _sign_in(tom, base, "Tom Okafor", axe)
        await page.goto(f"{base}/do/feedback?words=show+{point.id}")
        main = page.get_by_role("main")
        await expect(main).to_contain_text("Ring me on [removed]")
        await expect(main).not_to_contain_text("sam@example.com")
        await axe.check(page)
        await page.goto(f"{base}/do/feedback?words=yousaid+{point.id}")
        await check_form_page(page)
        await axe.check(page)
        await page.get_by_label("What did people tell you, and what did you change?").fill(
            "You said the club shuts too early. We now stay open until 9pm on Fridays."
        )
        await page.get_by_role("button", name=re.compile("^(Send|Save|Post)")).first.click()
        await expect(page.get_by_role("main")).not_to_contain_text("There is a problem")
        await axe.check(page)
    finally:
        await tom.close()

    public = await browser.new_context(viewport=WIDE)
    try:
        page = await public.new_page()
        await page.goto(link)
        posts = page.get_by_role("region", name="You said, we did")
        await expect(posts).to_contain_text("We now stay open until 9pm on Fridays.")
        await expect(posts).to_contain_text(format_date(morning.date()))
        await axe.check(page)
    finally:
        await public.close()

    assert axe.violations == [], "\n".join(axe.violations)
    assert len(axe.pages) == 3 * 21, axe.pages  # 21 pages, each three ways
