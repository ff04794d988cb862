"""Slack failing in ways that are not Slack's JSON: a proxy's HTML 502, a text 405.

slack_sdk hands such answers over as a string (or nothing), and code that read the error
code with `exc.response.get("error")` crashed, so the person got no answer at all. Every
call Convene makes to Slack treats any failure as a failed call: the person still gets
a sensible answer, and a queued message waits and is tried again.
"""

from __future__ import annotations

import pytest

from bot.core.reply import Notice, ReplyList
from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import Door, WorkState
from storage.outbox import enqueue
from tests.slack.conftest import SlackPoster
from tests.slack.helpers import eventually
from tests.support.fake_slack import FakeSlack
from tests.support.rows import make_due_now, outbox_row

NEWCOMER = "U0099"

NOT_JSON = [
    pytest.param(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html", id="502"),
    pytest.param(405, "Method Not Allowed", "text/plain", id="405"),
]


@pytest.mark.parametrize(("status", "body", "content_type"), NOT_JSON)
async def test_a_newcomer_is_answered_when_slack_wont_say_who_they_are(
    status: int, body: str, content_type: str, slack: SlackPoster, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("T0001", NEWCOMER, "Nia Newcomer", email="nia@example.org")
    fake_slack.fail_next("users.info", status=status, body=body, content_type=content_type)
    answer, _ = await slack.command(
        "help", user_id=NEWCOMER, response_url=fake_slack.response_url("who")
    )
    assert answer == 200
    said = await eventually(lambda: fake_slack.responses.get("who"))
    assert "What I can help with" in said[-1]["text"]
    assert fake_slack.calls_to("users.info")[0].failed


@pytest.mark.parametrize(("status", "body", "content_type"), NOT_JSON)
async def test_a_modal_that_slack_wont_open_ends_in_a_kind_message(
    status: int,
    body: str,
    content_type: str,
    slack: SlackPoster,
    fake_slack: FakeSlack,
    tom: str,
) -> None:
    fake_slack.fail_next("views.open", status=status, body=body, content_type=content_type)
    answer, _ = await slack.command("profile", response_url=fake_slack.response_url("modal"))
    assert answer == 200
    said = await eventually(lambda: fake_slack.responses.get("modal"))
    assert "Please try again" in said[-1]["text"]
    assert not fake_slack.calls_to("views.update")


@pytest.mark.parametrize(("status", "body", "content_type"), NOT_JSON)
async def test_a_home_tab_slack_wont_take_is_shown_next_time(
    status: int,
    body: str,
    content_type: str,
    slack: SlackPoster,
    fake_slack: FakeSlack,
    tom: str,
) -> None:
    opened = {"type": "app_home_opened", "user": tom, "tab": "home"}
    fake_slack.fail_next("views.publish", status=status, body=body, content_type=content_type)
    answer, _ = await slack.event(opened, event_id="EvHome1")
    assert answer == 200, "Slack's own failure: asking Slack to send the event again won't help"
    assert tom not in fake_slack.home_views
    answer, _ = await slack.event(opened, event_id="EvHome2")
    assert answer == 200
    assert fake_slack.home_views[tom]["type"] == "home"


@pytest.mark.parametrize(("status", "body", "content_type"), NOT_JSON)
async def test_a_queued_message_waits_and_goes_when_slack_is_back(
    status: int,
    body: str,
    content_type: str,
    fake_slack: FakeSlack,
    services: Services,
    sender: OutboxSender,
) -> None:
    async with services.db.session() as session:
        row = await enqueue(
            session,
            door=Door.SLACK,
            address="U0001",
            workspace_id="T0001",
            payload=ReplyList(replies=[Notice(text="Hello")]).model_dump(mode="json"),
            idempotency_key="test:not-json",
        )
    fake_slack.fail_next("chat.postMessage", status=status, body=body, content_type=content_type)
    await sender.drain()
    waiting = await outbox_row(services, row.id)
    assert (waiting.state, waiting.attempts) == (WorkState.PENDING, 1)
    expected = f"Slack answered {status}" if status >= 500 else f"Slack error: http_{status}"
    assert waiting.last_error == expected

    await make_due_now(services, row.id)
    await sender.drain()
    assert (await outbox_row(services, row.id)).state == WorkState.DONE
    assert [m["text"] for m in fake_slack.delivered("U0001")] == ["Hello"]
