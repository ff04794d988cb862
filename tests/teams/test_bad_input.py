"""What Teams (or someone pretending to be it) can throw at /api/messages, and what survives.

A body that is not an activity gets 400 and the server carries on; an activity type
we don't handle is acknowledged and otherwise ignored; a card pressed after its form
is gone, or by someone from another organisation, saves nothing and says why; an
activity Teams retries is handled once; and a service URL that stops answering leaves
the reply waiting in the outbox with a reason a person can read.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from sqlalchemy import delete, select

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import (
    AuditEvent,
    FormResponse,
    Organisation,
    ProcessedEvent,
    ResponseState,
    TeamsConversation,
    WorkState,
)
from tests.support.fake_botframework import FakeBotFramework
from tests.support.servers import free_port
from tests.support.teams_activities import BOB, TeamsActivities
from tests.teams.conftest import TeamsClient, link_tenant
from tests.teams.helpers import (
    META,
    count,
    draft_of,
    invoke_card,
    make_due_now,
    only_card,
    outbox_rows,
    page_title,
    posted,
    press,
    settle,
    stored_counts,
    text_of,
)

OTHER_TENANT = "99999999-8888-4777-8666-555555555555"


async def post_raw(teams: TeamsClient, body: bytes) -> tuple[int, Any]:
    """POST bytes to /api/messages with a good token, as a broken proxy might."""
    token = teams.fake.issue_token()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as client,
        client.post(teams.url, data=body, headers=headers) as response,
    ):
        return response.status, await response.json(content_type=None)


async def open_profile(teams: TeamsClient, sender: OutboxSender) -> tuple[str, dict[str, Any]]:
    """Alice types `profile`; returns the card's activity id and the card."""
    activity = await teams.say("profile")
    await settle(sender)
    shown = posted(teams.fake, activity["conversation"]["id"])
    return shown[-1]["id"], only_card(shown[-1])


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[1, 2, 3]", b'"a string"', b"\xff\xfe\x00"],
    ids=["broken", "empty", "array", "string", "binary"],
)
async def test_a_body_that_is_not_an_activity_gets_400_and_the_server_carries_on(
    body: bytes, teams: TeamsClient, services: Services, sender: OutboxSender
) -> None:
    before = await stored_counts(services)
    status, answer = await post_raw(teams, body)
    assert status == 400
    assert answer == {"error": "That is not a Bot Framework activity."}
    assert await stored_counts(services) == before

    await teams.say("help")
    await settle(sender)
    assert "What I can help with" in text_of(
        posted(teams.fake, teams.build.personal_conversation_id())[-1]
    )


@pytest.mark.parametrize("kind", ["typing", "weird", "messageReaction", "endOfConversation"])
async def test_an_activity_type_we_do_not_handle_is_acknowledged_and_ignored(
    kind: str, teams: TeamsClient, services: Services, sender: OutboxSender
) -> None:
    before = await stored_counts(services)
    activity = teams.build.personal_message("help")
    activity["type"] = kind
    response = await teams.send(activity)
    assert response.status == 200, response
    await settle(sender)
    after = await stored_counts(services)
    assert {k: v for k, v in after.items() if k != "conversations"} == {
        k: v for k, v in before.items() if k != "conversations"
    }, "nothing stored beyond the conversation reference"
    async with services.db.session() as session:
        references = (await session.scalars(select(TeamsConversation.conversation_id))).all()
    assert set(references) <= {activity["conversation"]["id"]}
    assert teams.fake.calls == []


async def test_a_card_for_a_form_that_is_gone_says_so_and_saves_nothing(
    teams: TeamsClient, services: Services, sender: OutboxSender, linked: int
) -> None:
    card_id, card = await open_profile(teams, sender)
    response_id = card["actions"][0]["data"][META]["response_id"]
    async with services.db.session() as session:
        await session.execute(delete(FormResponse).where(FormResponse.id == response_id))

    answer = await teams.execute(
        "form.next", press(card, "form.next", {"name": "Renamed"}), reply_to_id=card_id
    )
    assert answer.status == 200
    shown = invoke_card(answer.body)
    assert "That form is no longer open, so nothing was saved." in text_of(shown)
    assert await count(services, FormResponse) == 0
    async with services.db.session() as session:
        org = await session.get(Organisation, linked)
        assert org is not None and org.name == "Riverside Youth Trust"


async def test_a_card_with_data_we_did_not_make_is_out_of_date(
    teams: TeamsClient, services: Services, sender: OutboxSender, linked: int
) -> None:
    card_id, card = await open_profile(teams, sender)
    response_id = card["actions"][0]["data"][META]["response_id"]
    for data in ({"name": "x"}, {META: "nonsense"}, {META: {"response_id": "seven"}}):
        answer = await teams.execute("form.next", data, reply_to_id=card_id)
        assert answer.status == 200
        assert "That card is out of date, so nothing was saved." in text_of(
            invoke_card(answer.body)
        )
    assert (await draft_of(services, response_id)).current_page == 0


async def test_someone_from_another_organisation_cannot_change_a_draft(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
    linked: int,
) -> None:
    """Bob works for Eastgate Community Kitchen (another tenant) and replays Alice's card."""
    async with services.db.session() as session:
        eastgate = await session.scalar(
            select(Organisation.id).where(Organisation.slug == "eastgate-community-kitchen")
        )
    assert eastgate is not None
    await link_tenant(services, OTHER_TENANT, eastgate)
    card_id, card = await open_profile(teams, sender)
    response_id = card["actions"][0]["data"][META]["response_id"]
    before = await draft_of(services, response_id)

    bob = TeamsClient(
        teams.url.removesuffix("/api/messages"),
        fake_teams,
        TeamsActivities.from_fake(fake_teams, tenant_id=OTHER_TENANT),
        teams.log,
    )
    answer = await bob.execute(
        "form.next",
        press(card, "form.next", {"name": "Taken Over Ltd"}),
        reply_to_id=card_id,
        user=BOB,
    )
    assert answer.status == 200
    shown = invoke_card(answer.body)
    assert "This form belongs to another organisation, so you can't change it." in text_of(shown)

    after = await draft_of(services, response_id)
    assert (after.answers, after.current_page, after.state) == (
        before.answers,
        before.current_page,
        ResponseState.DRAFT,
    )
    async with services.db.session() as session:
        org = await session.get(Organisation, linked)
        assert org is not None and org.name == "Riverside Youth Trust"
        refused = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "form.refused")
        )
        assert refused is not None and refused.object_id == str(response_id)


async def test_a_retried_activity_is_handled_once(
    teams: TeamsClient, services: Services, sender: OutboxSender, linked: int
) -> None:
    message = teams.build.personal_message("help")
    for _ in range(3):
        response = await teams.send(message)
        assert response.status == 200
    await settle(sender)
    conversation = message["conversation"]["id"]
    assert len(posted(teams.fake, conversation)) == 1
    assert await count(services, ProcessedEvent) == 1

    # A card action retried after the first one moved the draft on: the draft moves once.
    card_id, card = await open_profile(teams, sender)
    response_id = card["actions"][0]["data"][META]["response_id"]
    press_next = teams.build.card_execute(
        "form.next", press(card, "form.next"), reply_to_id=card_id
    )
    first = await teams.send(press_next)
    assert page_title(invoke_card(first.body)) == "Size"
    again = await teams.send(press_next)
    assert again.status == 200
    assert (await draft_of(services, response_id)).current_page == 1

    install = teams.build.install(scope="groupChat")
    for _ in range(2):
        assert (await teams.send(install)).status == 200
    await settle(sender)
    assert len(posted(teams.fake, install["conversation"]["id"])) == 1, "one welcome"
    assert teams.fake.duplicates() == []


async def test_a_service_url_that_fails_leaves_the_reply_waiting_with_a_reason(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    services: Services,
    sender: OutboxSender,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/amer/"
    broken = TeamsActivities.from_fake(fake_teams, service_url=closed).personal_message("help")
    response = await teams.send(broken)  # signed for that service URL, so it is accepted
    assert response.status == 200
    await settle(sender)

    (row,) = await outbox_rows(services)
    assert row.state == WorkState.PENDING
    assert row.attempts == 1
    assert row.last_error == "could not reach Teams: ClientConnectorError"

    # The server is fine, and the next activity brings the real service URL back.
    await teams.say("help")
    await settle(sender)
    await make_due_now(services, row.id)
    await settle(sender)
    rows = await outbox_rows(services)
    assert [r.state for r in rows] == [WorkState.DONE, WorkState.DONE]
    conversation = teams.build.personal_conversation_id()
    assert len(posted(fake_teams, conversation)) == 2
    assert fake_teams.duplicates() == []
