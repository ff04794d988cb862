"""Slack in a real workspace: channels, permissions, history limits, and being removed.

- Invitations go to a council's channel even when Convene was never invited to it
  (`chat:write.public`), and after a crash the sender checks the history of a channel it
  is in (`channels:history`) rather than post twice.
- What will never work is given up at once, with a reason an admin can act on, not
  tried again and again: Convene not in a private channel, a missing permission, an
  archived channel.
- Slack lets apps outside its Marketplace read history once a minute per workspace,
  15 messages at a time; the sender keeps to that.
- When Slack says Convene was uninstalled (or its token revoked), nothing more is sent to
  that workspace, and Slack is not even asked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.core.reply import Notice, ReplyList
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.slack.door import SlackDoor
from bot.slack.sender import REMOVED
from storage.models import Door, OutboxMessage, WorkspaceLink, WorkState
from storage.outbox import enqueue
from tests.slack.conftest import SlackPoster
from tests.support.fake_slack import FakeSlack
from tests.support.rows import outbox_row

SECTOR = "C0SECTOR"  # a council's public channel for the local voluntary sector
PRIVATE = "G0PRIVATE"


async def queue(services: Services, address: str, key: str, team: str = "T0001") -> int:
    payload = ReplyList(replies=[Notice(text=f"Message {key}")])
    async with services.db.session() as session:
        row = await enqueue(
            session,
            door=Door.SLACK,
            address=address,
            workspace_id=team,
            payload=payload.model_dump(mode="json"),
            idempotency_key=key,
        )
        return row.id


async def left_after_a_crash(services: Services, *row_ids: int) -> None:
    """The sender posted these, then died before it could record that it had."""
    async with services.db.session() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids))
            .values(
                state=WorkState.PENDING,
                attempts=1,
                next_attempt_at=datetime.now(UTC) - timedelta(seconds=1),
            )
        )


async def link(services: Services, team: str = "T0001") -> WorkspaceLink | None:
    async with services.db.session() as session:
        return await session.scalar(
            select(WorkspaceLink).where(
                WorkspaceLink.platform == Door.SLACK, WorkspaceLink.workspace_id == team
            )
        )


async def test_invitations_reach_a_channel_convene_was_never_invited_to(
    fake_slack: FakeSlack, services: Services, sender: OutboxSender
) -> None:
    fake_slack.remove_bot_from(SECTOR)
    row_id = await queue(services, SECTOR, "invite:1")
    assert await sender.drain() == 1
    assert (await outbox_row(services, row_id)).state == WorkState.DONE
    assert [m["text"] for m in fake_slack.delivered(SECTOR)] == ["Message invite:1"]


async def test_after_a_crash_a_channel_convene_cant_read_gets_the_message_again(
    fake_slack: FakeSlack, services: Services, sender: OutboxSender, door: SlackDoor
) -> None:
    """Convene can post in a channel it is not in, but not read it, so it can't check
    whether a message landed before a crash. A second copy is better than none."""
    fake_slack.remove_bot_from(SECTOR)
    row_id = await queue(services, SECTOR, "invite:3")
    await door.sender.deliver(await outbox_row(services, row_id))
    await left_after_a_crash(services, row_id)
    assert await sender.drain() == 1
    assert (await outbox_row(services, row_id)).state == WorkState.DONE
    assert [c.error for c in fake_slack.calls_to("conversations.history")] == ["not_in_channel"]
    assert len(fake_slack.delivered(SECTOR)) == 2


async def test_the_check_after_a_crash_reads_a_channel_convene_is_in(
    fake_slack: FakeSlack, services: Services, sender: OutboxSender, door: SlackDoor
) -> None:
    row_id = await queue(services, SECTOR, "invite:2")
    await door.sender.deliver(await outbox_row(services, row_id))
    await left_after_a_crash(services, row_id)
    assert await sender.drain() == 1
    assert len(fake_slack.delivered(SECTOR)) == 1, "found in the history, not posted again"
    [look] = fake_slack.calls_to("conversations.history")
    assert look.error is None and int(look.body["limit"]) <= 15


@pytest.mark.parametrize(
    ("setup", "address", "why"),
    [
        ("not invited", PRIVATE, "If it is a private channel, add Convene to it"),
        ("no chat:write.public", SECTOR, "Convene is not in that channel"),
        ("no chat:write", "U0001", "does not have Slack's permission"),
        ("archived", SECTOR, "archived"),
        ("deactivated", "U0001", "can't get messages any more"),
        ("revoked", "U0001", "Convene can no longer get into this Slack workspace"),
    ],
)
async def test_what_will_never_work_is_given_up_at_once_with_a_reason(
    setup: str,
    address: str,
    why: str,
    fake_slack: FakeSlack,
    services: Services,
    sender: OutboxSender,
) -> None:
    if setup == "not invited":
        fake_slack.remove_bot_from(PRIVATE)
    elif setup == "no chat:write.public":
        fake_slack.remove_bot_from(SECTOR)
        fake_slack.remove_scope("chat:write.public")
    elif setup == "no chat:write":
        fake_slack.remove_scope("chat:write")
    elif setup == "archived":
        fake_slack.fail_next("chat.postMessage", status=200, error="is_archived")
    elif setup == "deactivated":
        fake_slack.fail_next("conversations.open", status=200, error="user_disabled")
    else:
        fake_slack.fail_next("chat.postMessage", status=200, error="token_revoked")
    row_id = await queue(services, address, f"never:{setup}")
    await sender.drain()
    dead = await outbox_row(services, row_id)
    assert (dead.state, dead.attempts) == (WorkState.DEAD, 1)
    assert dead.last_error is not None and why in dead.last_error
    assert "(Slack said: " in dead.last_error
    if setup == "no chat:write":
        assert "needed chat:write" in dead.last_error


async def test_history_is_read_once_a_minute_per_workspace_and_15_at_a_time(
    fake_slack: FakeSlack, services: Services, sender: OutboxSender, door: SlackDoor
) -> None:
    fake_slack.history_per_minute = 1  # as Slack allows apps outside its Marketplace
    first = await queue(services, "U0001", "look:1")
    second = await queue(services, "U0002", "look:2")
    for row_id in (first, second):
        await door.sender.deliver(await outbox_row(services, row_id))
    await left_after_a_crash(services, first, second)

    assert await sender.drain() == 1
    looks = fake_slack.calls_to("conversations.history")
    assert len(looks) == 1 and not looks[0].failed, "asked once, and Slack did not say 429"
    assert int(looks[0].body["limit"]) <= 15
    done = [await outbox_row(services, r) for r in (first, second)]
    assert sorted(r.state for r in done) == sorted([WorkState.DONE, WorkState.PENDING])
    waiting = next(r for r in done if r.state == WorkState.PENDING)
    assert waiting.attempts == 1, "waiting for a look uses up none of its tries"
    assert waiting.next_attempt_at >= datetime.now(UTC) + timedelta(seconds=30)
    assert fake_slack.duplicates() == []
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


@pytest.mark.parametrize("told_by", ["app_uninstalled", "tokens_revoked"])
async def test_nothing_more_is_sent_to_a_workspace_convene_was_removed_from(
    told_by: str,
    slack: SlackPoster,
    fake_slack: FakeSlack,
    services: Services,
    sender: OutboxSender,
) -> None:
    assert await link(services) is None
    event = (
        {"type": "app_uninstalled"}
        if told_by == "app_uninstalled"
        else {"type": "tokens_revoked", "tokens": {"oauth": ["U0001"], "bot": ["UBOT"]}}
    )
    status, _ = await slack.event(event, event_id=f"Ev{told_by}")
    assert status == 200
    removed = await link(services)
    assert removed is not None and removed.removed_at is not None

    row_id = await queue(services, "U0001", "after:removed")
    fake_slack.clear()
    await sender.drain()
    dead = await outbox_row(services, row_id)
    assert (dead.state, dead.last_error) == (WorkState.DEAD, REMOVED)
    assert fake_slack.calls == [], "Slack was not asked"


async def test_a_person_s_own_token_revoked_does_not_remove_the_workspace(
    slack: SlackPoster, services: Services
) -> None:
    event = {"type": "tokens_revoked", "tokens": {"oauth": ["U0001"], "bot": []}}
    status, _ = await slack.event(event, event_id="EvUserToken")
    assert status == 200
    assert await link(services) is None
