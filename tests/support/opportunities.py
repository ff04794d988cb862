"""People on three doors for the opportunities end-to-end test, and small readers of what the
app left behind.

Each class plays one door the way its platform (or a browser) does, over real HTTP to the one
running app, and keeps everything that person was shown, so a test can check at the end that
no provider ever saw another's name: Slack DMs and `response_url` answers from the fake Slack
Web API, Teams activities and the cards Teams was handed back from the fake Bot Connector,
and every page a browser fetched. Buttons are pressed the way each platform presses them:
a signed `block_actions` payload, an `Action.Execute` invoke, a link followed on the web.
Nothing inside Convene is called directly.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from datetime import datetime
from html import unescape
from typing import Any
from urllib.parse import quote_plus

from icalendar import Calendar
from sqlalchemy import select

from bot.services import Services
from storage.models import AuditEvent, OutboxMessage, Person
from storage.opportunity_tables import OpportunityAnnouncement
from tests.support.doors import flatten
from tests.support.engagements import Browser, SlackPerson, TeamsPerson
from tests.support.polling import eventually, settle
from tests.support.slack_signing import block_actions_payload
from tests.support.web import WebUser, text_of
from tests.teams.helpers import cards_of, invoke_card

Json = dict[str, Any]
COMMAND = "opportunities"
_presses = itertools.count(1)


# --- the web ---------------------------------------------------------------------------------


class RecordingWebUser(WebUser):
    """A browser that keeps every page it was given (for the privacy check at the end)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.pages: list[str] = []

    async def get(self, path: str, **kw: Any) -> tuple[int, str]:
        status, html = await super().get(path, **kw)
        self.pages.append(html)
        return status, html

    async def post(self, path: str, data: Any, *, csrf: bool = True, **kw: Any) -> tuple[int, str]:
        status, html = await super().post(path, data, csrf=csrf, **kw)
        self.pages.append(html)
        return status, html


class OpportunityBrowser(Browser):
    """A signed-in web user running `opportunities …` from links, buttons and forms."""

    async def open(self, words: str) -> str:
        status, html = await self.user.get(f"/do/{COMMAND}?words={quote_plus(words)}")
        assert status == 200, text_of(html)
        return html

    async def fill_in_form(self, command: str, words: str, pages: list[dict[str, Any]]) -> str:
        """Open a form with another command (`notifications`, `pipeline plan`) and send each
        page in turn."""
        path = f"/do/{command}" + (f"?words={quote_plus(words)}" if words else "")
        status, html = await self.user.get(path)
        assert status == 200, text_of(html)
        for index, values in enumerate(pages):
            status, html = await self.send_page(html, index, values)
            assert status == 200, text_of(html)
        return html

    async def confirm_command(self, command: str, words: str) -> str:
        """A changing step of another command (`pipeline publish`): the link only asks to
        confirm; the confirm button posts it."""
        status, html = await self.user.get(f"/do/{command}?words={quote_plus(words)}")
        assert status == 200 and "Please confirm" in text_of(html), text_of(html)
        status, html = await self.user.post(f"/do/{command}", {"words": words})
        assert status == 200, text_of(html)
        return html

    async def confirm(self, words: str) -> str:
        """A changing step: the link only asks to confirm; the confirm button posts it."""
        html = await self.open(words)
        assert "Please confirm" in text_of(html), text_of(html)
        status, html = await self.user.post(f"/do/{COMMAND}", {"words": words})
        assert status == 200, text_of(html)
        return html

    async def press(self, html: str, label: str) -> str:
        """Follow the button called `label` on a page (a link, as the web draws buttons).
        A button that changes something lands on "Please confirm", which is pressed too."""
        link = button_link(html, label)
        status, page = await self.user.get(link)
        assert status == 200, text_of(page)
        if "Please confirm" in text_of(page):
            status, page = await self.submit_confirmation(page)
            assert status == 200, text_of(page)
        return page

    async def submit_confirmation(self, html: str) -> tuple[int, str]:
        """Press "Yes, go ahead": post the confirm form's hidden fields, as a browser does."""
        form = re.search(r'<form method="post" action="(/do/[^"]+)">(.*?)</form>', html, re.S)
        assert form, text_of(html)
        fields = [
            (unescape(name), unescape(value))
            for name, value in re.findall(
                r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2)
            )
            if name != "csrf_token"
        ]
        return await self.user.post(form.group(1), fields)

    async def inbox_html(self) -> str:
        status, html = await self.user.get("/inbox")
        assert status == 200, text_of(html)
        return html

    async def download(self, html: str) -> tuple[int, str, bytes]:
        """Fetch the file a page offers (its /downloads/ link): status, type and bytes."""
        link = re.search(r'href="(/downloads/[^"]+)"', html)
        assert link, text_of(html)
        async with self.user.client.get(self.user.base + unescape(link.group(1))) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), await resp.read()

    async def get_file(self, path: str) -> tuple[int, str, bytes]:
        """Fetch a file (open data, an export) as this signed-in browser."""
        async with self.user.client.get(self.user.base + path) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), await resp.read()

    def everything_seen(self) -> str:
        assert isinstance(self.user, RecordingWebUser)
        return "\n".join(text_of(page) for page in self.user.pages)


def button_link(html: str, label: str) -> str:
    """The link of the button with this label on a web page (the last, if there are more)."""
    found = [
        unescape(href)
        for href, text in re.findall(r'<a class="button[^"]*" href="([^"]+)">([^<]+)</a>', html)
        if unescape(text).strip() == label
    ]
    assert found, f"no {label!r} button on the page: {text_of(html)[:500]}"
    return found[-1]


# --- Slack -----------------------------------------------------------------------------------


class SlackProvider(SlackPerson):
    """Someone in their Slack DM who also presses the buttons on Convene's messages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The `response_url` ids of this person's presses (what Slack showed them back).
        self.response_ids: list[str] = []

    async def press(self, key: str, value: str) -> str:
        """Press the button carrying `value` on the DM message the outbox posted for `key`;
        returns what Slack shows back (the ephemeral answer through the response URL)."""
        [message] = self.messages(key)
        action_id = _slack_button(message.get("blocks") or [], value)
        response_id = f"press-{self.user_id}-{next(_presses)}"
        self.response_ids.append(response_id)
        payload = block_actions_payload(
            action_id,
            value,
            user_id=self.user_id,
            channel_id=f"D{self.user_id}",
            message=message,
            response_url=self.fake.response_url(response_id),
        )
        status, _ = await self.poster.interact(payload)
        assert status == 200
        bodies = await eventually(lambda: self.fake.responses.get(response_id))
        await settle(self.sender)
        return flatten([[b.get("text"), b.get("blocks")] for b in bodies])

    def everything_seen(self) -> str:
        shown: list[Any] = list(self.fake.delivered(self.user_id))
        shown += [self.fake.responses.get(r) for r in self.response_ids]
        return json.dumps(shown, ensure_ascii=False)


def _slack_button(blocks: list[Json], value: str) -> str:
    for block in blocks:
        if block.get("type") != "actions":
            continue
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element.get("value") == value:
                return str(element["action_id"])
    raise AssertionError(f"no button with value {value!r} in {flatten(blocks)[:500]}")


# --- Teams -----------------------------------------------------------------------------------


class TeamsProvider(TeamsPerson):
    """Someone in their Teams chat who also presses the buttons on Convene's cards."""

    async def press(self, key: str, value: str) -> str:
        """Press the `Action.Execute` carrying `value` on the card posted for `key`; returns
        what the card Teams puts in its place says."""
        [activity] = self.with_key(key)
        [card] = cards_of(activity)
        verb, data = _teams_button(card, value)
        response = await self.execute(verb, data, reply_to_id=activity["id"])
        return flatten(invoke_card(response.body))

    async def fill(self, words: str, values: Json) -> str:
        """Type `words`, which answers with a one-page form card; fill it in and press Send
        (an `Action.Execute` with the inputs). Returns what Teams shows after: the card
        put in the form's place and any messages posted."""
        [activity] = [a for a in await self.say(words) if _teams_verb(cards_of(a), "form.submit")]
        [card] = cards_of(activity)
        action = _teams_verb([card], "form.submit")
        assert action is not None
        before = len(self.shown())
        response = await self.execute(
            "form.submit", {**dict(action.get("data") or {}), **values}, reply_to_id=activity["id"]
        )
        return flatten([invoke_card(response.body), self.shown()[before:]])

    def everything_seen(self) -> str:
        return json.dumps([self.shown(), self.returned], ensure_ascii=False)


def _teams_verb(cards: list[Json], verb: str) -> Json | None:
    """The first `Action.Execute` with this verb on these cards."""

    def walk(node: Any) -> Json | None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute" and node.get("verb") == verb:
                return node
            children: Any = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            return None
        for child in children:
            found = walk(child)
            if found is not None:
                return found
        return None

    return walk(cards)


def _teams_button(card: Json, value: str) -> tuple[str, Json]:
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute":
                meta = (node.get("data") or {}).get("_convene") or {}
                if meta.get("value") == value:
                    return node
            for child in node.values():
                found = walk(child)
                if found is not None:
                    return found
        elif isinstance(node, list):
            for item in node:
                found = walk(item)
                if found is not None:
                    return found
        return None

    action = walk(card)
    assert action is not None, f"no button with value {value!r} on {flatten(card)[:500]}"
    return str(action["verb"]), dict(action.get("data") or {})


# --- what the app left in its tables ---------------------------------------------------------


async def person_id(services: Services, email: str) -> int:
    async with services.db.session() as session:
        found = await session.scalar(select(Person.id).where(Person.email == email))
    assert found is not None, email
    return int(found)


async def audit_actions(services: Services, action: str) -> list[AuditEvent]:
    async with services.db.session() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return list(rows.all())


async def announcements(
    services: Services, opportunity_id: int, kind: str
) -> list[OpportunityAnnouncement]:
    async with services.db.session() as session:
        rows = await session.scalars(
            select(OpportunityAnnouncement)
            .where(
                OpportunityAnnouncement.opportunity_id == opportunity_id,
                OpportunityAnnouncement.kind == kind,
            )
            .order_by(OpportunityAnnouncement.id)
        )
        return list(rows.all())


def told_together(
    rows: list[OutboxMessage], doors: Mapping[int, str], key: str
) -> dict[int, OutboxMessage]:
    """The fan-out rows for one message keyed by person, checked to be one for each person
    in `doors` (person id -> the door they should hear it on) and nobody else, due at the
    very same moment, with the very same payload."""
    assert sorted(r.person_id or 0 for r in rows) == sorted(doors), [
        r.idempotency_key for r in rows
    ]
    assert {r.person_id: str(r.door) for r in rows} == dict(doors)
    assert {r.idempotency_key for r in rows} == {f"{key}:{pid}" for pid in doors}
    assert len({r.next_attempt_at for r in rows}) == 1, "queued to go at the same moment"
    assert all(r.payload == rows[0].payload for r in rows), "the same message for everyone"
    return {int(r.person_id or 0): r for r in rows}


def on_the_record(
    records: list[OpportunityAnnouncement], rows: Mapping[int, OutboxMessage]
) -> None:
    """One announcement per person told, each tied to the outbox message that carried it."""
    assert sorted((a.person_id, a.door, a.outbox_key) for a in records) == sorted(
        (r.person_id, str(r.door), r.idempotency_key) for r in rows.values()
    )


def calendar_deadline(data: bytes) -> tuple[datetime, str]:
    """The one event in a calendar file: when it starts, and its summary."""
    events = list(Calendar.from_ical(data).walk("VEVENT"))
    assert len(events) == 1, data
    return events[0].decoded("dtstart"), str(events[0].get("summary"))
