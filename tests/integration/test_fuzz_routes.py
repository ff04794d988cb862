"""Fuzzing every POST route of every door: whatever a client sends, never a 5xx.

One app runs with all three doors on (Slack and Teams aimed at their fakes) in a thread
of its own, and hypothesis throws bodies at it over real HTTP: random bytes, JSON of any
shape, Slack-shaped payloads with good and bad signatures, Teams activities with fields
missing or of the wrong type under good and bad tokens, and web forms with and without a
valid CSRF token and with numbers far past 64 bits. The run is bounded (a few seconds
per door). A route added later without a strategy here fails `test_every_post_route_is_fuzzed`.

URLs the app would call back (Slack's response_url, Teams' serviceUrl) always point at the
fakes on loopback: a fuzzer must never make the app call anywhere else.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_app, build_services, prepare
from bot.settings import load_settings
from tests.support import databases
from tests.support.doors import SLACK_SECRET, chat_door_settings
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.servers import start_app
from tests.support.slack_signing import signature
from tests.support.teams_activities import TeamsActivities

T = TypeVar("T")
# One worker runs the whole module against one app (`make test` runs `--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("fuzz")
#: Examples per door: a few seconds each in the suite; raise it to search longer.
EXAMPLES = int(os.environ.get("CONVENE_FUZZ_EXAMPLES", "60"))
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PERSON = re.compile(r'name="person_id" value="(\d+)"')


class LoopThread:
    """An event loop in a thread of its own, so synchronous hypothesis tests can drive an
    async server (hypothesis runs each example as a plain function call)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class Target:
    url: str
    slack: FakeSlack
    teams: FakeBotFramework
    activities: TeamsActivities
    routes: list[str]
    web: requests.Session
    csrf: str


@pytest.fixture(scope="module")
def target(
    backend: databases.Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    url = asyncio.run(backend.fresh(tmp_path_factory.mktemp("fuzz")))
    loop = LoopThread()
    mp = pytest.MonkeyPatch()

    async def up() -> tuple[Any, ...]:
        slack = await FakeSlack().start()
        teams = await FakeBotFramework().start()
        for name, value in teams.trust_env.items():
            mp.setenv(name, value)
        overrides = chat_door_settings(slack, teams)
        overrides["slack_api_url"] = slack.url
        built = build_services(
            load_settings(
                database_url=url,
                secret_key="fuzz-secret-key",
                scheduler_enabled=False,
                signin_attempts_per_minute=100_000,
                bad_requests_per_minute=100_000,
                **overrides,
            )
        )
        await prepare(built, demo_if_empty=True)
        app = build_app(built)
        running = await start_app(app)
        routes = sorted(
            {
                route.resource.canonical
                for route in app.router.routes()
                if route.method == "POST" and route.resource is not None
            }
        )
        return slack, teams, built, running, routes

    slack, teams, built, running, routes = loop.run(up())
    web = requests.Session()
    page = web.get(f"{running.url}/signin", timeout=30).text
    person = PERSON.search(page)
    assert person, "no demo person to sign in as"
    csrf = CSRF.search(page)
    assert csrf
    signed_in = web.post(
        f"{running.url}/signin/local",
        data={"csrf_token": csrf.group(1), "person_id": person.group(1)},
        timeout=30,
    )
    assert signed_in.status_code < 400
    token = CSRF.search(web.get(f"{running.url}/", timeout=30).text)
    assert token, "signed in, but the home page has no CSRF token"
    yield Target(
        url=running.url,
        slack=slack,
        teams=teams,
        activities=TeamsActivities.from_fake(teams),
        routes=routes,
        web=web,
        csrf=token.group(1),
    )
    web.close()

    async def down() -> None:
        await running.stop()
        await built.db.dispose()
        await slack.stop()
        await teams.stop()
        await backend.discard(url)

    loop.run(down())
    loop.close()
    mp.undo()


# --- strategies ---------------------------------------------------------------------------

big_numbers = st.integers(min_value=-(2**80), max_value=2**80).map(str)
texts = st.text(max_size=30)
id_like = st.one_of(big_numbers, texts, st.sampled_from(["1", "0", "-1", "", "9" * 40]))
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
raw_bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"[]", b"null", b'"x"', b"true", b"payload=[]", b"payload=%7B", b"{"]),
)

WEB_FIELDS = ["person_id", "value", "_page", "_intent", "words", "name", "text", "answer"]
#: A feedback point's public form (`/f/{slug}`, fuzzed by `web_posts` like every web route).
WEB_FIELDS += ["helping", "anything_else", "form_token", "website", "with_help"]


def _quote_path(value: str) -> str:
    return quote(value, safe="") or "x"


@st.composite
def web_posts(draw: st.DrawFn, routes: list[str]) -> tuple[str, dict[str, str] | bytes, bool]:
    route = draw(st.sampled_from([r for r in routes if not r.startswith(("/slack", "/api"))]))

    def fill(match: re.Match[str]) -> str:
        return _quote_path(draw(id_like))

    path = re.sub(r"\{[^}]+\}", fill, route)
    good_csrf = draw(st.booleans())
    if draw(st.integers(0, 4)) == 0:
        return path, draw(raw_bodies), good_csrf
    fields = draw(st.dictionaries(st.sampled_from(WEB_FIELDS) | texts, id_like, max_size=5))
    return path, fields, good_csrf


def _slack_event(draw: st.DrawFn, slack_url: str) -> dict[str, Any]:
    event = draw(
        st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(
                        ["message", "app_home_opened", "app_uninstalled", "tokens_revoked"]
                    )
                    | texts,
                    "channel_type": st.sampled_from(["im", "channel"]) | json_values,
                    "user": st.sampled_from(["U0001", "U0002"]) | json_values,
                    "text": texts | json_values,
                    "tab": st.sampled_from(["home", "messages"]) | json_values,
                }
            ),
        )
    )
    return {
        "type": draw(st.sampled_from(["event_callback", "url_verification"]) | texts),
        "team_id": draw(st.sampled_from(["T0001"]) | json_values),
        "event_id": draw(st.text(min_size=1, max_size=12) | json_values),
        "event": event,
        "challenge": draw(texts),
    }


def _slack_interaction(draw: st.DrawFn, slack_url: str) -> dict[str, Any]:
    return {
        "type": draw(st.sampled_from(["block_actions", "view_submission", "view_closed"]) | texts),
        "user": draw(st.fixed_dictionaries({"id": st.just("U0001") | json_values}) | json_values),
        "team": draw(st.fixed_dictionaries({"id": st.just("T0001")}) | json_values),
        "trigger_id": draw(texts),
        "response_url": f"{slack_url}response/fuzz",
        "actions": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "action_id": st.sampled_from(
                            ["cmd.help", "cmd.profile", "form.back", "join.approve"]
                        )
                        | texts,
                        "value": id_like,
                    }
                ),
                max_size=2,
            )
            | json_values
        ),
        "view": draw(
            st.fixed_dictionaries(
                {
                    "type": st.just("modal"),
                    "id": texts,
                    "callback_id": st.sampled_from(["convene.form"]) | texts,
                    "private_metadata": texts | id_like,
                    "state": st.fixed_dictionaries({"values": json_values}) | json_values,
                }
            )
            | json_values
        ),
    }


@st.composite
def slack_posts(draw: st.DrawFn, slack_url: str) -> tuple[bytes, dict[str, str]]:
    kind = draw(st.sampled_from(["raw", "event", "command", "interaction"]))
    if kind == "raw":
        body = draw(raw_bodies)
        content_type = draw(
            st.sampled_from(["application/json", "application/x-www-form-urlencoded"])
        )
    elif kind == "event":
        body = json.dumps(_slack_event(draw, slack_url)).encode()
        content_type = "application/json"
    elif kind == "command":
        body = urlencode(
            {
                "command": draw(st.sampled_from(["/convene"]) | texts),
                "text": draw(
                    st.sampled_from(["help", "profile", "readiness", "engagements show 1"])
                    | texts
                    | id_like
                ),
                "user_id": draw(st.sampled_from(["U0001"]) | texts),
                "team_id": "T0001",
                "trigger_id": draw(texts),
                "response_url": f"{slack_url}response/fuzz",
            }
        ).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        payload = draw(st.one_of(json_values, st.just(None)))
        body_json = _slack_interaction(draw, slack_url) if payload is None else payload
        body = urlencode({"payload": json.dumps(body_json)}).encode()
        content_type = "application/x-www-form-urlencoded"
    now = int(time.time())
    how = draw(st.sampled_from(["good", "good", "bad", "none", "stale", "garbage-ts"]))
    headers = {"Content-Type": content_type}
    if how == "good":
        headers["X-Slack-Request-Timestamp"] = str(now)
        headers["X-Slack-Signature"] = signature(SLACK_SECRET, body, now)
    elif how == "bad":
        headers["X-Slack-Request-Timestamp"] = str(now)
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    elif how == "stale":
        headers["X-Slack-Request-Timestamp"] = str(now - 3600)
        headers["X-Slack-Signature"] = signature(SLACK_SECRET, body, now - 3600)
    elif how == "garbage-ts":
        garbage = draw(st.sampled_from(["abc", "", "1e9", "99999999999999999999999", "-5"]))
        headers["X-Slack-Request-Timestamp"] = garbage
        headers["X-Slack-Signature"] = draw(st.sampled_from(["v0=abc", "", "x"]))
    return body, headers


TEAMS_KEYS = [
    "type", "id", "from", "conversation", "recipient", "text", "value", "channelData", "name",
    "entities", "attachments", "replyToId", "membersAdded", "action",
]  # fmt: skip


@st.composite
def teams_posts(draw: st.DrawFn, activities: TeamsActivities) -> tuple[bytes, str | None, bool]:
    base: dict[str, Any] = draw(
        st.sampled_from(
            [
                activities.personal_message("help"),
                activities.personal_message("profile"),
                activities.card_execute(
                    "cmd.help", {"convene": {"action": "cmd.help"}}, reply_to_id="1:card"
                ),
            ]
        )
    )
    base = json.loads(json.dumps(base))
    for key in draw(st.lists(st.sampled_from(TEAMS_KEYS), max_size=3, unique=True)):
        if draw(st.booleans()):
            base.pop(key, None)
        else:
            base[key] = draw(json_values)
    if draw(st.booleans()):
        base["type"] = draw(
            st.sampled_from(["message", "invoke", "conversationUpdate", "installationUpdate"])
        )
    base["serviceUrl"] = activities.service_url  # where the bot would answer: the fake only
    raw = draw(st.integers(0, 9)) == 0
    body = draw(raw_bodies) if raw else json.dumps(base).encode()
    auth = draw(st.sampled_from(["good", "good", "bad", "none"]))
    return body, auth, raw


# --- the tests ----------------------------------------------------------------------------

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=False,
)


def _check(response: requests.Response, what: str) -> None:
    assert response.status_code < 500, (
        f"{what} answered {response.status_code}: {response.text[:300]!r}"
    )


def test_every_post_route_is_fuzzed(target: Target) -> None:
    covered = (
        *("/slack/", "/api/messages", "/signin", "/signout", "/do/", "/forms/", "/actions/"),
        "/f/",  # feedback points' public pages, no session: web_posts fills the slug
    )
    assert target.routes, "the app has no POST routes?"
    missing = [r for r in target.routes if not r.startswith(covered)]
    assert not missing, f"POST routes with no fuzz strategy: {missing}"
    assert "/slack/events" in target.routes and "/api/messages" in target.routes


@FUZZ
@given(data=st.data())
def test_web_posts_never_answer_5xx(target: Target, data: st.DataObject) -> None:
    path, body, good_csrf = data.draw(web_posts(target.routes))
    if isinstance(body, dict):
        form = dict(body)
        form["csrf_token"] = target.csrf if good_csrf else form.get("csrf_token", "")
        if not good_csrf:
            form["csrf_token"] = data.draw(texts)
        response = target.web.post(
            f"{target.url}{path}", data=form, timeout=30, allow_redirects=False
        )
    else:
        response = target.web.post(
            f"{target.url}{path}",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
            allow_redirects=False,
        )
    _check(response, f"POST {path}")


@FUZZ
@given(data=st.data())
def test_slack_posts_never_answer_5xx(target: Target, data: st.DataObject) -> None:
    body, headers = data.draw(slack_posts(target.slack.url))
    response = requests.post(f"{target.url}/slack/events", data=body, headers=headers, timeout=30)
    _check(response, "POST /slack/events")


@FUZZ
@given(data=st.data())
def test_teams_posts_never_answer_5xx(target: Target, data: st.DataObject) -> None:
    body, auth, _raw = data.draw(teams_posts(target.activities))
    headers = {"Content-Type": "application/json"}
    if auth == "good":
        token = target.teams.issue_token(target.teams.app_id, target.activities.service_url)
        headers["Authorization"] = f"Bearer {token}"
    elif auth == "bad":
        # Printable ASCII only: a CR or LF in a header is refused by the HTTP client itself.
        forged = data.draw(texts.filter(lambda t: t.isascii() and t.isprintable()))
        headers["Authorization"] = "Bearer " + forged
    response = requests.post(f"{target.url}/api/messages", data=body, headers=headers, timeout=30)
    _check(response, "POST /api/messages")


MARKER = "ZQX-caller-words"


class _Collect:
    """Every log record at INFO and above, from every thread, formatted as written."""

    def __init__(self) -> None:
        import logging

        self.lines: list[str] = []
        self.handler = logging.Handler(level=logging.INFO)
        self.handler.emit = self._emit  # type: ignore[method-assign]
        self.handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def _emit(self, record: object) -> None:
        import logging

        assert isinstance(record, logging.LogRecord)
        self.lines.append(self.handler.format(record))

    def __enter__(self) -> _Collect:
        import logging

        root = logging.getLogger()
        self._level = root.level
        root.setLevel(logging.INFO)
        root.addHandler(self.handler)
        return self

    def __exit__(self, *_: object) -> None:
        import logging

        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self._level)


def test_nothing_a_caller_sends_reaches_the_log(target: Target) -> None:
    """Forged and genuine requests on every door carry a marker with a newline (which would
    forge a log line); the log at INFO must carry neither the marker nor the fake line."""
    words = f"{MARKER}\n2026-01-01 CRITICAL forged line"
    now = int(time.time())
    slack_bodies = [
        json.dumps({"type": "event_callback", "event_id": words, "event": words}).encode(),
        urlencode({"command": "/convene", "text": words, "user_id": "U0001",
                   "team_id": "T0001", "trigger_id": words,
                   "response_url": f"{target.slack.url}response/fuzz"}).encode(),
        urlencode({"payload": json.dumps({"type": "block_actions", "actions": [
            {"action_id": words, "value": words}], "user": {"id": "U0001"},
            "team": {"id": "T0001"}, "response_url": f"{target.slack.url}response/fuzz"})}
        ).encode(),
    ]  # fmt: skip
    with _Collect() as collected:
        for body in slack_bodies:
            for good in (True, False):
                headers = {
                    "X-Slack-Request-Timestamp": str(now),
                    "X-Slack-Signature": signature(SLACK_SECRET, body, now)
                    if good
                    else "v0=" + "1" * 64,
                }
                requests.post(f"{target.url}/slack/events", data=body, headers=headers, timeout=30)
        activity = target.activities.personal_message(words)
        activity["value"] = words
        for token in (
            target.teams.issue_token(target.teams.app_id, target.activities.service_url),
            words.replace("\n", " "),
        ):
            requests.post(
                f"{target.url}/api/messages",
                data=json.dumps(activity),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                timeout=30,
            )
        for path in ("/do/help", f"/actions/{quote(words, safe='')}", "/forms/1"):
            for csrf in (target.csrf, words):
                target.web.post(
                    f"{target.url}{path}",
                    data={"csrf_token": csrf, "value": words, "words": words},
                    timeout=30,
                    allow_redirects=False,
                )
        time.sleep(0.5)  # let the doors' work after the answer finish and log
    leaked = [line for line in collected.lines if MARKER in line or "forged line" in line]
    assert not leaked, f"callers' words reached the log: {leaked[:3]}"
