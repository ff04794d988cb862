"""Three people on three doors, for the engagement end-to-end test.

Each class plays one door the way its platform (or a browser) does, over real HTTP to
the one running app, and reads back what that person was shown: Slack DMs from the fake
Slack Web API, Teams activities from the fake Bot Connector, web pages and the web inbox.
Nothing inside Convene is called directly.
"""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from typing import Any
from urllib.parse import quote_plus

from sqlalchemy import select

from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.teams.door import reply_key
from storage.engagement_tables import Engagement
from storage.models import Authority, InboxItem, OutboxMessage
from tests.slack.conftest import SlackPoster
from tests.support.doors import flatten
from tests.support.fake_botframework import BotResponse, FakeBotFramework, idempotency_key
from tests.support.fake_slack import FakeSlack
from tests.support.polling import eventually, settle
from tests.support.teams_activities import TeamsActivities, TeamsUser
from tests.support.web import WebUser, form_action, text_of

Json = dict[str, Any]
_events = itertools.count(1)


async def rows_like(services: Services, pattern: str) -> list[OutboxMessage]:
    """Outbox rows whose idempotency key matches a SQL LIKE pattern, oldest first."""
    async with services.db.session() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.idempotency_key.like(pattern))
            .order_by(OutboxMessage.id)
        )
        return list(rows.all())


class SlackPerson:
    """Someone typing in their DM with Convene in Slack, and reading what comes back."""

    def __init__(
        self,
        poster: SlackPoster,
        fake: FakeSlack,
        sender: OutboxSender,
        services: Services,
        user_id: str,
    ) -> None:
        self.poster, self.fake, self.sender, self.services = poster, fake, sender, services
        self.user_id = user_id

    def messages(self, key: str) -> list[Json]:
        """Messages in this person's DM that the outbox posted for one message key."""
        return [
            m
            for m in self.fake.delivered(self.user_id)
            if ((m.get("metadata") or {}).get("event_payload") or {}).get("key") == key
        ]

    def read(self, key: str) -> str:
        found = self.messages(key)
        assert found, f"nothing in {self.user_id}'s DM for {key}"
        return flatten([[m.get("text"), m.get("blocks")] for m in found])

    async def say(self, text: str) -> str:
        """Send one DM, wait for Convene's answer to reach the DM, and return its text."""
        event_id = f"EvE2E{next(_events):05d}"
        event: Json = {
            "type": "message",
            "channel": f"D{self.user_id}",
            "channel_type": "im",
            "user": self.user_id,
            "text": text,
            "ts": f"{time.time():.6f}",
        }
        status, _ = await self.poster.event(event, event_id=event_id)
        assert status == 200
        key = f"slack:event:{event_id}"
        await eventually(lambda: rows_like(self.services, key))
        await settle(self.sender)
        return self.read(key)


class TeamsPerson:
    """Someone in their personal chat with Convene in Teams."""

    def __init__(
        self,
        fake: FakeBotFramework,
        build: TeamsActivities,
        app_url: str,
        sender: OutboxSender,
        user: TeamsUser,
    ) -> None:
        self.fake, self.build, self.sender, self.user = fake, build, sender, user
        self.url = f"{app_url}/api/messages"
        self.conversation = build.personal_conversation_id(user)
        #: Cards Teams was given in invoke responses (for the card check at the end).
        self.returned: list[Json] = []

    def shown(self) -> list[Json]:
        return self.fake.activities_in(self.conversation)

    def with_key(self, key: str) -> list[Json]:
        return [a for a in self.shown() if idempotency_key(a) == key]

    def read(self, key: str) -> str:
        found = self.with_key(key)
        assert found, f"nothing in the Teams chat for {key}"
        return flatten(found)

    async def say(self, text: str) -> list[Json]:
        """A personal-chat message; returns what Convene posted in answer to it."""
        activity = self.build.personal_message(text, user=self.user)
        response = await self.fake.send_to_bot(self.url, activity)
        assert response.status == 200, response
        await settle(self.sender)
        answer = self.with_key(reply_key("msg", activity["conversation"]["id"], activity["id"]))
        assert answer, f"no answer to {text!r}"
        return answer

    async def execute(self, verb: str, data: Json, *, reply_to_id: str) -> BotResponse:
        """Press an `Action.Execute` button on a card Convene posted."""
        activity = self.build.card_execute(verb, data, reply_to_id=reply_to_id, user=self.user)
        response = await self.fake.send_to_bot(self.url, activity)
        body = response.body
        if isinstance(body, dict) and isinstance(body.get("value"), dict):
            self.returned.append(body["value"])
        await settle(self.sender)
        return response


class Browser:
    """A signed-in web user running `engagements …` from links and forms."""

    def __init__(self, user: WebUser) -> None:
        self.user = user

    async def open(self, words: str) -> str:
        """Follow a link to `engagements <words>`; returns the page's HTML."""
        status, html = await self.user.get(f"/do/engagements?words={quote_plus(words)}")
        assert status == 200, text_of(html)
        return html

    async def confirm(self, words: str) -> str:
        """A changing step: the link asks to confirm, and the confirm button posts it."""
        html = await self.open(words)
        assert "Please confirm" in text_of(html), text_of(html)
        status, html = await self.user.post("/do/engagements", {"words": words})
        assert status == 200, text_of(html)
        return html

    async def send_page(
        self, html: str, page: int, values: dict[str, Any], intent: str = "next"
    ) -> tuple[int, str]:
        """Send the form on `html` the way a browser does (lists are ticked checkboxes)."""
        fields: list[tuple[str, str]] = []
        for name, value in values.items():
            items = value if isinstance(value, list) else [value]
            fields.extend((name, str(item)) for item in items)
        return await self.user.post(
            form_action(html), [*fields, ("_page", str(page)), ("_intent", intent)]
        )

    async def fill_in(self, words: str, pages: list[dict[str, Any]]) -> str:
        """Open a form with `engagements <words>` and send each page in turn."""
        html = await self.open(words)
        for index, values in enumerate(pages):
            status, html = await self.send_page(html, index, values)
            assert status == 200, text_of(html)
        return html

    async def inbox(self) -> str:
        status, html = await self.user.get("/inbox")
        assert status == 200, text_of(html)
        return text_of(html)


async def inbox_payloads(services: Services, person_id: int, key_prefix: str) -> list[Json]:
    """What the web inbox holds for a person, for keys starting with `key_prefix`."""
    async with services.db.session() as session:
        rows = await session.scalars(
            select(InboxItem.payload).where(
                InboxItem.person_id == person_id,
                InboxItem.idempotency_key.like(f"{key_prefix}%"),
            )
        )
        return list(rows.all())


async def draft_engagement(services: Services, **fields: Any) -> Engagement:
    """A draft engagement of the demo council (Riverside), closing in seven weeks, with one
    question; `fields` set anything else (title, service_area, question_ids …)."""
    async with services.db.session() as session:
        riverside = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert riverside is not None
        values: dict[str, Any] = {
            "title": "Warm spaces",
            "purpose": "Somewhere warm this winter.",
            "closes_at": services.clock.now() + timedelta(weeks=7),
            "confidentiality": "Kept private.",
            "question_ids": ["viable_terms"],
            **fields,
        }
        engagement = Engagement(authority_id=riverside.id, **values)
        session.add(engagement)
    return engagement


async def published_engagement(services: Services, web_user: WebUser, **fields: Any) -> Engagement:
    """`draft_engagement`, then Priya publishes it on the web and signs out again."""
    engagement = await draft_engagement(services, **fields)
    await web_user.sign_in_locally("Priya Shah")
    await web_user.get("/")
    status, html = await web_user.post("/do/engagements", {"words": f"publish {engagement.id}"})
    assert status == 200 and "Published" in text_of(html), text_of(html)
    await web_user.post("/signout", {})
    return engagement
