"""The fake Slack Web API, driven by the real slack_sdk client, and the signing helpers."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import FileInstallationStore
from slack_sdk.oauth.state_store import FileOAuthStateStore
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.support import slack_signing as ss
from tests.support.fake_slack import FakeSlack

MODAL = {
    "type": "modal",
    "callback_id": "form",
    "title": {"type": "plain_text", "text": "Form"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(fake: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    web = AsyncWebClient(token="xoxb-test", base_url=fake.url)
    yield web
    if web.session is not None:
        await web.session.close()


def _meta(key: str) -> dict[str, object]:
    return {"event_type": "convene_outbox", "event_payload": {"key": key}}


async def test_url_and_auth_test(fake: FakeSlack, client: AsyncWebClient) -> None:
    assert fake.url.startswith("http://127.0.0.1:") and fake.url.endswith("/")
    resp = await client.auth_test()
    assert resp["team_id"] == "T0001"
    assert resp["user_id"] == "UBOT" and resp["bot_id"] == "BBOT"
    [call] = fake.calls_to("auth.test")
    assert call.token == "xoxb-test" and call.team_id == "T0001" and not call.failed


async def test_post_message_with_metadata_and_read_back(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    first = await client.chat_postMessage(
        channel="C1", text="one", blocks=blocks, metadata=_meta("k1")
    )
    second = await client.chat_postMessage(channel="C1", text="two", metadata=_meta("k2"))
    assert first["channel"] == "C1"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["metadata"] == _meta("k1")

    with_meta = await client.conversations_history(channel="C1", include_all_metadata=True)
    assert [m["text"] for m in with_meta["messages"]] == ["two", "one"]
    assert with_meta["messages"][1]["metadata"] == _meta("k1")
    assert with_meta["messages"][1]["blocks"] == blocks

    plain = await client.conversations_history(channel="C1")
    assert all("metadata" not in m for m in plain["messages"])
    assert [m["text"] for m in fake.delivered("C1")] == ["one", "two"]
    assert fake.calls_to("chat.postMessage")[0].body["metadata"] == _meta("k1")


async def test_form_bodies_are_decoded(fake: FakeSlack, client: AsyncWebClient) -> None:
    """Form bodies carry blocks/metadata as JSON strings; the fake decodes them."""
    await client.api_call(
        "chat.postMessage",
        data={
            "channel": "C2",
            "text": "form",
            "blocks": json.dumps([{"type": "divider"}]),
            "metadata": json.dumps(_meta("f1")),
        },
    )
    [msg] = fake.delivered("C2")
    assert msg["blocks"] == [{"type": "divider"}]
    assert msg["metadata"]["event_payload"]["key"] == "f1"


async def test_dm_open_update_ephemeral_and_users(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.add_user("T0001", "U1", "sam", "sam@example.org", tz="Europe/London")
    user = await client.users_info(user="U1")
    assert user["user"]["profile"]["email"] == "sam@example.org"
    assert user["user"]["tz"] == "Europe/London"
    with pytest.raises(SlackApiError) as missing:
        await client.users_info(user="UNOPE")
    assert missing.value.response["error"] == "user_not_found"

    opened = await client.conversations_open(users="U1")
    assert opened["channel"]["id"] == "DU1"
    posted = await client.chat_postMessage(channel="DU1", text="before")
    await client.chat_update(channel="DU1", ts=posted["ts"], text="after")
    assert [m["text"] for m in fake.delivered("U1")] == ["after"]

    await client.chat_postEphemeral(channel="C1", user="U1", text="psst")
    assert fake.ephemeral[0]["text"] == "psst" and fake.ephemeral[0]["to"] == "U1"
    assert fake.delivered("C1") == []


async def test_history_pagination_and_bounds(fake: FakeSlack, client: AsyncWebClient) -> None:
    for i in range(5):
        await client.chat_postMessage(channel="C3", text=str(i))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await client.conversations_history(channel="C3", limit=2, cursor=cursor)
        pages += 1
        seen += [m["text"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            assert page["has_more"] is False
            break
    assert seen == ["4", "3", "2", "1", "0"] and pages == 3

    stored = fake.delivered("C3")
    window = await client.conversations_history(
        channel="C3", oldest=stored[1]["ts"], latest=stored[3]["ts"]
    )
    assert [m["text"] for m in window["messages"]] == ["2"]


async def test_injected_429_surfaces_with_retry_after(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C4", text="x", metadata=_meta("r"))
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"] == "7"
        assert err.value.response["error"] == "ratelimited"
    await client.chat_postMessage(channel="C4", text="x", metadata=_meta("r"))
    assert len(fake.delivered("C4")) == 1
    assert [c.failed for c in fake.calls_to("chat.postMessage")] == [True, True, False]
    assert len(fake.calls_to("chat.postMessage", failed=True)) == 2


async def test_injected_500(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail_next("chat.postMessage", status=500)
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C5", text="x")
    assert err.value.response.status_code == 500
    assert fake.delivered("C5") == []


async def test_rate_limits_per_channel_and_workspace(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.enforce_rate_limits(per_channel_per_second=1.0, per_workspace_per_second=3.0)
    await client.chat_postMessage(channel="C6", text="a")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C6", text="b")
    assert err.value.response.status_code == 429
    assert int(err.value.response.headers["Retry-After"]) >= 1

    # Two more channels use up the workspace's burst of 3; the fourth is limited.
    await client.chat_postMessage(channel="C7", text="c")
    await client.chat_postMessage(channel="C8", text="d")
    with pytest.raises(SlackApiError) as ws_err:
        await client.chat_postMessage(channel="C9", text="e")
    assert ws_err.value.response.status_code == 429
    assert sum(len(fake.delivered(c)) for c in ("C6", "C7", "C8", "C9")) == 3

    # Another workspace has its own bucket.
    fake.add_workspace("T0002", "xoxb-two")
    other = AsyncWebClient(token="xoxb-two", base_url=fake.url)
    assert (await other.chat_postMessage(channel="C10", text="f"))["ok"]
    fake.disable_rate_limits()
    assert (await client.chat_postMessage(channel="C6", text="g"))["ok"]


async def test_duplicates(fake: FakeSlack, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="C1", text="x", metadata=_meta("dup"))
    await client.chat_postMessage(channel="C2", text="x", metadata=_meta("dup"))
    await client.chat_postMessage(channel="C2", text="y", metadata=_meta("solo"))
    assert fake.duplicates() == ["dup"]


async def test_views_open_update_push_publish(fake: FakeSlack, client: AsyncWebClient) -> None:
    opened = (await client.views_open(trigger_id="t1", view=MODAL))["view"]
    assert opened["id"].startswith("V") and opened["hash"]
    assert opened["callback_id"] == "form"

    updated = (
        await client.views_update(
            view_id=opened["id"], hash=opened["hash"], view={**MODAL, "callback_id": "f2"}
        )
    )["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert fake.views[opened["id"]]["callback_id"] == "f2"

    with pytest.raises(SlackApiError) as conflict:
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)
    assert conflict.value.response["error"] == "hash_conflict"

    pushed = (await client.views_push(trigger_id="t1", view=MODAL))["view"]
    assert pushed["root_view_id"] == opened["id"]
    assert pushed["previous_view_id"] == opened["id"]
    assert [v["id"] for v in fake.stack_for(pushed["id"])] == [opened["id"], pushed["id"]]

    home = {"type": "home", "blocks": [{"type": "divider"}]}
    first = (await client.views_publish(user_id="U1", view=home))["view"]
    second = (await client.views_publish(user_id="U1", view=home, hash=first["hash"]))["view"]
    assert fake.home_views["U1"]["hash"] == second["hash"]


async def test_expired_trigger(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.expire_trigger("t-old")
    for trigger in ("t-old", "expired.123"):
        with pytest.raises(SlackApiError) as err:
            await client.views_open(trigger_id=trigger, view=MODAL)
        assert err.value.response["error"] == "expired_trigger_id"
    assert fake.views == {}


async def test_revoked_and_unknown_tokens(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.revoke("xoxb-test")
    for call in (client.auth_test(), client.chat_postMessage(channel="C1", text="x")):
        with pytest.raises(SlackApiError) as err:
            await call
        assert err.value.response.status_code == 200
        assert err.value.response["error"] == "invalid_auth"
    stranger = AsyncWebClient(token="xoxb-nobody", base_url=fake.url)
    with pytest.raises(SlackApiError) as err:
        await stranger.auth_test()
    assert err.value.response["error"] == "invalid_auth"
    assert fake.delivered("C1") == []


async def test_unknown_method(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        await client.api_call("reactions.add", json={"name": "x"})
    assert err.value.response["error"] == "unknown_method"
    assert fake.calls_to("reactions.add")[0].body == {"name": "x"}


async def test_oauth_v2_access_then_auth_test(fake: FakeSlack) -> None:
    fake.add_oauth_code("code-1", "T0009", "xoxb-nine", "U9", team_name="Nine")
    anon = AsyncWebClient(base_url=fake.url)
    resp = await anon.oauth_v2_access(client_id="cid", client_secret="sec", code="code-1")
    assert resp["access_token"] == "xoxb-nine" and resp["token_type"] == "bot"
    assert resp["team"] == {"id": "T0009", "name": "Nine"}
    assert resp["authed_user"]["id"] == "U9" and resp["enterprise"] is None
    assert fake.calls_to("oauth.v2.access")[0].body["client_id"] == "cid"
    assert (await anon.auth_test(token="xoxb-nine"))["team_id"] == "T0009"
    with pytest.raises(SlackApiError) as err:
        await anon.oauth_v2_access(client_id="cid", client_secret="sec", code="code-1")
    assert err.value.response["error"] == "invalid_code"


async def test_bolt_oauth_flow_builds_installation(fake: FakeSlack, tmp_path: Path) -> None:
    """slack_bolt's own flow accepts the fake's oauth.v2.access and auth.test answers."""
    fake.add_oauth_code("code-2", "T0010", "xoxb-ten", "U10", team_name="Ten")
    settings = AsyncOAuthSettings(
        client_id="cid",
        client_secret="sec",
        scopes=["chat:write"],
        installation_store=FileInstallationStore(base_dir=str(tmp_path / "i")),
        state_store=FileOAuthStateStore(expiration_seconds=60, base_dir=str(tmp_path / "s")),
    )
    flow = AsyncOAuthFlow(client=AsyncWebClient(base_url=fake.url), settings=settings)
    installation = await flow.run_installation("code-2")
    assert installation is not None
    assert installation.team_id == "T0010" and installation.team_name == "Ten"
    assert installation.bot_token == "xoxb-ten" and installation.bot_id == "BBOT"
    assert installation.user_id == "U10" and installation.bot_user_id == "UBOT"
    assert [c.token for c in fake.calls_to("auth.test")] == ["xoxb-ten"]


async def test_response_url_sink(fake: FakeSlack) -> None:
    webhook = AsyncWebhookClient(fake.response_url("abc"))
    resp = await webhook.send(text="done", response_type="ephemeral")
    assert resp.status_code == 200
    assert fake.responses["abc"] == [{"text": "done", "response_type": "ephemeral"}]


async def test_latency(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.latency = 0.05
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started >= 0.05


# ---------------------------------------------------------------------- signing


SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def test_signatures_verify() -> None:
    verifier = SignatureVerifier(SECRET)
    bodies = [
        ss.slash_command_body(text="help me", response_url="http://127.0.0.1:1/response/abc"),
        ss.interaction_body(ss.block_actions_payload("approve", "yes")),
        ss.event_body({"type": "app_home_opened", "user": "U1"}, event_id="Ev1"),
    ]
    for body in bodies:
        headers = ss.sign(SECRET, body)
        assert verifier.is_valid_request(body, headers)
        assert not verifier.is_valid_request(body + b"x", headers)
    stale = ss.sign(SECRET, bodies[0], timestamp=int(time.time()) - 3600)
    assert not verifier.is_valid_request(bodies[0], stale)
    assert ss.sign(SECRET, b"", content_type=ss.FORM)["Content-Type"] == ss.FORM


def test_body_shapes() -> None:
    slash = parse_qs(ss.slash_command_body(user_id="U7", trigger_id="tr").decode())
    assert slash["command"] == ["/convene"] and slash["text"] == ["help"]
    assert slash["user_id"] == ["U7"] and slash["trigger_id"] == ["tr"]

    submission = ss.view_submission_payload(
        "form",
        {"b1": {"a1": ss.text_value("hello")}, "b2": {"a2": ss.select_value("opt")}},
        private_metadata="pm",
    )
    decoded = json.loads(parse_qs(ss.interaction_body(submission).decode())["payload"][0])
    view = decoded["view"]
    assert decoded["type"] == "view_submission" and view["callback_id"] == "form"
    assert view["state"]["values"]["b1"]["a1"]["value"] == "hello"
    assert view["state"]["values"]["b2"]["a2"]["selected_option"]["value"] == "opt"
    assert view["private_metadata"] == "pm" and view["id"] and view["hash"]

    event = json.loads(ss.event_body({"type": "message", "text": "hi"}, "T2", "Ev9"))
    assert event["type"] == "event_callback" and event["event_id"] == "Ev9"
    assert event["authorizations"][0]["team_id"] == "T2"


# ---------------------------------------------------------------------- scopes


def test_every_method_the_fake_serves_says_which_scopes_it_needs() -> None:
    from tests.support.fake_slack import METHOD_SCOPES

    assert set(FakeSlack()._handlers) == set(METHOD_SCOPES)


async def test_the_bot_has_the_manifest_scopes_and_a_missing_one_fails_the_call(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    from tests.support.fake_slack import manifest_bot_scopes

    assert fake.workspaces["T0001"].scopes == set(manifest_bot_scopes())
    fake.add_user("T0001", "U1", "sam", "sam@example.org")
    assert (await client.users_info(user="U1"))["user"]["profile"]["email"] == "sam@example.org"
    await client.chat_postMessage(channel="C1", text="with the scope")

    fake.remove_scope("chat:write")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C1", text="without it")
    assert err.value.response["error"] == "missing_scope"
    assert err.value.response["needed"] == "chat:write"
    assert "chat:write" not in err.value.response["provided"].split(",")
    assert [m["text"] for m in fake.delivered("C1")] == ["with the scope"]

    # Without users:read.email, users.info still answers, but with no email (as Slack does).
    fake.remove_scope("users:read.email")
    assert "email" not in (await client.users_info(user="U1"))["user"]["profile"]
    fake.remove_scope("users:read")
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="U1")
    assert err.value.response["needed"] == "users:read"


@pytest.mark.parametrize(
    ("channel", "scope"),
    [("C1", "channels:history"), ("G1", "groups:history"), ("U1", "im:history")],
)
async def test_reading_history_needs_the_scope_for_that_kind_of_conversation(
    channel: str, scope: str, fake: FakeSlack, client: AsyncWebClient
) -> None:
    await client.conversations_history(channel=channel)
    fake.remove_scope(scope)
    with pytest.raises(SlackApiError) as err:
        await client.conversations_history(channel=channel)
    assert err.value.response["error"] == "missing_scope"
    assert scope in err.value.response["needed"].split(",")


async def test_a_channel_the_bot_is_not_in(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.remove_bot_from("C2")
    fake.remove_bot_from("G2")
    await client.chat_postMessage(channel="C2", text="public: chat:write.public is enough")
    with pytest.raises(SlackApiError) as private:
        await client.chat_postMessage(channel="G2", text="private: it must be invited")
    assert private.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as history:
        await client.conversations_history(channel="C2")
    assert history.value.response["error"] == "not_in_channel"

    fake.remove_scope("chat:write.public")
    with pytest.raises(SlackApiError) as public:
        await client.chat_postMessage(channel="C2", text="no longer")
    assert public.value.response["error"] == "not_in_channel"
    fake.invite_bot("C2")
    await client.chat_postMessage(channel="C2", text="invited")
    assert [m["text"] for m in fake.delivered("C2")] == [
        "public: chat:write.public is enough",
        "invited",
    ]


async def test_history_pages_are_at_most_15_and_calls_can_be_limited(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    for i in range(20):
        await client.chat_postMessage(channel="C3", text=str(i))
    page = await client.conversations_history(channel="C3", limit=200)
    assert len(page["messages"]) == 15 and page["has_more"] is True
    fake.history_per_minute = 1
    fake.add_workspace("T0002", "xoxb-two")
    await client.conversations_history(channel="C3")
    with pytest.raises(SlackApiError) as err:
        await client.conversations_history(channel="C3")
    assert err.value.response.status_code == 429
    assert int(err.value.response.headers["Retry-After"]) > 1
    other = AsyncWebClient(token="xoxb-two", base_url=fake.url)
    await other.conversations_history(channel="C3")  # each workspace has its own minute


async def test_an_oauth_install_grants_the_scopes_of_its_code(fake: FakeSlack) -> None:
    from tests.support.fake_slack import manifest_bot_scopes

    fake.add_oauth_code("code-all", "T0011", "xoxb-all", "U11")
    fake.add_oauth_code("code-few", "T0012", "xoxb-few", "U12", scope="chat:write,commands")
    anon = AsyncWebClient(base_url=fake.url)
    granted = await anon.oauth_v2_access(client_id="c", client_secret="s", code="code-all")
    assert set(granted["scope"].split(",")) == set(manifest_bot_scopes())
    await anon.oauth_v2_access(client_id="c", client_secret="s", code="code-few")
    assert fake.workspaces["T0012"].scopes == {"chat:write", "commands"}


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [(502, "<html><body>Bad gateway</body></html>", "text/html"), (405, "Nope", "text/plain")],
)
async def test_an_answer_that_is_not_json(
    status: int, body: str, content_type: str, fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.fail_next("users.info", status=status, body=body, content_type=content_type)
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="U1")
    assert err.value.response.status_code == status
    [call] = fake.calls_to("users.info")
    assert call.failed and call.status == status
