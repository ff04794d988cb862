"""The fake Bot Framework, proven against real botbuilder code.

A bare ``CloudAdapter`` with ``ConfigurationBotFrameworkAuthentication`` (botbuilder's own
classes, unmodified) is served by a real aiohttp server on loopback. Activities reach it
signed the way Teams signs them; its replies reach the fake connector with a bearer token
MSAL obtained from the fake token endpoint over https.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import msal
import pytest
from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.models import ErrorResponseException

from tests.support.fake_botframework import BOT_FRAMEWORK_SCOPE, FakeBotFramework
from tests.support.teams_activities import BOB, TeamsActivities

CARD_TYPE = "application/vnd.microsoft.card.adaptive"


def _card(text: str) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": [{"type": "TextBlock", "text": text, "wrap": True}],
    }


class EchoBot(ActivityHandler):
    """Echoes messages; answers Action.Execute with a refreshed card; keeps references."""

    def __init__(self) -> None:
        self.references: list[dict[str, Any]] = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        reference = TurnContext.get_conversation_reference(turn_context.activity)
        self.references.append(reference.serialize())
        await turn_context.send_activity(MessageFactory.text(f"echo: {turn_context.activity.text}"))

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        data = invoke_value.action.get("data") or {}
        text = f"{invoke_value.action.get('verb')}: {data.get('name', '')}"
        return AdaptiveCardInvokeResponse(status_code=200, type=CARD_TYPE, value=_card(text))


@dataclass
class BotServer:
    """The bare botbuilder bot, served at `url` on loopback."""

    url: str
    direct_url: str
    adapter: CloudAdapter
    bot: EchoBot


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeBotFramework]:
    async with FakeBotFramework() as server:
        for name, value in server.trust_env.items():
            monkeypatch.setenv(name, value)
        yield server


@pytest.fixture
def teams(fake: FakeBotFramework) -> TeamsActivities:
    return TeamsActivities.from_fake(fake)


def _adapter(fake: FakeBotFramework) -> CloudAdapter:
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(fake.botbuilder_config()))


@pytest.fixture
async def bot_server(fake: FakeBotFramework) -> AsyncIterator[BotServer]:
    adapter = _adapter(fake)
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        response = await adapter.process(request, bot)
        assert response is not None
        return response

    async def direct(request: web.Request) -> web.Response:
        """process_activity with our own response writing (no second serialization)."""
        activity = Activity().deserialize(await request.json())
        invoke_response = await adapter.process_activity(
            request.headers.get("Authorization", ""), activity, bot.on_turn
        )
        if invoke_response is None:
            return web.Response(status=201)
        return web.json_response(invoke_response.body, status=invoke_response.status)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_post("/api/direct", direct)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    yield BotServer(f"{base}/api/messages", f"{base}/api/direct", adapter, bot)
    await runner.cleanup()


# ---------------------------------------------------------------- (1) a turn end to end


async def test_message_turn_replies_through_fake_connector_with_fake_token(
    fake: FakeBotFramework, teams: TeamsActivities, bot_server: BotServer
) -> None:
    activity = teams.personal_message("hello")
    response = await fake.send_to_bot(bot_server.url, activity)
    assert response.status == 201

    conversation_id = activity["conversation"]["id"]
    [reply] = fake.activities_in(conversation_id)
    assert reply["text"] == "echo: hello"
    assert reply["replyToId"] == activity["id"]
    assert reply["recipient"]["id"] == activity["from"]["id"]

    [call] = fake.calls
    assert (call.kind, call.status, call.activity_id) == ("reply", 201, activity["id"])
    assert call.token_app_id == fake.app_id
    [grant] = [t for t in fake.token_requests if t.granted]
    assert call.authorization == f"Bearer {grant.access_token}"
    assert grant.client_id == fake.app_id
    assert grant.scope == f"{BOT_FRAMEWORK_SCOPE}/.default"
    assert fake.metadata_requests >= 2  # OpenID metadata + JWKS, fetched by the validator


async def test_group_and_channel_messages_carry_the_bot_mention(
    fake: FakeBotFramework, teams: TeamsActivities, bot_server: BotServer
) -> None:
    for activity in (teams.group_chat_message("status"), teams.channel_message("status")):
        assert activity["text"] == "<at>Convene</at> status"
        assert activity["entities"][0]["mentioned"]["id"] == f"28:{fake.app_id}"
        response = await fake.send_to_bot(bot_server.url, activity)
        assert response.status == 201
        [reply] = fake.activities_in(activity["conversation"]["id"])
        assert reply["text"] == "echo: <at>Convene</at> status"
    assert ";messageid=" in teams.channel_message("x")["conversation"]["id"]


async def test_bare_adapter_fetches_a_new_token_every_turn(
    fake: FakeBotFramework, teams: TeamsActivities, bot_server: BotServer
) -> None:
    """Characterises the known cost: botbuilder builds new MSAL credentials per turn."""
    for n in range(3):
        response = await fake.send_to_bot(bot_server.url, teams.personal_message(f"m{n}"))
        assert response.status == 201
    assert fake.tokens_granted() == 3
    assert len(fake.bearer_tokens_used()) == 3


async def test_action_execute_invoke_returns_refreshed_card(
    fake: FakeBotFramework, teams: TeamsActivities, bot_server: BotServer
) -> None:
    invoke = teams.card_execute("submit", {"name": "Bridge Trust"}, reply_to_id="1700000000000")
    # Bare CloudAdapter.process serializes the InvokeResponse body a second time
    # (ActivityHandler already turned it into a dict) and crashes: 500.
    assert (await fake.send_to_bot(bot_server.url, invoke)).status == 500
    # Calling process_activity and writing the body ourselves works.
    response = await fake.send_to_bot(bot_server.direct_url, invoke)
    assert response.status == 200
    assert response.body == {
        "statusCode": 200,
        "type": CARD_TYPE,
        "value": _card("submit: Bridge Trust"),
    }
    assert fake.calls == []  # the refreshed card travels in the HTTP response


# ---------------------------------------------------------------- (2) bad tokens

# What the *bare* CloudAdapter answers. It only maps PermissionError to 401: PyJWT errors
# (expired, not yet valid, bad signature), an unknown kid (IndexError) and a missing
# header (AttributeError) escape as 500. Our Teams door must answer 401 for all of them.
BARE_ADAPTER_STATUS = {
    "expired": 500,
    "not_yet_valid": 500,
    "wrong_key": 500,
    "unknown_kid": 500,
    "wrong_audience": 401,
    "wrong_issuer": 401,
    "missing_serviceurl": 401,
    "mismatched_serviceurl": 401,
}


@pytest.mark.parametrize("kind", sorted(BARE_ADAPTER_STATUS))
async def test_bad_tokens_are_rejected(
    fake: FakeBotFramework, teams: TeamsActivities, bot_server: BotServer, kind: Any
) -> None:
    activity = teams.personal_message("let me in")
    response = await fake.send_to_bot(bot_server.url, activity, token=fake.issue_bad_token(kind))
    assert response.status == BARE_ADAPTER_STATUS[kind]
    assert fake.calls == []
    assert bot_server.bot.references == []


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 500), ("Bearer", 500), ("Bearer not-a-jwt", 500), ("Basic dXNlcjpwdw==", 401)],
)
async def test_missing_or_malformed_authorization_is_rejected(
    fake: FakeBotFramework,
    teams: TeamsActivities,
    bot_server: BotServer,
    authorization: str | None,
    status: int,
) -> None:
    activity = teams.personal_message("let me in")
    response = await fake.send_to_bot(bot_server.url, activity, authorization=authorization)
    assert response.status == status
    assert fake.calls == []


async def test_good_token_with_leeway_and_unendorsed_channel(
    fake: FakeBotFramework, teams: TeamsActivities, bot_server: BotServer
) -> None:
    # botbuilder allows 5 minutes of clock skew.
    activity = teams.personal_message("late")
    token = fake.issue_token(fake.app_id, fake.service_url, expires_in=-60)
    assert (await fake.send_to_bot(bot_server.url, activity, token=token)).status == 201
    # A channel the signing key does not endorse is refused (botbuilder raises → 500).
    other = dict(teams.personal_message("x"), channelId="not-endorsed")
    assert (await fake.send_to_bot(bot_server.url, other)).status == 500


async def test_outbound_failures_inside_the_turn_surface_as_inbound_errors(
    fake: FakeBotFramework, teams: TeamsActivities, bot_server: BotServer
) -> None:
    """Bare adapter: a wrong APP_PASSWORD becomes a 401 to Teams, a throttled reply a 500."""
    wrong = CloudAdapter(
        ConfigurationBotFrameworkAuthentication(fake.botbuilder_config(app_password="nope"))
    )
    activity = Activity().deserialize(teams.personal_message("hi"))
    header = f"Bearer {fake.issue_token(fake.app_id, fake.service_url)}"
    with pytest.raises(PermissionError, match="invalid_client"):
        await wrong.process_activity(header, activity, bot_server.bot.on_turn)
    fake.fail_next("reply", status=429)
    response = await fake.send_to_bot(bot_server.url, teams.personal_message("hi"))
    assert response.status == 500


# ---------------------------------------------------------------- (3) proactive + update


async def test_continue_conversation_after_restart_and_update_in_place(
    fake: FakeBotFramework, teams: TeamsActivities, bot_server: BotServer
) -> None:
    activity = teams.personal_message("remember me", user=BOB)
    assert (await fake.send_to_bot(bot_server.url, activity)).status == 201
    stored = json.loads(json.dumps(bot_server.bot.references[-1]))  # as if saved to the DB

    restarted = _adapter(fake)  # a new process: nothing cached
    reference = ConversationReference().deserialize(stored)
    sent: dict[str, str] = {}

    async def remind(turn_context: TurnContext) -> None:
        card = MessageFactory.attachment(
            {"contentType": CARD_TYPE, "content": _card("Your return is due Friday")}
        )
        card.channel_data = {"convene": {"key": "reminder-42"}}
        resource = await turn_context.send_activity(card)
        sent["id"] = resource.id
        updated = MessageFactory.text("Thanks, received.")
        updated.id = resource.id
        await turn_context.update_activity(updated)

    await restarted.continue_conversation(reference, remind, fake.app_id)

    conversation_id = activity["conversation"]["id"]
    shown = fake.activities_in(conversation_id)
    assert [a.get("text") for a in shown] == ["echo: remember me", "Thanks, received."]
    proactive = fake.activity(conversation_id, sent["id"])
    assert proactive.activity["text"] == "Thanks, received."
    assert proactive.updates == 1
    assert [c.kind for c in fake.calls] == ["reply", "reply", "update"]
    assert fake.calls[-1].activity_id == sent["id"]
    assert fake.calls[1].body is not None
    assert fake.calls[1].body["recipient"]["id"] == BOB.id
    assert fake.duplicates() == []


# ---------------------------------------------------------------- connector behaviour


async def _proactive(
    fake: FakeBotFramework, teams: TeamsActivities, text: str, conversation_id: str | None = None
) -> Any:
    """Send `text` proactively via the bare adapter; return the ResourceResponse or error."""
    reference = ConversationReference(
        channel_id="msteams",
        service_url=fake.service_url,
        conversation=ConversationAccount(id=conversation_id or teams.personal_conversation_id()),
        bot=ChannelAccount(id=teams.bot_id),
        user=ChannelAccount(id="29:someone"),
    )
    outcome: dict[str, Any] = {}

    async def send(turn_context: TurnContext) -> None:
        try:
            outcome["result"] = await turn_context.send_activity(MessageFactory.text(text))
        except Exception as exc:
            outcome["result"] = exc

    await _adapter(fake).continue_conversation(reference, send, fake.app_id)
    return outcome["result"]


@pytest.mark.parametrize("status", [429, 412, 502, 504, 403, 404])
async def test_injected_failures_reach_botbuilder_as_error_responses(
    fake: FakeBotFramework, teams: TeamsActivities, status: int
) -> None:
    fake.fail_next("reply", status=status, retry_after=2)
    error = await _proactive(fake, teams, "hi")
    assert isinstance(error, ErrorResponseException)
    assert error.response.status_code == status
    assert error.error.error.code == fake.calls[0].error_code
    if status in (429,):
        assert error.response.headers["Retry-After"] == "2"
    assert len(fake.calls) == 1  # msrest does not retry POSTs
    assert fake.activities_in(teams.personal_conversation_id()) == []


async def test_deleted_conversation_answers_404_conversation_not_found(
    fake: FakeBotFramework, teams: TeamsActivities
) -> None:
    assert not isinstance(await _proactive(fake, teams, "one"), Exception)
    fake.delete_conversation(teams.personal_conversation_id())
    error = await _proactive(fake, teams, "two")
    assert isinstance(error, ErrorResponseException)
    assert (error.response.status_code, error.error.error.code) == (404, "ConversationNotFound")


async def test_ambiguous_failure_delivers_and_duplicates_are_detected(
    fake: FakeBotFramework, teams: TeamsActivities
) -> None:
    conversation_id = teams.personal_conversation_id()
    reference = ConversationReference(
        channel_id="msteams",
        service_url=fake.service_url,
        conversation=ConversationAccount(id=conversation_id),
        bot=ChannelAccount(id=teams.bot_id),
        user=ChannelAccount(id="29:someone"),
    )
    fake.fail_next("*", status=504, retry_after=None, delivered=True)

    async def send_twice(turn_context: TurnContext) -> None:
        for _ in range(2):
            activity = MessageFactory.text("once only")
            activity.channel_data = {"convene": {"key": "outbox-7"}}
            with contextlib.suppress(ErrorResponseException):
                await turn_context.send_activity(activity)

    await _adapter(fake).continue_conversation(reference, send_twice, fake.app_id)
    assert [c.status for c in fake.calls] == [504, 201]
    assert len(fake.activities_in(conversation_id)) == 2
    assert fake.duplicates() == ["outbox-7"]


async def test_rate_limits_answer_429_with_retry_after(fake: FakeBotFramework) -> None:
    fake.enforce_rate_limits(per_conversation_per_second=3, per_tenant_per_second=50)
    token = await _client_token(fake)
    statuses, retry_after = [], None
    async with aiohttp.ClientSession() as session:
        for n in range(4):
            async with session.post(
                f"{fake.service_url}v3/conversations/a%3Aconv/activities",
                json={"type": "message", "text": str(n), "conversation": {"tenantId": "t1"}},
                headers={"Authorization": f"Bearer {token}"},
            ) as resp:
                statuses.append(resp.status)
                retry_after = resp.headers.get("Retry-After", retry_after)
    assert statuses == [201, 201, 201, 429]
    assert retry_after == "1"


async def test_connector_rejects_tokens_it_did_not_issue(fake: FakeBotFramework) -> None:
    forged = fake.issue_token(fake.app_id)  # a channel token is not an AAD access token
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.service_url}v3/conversations/a%3Aconv/activities",
            json={"type": "message", "text": "hi"},
            headers={"Authorization": f"Bearer {forged}"},
        ) as resp,
    ):
        assert resp.status == 401
    assert fake.calls[0].token_app_id is None


async def test_token_endpoint_refuses_a_wrong_secret(fake: FakeBotFramework) -> None:
    app = msal.ConfidentialClientApplication(
        fake.app_id, client_credential="wrong", authority=fake.authority, instance_discovery=False
    )
    result = await asyncio.to_thread(
        app.acquire_token_for_client, [f"{BOT_FRAMEWORK_SCOPE}/.default"]
    )
    assert result["error"] == "invalid_client"
    assert not fake.token_requests[0].granted


async def test_create_conversation_is_stable_per_user(
    fake: FakeBotFramework, teams: TeamsActivities
) -> None:
    adapter = _adapter(fake)
    created: list[str] = []

    async def capture(turn_context: TurnContext) -> None:
        created.append(turn_context.activity.conversation.id)

    parameters = ConversationParameters(
        bot=ChannelAccount(id=teams.bot_id),
        members=[ChannelAccount(id=BOB.id)],
        tenant_id=fake.tenant_id,
        channel_data={"tenant": {"id": fake.tenant_id}},
        is_group=False,
    )
    for _ in range(2):
        await adapter.create_conversation(
            fake.app_id, capture, parameters, "msteams", fake.service_url
        )
    assert created[0] == created[1] and created[0].startswith("a:")
    assert len(fake.created_conversations) == 2


async def _client_token(fake: FakeBotFramework) -> str:
    """An access token from the fake token endpoint, via MSAL on an Entra-style authority."""
    app = msal.ConfidentialClientApplication(
        fake.app_id,
        client_credential=fake.app_password,
        authority=fake.authority,
        instance_discovery=False,
    )
    result = await asyncio.to_thread(
        app.acquire_token_for_client, [f"{BOT_FRAMEWORK_SCOPE}/.default"]
    )
    return str(result["access_token"])


def test_teams_builders_shape() -> None:
    teams = TeamsActivities()
    install = teams.install(scope="team")
    assert install["type"] == "conversationUpdate"
    assert install["membersAdded"][0]["id"] == teams.bot_id
    assert install["channelData"]["eventType"] == "teamMemberAdded"
    assert teams.installation_update("add")["action"] == "add"
    submit = teams.card_submit({"choice": "yes"}, reply_to_id="123")
    assert submit["type"] == "message" and submit["value"] == {"choice": "yes"}
    execute = teams.card_execute("approve", {"id": 1}, reply_to_id="123")
    assert execute["name"] == "adaptiveCard/action"
    assert execute["value"]["action"]["type"] == "Action.Execute"
    for activity in (install, submit, execute, teams.personal_message("x")):
        assert activity["conversation"]["tenantId"] == teams.tenant_id
        parsed = Activity().deserialize(activity)
        # botbuilder-python maps tenant_id to "tenantID", so Teams' "tenantId" is lost:
        # read the tenant from channelData.tenant.id.
        assert parsed.conversation.tenant_id is None
        assert parsed.channel_data["tenant"]["id"] == teams.tenant_id
        assert parsed.from_property.aad_object_id
        assert parsed.recipient.id == teams.bot_id
        assert parsed.service_url == teams.service_url
