"""Who can reach provider A's answers and details: a table of (actor, thing, door), all asserted.

The rules, from the domain: a provider's readiness answers (sent, or a draft) are for its
own members and for the commissioning team of the authority they answered for, nobody
else; not other providers, not another authority's commissioners, and not Convene's
admins, who manage deliveries, not answers. A profile's name, areas and services are
public; the rest (charity number, income...) is for the organisation and commissioners.

Every case goes over real HTTP to one running app: the web door with a signed-in browser,
Slack with signed requests and the fake Slack Web API (people found by email, as on first
contact), Teams with JWT-signed activities and the fake Bot Framework (each Teams user
linked to their person by a chat identity). A case runs the surface a person would use
and looks for a marker only provider A's data contains: in pages, modals, cards, direct
messages and downloaded files.

`SEES` means the marker must be there (so a hidden case is not passing by accident: the
surface works), `HIDDEN` that it must not be, and `MAY` that the rules allow it but do not
require it (then the surface must simply answer without an error).
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import openpyxl
import pytest
import pytest_asyncio
from sqlalchemy import delete, select

from bot.app import SENDER, build_app, build_services, prepare
from bot.core.turn import parse_command
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.settings import load_settings
from bot.slack.blocks import FORM_CALLBACK
from bot.teams.cards import META
from storage.forms import latest_definition, start_draft
from storage.models import (
    Authority,
    ChatIdentity,
    Door,
    FormResponse,
    Organisation,
    Person,
    ResponseState,
    Role,
)
from storage.organisations import set_areas_served
from storage.people import grant
from tests.slack.conftest import SlackPoster
from tests.slack.helpers import eventually
from tests.support import databases
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.servers import RunningApp, start_app
from tests.support.slack_signing import text_value, view_submission_payload
from tests.support.teams_activities import TeamsActivities, TeamsUser
from tests.support.web import CSRF, WebUser, text_of
from tests.teams.helpers import settle

pytestmark = pytest.mark.asyncio(loop_scope="module")

SLACK_SECRET = "test-signing-secret"
A_SLUG = "riverside-youth-trust"
B_SLUG = "silver-threads-befriending"

# Markers only provider A's data holds.
SENT = "SENT-ANSWER-A-7Q3"  # in A's sent readiness answers (and so in its draft)
DRAFT = "DRAFT-ONLY-A-5K9"  # only in A's unsent draft
CHARITY = "CN-A-4471"  # A's charity number: a private profile field
INCOME = "£1 million to £10 million"  # A's income band (no other demo provider has it)
AREA = "Kingsmead Estate"  # an area A serves: a public profile field
A_INCOME_IN_LIST = re.compile(r"Riverside Youth Trust\W.{0,600}?£1 million to £10 million", re.S)


# --- the actors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    key: str
    name: str
    email: str
    slack: str
    teams: TeamsUser


def _teams_user(n: int, name: str) -> TeamsUser:
    return TeamsUser(
        id=f"29:1Visibility{n:02d}{'x' * 40}",
        name=name,
        aad_object_id=f"0000000{n}-0000-4000-8000-00000000a11c",
    )


ACTORS = [
    Actor("a_member", "Sam Patel", "sam@riversideyouth.example", "UAMEMBER", _teams_user(1, "Sam")),
    Actor("a_admin", "Tom Okafor", "tom@riversideyouth.example", "UAADMIN", _teams_user(2, "Tom")),
    Actor(
        "b_member", "Joan Hughes", "joan@silverthreads.example", "UBMEMBER", _teams_user(3, "Joan")
    ),
    Actor(
        "commissioner_x",
        "Priya Shah",
        "priya.shah@riverside.example",
        "UCOMMX",
        _teams_user(4, "Priya"),
    ),
    Actor(
        "commissioner_y", "Yusuf Khan", "yusuf@hilltop.example", "UCOMMY", _teams_user(5, "Yusuf")
    ),
    Actor("admin", "Alex Morgan", "alex@convene.example", "UADMIN", _teams_user(6, "Alex")),
]
BY_KEY = {a.key: a for a in ACTORS}

# --- the table -------------------------------------------------------------------------------

SEES, HIDDEN, MAY = "sees", "hidden", "may see"
S, H = SEES, HIDDEN

#: thing -> what each actor gets, in the order of ACTORS:
#:                      A member  A admin  B member  comm. X  comm. Y  admin
TABLE: dict[str, tuple[str, str, str, str, str, str]] = {
    # A's sent answers, shown back on its readiness form: for its own people to change.
    # Commissioners read answers in summaries and exports, never on a provider's form.
    "readiness form": (S, S, H, H, H, H),
    # A's unsent draft: the organisation's own until it presses Send.
    "draft": (S, S, H, H, H, H),
    # Sending A's form: the confirmation lists what was saved, to whoever sent it.
    "confirmation": (S, S, H, H, H, H),
    # Changing a page of A's form (POST /forms/<id>, a modal, a card): members only.
    "form post": (S, S, H, H, H, H),
    # The readiness summary: the commissioning team of the authority asked may see A's
    # answers there; nobody else sees them (a wider view would be aggregated).
    "readiness summary": (H, H, H, MAY, H, H),
    # Public profile fields: anyone signed in.
    "public profile": (S, S, S, S, S, S),
    # Private profile fields: the organisation and council commissioners (any council:
    # profiles are not given to one authority). Not admins: the form promises that.
    "private profile": (S, S, H, S, S, H),
    # The directory shows private size facts: a commissioning tool.
    "directory": (H, H, H, S, S, H),
    # A's answers in a readiness export (everyone asks for Riverside's): only the authority
    # A answered. Commissioner Y is told they can only export their own council's.
    "readiness export": (H, H, H, S, H, H),
    # Profiles in a directory export: commissioners.
    "directory export": (H, H, H, S, S, H),
}
DOORS = ("web", "slack", "teams")

CASES = [
    pytest.param(actor.key, thing, door, expected[index], id=f"{actor.key}-{thing}-{door}")
    for thing, expected in TABLE.items()
    for index, actor in enumerate(ACTORS)
    for door in DOORS
]


# --- what a person reads through a door ------------------------------------------------------


@dataclass
class Seen:
    """Everything one turn showed the person: text of pages, modals, cards and messages, and
    the contents of any file they were given."""

    text: str = ""
    files: list[str] = field(default_factory=list)

    @property
    def everything(self) -> str:
        return "\n".join([self.text, *self.files])


def flatten(node: Any) -> str:
    """Every string in a JSON value, in order (Block Kit, cards, Slack messages)."""
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


@dataclass
class World:
    """One running app with every door, the people above, and provider A's data."""

    services: Services
    app: RunningApp
    sender: OutboxSender
    fake_slack: FakeSlack
    fake_teams: FakeBotFramework
    slack: SlackPoster
    teams: TeamsActivities
    browsers: dict[str, WebUser]
    a_id: int
    x_id: int
    sent_id: int
    draft_id: int = 0
    cache: dict[tuple[str, str, str], Seen] = field(default_factory=dict)
    keys: itertools.count[int] = field(default_factory=itertools.count)

    # --- web --------------------------------------------------------------------------

    async def _web_get(self, actor: Actor, path: str) -> tuple[int, str]:
        return await self.browsers[actor.key].get(path)

    async def _web_file(self, actor: Actor, text: str) -> list[str]:
        found = DOWNLOAD.search(text)
        if not found:
            return []
        user = self.browsers[actor.key]
        async with user.client.get(user.base + found.group(1), allow_redirects=False) as resp:
            data = await resp.read()
            return [file_text(data)] if resp.status == 200 else []

    async def web_command(self, actor: Actor, command: str) -> Seen:
        words, args = parse_command(command)
        path = "/do/" + quote(" ".join(words))
        if args:
            path += "?" + urlencode(args)
        status, html = await self._web_get(actor, path)
        assert status == 200, text_of(html)
        return Seen(text_of(html) + "\n" + html, await self._web_file(actor, html))

    async def web_form(self, actor: Actor, page: int, values: dict[str, str], intent: str) -> Seen:
        user = self.browsers[actor.key]
        if not CSRF.search(user.last_html):
            await user.get("/")
        status, html = await user.post(
            f"/forms/{self.draft_id}",
            [("_page", str(page)), ("_intent", intent), *values.items()],
        )
        assert status in (200, 422), text_of(html)
        return Seen(text_of(html))

    # --- Slack ------------------------------------------------------------------------

    def _dm_count(self, actor: Actor) -> int:
        return len(self.fake_slack.delivered(actor.slack))

    def _slack_since(self, actor: Actor, dm_before: int, calls_before: int) -> Seen:
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
        key = f"vis{next(self.keys)}"
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
        self, actor: Actor, page: int, values: dict[str, str], intent: str
    ) -> Seen:
        dm_before, calls_before = self._dm_count(actor), len(self.fake_slack.calls)
        payload = view_submission_payload(
            FORM_CALLBACK,
            values={k: {k: text_value(v)} for k, v in values.items()},
            private_metadata=json.dumps({"r": self.draft_id, "p": page}),
            user_id=actor.slack,
        )
        status, body = await self.slack.interact(payload)
        assert status == 200, body
        await settle(self.sender)
        seen = self._slack_since(actor, dm_before, calls_before)
        seen.text += "\n" + flatten(body)
        return seen

    # --- Teams ------------------------------------------------------------------------

    def _conversation(self, actor: Actor) -> str:
        return self.teams.personal_conversation_id(actor.teams)

    async def _teams_after(self, actor: Actor, before: int, extra: Any = None) -> Seen:
        await settle(self.sender)
        shown = self.fake_teams.activities_in(self._conversation(actor))[before:]
        text = flatten([shown, extra])
        return Seen(text, await self._web_file(actor, text))

    async def teams_command(self, actor: Actor, command: str) -> Seen:
        before = len(self.fake_teams.activities_in(self._conversation(actor)))
        activity = self.teams.personal_message(command, user=actor.teams)
        response = await self.fake_teams.send_to_bot(f"{self.app.url}/api/messages", activity)
        assert response.status == 200, response
        return await self._teams_after(actor, before)

    async def teams_form(
        self, actor: Actor, page: int, values: dict[str, str], intent: str
    ) -> Seen:
        before = len(self.fake_teams.activities_in(self._conversation(actor)))
        verb = "form.submit" if intent == "submit" else "form.next"
        data = {META: {"response_id": self.draft_id, "page": page, "intent": intent}, **values}
        activity = self.teams.card_execute(verb, data, reply_to_id="1", user=actor.teams)
        response = await self.fake_teams.send_to_bot(f"{self.app.url}/api/messages", activity)
        assert response.status == 200, response
        return await self._teams_after(actor, before, response.body)

    # --- any door ---------------------------------------------------------------------

    async def command(self, actor: Actor, door: str, command: str) -> Seen:
        """What `command` shows this person on this door. Commands that change nothing are
        asked once per person and door: every case starts from the same data."""
        key = (actor.key, door, command)
        if key not in self.cache:
            run = {
                "web": self.web_command,
                "slack": self.slack_command,
                "teams": self.teams_command,
            }[door]
            self.cache[key] = await run(actor, command)
        return self.cache[key]

    async def send_form(
        self, actor: Actor, door: str, page: int, values: dict[str, str], intent: str
    ) -> Seen:
        run = {"web": self.web_form, "slack": self.slack_form, "teams": self.teams_form}[door]
        return await run(actor, page, values, intent)

    async def draft(self) -> FormResponse:
        async with self.services.db.session() as session:
            found = await session.get(FormResponse, self.draft_id)
            assert found is not None
            return found

    async def reset(self) -> None:
        """Provider A as every case expects it: its sent answers, and one draft."""
        async with self.services.db.session() as session:
            await session.execute(
                delete(FormResponse).where(
                    FormResponse.organisation_id == self.a_id, FormResponse.id != self.sent_id
                )
            )
            sent = await session.get(FormResponse, self.sent_id)
            definition = await latest_definition(session, "readiness")
            assert sent is not None and definition is not None
            draft = await start_draft(
                session,
                definition,
                organisation_id=self.a_id,
                authority_id=self.x_id,
                respondent_id=None,
                answers={**sent.answers, "social_value": DRAFT},
            )
            draft.current_page = 3  # "What you can do": both markers are on this page
            self.draft_id = draft.id


# --- the world, built once for the module ----------------------------------------------------


async def _seed(services: Services, fake: FakeBotFramework) -> tuple[int, int, int]:
    """Provider A's private and public details and its sent answers; B's answers; a second
    authority and its commissioner; A's second member; everyone's Teams identity."""
    now = datetime.now(UTC)
    async with services.db.session() as session:
        a = await session.scalar(select(Organisation).where(Organisation.slug == A_SLUG))
        b = await session.scalar(select(Organisation).where(Organisation.slug == B_SLUG))
        x = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert a is not None and b is not None and x is not None
        a.charity_number = CHARITY
        a.income_band = "1m_10m"
        set_areas_served(a, ["North Ward", "Riverside", AREA])
        y = Authority(name="Hilltop District Council", slug="hilltop")
        sam = Person(name="Sam Patel", email="sam@riversideyouth.example")
        yusuf = Person(name="Yusuf Khan", email="yusuf@hilltop.example")
        session.add_all([y, sam, yusuf])
        await session.flush()
        await grant(session, sam, Role.PROVIDER_MEMBER, organisation_id=a.id)
        await grant(session, yusuf, Role.COMMISSIONER, authority_id=y.id)
        definition = await latest_definition(session, "readiness")
        assert definition is not None
        answers = {
            "annual_cost": 4_500_000,
            "main_risks": "Short contracts.",
            "areas_covered": SENT,
            "support_wanted": ["costing"],
        }
        sent = await start_draft(
            session,
            definition,
            organisation_id=a.id,
            authority_id=x.id,
            respondent_id=None,
            answers=answers,
            now=now - timedelta(days=2),
        )
        sent.state, sent.submitted_at = ResponseState.SUBMITTED, now - timedelta(days=2)
        theirs = await start_draft(
            session,
            definition,
            organisation_id=b.id,
            authority_id=x.id,
            respondent_id=None,
            answers={"areas_covered": "North Ward", "main_risks": "Finding volunteers."},
        )
        theirs.state, theirs.submitted_at = ResponseState.SUBMITTED, now - timedelta(days=1)
        for actor in ACTORS:
            person = await session.scalar(select(Person).where(Person.email == actor.email))
            assert person is not None, actor
            session.add(
                ChatIdentity(
                    person_id=person.id,
                    platform=Door.TEAMS,
                    workspace_id=fake.tenant_id,
                    user_id=actor.teams.aad_object_id,
                )
            )
        return a.id, x.id, sent.id


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    backend: tuple[str, str | None], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    kind, where = backend
    assert where is not None
    if kind == "postgresql":
        await databases.reset_postgres(where)
        url = where
    else:
        url = databases.copy_sqlite(Path(where), tmp_path_factory.mktemp("visibility") / "c.db")
    fake_slack = await FakeSlack().start()
    fake_teams = await FakeBotFramework().start()
    env = pytest.MonkeyPatch()
    for name, value in fake_teams.trust_env.items():
        env.setenv(name, value)
    settings = load_settings(
        database_url=url,
        secret_key="test-secret-key-not-for-production",
        scheduler_enabled=False,
        slack_signing_secret=SLACK_SECRET,
        slack_bot_token="xoxb-test",
        slack_api_url=fake_slack.url,
        slack_channel_per_second=1000.0,
        microsoft_app_id=fake_teams.app_id,
        microsoft_app_password=fake_teams.app_password,
        microsoft_app_tenant_id=fake_teams.tenant_id,
        teams_openid_metadata_url=fake_teams.openid_metadata_url,
        teams_login_url=fake_teams.authority,
    )
    services = build_services(settings)
    await prepare(services, demo_if_empty=True)
    a_id, x_id, sent_id = await _seed(services, fake_teams)
    running = await start_app(build_app(services))
    for actor in ACTORS:
        fake_slack.add_user("T0001", actor.slack, actor.name, email=actor.email)
    browsers: dict[str, WebUser] = {}
    for actor in ACTORS:
        browsers[actor.key] = WebUser(running.url)
        await browsers[actor.key].sign_in_locally(actor.name)
    built = World(
        services=services,
        app=running,
        sender=running.runner.app[SENDER],
        fake_slack=fake_slack,
        fake_teams=fake_teams,
        slack=SlackPoster(running.url, SLACK_SECRET),
        teams=TeamsActivities.from_fake(fake_teams),
        browsers=browsers,
        a_id=a_id,
        x_id=x_id,
        sent_id=sent_id,
    )
    try:
        yield built
    finally:
        for browser in browsers.values():
            await browser.close()
        await built.slack.close()
        await built.sender.idle()
        await running.stop()
        await services.db.dispose()
        await fake_slack.stop()
        await fake_teams.stop()
        env.undo()


# --- the cases -------------------------------------------------------------------------------

COMMANDS = {
    "readiness form": "readiness for=riverside",
    "draft": "readiness for=riverside",
    "readiness summary": "readiness summary",
    "public profile": "organisation Riverside Youth Trust",
    "private profile": "organisation Riverside Youth Trust",
    "directory": "directory",
    # Everyone asks for Riverside's answers by name, as a curious outsider would.
    "readiness export": "export readiness csv for=riverside",
    "directory export": "export directory xlsx",
}
MARKERS = {
    "readiness form": [SENT],
    "draft": [DRAFT],
    "confirmation": [SENT, DRAFT],
    "readiness summary": [SENT, DRAFT],
    "public profile": [AREA],
    "private profile": [CHARITY],
    "readiness export": [SENT, DRAFT],
    "directory export": [CHARITY],
}
LAST_PAGE = 5
CAPACITY_PAGE = 3


@pytest.mark.parametrize(("actor_key", "thing", "door", "expected"), CASES)
async def test_visibility(
    world: World, actor_key: str, thing: str, door: str, expected: str
) -> None:
    actor = BY_KEY[actor_key]
    await world.reset()

    if thing == "form post":
        changed = f"CHANGED-BY-{actor_key}-{door}"
        seen = await world.send_form(actor, door, CAPACITY_PAGE, {"social_value": changed}, "next")
        stored = (await world.draft()).answers.get("social_value")
        if expected == SEES:
            assert stored == changed, seen.text[-2000:]
        else:
            assert stored == DRAFT, f"{actor_key} changed A's draft through {door}"
            assert "belongs to another organisation" in seen.text, seen.text[-2000:]
        return

    if thing == "confirmation":
        seen = await world.send_form(actor, door, LAST_PAGE, {"respond_how": "writing"}, "submit")
        state = (await world.draft()).state
        if expected == SEES:
            assert state == ResponseState.SUBMITTED
            assert "What you told us" in seen.everything
        else:
            assert state == ResponseState.DRAFT, f"{actor_key} sent A's answers through {door}"
        found = [m for m in MARKERS[thing] if m in seen.everything]
    else:
        seen = await world.command(actor, door, COMMANDS[thing])
        if thing == "directory":
            found = ["income"] if A_INCOME_IN_LIST.search(seen.everything) else []
        else:
            found = [m for m in MARKERS[thing] if m in seen.everything]

    if expected == SEES:
        assert found, f"{actor_key} should see {thing} through {door}: {seen.everything[-3000:]}"
        if thing.endswith("export"):
            assert seen.files, "the export should be a file"
    elif expected == HIDDEN:
        assert not found, f"LEAK: {actor_key} sees {thing} ({found}) through {door}"
        if thing == "readiness export" or (
            thing.endswith("export") and actor_key != "commissioner_y"
        ):
            refusals = ("Exports are for the council's commissioning team", "your own council")
            assert any(r in seen.text for r in refusals), seen.text[-2000:]
            assert not seen.files
    else:
        assert seen.everything.strip()
        assert "Sorry, something went wrong" not in seen.everything
