"""Engagements in Slack modals: a commissioner sets one up and publishes it, a provider
answers its questions, over real HTTP against the fake Slack Web API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.engagement_tables import Engagement, EngagementState
from storage.models import FormResponse, ResponseState
from tests.slack.conftest import SlackPoster
from tests.slack.helpers import (
    eventually,
    fill_in,
    settle,
    show_update,
    text_of_blocks,
)
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import block_actions_payload, view_submission_payload

Json = dict[str, Any]


def button_labelled(view: Json, label: str) -> Json:
    for block in view["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return dict(element)
    raise AssertionError(f"no {label!r} button")


async def open_modal(slack: SlackPoster, fake: FakeSlack, text: str, user: str) -> str:
    before = len(fake.calls_to("views.update"))
    status, _ = await slack.command(
        text, user_id=user, trigger_id=f"trigger.{text}", response_url=fake.response_url(text)
    )
    assert status == 200
    await eventually(lambda: len(fake.calls_to("views.update")) > before)
    return str(fake.calls_to("views.update")[-1].body["view_id"])


async def submit(
    slack: SlackPoster, fake: FakeSlack, view_id: str, changes: dict[str, Any], user: str
) -> Json:
    view = fake.views[view_id]
    payload = view_submission_payload(view=view, values=fill_in(view, changes), user_id=user)
    status, answer = await slack.interact(payload)
    assert status == 200 and isinstance(answer, dict), answer
    if answer.get("response_action") == "update":
        show_update(fake, view_id, answer["view"])
    return answer


async def test_set_up_publish_and_answer_in_modals(
    slack: SlackPoster,
    fake_slack: FakeSlack,
    tom: str,
    priya: str,
    services: Services,
    sender: OutboxSender,
) -> None:
    fake = fake_slack
    # Tom has used Convene in Slack before, so Slack is where his messages go.
    status, _ = await slack.command("help", user_id=tom, response_url=fake.response_url("help"))
    assert status == 200
    view_id = await open_modal(slack, fake, "engagements new", priya)
    assert "What is this engagement called?" in text_of_blocks(fake.views[view_id]["blocks"])
    closes = (services.clock.now() + timedelta(weeks=3)).strftime("%d/%m/%Y")
    pages = [
        {
            "title": "Youth employment",
            "purpose": "Help young people into work.",
            "service_area": "employment_skills",
        },
        {"closes_on": closes},
        {"questions": ["viable_terms", "working_with_others"]},
    ]
    for changes in pages:
        answer = await submit(slack, fake, view_id, changes, priya)
        assert answer.get("response_action") == "update", answer
    draft = text_of_blocks(fake.views[view_id]["blocks"])
    assert "Draft: Youth employment" in draft
    # Three weeks is short of the council's own 28-day minimum: the guardrail says so
    # before anything is sent (the six-week figure is for tender windows, not engagements).
    assert "asks for at least 28 days" in draft
    async with services.db.session() as session:
        engagement = await session.scalar(select(Engagement))
        assert engagement is not None and engagement.state == EngagementState.DRAFT

    # Publish from the button in the draft.
    publish = button_labelled(fake.views[view_id], "Publish")
    assert publish["value"] == f"publish {engagement.id}"
    payload = block_actions_payload(
        publish["action_id"], value=publish["value"], view=fake.views[view_id], user_id=priya
    )
    status, _ = await slack.interact(payload)
    assert status == 200

    async def published() -> bool:
        async with services.db.session() as session:
            row = await session.get(Engagement, engagement.id)
            return row is not None and row.state == EngagementState.OPEN

    await eventually(published)
    # Tom's Riverside Youth Trust works on jobs and skills: his invitation arrives by DM.
    await settle(sender)
    invitation = fake.delivered(tom)
    assert invitation and "Youth employment" in invitation[-1]["text"]

    # Tom answers in a modal opened from the slash command.
    view_id = await open_modal(slack, fake, f"engagements answer {engagement.id}", tom)
    page = text_of_blocks(fake.views[view_id]["blocks"])
    assert "What would make this work possible" in page
    answer = await submit(
        slack,
        fake,
        view_id,
        {"viable_terms": "Three-year funding, paid quarterly in advance."},
        tom,
    )
    answer = await submit(slack, fake, view_id, {"working_with_others": "lead"}, tom)
    assert "Thank you" in text_of_blocks(answer["view"]["blocks"])
    async with services.db.session() as session:
        response = await session.scalar(
            select(FormResponse).where(
                FormResponse.engagement_id == engagement.id,
                FormResponse.form_key == f"engagement-{engagement.id}",
            )
        )
        assert response is not None and response.state == ResponseState.SUBMITTED
        assert response.answers.get("working_with_others") == "lead", response.answers
