"""The App Home lists a person's tasks; commissioners browse the provider directory in Slack."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from tests.slack.conftest import SlackPoster
from tests.slack.helpers import button_action_id, eventually, text_of_blocks
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import block_actions_payload, modal_view

Json = dict[str, Any]


def home_opened(user: str) -> Json:
    return {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"}


async def test_app_home_shows_a_draft_to_finish(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str
) -> None:
    fake = fake_slack
    status, _ = await slack.event(home_opened(tom))
    assert status == 200
    await eventually(lambda: tom in fake.home_views)
    first = text_of_blocks(fake.home_views[tom]["blocks"])
    assert "Hello Tom" in first and "Riverside Youth Trust" in first
    assert "Form to finish" not in first

    # Opening the profile starts a draft...
    await slack.command("profile", trigger_id="trigger.home-1")
    await eventually(lambda: fake.calls_to("views.update"))
    draft_view = fake.calls_to("views.update")[-1].body["view"]
    response_id = json.loads(draft_view["private_metadata"])["r"]

    # ...which the next App Home lists, with a button to carry on.
    publishes = len(fake.calls_to("views.publish"))
    await slack.event(home_opened(tom))
    await eventually(lambda: len(fake.calls_to("views.publish")) > publishes)
    publish = fake.calls_to("views.publish")[-1]
    assert publish.body["user_id"] == tom and publish.token == "xoxb-test"
    home = fake.home_views[tom]
    assert home["type"] == "home"
    text = text_of_blocks(home["blocks"])
    assert "Form to finish" in text
    assert "Organisation profile, last saved" in text

    # "Carry on" in the App Home reopens the same draft in a modal.
    carry_on = button_action_id(home, "cmd.profile")
    payload = block_actions_payload(
        carry_on,
        view=modal_view(base={**home, "type": "home"}),
        trigger_id="trigger.home-2",
    )
    status, _ = await slack.interact(payload)
    assert status == 200
    await eventually(
        lambda: any(
            c.body.get("trigger_id") == "trigger.home-2" for c in fake.calls_to("views.open")
        )
    )
    await eventually(lambda: len(fake.calls_to("views.update")) == 2)
    resumed = fake.calls_to("views.update")[-1].body["view"]
    assert json.loads(resumed["private_metadata"]) == {"r": response_id, "p": 0}


async def test_commissioner_filters_the_directory(
    slack: SlackPoster, fake_slack: FakeSlack, priya: str
) -> None:
    fake = fake_slack
    status, _ = await slack.command(
        "directory", user_id=priya, response_url=fake.response_url("directory")
    )
    assert status == 200
    answer = (await eventually(lambda: fake.responses.get("directory")))[-1]
    assert answer["response_type"] == "ephemeral"
    blocks = answer["blocks"]
    text = text_of_blocks(blocks)
    for name in (
        "Riverside Youth Trust",
        "Eastgate Community Kitchen",
        "Asha Women's Centre",
        "Silver Threads Befriending",
    ):
        assert name in text
    assert "4 organisations found." in text
    menus = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    service = next(e for e in menus if e["action_id"] == "filter|directory|service")
    assert service["type"] == "static_select"
    food = next(o for o in service["options"] if o["value"] == "food")

    # Choosing "Food" answers through the response URL with the filtered list.
    payload = block_actions_payload(
        "filter|directory|service",
        action_type="static_select",
        action={"selected_option": food, "block_id": blocks[0].get("block_id", "filters")},
        user_id=priya,
        message_ts=f"{time.time():.6f}",
        response_url=fake.response_url("filtered"),
    )
    status, _ = await slack.interact(payload)
    assert status == 200
    filtered = (await eventually(lambda: fake.responses.get("filtered")))[-1]
    text = text_of_blocks(filtered["blocks"])
    assert "1 organisation found." in text
    assert "Eastgate Community Kitchen" in text
    assert "Riverside Youth Trust" not in text
    menus = [e for b in filtered["blocks"] if b["type"] == "actions" for e in b["elements"]]
    service = next(e for e in menus if e["action_id"] == "filter|directory|service")
    assert service["initial_option"]["value"] == "food", "the menu shows the chosen filter"
    assert "Readiness answers are never shown here." in text
    # A filter only shows something, so Priya's App Home is not published again for it:
    # opening the tab afterwards is the one publish she gets.
    await slack.event(home_opened(priya))
    await eventually(lambda: priya in fake.home_views)
    await asyncio.sleep(0.3)  # room for a wrong second publish to land
    publishes = [c for c in fake.calls_to("views.publish") if c.body["user_id"] == priya]
    assert len(publishes) == 1


async def test_a_provider_is_politely_refused_the_directory(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str
) -> None:
    status, _ = await slack.command(
        "directory", user_id=tom, response_url=fake_slack.response_url("refused")
    )
    assert status == 200
    answer = (await eventually(lambda: fake_slack.responses.get("refused")))[-1]
    text = text_of_blocks(answer["blocks"])
    assert "The provider directory is for council commissioners." in text
    assert "type `profile`" in text  # Slack still says what to type, in code formatting
    assert "Eastgate" not in text and "Riverside Youth Trust" not in text
