"""Chat mode in a DM: the profile one question at a time, one Slack message per answer.

For many small charities a long form is the thing that never gets done, so Convene
can ask in the DM instead. Each `message` event is answered through the outbox (the
reply is queued with the change that caused it), and each reply reaches Slack as
`chat.postMessage` carrying its outbox key in message metadata.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from sqlalchemy import select, update

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import FormResponse, Organisation, OutboxMessage, ResponseState
from tests.slack.conftest import SlackPoster
from tests.slack.helpers import eventually, outbox_rows, settle, text_of_blocks
from tests.support.fake_slack import FakeSlack

DM_CHANNEL = "DU0001"  # the fake's DM channel for U0001, as conversations.open names it
_ids = itertools.count(1)


async def rows_with_key(services: Services, key: str) -> list[OutboxMessage]:
    return [r for r in await outbox_rows(services) if r.idempotency_key == key]


class Chat:
    """Tom typing in his DM with Convene, and reading what comes back."""

    def __init__(
        self, slack: SlackPoster, fake: FakeSlack, sender: OutboxSender, services: Services
    ) -> None:
        self.slack, self.fake, self.sender, self.services = slack, fake, sender, services

    async def say(self, text: str) -> str:
        """Send one DM; return the text of Convene's one reply (checked to carry its key)."""
        event_id = f"EvChat{next(_ids):04d}"
        event: dict[str, Any] = {
            "type": "message",
            "channel": DM_CHANNEL,
            "channel_type": "im",
            "user": "U0001",
            "text": text,
            "ts": f"{time.time():.6f}",
        }
        status, _ = await self.slack.event(event, event_id=event_id)
        assert status == 200
        key = f"slack:event:{event_id}"
        await eventually(lambda: rows_with_key(self.services, key))
        await settle(self.sender)
        replies = [
            m for m in self.fake.delivered("U0001") if m["metadata"]["event_payload"]["key"] == key
        ]
        assert len(replies) == 1, f"expected one reply to {text!r}, got {len(replies)}"
        post = next(
            c
            for c in self.fake.calls_to("chat.postMessage")
            if (c.body.get("metadata") or {}).get("event_payload", {}).get("key") == key
        )
        assert post.body["channel"] == DM_CHANNEL
        assert post.body["metadata"]["event_type"] == "convene_outbox"
        return f"{replies[0]['text']}\n{text_of_blocks(replies[0]['blocks'])}"


async def forget_staff_count(services: Services) -> None:
    """Riverside Youth Trust has answered almost everything; clear the staff count so
    the chat reaches a number question (and someone can get it wrong)."""
    async with services.db.session() as session:
        await session.execute(
            update(Organisation)
            .where(Organisation.slug == "riverside-youth-trust")
            .values(staff_count=None)
        )


async def profile_draft(services: Services) -> FormResponse:
    async with services.db.session() as session:
        found = await session.scalar(
            select(FormResponse).where(FormResponse.form_key == "organisation_profile")
        )
        assert found is not None
        return found


async def test_profile_in_chat_one_answer_per_message(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str, services: Services, sender: OutboxSender
) -> None:
    await forget_staff_count(services)
    chat = Chat(slack, fake_slack, sender, services)

    # Questions already answered are not asked again: it starts at the first gap.
    first = await chat.say("profile chat")
    assert "Organisation profile" in first
    assert "Question 4 of 19 — Company number" in first

    reply = await chat.say("01234567")
    assert "Question 5 of 19 — Scottish charity number" in reply
    draft = await profile_draft(services)
    assert draft.state == ResponseState.DRAFT
    assert draft.answers["company_number"] == "01234567"

    # A number that cannot be from the register: a plain reason, the same question again.
    reply = await chat.say("12345")
    assert "Question 5 of 19 — Scottish charity number" in reply
    assert "SC and then 6 numbers, like SC012345" in reply
    assert "oscr_number" not in (await profile_draft(services)).answers

    reply = await chat.say("skip")
    assert "Question 6 of 19 — Northern Ireland charity number" in reply
    reply = await chat.say("skip")
    assert "Question 7 of 19 — Society number (FCA Mutuals Public Register)" in reply
    reply = await chat.say("skip")
    assert "Question 15 of 19 — Paid staff" in reply

    reply = await chat.say("lots")
    assert "Question 15 of 19 — Paid staff" in reply, "the same question again"
    error = reply.split("Question 15")[0]
    assert "number" in error.lower(), reply
    assert not any(word in error for word in ("invalid literal", "Traceback", "ValueError"))
    assert "staff_count" not in (await profile_draft(services)).answers

    reply = await chat.say("back")
    assert "Question 14 of 19 — Yearly income" in reply
    assert "Your answer now: £100,000 to £1 million" in reply

    reply = await chat.say("keep")
    assert "Question 15 of 19 — Paid staff" in reply

    reply = await chat.say("15")
    assert "Thank you. We saved your organisation profile." in reply
    draft = await profile_draft(services)
    assert draft.state == ResponseState.SUBMITTED
    assert draft.answers["staff_count"] == 15
    async with services.db.session() as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        assert org is not None and org.staff_count == 15 and org.company_number == "01234567"

    assert fake_slack.duplicates() == []
    assert all(c.token == "xoxb-test" for c in fake_slack.calls_to("chat.postMessage"))


async def test_profile_chat_from_a_channel_moves_to_the_dm(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str, services: Services, sender: OutboxSender
) -> None:
    status, _ = await slack.command(
        "profile chat", trigger_id="trigger.chat", response_url=fake_slack.response_url("chat")
    )
    assert status == 200
    answered = await eventually(lambda: fake_slack.responses.get("chat"))
    assert answered[-1]["text"].startswith("I've sent you a direct message")
    assert answered[-1].get("response_type", "ephemeral") == "ephemeral"
    assert not fake_slack.calls_to("views.open"), "chat mode opens no modal"

    await eventually(lambda: rows_with_key(services, "slack:cmd:trigger.chat"))
    await settle(sender)
    posted = fake_slack.delivered(tom)
    assert len(posted) == 1
    assert posted[0]["metadata"]["event_payload"]["key"] == "slack:cmd:trigger.chat"
    assert "Question 4 of 19 — Company number" in posted[0]["text"]

    # The next DM is taken as the answer to that question.
    reply = await Chat(slack, fake_slack, sender, services).say("01234567")
    assert "Question 5 of 19" in reply


async def test_the_bots_own_messages_are_not_answered(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str, services: Services, sender: OutboxSender
) -> None:
    """Our own DM replies come back as message events; answering them would loop."""
    event = {
        "type": "message",
        "channel": DM_CHANNEL,
        "channel_type": "im",
        "user": "UBOT",
        "bot_id": "BBOT",
        "text": "profile chat",
        "ts": f"{time.time():.6f}",
    }
    status, _ = await slack.event(event, event_id="EvFromBot")
    assert status == 200
    # A human message after it is answered, so by then the bot's one was dealt with too.
    await Chat(slack, fake_slack, sender, services).say("help")
    assert len(await outbox_rows(services)) == 1
