"""Any person at any door, over real HTTP to one running app, and what they were shown.

For tests that ask the same thing of every door, such as the tables of who can see what.
`Doors` plays each door the way a person's own software does:

- the web door: a browser signed in as the person (`WebUser`), following links, opening
  pages, sending forms and downloading the files they link to;
- Slack: signed slash commands and modal submissions to `/slack/events`, read back from the
  fake Slack Web API (modals opened or updated, the person's DMs and the files in them, and
  what was posted to the command's response URL);
- Teams: JWT-signed messages and card actions in the person's personal chat, read back from
  the fake Bot Framework (the activities posted there, the invoke response, linked files).

Each turn comes back as a `Seen`: every word the person could read, and the contents of any
file they were given. `every_door` starts the app with all three doors on, with its fake
Slack and Teams, so a test can set its story up first and then open the doors.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import openpyxl
import pytest
from sqlalchemy import select

from bot.app import SENDER, build_app, build_services, prepare
from bot.core.turn import parse_command
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.settings import load_settings
from bot.slack.blocks import FORM_CALLBACK
from bot.teams.cards import META
from storage.models import ChatIdentity, Door, Person
from tests.slack.conftest import SlackPoster
from tests.support import databases
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.polling import eventually, settle
from tests.support.servers import RunningApp, start_app
from tests.support.slack_signing import text_value, view_submission_payload
from tests.support.teams_activities import TeamsActivities, TeamsUser
from tests.support.web import CSRF, WebUser, text_of

SLACK_SECRET = "test-signing-secret"
SLACK_TEAM = "T0001"


def chat_door_settings(fake_slack: FakeSlack, fake_teams: FakeBotFramework) -> dict[str, Any]:
    """Settings that turn on Slack (one workspace) and Teams (one tenant), each aimed at its
    fake. The Slack channel limit is lifted so tests don't wait for it."""
    return {
        "slack_signing_secret": SLACK_SECRET,
        "slack_bot_token": "xoxb-test",
        "slack_api_url": fake_slack.url,
        "slack_channel_per_second": 1000.0,
        "microsoft_app_id": fake_teams.app_id,
        "microsoft_app_password": fake_teams.app_password,
        "microsoft_app_tenant_id": fake_teams.tenant_id,
        "teams_openid_metadata_url": fake_teams.openid_metadata_url,
        "teams_login_url": fake_teams.authority,
    }


# --- a person, and what they saw -------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """One person, with who they are on each door: the web signs them in by `name`, Slack
    knows them by user id (and finds them by `email`), Teams by their Teams user."""

    key: str
    name: str
    email: str
    slack: str
    teams: TeamsUser


@dataclass
class Seen:
    """Everything one turn showed the person: text of pages, modals, cards and messages, and
    the contents of any file they were given (and, for a web page, its HTTP status)."""

    text: str = ""
    files: list[str] = field(default_factory=list)
    status: int = 200

    @property
    def everything(self) -> str:
        return "\n".join([self.text, *self.files])


async def person_id(services: Services, email: str) -> int:
    """The id of the demo person with this email (they are made by the demo data)."""
    async with services.db.session() as session:
        found = await session.scalar(select(Person.id).where(Person.email == email))
    assert found is not None, email
    return int(found)


async def link_teams(
    services: Services, person: int, fake_teams: FakeBotFramework, user: TeamsUser
) -> None:
    """Say that `user` on the fake Teams tenant is Convene person `person`."""
    async with services.db.session() as session:
        session.add(
            ChatIdentity(
                person_id=person,
                platform=Door.TEAMS,
                workspace_id=fake_teams.tenant_id,
                user_id=user.aad_object_id,
            )
        )


def flatten(node: Any) -> str:
    """Every string in a JSON value, in order and one per line (Block Kit, cards, Slack
    messages): all a person could read in a payload."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None and not isinstance(value, bool):
            out.append(str(value))

    walk(node)
    return "\n".join(out)


def file_text(data: bytes) -> str:
    """What a downloaded file says: every cell of a spreadsheet, or the text of a CSV."""
    if data.startswith(b"PK"):
        workbook = openpyxl.load_workbook(io.BytesIO(data))
        return "\n".join(
            str(v)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for v in row
            if v is not None
        )
    return data.decode("utf-8-sig")


DOWNLOAD = re.compile(r"(?:https?://[^\s\"'<>]+)?(/downloads/[A-Za-z0-9._\-]+)")


# --- how a browser reaches a command ---------------------------------------------------------


def words_in_path(command: str) -> str:
    """A link with every word of the command in its path: `readiness summary` is
    `/do/readiness%20summary`; `name=value` arguments go in the query."""
    words, args = parse_command(command)
    path = "/do/" + quote(" ".join(words))
    if args:
        path += "?" + urlencode(args)
    return path


def words_in_query(command: str) -> str:
    """A link like Convene's own buttons: `engagements show 12` is
    `/do/engagements?words=show+12`; `name=value` arguments go in the query too."""
    words, args = parse_command(command)
    path = f"/do/{words[0]}"
    query = dict(args)
    if len(words) > 1:
        query["words"] = " ".join(words[1:])
    if query:
        path += "?" + urlencode(query)
    return path


# --- the doors -------------------------------------------------------------------------------


@dataclass
class Doors:
    """One running app with every door open, and the people who use it (`every_door`).

    `command` and `send_form` take a door by name ("web", "slack", "teams"); the methods
    named after a door drive that door only.
    """

    services: Services
    app: RunningApp
    sender: OutboxSender
    fake_slack: FakeSlack
    fake_teams: FakeBotFramework
    slack: SlackPoster
    teams: TeamsActivities
    browsers: dict[str, WebUser]
    #: How the browser turns a command into the link it follows.
    link: Callable[[str], str]
    cache: dict[tuple[str, str, str], Seen] = field(default_factory=dict)
    keys: itertools.count[int] = field(default_factory=itertools.count)

    # --- the web: a signed-in browser -------------------------------------------------

    async def _web_file(self, actor: Actor, text: str) -> list[str]:
        """The file behind the first download link in `text`, as the person's browser
        fetches it (no file if they may not have it)."""
        found = DOWNLOAD.search(text)
        if not found:
            return []
        user = self.browsers[actor.key]
        async with user.client.get(user.base + found.group(1), allow_redirects=False) as resp:
            data = await resp.read()
            return [file_text(data)] if resp.status == 200 else []

    async def web_command(self, actor: Actor, command: str) -> Seen:
        """The browser follows the link to `command`: the page, and any file it links to."""
        status, html = await self.browsers[actor.key].get(self.link(command))
        assert status == 200, text_of(html)
        return Seen(text_of(html) + "\n" + html, await self._web_file(actor, html))

    async def web_page(self, actor: Actor, path: str) -> Seen:
        """The browser opens `path`, whatever its status."""
        status, body = await self.browsers[actor.key].get(path)
        return Seen(text_of(body) + "\n" + body, status=status)

    async def web_form(
        self, actor: Actor, response_id: int, page: int, values: dict[str, str], intent: str
    ) -> Seen:
        """The browser posts one page of form `response_id` (with its CSRF token)."""
        user = self.browsers[actor.key]
        if not CSRF.search(user.last_html):
            await user.get("/")
        status, html = await user.post(
            f"/forms/{response_id}",
            [("_page", str(page)), ("_intent", intent), *values.items()],
        )
        assert status in (200, 422), text_of(html)
        return Seen(text_of(html))

    # --- Slack: signed requests, and the fake Web API ---------------------------------

    def _dm_count(self, actor: Actor) -> int:
        return len(self.fake_slack.delivered(actor.slack))

    def _slack_since(self, actor: Actor, dm_before: int, calls_before: int) -> Seen:
        """Modals opened or updated, and DMs (with their files) the person got, since."""
        views = [
            c.body.get("view")
            for c in self.fake_slack.calls[calls_before:]
            if c.method in ("views.open", "views.update")
        ]
        dms = self.fake_slack.delivered(actor.slack)[dm_before:]
        files = [
            file_text(self.fake_slack.file_contents[f["id"]])
            for m in dms
            for f in m.get("files") or []
        ]
        return Seen(flatten([views, dms]), files)

    async def slack_command(self, actor: Actor, command: str) -> Seen:
        """Slack posts the slash command `/convene <command>`; waits for the answer."""
        key = f"turn{next(self.keys)}"
        dm_before, calls_before = self._dm_count(actor), len(self.fake_slack.calls)
        status, _ = await self.slack.command(
            command, user_id=actor.slack, response_url=self.fake_slack.response_url(key)
        )
        assert status == 200

        def answered() -> bool:
            updated = any(c.method == "views.update" for c in self.fake_slack.calls[calls_before:])
            return bool(self.fake_slack.responses.get(key)) or updated

        await eventually(answered)
        await settle(self.sender)
        seen = self._slack_since(actor, dm_before, calls_before)
        seen.text += "\n" + flatten(self.fake_slack.responses.get(key, []))
        return seen

    async def slack_form(
        self, actor: Actor, response_id: int, page: int, values: dict[str, str], intent: str
    ) -> Seen:
        """Slack posts the submission of a form modal showing page `page` of `response_id`."""
        dm_before, calls_before = self._dm_count(actor), len(self.fake_slack.calls)
        payload = view_submission_payload(
            FORM_CALLBACK,
            values={k: {k: text_value(v)} for k, v in values.items()},
            private_metadata=json.dumps({"r": response_id, "p": page}),
            user_id=actor.slack,
        )
        status, body = await self.slack.interact(payload)
        assert status == 200, body
        await settle(self.sender)
        seen = self._slack_since(actor, dm_before, calls_before)
        seen.text += "\n" + flatten(body)
        return seen

    # --- Teams: signed activities, and the fake Bot Framework -------------------------

    def _conversation(self, actor: Actor) -> str:
        return self.teams.personal_conversation_id(actor.teams)

    async def _teams_after(self, actor: Actor, before: int, extra: Any = None) -> Seen:
        """What the person's chat shows after activity number `before`, and `extra` (an
        invoke response), with any file linked from them."""
        await settle(self.sender)
        shown = self.fake_teams.activities_in(self._conversation(actor))[before:]
        text = flatten([shown, extra])
        return Seen(text, await self._web_file(actor, text))

    async def teams_command(self, actor: Actor, command: str) -> Seen:
        """Teams posts `command`, typed in the person's personal chat with Convene."""
        before = len(self.fake_teams.activities_in(self._conversation(actor)))
        activity = self.teams.personal_message(command, user=actor.teams)
        response = await self.fake_teams.send_to_bot(f"{self.app.url}/api/messages", activity)
        assert response.status == 200, response
        return await self._teams_after(actor, before)

    async def teams_form(
        self, actor: Actor, response_id: int, page: int, values: dict[str, str], intent: str
    ) -> Seen:
        """Teams posts the Next or Send button of a form card showing page `page` of
        `response_id`."""
        before = len(self.fake_teams.activities_in(self._conversation(actor)))
        verb = "form.submit" if intent == "submit" else "form.next"
        data = {META: {"response_id": response_id, "page": page, "intent": intent}, **values}
        activity = self.teams.card_execute(verb, data, reply_to_id="1", user=actor.teams)
        response = await self.fake_teams.send_to_bot(f"{self.app.url}/api/messages", activity)
        assert response.status == 200, response
        return await self._teams_after(actor, before, response.body)

    # --- any door ---------------------------------------------------------------------

    async def command(self, actor: Actor, door: str, command: str) -> Seen:
        """What `command` shows this person on this door. Asked once per person and door:
        only for commands that change nothing, so every case starts from the same data."""
        key = (actor.key, door, command)
        if key not in self.cache:
            run = {
                "web": self.web_command,
                "slack": self.slack_command,
                "teams": self.teams_command,
            }[door]
            self.cache[key] = await run(actor, command)
        return self.cache[key]

    async def page(self, actor: Actor, path: str) -> Seen:
        """The web page at `path` for this person, opened once per person."""
        key = (actor.key, "web", path)
        if key not in self.cache:
            self.cache[key] = await self.web_page(actor, path)
        return self.cache[key]

    async def send_form(
        self,
        actor: Actor,
        door: str,
        response_id: int,
        page: int,
        values: dict[str, str],
        intent: str,
    ) -> Seen:
        """This person sends page `page` of form `response_id` on this door."""
        run = {"web": self.web_form, "slack": self.slack_form, "teams": self.teams_form}[door]
        return await run(actor, response_id, page, values, intent)


# --- the app, with every door ----------------------------------------------------------------


@dataclass
class Backstage:
    """The app's services (migrated, with the demo data) and the fake Slack and Teams it will
    talk to, before any door is open: set the story up here, then `open`."""

    services: Services
    fake_slack: FakeSlack
    fake_teams: FakeBotFramework
    closing: AsyncExitStack

    async def open(self, actors: list[Actor], link: Callable[[str], str]) -> Doors:
        """Start the app and let `actors` in: whatever the story queued is delivered first
        (to the web inbox: nobody has a chat identity yet), then each person's Teams user is
        linked to them, Slack gets to know them by email, and a browser signs them in."""
        running = await start_app(build_app(self.services))
        self.closing.push_async_callback(running.stop)
        sender = running.runner.app[SENDER]
        self.closing.push_async_callback(sender.idle)
        await settle(sender)
        async with self.services.db.session() as session:
            for actor in actors:
                person = await session.scalar(select(Person).where(Person.email == actor.email))
                assert person is not None, actor
                session.add(
                    ChatIdentity(
                        person_id=person.id,
                        platform=Door.TEAMS,
                        workspace_id=self.fake_teams.tenant_id,
                        user_id=actor.teams.aad_object_id,
                    )
                )
        for actor in actors:
            self.fake_slack.add_user(SLACK_TEAM, actor.slack, actor.name, email=actor.email)
        slack = SlackPoster(running.url, SLACK_SECRET)
        self.closing.push_async_callback(slack.close)
        browsers: dict[str, WebUser] = {}
        for actor in actors:
            browsers[actor.key] = WebUser(running.url)
            self.closing.push_async_callback(browsers[actor.key].close)
            await browsers[actor.key].sign_in_locally(actor.name)
        return Doors(
            services=self.services,
            app=running,
            sender=sender,
            fake_slack=self.fake_slack,
            fake_teams=self.fake_teams,
            slack=slack,
            teams=TeamsActivities.from_fake(self.fake_teams),
            browsers=browsers,
            link=link,
        )


@asynccontextmanager
async def every_door(backend: databases.Backend, folder: Path) -> AsyncIterator[Backstage]:
    """The app on a fresh copy of the test database (`backend`, as the fixture of that name
    gives it; a SQLite copy goes in `folder`), with the web, Slack (one workspace, aimed at a
    fake Slack) and Teams (one tenant, aimed at a fake Bot Framework) all on, and the
    scheduler off. Everything is stopped and closed on the way out."""
    url = await backend.fresh(folder, name="c.db")
    async with AsyncExitStack() as closing:
        closing.push_async_callback(backend.discard, url)
        env = pytest.MonkeyPatch()
        closing.callback(env.undo)
        fake_slack = await FakeSlack().start()
        closing.push_async_callback(fake_slack.stop)
        fake_teams = await FakeBotFramework().start()
        closing.push_async_callback(fake_teams.stop)
        for name, value in fake_teams.trust_env.items():
            env.setenv(name, value)
        settings = load_settings(
            database_url=url,
            secret_key="test-secret-key-not-for-production",
            scheduler_enabled=False,
            **chat_door_settings(fake_slack, fake_teams),
        )
        services = build_services(settings)
        closing.push_async_callback(services.db.dispose)
        await prepare(services, demo_if_empty=True)
        yield Backstage(services, fake_slack, fake_teams, closing)
