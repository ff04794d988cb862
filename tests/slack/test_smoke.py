"""A first end-to-end pass through the Slack door over real HTTP."""

from __future__ import annotations

from tests.slack.conftest import SlackPoster
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import slash_command_body


async def test_help_answers_through_the_response_url(slack: SlackPoster, fake_slack: FakeSlack) -> None:
    fake_slack.add_user("T0001", "U0001", "Tom Okafor", email="tom@riversideyouth.example")
    body = slash_command_body(text="help", response_url=fake_slack.response_url("h1"))
    status, _ = await slack.post(body, "application/x-www-form-urlencoded")
    assert status == 200
    for _ in range(50):
        if fake_slack.responses.get("h1"):
            break
        import asyncio

        await asyncio.sleep(0.05)
    assert "What I can help with" in str(fake_slack.responses["h1"][-1])


async def test_profile_opens_a_modal_then_fills_it(slack: SlackPoster, fake_slack: FakeSlack) -> None:
    fake_slack.add_user("T0001", "U0001", "Tom Okafor", email="tom@riversideyouth.example")
    body = slash_command_body(text="profile", trigger_id="t-1", response_url=fake_slack.response_url("p"))
    status, _ = await slack.post(body, "application/x-www-form-urlencoded")
    assert status == 200
    import asyncio

    for _ in range(50):
        if fake_slack.calls_to("views.update"):
            break
        await asyncio.sleep(0.05)
    assert fake_slack.calls_to("views.open")
    update = fake_slack.calls_to("views.update")[-1]
    assert update.body["view"]["callback_id"] == "convene_form"
