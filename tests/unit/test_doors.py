"""The door contract and the shared door pipeline (ARCHITECTURE.md, "How to add a door").

Every door's renderer must show the words of every reply; the pipeline must run its
steps in order, each through `next`, and answer a database that fails while finding
who is acting with the plain apology, keeping nothing, so that the platform's retry is
handled as if it were the first delivery.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import OperationalError

from bot.app import DOORS, SENDER, SLACK, TEAMS, build_app
from bot.core.reply import Button, Message, Notice, Reply, Section, plain_text
from bot.core.turn import Actor, Door, Turn
from bot.doors import Renderer
from bot.services import Services
from bot.slack.door import SlackDoor
from bot.teams.door import TeamsDoor
from bot.turns import (
    DATABASE_DOWN,
    Delivery,
    DoorPipeline,
    Event,
    Identify,
    Next,
    ReplyRoute,
    Step,
    TurnOutcome,
)
from bot.web.door import WebDoor

REPLIES: list[Reply] = [
    Notice(text="Nothing was saved yet", level="error"),
    Message(
        title="Open engagements",
        text="Two are open now",
        sections=[Section(heading="Riverside", text="Youth services in Riverside")],
        buttons=[Button(label="Show them", action="cmd.engagements")],
    ),
]
WORDS = (
    "Nothing was saved yet",
    "Open engagements",
    "Two are open now",
    "Youth services in Riverside",
    "Show them",
)


@pytest.mark.parametrize(
    "renderer",
    [SlackDoor.renderer, TeamsDoor.renderer, WebDoor.renderer],
    ids=["slack", "teams", "web"],
)
def test_every_renderer_shows_the_words_of_every_reply(renderer: Renderer) -> None:
    shown = renderer.render(REPLIES)
    text = shown if isinstance(shown, str) else json.dumps(shown)
    missing = [words for words in WORDS if words not in text]
    assert not missing, f"{type(renderer).__name__} dropped {missing}"


def test_build_app_registers_the_sender_of_every_door_that_is_on(services: Services) -> None:
    settings = services.settings
    expected = {Door.WEB}
    if settings.slack_enabled:
        expected.add(Door.SLACK)
    if settings.teams_enabled:
        expected.add(Door.TEAMS)
    app = build_app(services, background=False)
    assert set(app[SENDER].senders) == expected
    assert (TEAMS in app) == settings.teams_enabled
    assert (SLACK in app) == settings.slack_enabled
    assert len(DOORS) == 3, "a door's factory is in DOORS"


async def test_the_steps_run_in_order_and_a_step_may_answer_itself(services: Services) -> None:
    ran: list[str] = []

    def step(name: str, *, answers: bool = False) -> Step:
        async def run(pipeline: DoorPipeline, delivery: Delivery, next: Next) -> TurnOutcome:
            ran.append(name)
            if answers:
                return TurnOutcome(replies=[Notice(text=f"answered by {name}")])
            return await next()

        return run

    pipeline = DoorPipeline(
        services, steps=[step("first"), step("second", answers=True), step("third")]
    )
    outcome = await pipeline.run(Delivery(Turn(door=Door.WEB, actor=None, text="help")))
    assert ran == ["first", "second"]
    assert plain_text(outcome.replies) == "answered by second"


async def test_a_database_failure_finding_the_actor_is_an_apology_and_keeps_nothing(
    services: Services,
) -> None:
    kicks: list[int] = []
    pipeline = DoorPipeline(services, kick=lambda: kicks.append(1))
    route = ReplyRoute(door=Door.TEAMS, address="19:chat", workspace_id="tenant", key="k1")

    async def database_fails() -> Actor | None:
        raise OperationalError("SELECT 1", None, Exception("the database went away"))

    async def stranger() -> Actor | None:
        return None

    def delivery(identify: Identify) -> Delivery:
        return Delivery(
            Turn(door=Door.TEAMS, actor=None, conversation="19:chat", text="help"),
            identify=identify,
            event=Event("teams", "19:chat|1"),
            route=route,
        )

    failed = await pipeline.run(delivery(database_fails))
    assert failed.failed and not failed.queued
    assert plain_text(failed.replies) == DATABASE_DOWN
    assert kicks == []

    # Nothing was marked: the retry is handled, answered and sent.
    retry = await pipeline.run(delivery(stranger))
    assert not retry.failed and not retry.duplicate and retry.queued
    assert "We don't know who you are" in plain_text(retry.replies)
    assert kicks == [1]

    # Now it was: a third delivery of the same event is a duplicate, and nothing is sent.
    again = await pipeline.run(delivery(stranger))
    assert again.duplicate and not again.queued
    assert kicks == [1]
