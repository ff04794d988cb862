"""Fixtures for the Teams door: fake Bot Framework services on loopback, the real app aimed at them.

Nothing inside Convene is mocked. Activities reach `POST /api/messages` with JWTs the
fake signs the way Teams does; the app's replies go over HTTP to the fake Bot
Connector with bearer tokens from the fake token endpoint. After every test, every
Adaptive Card the app produced (sent to the connector, or returned in an invoke
response) goes through the offline 1.5 checker, because Teams shows an invalid card
as an empty box and tells nobody why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import SENDER, TEAMS
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.teams.door import TeamsDoor
from storage.models import Door, Organisation, WorkspaceLink
from tests.support.adaptive_cards import check_card
from tests.support.fake_botframework import BotResponse, FakeBotFramework
from tests.support.servers import RunningApp
from tests.support.teams_activities import ALICE, TeamsActivities, TeamsUser

CARD = "application/vnd.microsoft.card.adaptive"
RIVERSIDE = "riverside-youth-trust"

Json = dict[str, Any]


# --- Adaptive Card validity, checked after every test ----------------------------------------


@dataclass
class CardLog:
    """Where the cards a test produced can be found once it has run."""

    fakes: list[FakeBotFramework] = field(default_factory=list)
    returned: list[tuple[str, Json]] = field(default_factory=list)


CARDS = pytest.StashKey[CardLog]()


def card_log(request: pytest.FixtureRequest) -> CardLog:
    stash = request.node.stash
    if CARDS not in stash:
        stash[CARDS] = CardLog()
    return stash[CARDS]


def _cards_in(node: Any) -> Iterator[Json]:
    """Every Adaptive Card attachment anywhere in a connector request body."""
    if isinstance(node, dict):
        if node.get("contentType") == CARD and isinstance(node.get("content"), dict):
            yield node["content"]
        for value in node.values():
            yield from _cards_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _cards_in(item)


def card_problems(log: CardLog) -> list[str]:
    """Everything wrong with the cards the app produced during one test."""
    problems: list[str] = []
    for fake in log.fakes:
        for number, call in enumerate(fake.calls):
            for card in _cards_in(call.body):
                try:
                    check_card(card)
                except AssertionError as exc:
                    problems.append(f"connector call {number} ({call.kind}): {exc}")
    for where, card in log.returned:
        try:
            check_card(card)
        except AssertionError as exc:
            problems.append(f"{where}: {exc}")
    return problems


@pytest.fixture(autouse=True)
def adaptive_cards_are_valid(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test, fail it if any card the app sent or returned breaks the 1.5 rules."""
    log = card_log(request)
    yield
    problems = card_problems(log)
    assert not problems, "invalid Adaptive Cards from the Teams door:\n" + "\n".join(problems)


# --- the fake Bot Framework, the app, and a Teams-like client --------------------------------


@pytest.fixture
async def fake_teams(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> AsyncIterator[FakeBotFramework]:
    # Its servers run on their own loop in a thread: botbuilder and MSAL block their caller.
    fake = await FakeBotFramework().start()
    card_log(request).fakes.append(fake)
    for name, value in fake.trust_env.items():
        monkeypatch.setenv(name, value)
    yield fake
    await fake.stop()


@pytest.fixture
def settings_overrides(fake_teams: FakeBotFramework) -> dict[str, object]:
    """A single-tenant bot whose every Microsoft endpoint is the fake."""
    return teams_settings(fake_teams)


def teams_settings(fake: FakeBotFramework) -> dict[str, object]:
    return {
        "microsoft_app_id": fake.app_id,
        "microsoft_app_password": fake.app_password,
        "microsoft_app_tenant_id": fake.tenant_id,
        "teams_openid_metadata_url": fake.openid_metadata_url,
        "teams_login_url": fake.authority,
    }


@pytest.fixture
def activities(fake_teams: FakeBotFramework) -> TeamsActivities:
    return TeamsActivities.from_fake(fake_teams)


class TeamsClient:
    """Plays Microsoft Teams towards our `/api/messages`: signed activities in, cards out.

    Cards returned in invoke responses are kept for the card check, as Teams would
    render them.
    """

    def __init__(
        self, url: str, fake: FakeBotFramework, builder: TeamsActivities, log: CardLog
    ) -> None:
        self.url = f"{url}/api/messages"
        self.fake = fake
        self.build = builder
        self.log = log

    async def send(self, activity: Json, **kwargs: Any) -> BotResponse:
        response = await self.fake.send_to_bot(self.url, activity, **kwargs)
        body = response.body
        if (
            isinstance(body, dict)
            and body.get("type") == CARD
            and isinstance(body.get("value"), dict)
        ):
            self.log.returned.append((f"invoke response to {activity.get('id')}", body["value"]))
        return response

    async def say(self, text: str, *, user: TeamsUser = ALICE, **kwargs: Any) -> Json:
        """A personal-chat message; asserts Teams would see it accepted. Returns the activity."""
        activity = self.build.personal_message(text, user=user, **kwargs)
        response = await self.send(activity)
        assert response.status == 200, response
        return activity

    async def execute(
        self, verb: str, data: Json, *, reply_to_id: str, user: TeamsUser = ALICE, **kwargs: Any
    ) -> BotResponse:
        """Press an `Action.Execute` button: an `adaptiveCard/action` invoke."""
        activity = self.build.card_execute(verb, data, reply_to_id=reply_to_id, user=user, **kwargs)
        return await self.send(activity)


@pytest.fixture
def teams(
    app_server: RunningApp,
    fake_teams: FakeBotFramework,
    activities: TeamsActivities,
    request: pytest.FixtureRequest,
) -> TeamsClient:
    return TeamsClient(app_server.url, fake_teams, activities, card_log(request))


@pytest.fixture
async def sender(app_server: RunningApp) -> AsyncIterator[OutboxSender]:
    """The app's own outbox sender (the scheduler is off in tests: drain it by hand)."""
    found = app_server.runner.app[SENDER]
    yield found
    # A reply starts a send pass in the background; let it end before the database closes.
    await found.idle()


@pytest.fixture
def door(app_server: RunningApp) -> TeamsDoor:
    return app_server.runner.app[TEAMS]


@pytest.fixture
async def riverside(services: Services) -> int:
    """The id of Riverside Youth Trust, a demo provider."""
    async with services.db.session() as session:
        org_id = await session.scalar(select(Organisation.id).where(Organisation.slug == RIVERSIDE))
    assert org_id is not None
    return int(org_id)


async def link_tenant(services: Services, tenant_id: str, organisation_id: int) -> None:
    """What an admin does when connecting their Teams tenant to their organisation."""
    async with services.db.session() as session:
        session.add(
            WorkspaceLink(
                platform=Door.TEAMS,
                workspace_id=tenant_id,
                name="Teams tenant",
                organisation_id=organisation_id,
            )
        )


@pytest.fixture
async def linked(services: Services, fake_teams: FakeBotFramework, riverside: int) -> int:
    """The fake's tenant is linked to Riverside Youth Trust, so its people are providers."""
    await link_tenant(services, fake_teams.tenant_id, riverside)
    return riverside
