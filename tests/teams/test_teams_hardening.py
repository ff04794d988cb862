"""When the database fails in the middle of a Teams activity, Teams is told to try again.

A message or card action is one unit of work: the mark that it was handled, what the
handler changed and the replies queued for Teams commit together. So when any part of
it fails (a table gone, the database locked, no free connection) nothing is kept,
Teams gets a 503 within a few seconds, and its retry of the same activity is handled
as if it were the first: the reply arrives, once. A database that fails while we look
up who somebody is, or store their conversation, is a 503 too, never "We don't know
who you are yet".

The database is broken for real, from outside the app: a table the turn needs is
renamed (SQLite and PostgreSQL), SQLite's write lock is held by another connection,
or every connection in the app's pool is taken.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import (
    ChatIdentity,
    FormResponse,
    OutboxMessage,
    Person,
    ProcessedEvent,
    ResponseState,
)
from tests.support.fake_botframework import BotResponse, FakeBotFramework
from tests.support.teams_activities import BOB
from tests.teams.conftest import TeamsClient, teams_settings
from tests.teams.helpers import (
    META,
    count,
    draft_of,
    invoke_card,
    only_card,
    page_title,
    posted,
    press,
    settle,
    text_of,
)

DATABASE_DOWN = {"error": "Convene can't reach its database right now. Please try again."}
STRANGER = "We don't know who you are yet"
#: How long a request may wait for the database in these tests (default 2 s).
WAIT = 0.5


@pytest.fixture
def settings_overrides(fake_teams: FakeBotFramework) -> dict[str, object]:
    return {
        **teams_settings(fake_teams),
        "database_timeout_seconds": WAIT,
        "database_pool_size": 2,  # PostgreSQL: few connections to take in the pool test
    }


@asynccontextmanager
async def table_gone(services: Services, table: str) -> AsyncIterator[None]:
    """The table is renamed, as if it were lost, and put back afterwards."""
    async with services.db.engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        yield
    finally:
        async with services.db.engine.begin() as connection:
            await connection.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))


@contextmanager
def sqlite_locked(services: Services) -> Iterator[None]:
    """Another program holds SQLite's write lock (`BEGIN EXCLUSIVE`) until we let go."""
    path = services.db.engine.url.database
    assert path, "a file database"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@asynccontextmanager
async def every_connection_taken(services: Services) -> AsyncIterator[None]:
    """Everything in the app's connection pool is in use by somebody else."""
    held: list[AsyncConnection] = []
    try:
        while True:
            try:
                held.append(await services.db.engine.connect())
            except PoolTimeout:
                break
        assert held, "the pool gave no connection at all"
        yield
    finally:
        for connection in held:
            await connection.close()


async def timed(teams: TeamsClient, activity: dict) -> tuple[BotResponse, float]:
    started = time.monotonic()
    response = await teams.send(activity)
    return response, time.monotonic() - started


# --- 1. a failed activity is retried, and the retry is handled -----------------------------


@pytest.mark.parametrize(
    "table",
    ["teams_conversations", "chat_identities", "processed_events", "form_responses"],
)
async def test_a_failed_activity_gets_503_and_the_retry_is_answered_once(
    table: str,
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    linked: int,
) -> None:
    """Bob's first message to Convene fails at each step in turn: storing his chat,
    finding who he is, marking the message handled, and the handler's own work."""
    message = teams.build.personal_message("profile", user=BOB)
    conversation = message["conversation"]["id"]
    async with table_gone(services, table):
        response = await teams.send(message)
    assert response.status == 503, response
    assert response.body == DATABASE_DOWN
    assert await count(services, ProcessedEvent) == 0, "not marked handled"
    assert await count(services, OutboxMessage) == 0, "no reply queued"
    assert await count(services, FormResponse) == 0, "no draft opened"

    # Teams tries again, and this time the database answers.
    again = await teams.send(message)
    assert again.status == 200, again
    await settle(sender)
    shown = posted(fake_teams, conversation)
    assert len(shown) == 1, [text_of(a) for a in shown]
    assert page_title(only_card(shown[0])) == "About your organisation"
    assert await count(services, FormResponse) == 1

    # A third delivery of the same activity is a retry of a handled one: ignored.
    third = await teams.send(message)
    assert third.status == 200
    await settle(sender)
    assert len(posted(fake_teams, conversation)) == 1
    assert await count(services, ProcessedEvent) == 1
    assert fake_teams.duplicates() == []


async def test_a_lost_identity_table_is_not_a_stranger(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    linked: int,
) -> None:
    """A group chat Convene knows already. Bob's first message there comes while the
    table of who is who can't be read: Teams is told to try again, and Bob is never
    told we don't know him."""
    group = teams.build.group_chat_message("help")
    assert (await teams.send(group)).status == 200
    await settle(sender)

    later = teams.build.group_chat_message("help", user=BOB)
    async with table_gone(services, "chat_identities"):
        response = await teams.send(later)
    assert response.status == 503, response
    await settle(sender)
    shown = posted(fake_teams, group["conversation"]["id"])
    assert len(shown) == 1
    assert all(STRANGER not in text_of(a) for a in shown)

    assert (await teams.send(later)).status == 200
    await settle(sender)
    shown = posted(fake_teams, group["conversation"]["id"])
    assert len(shown) == 2
    assert "What I can help with" in text_of(shown[-1])
    assert STRANGER not in text_of(shown[-1])


# --- 2. the replies are queued in the handler's own unit of work ---------------------------


async def test_action_submit_keeps_nothing_when_its_card_update_cannot_be_queued(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    linked: int,
) -> None:
    activity = await teams.say("profile")
    await settle(sender)
    conversation = activity["conversation"]["id"]
    card_id = posted(fake_teams, conversation)[0]["id"]
    card = only_card(posted(fake_teams, conversation)[0])
    response_id = card["actions"][0]["data"][META]["response_id"]
    submit = teams.build.card_submit(
        press(card, "form.next", {"charity_number": "1199999"}), reply_to_id=card_id
    )

    async with table_gone(services, "outbox_messages"):
        response = await teams.send(submit)
    assert response.status == 503, response
    draft = await draft_of(services, response_id)
    assert draft.current_page == 0, "the page did not move without its card update"
    assert draft.answers.get("charity_number") != "1199999"

    assert (await teams.send(submit)).status == 200
    await settle(sender)
    assert (await draft_of(services, response_id)).current_page == 1
    assert fake_teams.activity(conversation, card_id).updates == 1
    assert page_title(only_card(posted(fake_teams, conversation)[0])) == "Size"
    assert len(posted(fake_teams, conversation)) == 1, "updated in place, nothing new"


async def test_action_execute_keeps_nothing_when_the_chat_copy_cannot_be_queued(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    linked: int,
) -> None:
    activity = await teams.say("profile")
    await settle(sender)
    conversation = activity["conversation"]["id"]
    card_id = posted(fake_teams, conversation)[0]["id"]
    card = only_card(posted(fake_teams, conversation)[0])
    response_id = card["actions"][0]["data"][META]["response_id"]
    for _ in range(2):  # to the last page
        answer = await teams.execute("form.next", press(card, "form.next"), reply_to_id=card_id)
        card = invoke_card(answer.body)
    assert page_title(card) == "Your work"
    finish = teams.build.card_execute(
        "form.submit",
        press(card, "form.submit", {"service_areas": "food", "areas_served": "Burnley"}),
        reply_to_id=card_id,
    )

    async with table_gone(services, "outbox_messages"):
        response = await teams.send(finish)
    assert response.status == 503, response
    assert (await draft_of(services, response_id)).state == ResponseState.DRAFT

    answer = await teams.send(finish)
    assert answer.status == 200
    assert "Thank you. We saved your organisation profile." in text_of(invoke_card(answer.body))
    assert (await draft_of(services, response_id)).state == ResponseState.SUBMITTED
    await settle(sender)
    shown = posted(fake_teams, conversation)
    assert len(shown) == 2, [text_of(a) for a in shown]
    assert "Thank you. We saved your organisation profile." in text_of(shown[1])
    assert fake_teams.duplicates() == []


# --- 3. a database that is locked or busy: 503 in seconds, then the retry works -----------


async def test_a_locked_database_gets_503_in_seconds_and_the_retries_work(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    linked: int,
    on_postgres: bool,
) -> None:
    if on_postgres:
        pytest.skip(
            "SQLite's write lock; on PostgreSQL a lock wait is not bounded by "
            "CONVENE_DATABASE_TIMEOUT_SECONDS yet (see the pool test for both)"
        )
    await teams.say("help")  # Alice and her chat are known, so her turn reaches the handler
    await settle(sender)
    alice = teams.build.personal_message("profile")
    bob = teams.build.personal_message("help", user=BOB)  # new: his chat and identity are stored
    install = teams.build.install(scope="groupChat")
    people = await count(services, Person)
    identities = await count(services, ChatIdentity)

    with sqlite_locked(services):
        for activity in (alice, bob, install):
            response, took = await timed(teams, activity)
            assert response.status == 503, (activity["type"], response)
            assert response.body == DATABASE_DOWN
            assert took < 4 * WAIT + 1, f"answered after {took:.1f}s"
    assert await count(services, Person) == people
    assert await count(services, ChatIdentity) == identities

    for activity in (alice, bob, install):
        assert (await teams.send(activity)).status == 200
    await settle(sender)
    assert page_title(only_card(posted(fake_teams, alice["conversation"]["id"])[-1])) == (
        "About your organisation"
    )
    assert "What I can help with" in text_of(posted(fake_teams, bob["conversation"]["id"])[0])
    assert len(posted(fake_teams, install["conversation"]["id"])) == 1, "one welcome"
    assert fake_teams.duplicates() == []


async def test_a_database_with_no_free_connection_gets_503_in_seconds(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    linked: int,
) -> None:
    message = teams.build.personal_message("help")
    async with every_connection_taken(services):
        response, took = await timed(teams, message)
    assert response.status == 503, response
    assert response.body == DATABASE_DOWN
    assert took < 4 * WAIT + 1, f"answered after {took:.1f}s"

    assert (await teams.send(message)).status == 200
    await settle(sender)
    shown = posted(fake_teams, message["conversation"]["id"])
    assert len(shown) == 1
    assert "What I can help with" in text_of(shown[0])
