"""The email door, over real network at the edges: an SMTP server on loopback (aiosmtpd)
and a fake GOV.UK Notify API on loopback, with the app's own outbox sender.

Grace Lee (Eastgate Community Kitchen) uses neither Slack nor Teams. When Priya publishes
an engagement about food, Grace's invitation goes by email (and a copy to her messages
page); the link in it signs her in to the page where she acts; the unsubscribe link stops
the next one at once. Busy answers (SMTP 4xx, Notify 429 and 5xx) are tried again; an
address that will never work is dead at once, and shows on the Deliveries page.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.app import SENDER, build_app, build_services, prepare
from bot.clock import FixedClock
from bot.core.files import FileRefused, TakenFile
from bot.core.reply import FileOffer, Message, ReplyList
from bot.services import Services
from bot.settings import load_settings
from storage.models import Door, OutboxMessage, Person, WorkState
from storage.outbox import send_to_people
from tests.support import fake_notify
from tests.support.engagements import draft_engagement
from tests.support.fake_notify import FakeNotify
from tests.support.fake_smtp import Mailbox, smtp_server
from tests.support.inprocess import TestDoor, text_of
from tests.support.servers import RunningApp, start_app
from tests.support.web import WebUser
from tests.support.web import text_of as page_text

GRACE_EMAIL = "grace@eastgatekitchen.example"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
async def notify() -> AsyncIterator[FakeNotify]:
    fake = await FakeNotify().start()
    yield fake
    await fake.stop()


class EmailApp:
    def __init__(self, services: Services, running: RunningApp) -> None:
        self.services = services
        self.running = running
        self.clock = FixedClock(services.clock.now())
        services.clock = self.clock

    async def drain(self) -> int:
        return int(await self.running.runner.app[SENDER].drain())

    async def grace(self) -> int:
        async with self.services.db.session() as session:
            found = await session.scalar(select(Person.id).where(Person.email == GRACE_EMAIL))
        assert found is not None, "the demo has Grace Lee with her email address"
        return found

    async def rows(self, person_id: int) -> list[OutboxMessage]:
        async with self.services.db.session() as session:
            return list(
                (
                    await session.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.person_id == person_id)
                        .order_by(OutboxMessage.id)
                    )
                ).all()
            )


async def _app(
    database_url: str, tmp_path: Path, backend: str, **overrides: Any
) -> AsyncIterator[EmailApp]:
    settings = load_settings(
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",
        scheduler_enabled=False,
        email_backend=backend,
        **overrides,
    )
    services = build_services(settings)
    await prepare(services, demo_if_empty=True)
    running = await start_app(build_app(services))
    yield EmailApp(services, running)
    await running.stop()
    await services.db.dispose()


@pytest.fixture(params=["smtp", "notify"])
async def email_app(
    request: pytest.FixtureRequest,
    database_url: str,
    tmp_path: Path,
    mailbox: tuple[Mailbox, int],
    notify: FakeNotify,
) -> AsyncIterator[EmailApp]:
    if request.param == "smtp":
        overrides: dict[str, Any] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox[1],
            "smtp_starttls": False,
            "email_from": "convene@riverside.example",
        }
    else:
        overrides = {
            "notify_api_key": fake_notify.API_KEY,
            "notify_template_id": fake_notify.TEMPLATE_ID,
            "notify_base_url": notify.url,
        }
    async for app in _app(database_url, tmp_path, request.param, **overrides):
        yield app


def _sent(app: EmailApp, mailbox: Mailbox, notify: FakeNotify) -> list[dict[str, Any]]:
    """What reached the backend, as {to, subject, text, html, unsubscribe, attachments}."""
    if app.services.settings.email_backend == "smtp":
        found = []
        for message in mailbox.messages:
            assert isinstance(message, EmailMessage)
            text = message.get_body(("plain",))
            html = message.get_body(("html",))
            assert text is not None and html is not None
            found.append(
                {
                    "to": message["To"],
                    "subject": message["Subject"],
                    "text": text.get_content(),
                    "html": html.get_content(),
                    "unsubscribe": message["List-Unsubscribe"].strip("<>"),
                    "one_click": message["List-Unsubscribe-Post"],
                    "attachments": [
                        (part.get_filename(), part.get_content_type(), part.get_content())
                        for part in message.iter_attachments()
                    ],
                }
            )
        return found
    return [
        {
            "to": body["email_address"],
            "subject": body["personalisation"]["subject"],
            "text": body["personalisation"]["body"],
            "html": None,
            "unsubscribe": None,
            "one_click": None,
            "attachments": [],
        }
        for body in notify.sent
    ]


SIGN_IN = re.compile(r"(http://[^\s\"]+/signin/[A-Za-z0-9_-]+\?next=[^\s\"]+)")
UNSUBSCRIBE = re.compile(r"(http://[^\s\"]+/email/unsubscribe/[^\s\"]+)")


async def test_an_engagement_reaches_a_web_only_person_by_email_and_the_link_signs_her_in(
    email_app: EmailApp, mailbox: tuple[Mailbox, int], notify: FakeNotify
) -> None:
    app = email_app
    grace = await app.grace()
    engagement = await draft_engagement(
        app.services, title="Food support this winter", purpose="Warm food.", service_area="food"
    )
    door = TestDoor(app.services)
    priya = await door.sign_in("Priya Shah")
    assert "Published" in text_of(await priya.say(f"engagements publish {engagement.id}"))
    await app.drain()

    rows = await app.rows(grace)
    assert {row.door for row in rows} == {Door.EMAIL, Door.WEB}, "by email, and a copy kept"
    assert all(row.state == WorkState.DONE for row in rows), [r.last_error for r in rows]
    sent = _sent(app, mailbox[0], notify)
    assert len(sent) == 1
    email = sent[0]
    assert email["to"] == GRACE_EMAIL
    assert "Food support this winter" in email["text"]
    assert "Only you get this email" in email["text"]
    if email["html"] is not None:
        assert '<html lang="en-GB">' in email["html"] and "<h1" in email["html"]
        assert "Food support this winter" in email["html"]
        assert email["one_click"] == "List-Unsubscribe=One-Click"

    # The link signs her in, once, and takes her to the page where she acts.
    link = SIGN_IN.search(email["text"])
    assert link is not None, email["text"]
    parts = urlsplit(link.group(1))
    target = unquote(parts.query.removeprefix("next="))
    assert target.startswith("/"), target
    grace_browser = WebUser(app.running.url)
    try:
        status, html = await grace_browser.get(f"{parts.path}?{parts.query}")
        assert status == 200 and "Sign in to Convene" in html
        action = re.search(r'<form method="post" action="([^"]+)"', html)
        assert action is not None
        async with grace_browser.client.post(
            app.running.url + action.group(1).replace("&amp;", "&"),
            data={"csrf_token": grace_browser.csrf(html)},
        ) as response:
            landed = await response.text()
            assert response.status == 200
            assert response.url.path == urlsplit(target).path
        assert "Grace Lee" in landed or "Food support this winter" in page_text(landed)
        # A sign-in link works once.
        status, html = await grace_browser.get(parts.path)
        assert status == 400
    finally:
        await grace_browser.close()

    # Unsubscribing stops the next one at once; the web inbox still gets it.
    unsubscribe = email["unsubscribe"] or UNSUBSCRIBE.search(email["text"])
    href = unsubscribe if isinstance(unsubscribe, str) else unsubscribe.group(1)  # type: ignore[union-attr]
    stranger = WebUser(app.running.url)
    try:
        path = urlsplit(href).path
        status, html = await stranger.get(path)
        assert status == 200 and "Stop emails from Convene?" in html
        status, html = await stranger.post(path, {}, csrf=False)
        assert status == 200 and "You will not get emails from Convene" in html
        status, html = await stranger.get(path[:-3] + "xyz")
        assert status == 400
    finally:
        await stranger.close()
    async with app.services.db.session() as session:
        await send_to_people(
            session,
            [grace],
            ReplyList(replies=[Message(title="Something new", text="More news.")]).model_dump(),
            "after-unsubscribe:{person_id}",
        )
    await app.drain()
    assert len(_sent(app, mailbox[0], notify)) == 1, "no email after unsubscribing"
    latest = (await app.rows(grace))[-1]
    assert (latest.door, latest.state) == (Door.WEB, WorkState.DONE)


class TinyCalendars:
    """A file source for the test: one event in an .ics, for whoever the ticket names."""

    def read(self, token: str) -> object:
        from bot.core.files import TicketInvalid

        if not token.startswith("tiny-calendar:"):
            raise TicketInvalid("not ours")
        return token

    async def take(self, services: Any, ticket: object, **_: Any) -> TakenFile | FileRefused:
        from datetime import datetime

        from icalendar import Event

        calendar = Calendar()
        calendar.add("prodid", "-//Convene test//EN")
        calendar.add("version", "2.0")
        event = Event()
        event.add("uid", "event-1@convene")
        event.add("summary", "Providers' meeting")
        event.add("dtstart", datetime(2026, 3, 6, 17, 0))
        event.add("dtstamp", datetime(2026, 3, 1, 9, 0))
        calendar.add_component(event)
        return TakenFile("meeting.ics", "text/calendar", bytes(calendar.to_ical()), 1)

    async def handed_over(self, services: Any, ticket: object, **_: Any) -> None:
        return None


@pytest.mark.parametrize("email_app", ["smtp"], indirect=True)
async def test_a_calendar_offer_is_attached_as_an_ics_that_icalendar_reads(
    email_app: EmailApp, mailbox: tuple[Mailbox, int], notify: FakeNotify
) -> None:
    app = email_app
    app.services.files.register(TinyCalendars())
    grace = await app.grace()
    offer = FileOffer(
        name="meeting.ics",
        content_type="text/calendar",
        ticket="tiny-calendar:1",
        url=f"{app.services.settings.base_url}/downloads/tiny-calendar:1",
        title="The meeting, for your calendar",
    )
    async with app.services.db.session() as session:
        await send_to_people(
            session, [grace], ReplyList(replies=[offer]).model_dump(), "meeting:{person_id}"
        )
    await app.drain()
    [email] = _sent(app, mailbox[0], notify)
    [(name, kind, data)] = email["attachments"]
    assert (name, kind) == ("meeting.ics", "text/calendar")
    parsed = Calendar.from_ical(data)
    assert [str(e["summary"]) for e in parsed.walk("VEVENT")] == ["Providers' meeting"]


async def test_busy_answers_are_tried_again_then_delivered(
    email_app: EmailApp, mailbox: tuple[Mailbox, int], notify: FakeNotify
) -> None:
    app = email_app
    grace = await app.grace()
    if app.services.settings.email_backend == "smtp":
        mailbox[0].refuse = ["451 4.3.0 Try again later", "421 4.7.0 Too busy"]
    else:
        notify.answers = [500, 429, 503]
    async with app.services.db.session() as session:
        await send_to_people(
            session,
            [grace],
            ReplyList(replies=[Message(title="Hello", text="News.")]).model_dump(),
            "busy:{person_id}",
        )
    for _ in range(6):
        await app.drain()
        app.clock.advance(timedelta(hours=1))
    [row] = [r for r in await app.rows(grace) if r.door == Door.EMAIL]
    assert row.state == WorkState.DONE, row.last_error
    assert len(_sent(app, mailbox[0], notify)) == 1
    if app.services.settings.email_backend == "smtp":
        assert mailbox[0].tries == 3
    else:
        assert notify.tries == 4 and notify.bad_tokens == 0


async def test_an_address_that_never_works_is_dead_and_shown_on_deliveries(
    email_app: EmailApp, mailbox: tuple[Mailbox, int], notify: FakeNotify
) -> None:
    app = email_app
    grace = await app.grace()
    if app.services.settings.email_backend == "smtp":
        mailbox[0].refuse = ["550 5.1.1 No such user here"]
        reason = "The mail server refused the address"
    else:
        notify.answers = [400]
        reason = "GOV.UK Notify cannot send to"
    async with app.services.db.session() as session:
        await send_to_people(
            session,
            [grace],
            ReplyList(replies=[Message(title="Hello", text="News.")]).model_dump(),
            "bounce:{person_id}",
        )
    await app.drain()
    [row] = [r for r in await app.rows(grace) if r.door == Door.EMAIL]
    assert row.state == WorkState.DEAD and row.attempts == 1
    assert row.last_error is not None and reason in row.last_error
    assert "/signin/" not in row.last_error

    admin = WebUser(app.running.url)
    try:
        await admin.sign_in_locally("Alex Morgan")
        _, html = await admin.get("/do/deliveries")
        page = page_text(html)
        assert "on email" in page and reason in page
    finally:
        await admin.close()
