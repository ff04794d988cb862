"""Exports for commissioners: the files match the database, and only the right person gets one.

These are the doors' part: the download's headers, the link rules, Slack's file in the
DM and Teams' link. What goes into a file, who is refused and what is audited are tested
in-process in tests/features/test_exports.py. Everything here goes over real HTTP to the
real app: the web door with a browser-like client, Slack with signed requests and the fake
Slack Web API (the file arrives through files.uploadV2), Teams with JWT-signed activities
and the fake Bot Framework (a link, which then works on the web for the same person only).
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select

from bot.app import SENDER
from bot.clock import LONDON
from bot.core.forms import Field, FieldType, FormDefinition
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.settings import Settings
from handlers import exports as exports_handler
from handlers.exports import SALT
from storage.forms import definition_at, latest_definition, save_definition, start_draft
from storage.models import (
    AuditEvent,
    Authority,
    ChatIdentity,
    Door,
    FormResponse,
    Organisation,
    Person,
    ResponseState,
    Role,
)
from storage.people import grant
from tests.slack.conftest import BlockKitLog, SlackPoster, block_kit_problems
from tests.support.doors import chat_door_settings
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.servers import RunningApp
from tests.support.teams_activities import TeamsActivities, TeamsUser
from tests.support.web import WebUser, text_of
from tests.teams.conftest import CardLog, card_problems
from tests.teams.helpers import cards_of
from tests.teams.helpers import settle as settle_teams
from tests.teams.helpers import text_of as card_text

Json = dict[str, Any]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SLACK_SECRET = "test-signing-secret"
LINK = re.compile(r'href="(/downloads/[^"]+)"')
PRIYA_SLACK = "U0002"
PRIYA_TEAMS = TeamsUser(
    id="29:1PriyaS7n3vXyZkLmN0pQrStUvWxYz12345AbCdEfGhIjKlMnOpQrSt",
    name="Priya Shah",
    aad_object_id="9e1a0000-0000-4000-8000-00000000beef",
)

# --- the app with both chat doors pointed at fakes -------------------------------------------


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack, fake_teams: FakeBotFramework) -> dict[str, object]:
    return chat_door_settings(fake_slack, fake_teams)


@pytest.fixture
def sender(app_server: RunningApp) -> Iterator[OutboxSender]:
    yield app_server.runner.app[SENDER]


async def settle(sender: OutboxSender) -> None:
    await settle_teams(sender)


# --- seeding: providers with readiness answers -----------------------------------------------

TOM_ANSWERS: Json = {
    "annual_cost": 4_500_000,
    "overhead_rate": 15.0,
    "arrears_days": "61_90",
    "exposure": ["tupe", "property"],
    "insurance": ["public_liability"],
    "main_risks": "Short contracts and late payment.",
    "smallest_value": 500_050,
    "staff_fte": 12,
    "safeguarding_policy": True,
    "working_with_others": ["join_consortium"],
    "social_value": "Local jobs.",
}
ASHA_ANSWERS: Json = {
    "annual_cost": 12_000_000,
    "overhead_rate": 12.5,
    "payment_terms": "monthly_advance",
    "main_risks": '=HYPERLINK("http://evil.example","click")',
    "social_value": "@SUM(1+1)",
    "areas_covered": "-2+3",
    "safeguarding_policy": False,
    "support_wanted": ["costing", "bid_writing"],
}
EASTGATE_OLD: Json = {"annual_cost": 100_000, "main_risks": "Our old answer."}
EASTGATE_NEW: Json = {"annual_cost": 250_000, "main_risks": "+44 20 7946 0000 is our number"}


async def org_id(services: Services, slug: str) -> int:
    async with services.db.session() as session:
        found = await session.scalar(select(Organisation.id).where(Organisation.slug == slug))
    assert found is not None
    return int(found)


async def authority_id(services: Services, slug: str = "riverside") -> int:
    async with services.db.session() as session:
        found = await session.scalar(select(Authority.id).where(Authority.slug == slug))
    assert found is not None
    return int(found)


async def add_authority(services: Services, name: str, slug: str) -> int:
    async with services.db.session() as session:
        row = Authority(name=name, slug=slug)
        session.add(row)
        await session.flush()
        return row.id


async def add_person(
    services: Services,
    name: str,
    email: str,
    role: Role,
    *,
    organisation_id: int | None = None,
    authority_id: int | None = None,
) -> int:
    async with services.db.session() as session:
        person = Person(name=name, email=email, is_demo=True)  # on the local sign-in list
        session.add(person)
        await session.flush()
        await grant(
            session, person, role, organisation_id=organisation_id, authority_id=authority_id
        )
        return person.id


async def submit_readiness(
    services: Services,
    org_slug: str,
    answers: Json,
    *,
    authority_slug: str = "riverside",
    at: datetime | None = None,
    version: int | None = None,
    state: ResponseState = ResponseState.SUBMITTED,
) -> int:
    """A provider's answers, stored as the form engine stores them (money in pence)."""
    organisation = await org_id(services, org_slug)
    authority = await authority_id(services, authority_slug)
    moment = at or datetime.now(UTC)
    async with services.db.session() as session:
        definition = (
            await definition_at(session, "readiness", version)
            if version
            else await latest_definition(session, "readiness")
        )
        assert definition is not None
        response = await start_draft(
            session,
            definition,
            organisation_id=organisation,
            authority_id=authority,
            respondent_id=None,
            answers=answers,
            now=moment,
        )
        if state == ResponseState.SUBMITTED:
            response.state = ResponseState.SUBMITTED
            response.submitted_at = moment
        return response.id


async def add_readiness_version_2(services: Services) -> FormDefinition:
    """A newer form: one question relabelled, one dropped, one added."""
    async with services.db.session() as session:
        first = await latest_definition(session, "readiness")
        assert first is not None
        pages = []
        for page in first.pages:
            fields = [f for f in page.fields if f.id != "respond_how"]
            if page.id == "costs":
                fields = [
                    f.model_copy(update={"label": "What does a year of the service cost you?"})
                    if f.id == "annual_cost"
                    else f
                    for f in fields
                ]
            if page.id == "capacity":
                fields.append(
                    Field(
                        id="volunteer_hours",
                        type=FieldType.WHOLE_NUMBER,
                        label="Volunteer hours a week?",
                    )
                )
            pages.append(page.model_copy(update={"fields": fields}))
        second = first.model_copy(update={"pages": pages})
        await save_definition(session, second, version=2, source="test")
        stored = await definition_at(session, "readiness", 2)
        assert stored is not None
        return stored


async def seed(services: Services) -> None:
    """Four providers' answers for Riverside, one for another council, and one draft."""
    hilltop = await add_authority(services, "Hilltop District Council", "hilltop")
    assert hilltop
    now = datetime.now(UTC)
    await submit_readiness(
        services, "eastgate-community-kitchen", EASTGATE_OLD, at=now - timedelta(days=400)
    )
    await add_readiness_version_2(services)
    await submit_readiness(
        services, "riverside-youth-trust", TOM_ANSWERS, at=now - timedelta(days=3), version=1
    )
    await submit_readiness(services, "asha-womens-centre", ASHA_ANSWERS, at=now - timedelta(days=2))
    await submit_readiness(
        services, "eastgate-community-kitchen", EASTGATE_NEW, at=now - timedelta(days=1)
    )
    await submit_readiness(
        services,
        "silver-threads-befriending",
        {"main_risks": "Only for Hilltop."},
        authority_slug="hilltop",
    )
    await submit_readiness(
        services,
        "silver-threads-befriending",
        {"main_risks": "A draft nobody else sees."},
        state=ResponseState.DRAFT,
    )


# --- what the file should say, read straight from the database -------------------------------


def _labels(field: Field, value: Any) -> str:
    by_value = {c.value: c.label for c in field.choices}
    items = value if isinstance(value, list) else [value]
    return "; ".join(by_value.get(str(v), str(v)) for v in items)


def expected_cell(field: Field, value: Any) -> Any:
    """The oracle: how one stored answer must appear in the XLSX."""
    if value in (None, "", []):
        return None
    if field.type == FieldType.MONEY:
        return value / 100
    if field.type == FieldType.PERCENTAGE:
        return value / 100
    if field.type in (FieldType.WHOLE_NUMBER, FieldType.SCALE):
        return value
    if field.type == FieldType.YES_NO:
        return "Yes" if value else "No"
    if field.type in (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE):
        return _labels(field, value)
    text = str(value)
    return "'" + text if text[:1] in "=+-@" else text


async def expected_readiness(services: Services) -> tuple[list[str], list[dict[str, Any]]]:
    """Question labels (newest form first, then older-only ones) and one dict per organisation:
    its latest sent answers for Riverside, by label."""
    riverside = await authority_id(services)
    async with services.db.session() as session:
        responses = (
            await session.scalars(
                select(FormResponse).where(
                    FormResponse.form_key == "readiness",
                    FormResponse.state == ResponseState.SUBMITTED,
                    FormResponse.authority_id == riverside,
                )
            )
        ).all()
        latest: dict[int, FormResponse] = {}
        for response in responses:
            assert response.organisation_id is not None and response.submitted_at is not None
            kept = latest.get(response.organisation_id)
            if (
                kept is None
                or kept.submitted_at is None
                or response.submitted_at > kept.submitted_at
            ):
                latest[response.organisation_id] = response
        newest = await latest_definition(session, "readiness")
        assert newest is not None
        labels = {f.id: f.label for f in newest.all_fields()}
        rows = []
        for response in latest.values():
            org = await session.get(Organisation, response.organisation_id)
            definition = await definition_at(session, "readiness", response.form_version)
            assert org is not None and definition is not None and response.submitted_at is not None
            row: dict[str, Any] = {
                "Organisation name": org.name,
                "Charity number (England and Wales)": org.charity_number,
                "Form version": response.form_version,
                "Answers sent (UK time)": response.submitted_at.astimezone(LONDON).isoformat(
                    timespec="seconds"
                ),
            }
            for field in definition.all_fields():
                label = labels.get(field.id, f"{field.label} (version {definition.version})")
                row[label] = expected_cell(field, response.answers.get(field.id))
            rows.append(row)
        older_only = [
            f"{f.label} (version {d.version})"
            for d in [await definition_at(session, "readiness", 1)]
            if d is not None
            for f in d.all_fields()
            if f.id not in labels
        ]
    return [*labels.values(), *older_only], sorted(rows, key=lambda r: r["Organisation name"])


# --- web helpers -----------------------------------------------------------------------------


async def fetch(user: WebUser, path: str) -> tuple[int, dict[str, str], bytes]:
    async with user.client.get(user.base + path, allow_redirects=False) as resp:
        return resp.status, dict(resp.headers), await resp.read()


async def export_link(user: WebUser, what: str, fmt: str) -> str:
    status, html = await user.get(f"/do/export?what={what}&format={fmt}")
    assert status == 200, text_of(html)
    found = LINK.search(html)
    assert found, text_of(html)
    return found.group(1)


async def download(user: WebUser, what: str, fmt: str) -> tuple[dict[str, str], bytes]:
    status, headers, body = await fetch(user, await export_link(user, what, fmt))
    assert status == 200, body[:500]
    return headers, body


def sheet_rows(data: bytes) -> tuple[openpyxl.Workbook, list[str], list[dict[str, Any]]]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    header = [str(v) for v in values[0]]
    return workbook, header, [dict(zip(header, row, strict=True)) for row in values[1:]]


async def audit_events(services: Services, action: str) -> list[AuditEvent]:
    async with services.db.session() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return list(rows.all())


# --- the files match the database ------------------------------------------------------------


async def test_xlsx_opens_with_openpyxl_and_matches_the_database(
    services: Services, web_user: WebUser
) -> None:
    await seed(services)
    await web_user.sign_in_locally("Priya Shah")
    headers, data = await download(web_user, "readiness", "xlsx")
    assert headers["Content-Type"] == XLSX
    assert headers["Content-Disposition"].startswith(
        'attachment; filename="convene-readiness-riverside-'
    )
    assert headers["Cache-Control"] == "no-store"

    workbook, header, rows = sheet_rows(data)
    labels, expected = await expected_readiness(services)
    profile_end = header.index("Form version")
    assert header[0] == "Organisation name"
    assert header[profile_end + 1] == "Answers sent (UK time)"
    assert header[profile_end + 2 :] == labels
    assert "What does a year of the service cost you?" in header  # the newest wording
    assert "How do you prefer to answer questions like these? (version 1)" in header

    # Row by row: every cell the database decides is the same in the file.
    assert [r["Organisation name"] for r in rows] == [e["Organisation name"] for e in expected]
    assert len(rows) == 3  # Silver Threads answered Hilltop, and its Riverside answers are a draft
    for row, want in zip(rows, expected, strict=True):
        for label, value in want.items():
            got = row[label]
            if isinstance(value, float) and got is not None:
                assert Decimal(str(got)) == Decimal(str(value)), (want["Organisation name"], label)
            else:
                assert got == value, (want["Organisation name"], label, got, value)
        for label in labels:  # questions this organisation's version did not ask are blank
            if label not in want:
                assert row[label] is None

    # Spot checks written out by hand, so the oracle above cannot hide a shared mistake.
    tom = next(r for r in rows if r["Organisation name"] == "Riverside Youth Trust")
    assert tom["What does a year of the service cost you?"] == 45000
    assert tom["What is the smallest yearly contract worth your while?"] == 5000.5
    assert tom["Which of these would worry you if a service came with them?"] == (
        "Taking on staff under TUPE; Leasing or running a building"
    )
    assert tom["If you were paid after doing the work, how long could you wait for the money?"] == (
        "61 to 90 days"
    )
    assert tom["Do you have a safeguarding policy?"] == "Yes"
    assert tom["Form version"] == 1 and tom["Charity number (England and Wales)"] == "1100001"
    assert tom["What do you work on?"] == "Children and young people; Jobs and skills"
    eastgate = next(r for r in rows if r["Organisation name"] == "Eastgate Community Kitchen")
    assert eastgate["What does a year of the service cost you?"] == 2500  # the latest answers
    assert eastgate["Form version"] == 2

    # A spreadsheet people can use: bold frozen header, money in pounds, a sheet saying who
    # may see it.
    sheet = workbook.worksheets[0]
    assert sheet.freeze_panes == "B2"
    assert all(cell.font.bold for cell in sheet[1])
    money = header.index("What does a year of the service cost you?") + 1
    assert "£" in sheet.cell(row=2, column=money).number_format
    assert sheet.column_dimensions["A"].width >= 10
    about = {row[0]: row[1] for row in workbook["About this file"].iter_rows(values_only=True)}
    assert (
        "Only Riverside Borough Council's commissioning team may see this file"
        in about["Who may see it"]
    )
    assert about["Organisations"] == "3" and about["Made for"] == "Priya Shah"
    assert "Only for Hilltop" not in str(list(sheet.values))
    assert "A draft nobody else sees" not in str(list(sheet.values))


async def test_csv_parses_and_matches_the_database(services: Services, web_user: WebUser) -> None:
    await seed(services)
    await web_user.sign_in_locally("Priya Shah")
    headers, data = await download(web_user, "readiness", "csv")
    assert headers["Content-Type"].startswith("text/csv")
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    labels, expected = await expected_readiness(services)
    assert list(rows[0])[-len(labels) :] == labels
    assert len(rows) == len(expected) == 3
    for row, want in zip(rows, expected, strict=True):
        for label, value in want.items():
            if label == "What does a year of the service cost you?" or "worth your while" in label:
                assert row[label] == (f"{value:.2f}" if value is not None else "")
            elif label == "What share of your costs are overheads?":
                assert row[label] == (f"{value * 100:g}%" if value is not None else "")
            elif value is None:
                assert row[label] == ""
            else:
                assert row[label] == str(value), (label, row[label], value)
    tom = next(r for r in rows if r["Organisation name"] == "Riverside Youth Trust")
    assert tom["What does a year of the service cost you?"] == "45000.00"
    assert tom["What is the smallest yearly contract worth your while?"] == "5000.50"


# --- who may download, and the audit ---------------------------------------------------------


async def test_a_link_works_only_for_the_person_it_was_made_for(
    services: Services, app_server: RunningApp, web_user: WebUser
) -> None:
    await seed(services)
    riverside = await authority_id(services)
    await add_person(
        services, "Ola Adams", "ola@riverside.example", Role.COMMISSIONER, authority_id=riverside
    )
    await web_user.sign_in_locally("Priya Shah")
    link = await export_link(web_user, "readiness", "csv")

    stranger = WebUser(app_server.url)  # nobody signed in: sign in first
    colleague = WebUser(app_server.url)  # signed in, but the link was made for Priya
    try:
        status, headers, _ = await fetch(stranger, link)
        assert status == 303 and headers["Location"].startswith("/signin")
        await colleague.sign_in_locally("Ola Adams")
        status, _, body = await fetch(colleague, link)
        assert status == 403 and b"made for someone else" in body
        assert b"Riverside Youth Trust" not in body
    finally:
        await stranger.close()
        await colleague.close()

    status, _, body = await fetch(web_user, link)
    assert status == 200 and b"Riverside Youth Trust" in body
    status, _, _ = await fetch(web_user, link[:-3] + ("abc" if not link.endswith("abc") else "xyz"))
    assert status == 404  # a changed link is not ours

    refused = await audit_events(services, "export.refused")
    assert [e.details["reason"] for e in refused] == ["someone else's link"]


async def test_an_expired_link_is_refused(
    services: Services, web_user: WebUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    await web_user.sign_in_locally("Priya Shah")

    class TwentyMinutesAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 20 * 60

    def old_serializer(settings: Settings) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(settings.signing_key, salt=SALT, signer=TwentyMinutesAgo)

    with monkeypatch.context() as patch:  # the link is signed as if 20 minutes ago
        patch.setattr(exports_handler, "_serializer", old_serializer)
        link = await export_link(web_user, "readiness", "xlsx")
    status, _, body = await fetch(web_user, link)
    assert status == 410 and b"This download link has expired" in body
    assert await audit_events(services, "export.downloaded") == []


# --- Slack: the file itself, in the person's direct messages ----------------------------------


@pytest.fixture
async def slack(app_server: RunningApp, fake_slack: FakeSlack) -> AsyncIterator[SlackPoster]:
    fake_slack.add_user("T0001", PRIYA_SLACK, "Priya Shah", email="priya.shah@riverside.example")
    fake_slack.add_user("T0001", "U0001", "Tom Okafor", email="tom@riversideyouth.example")
    poster = SlackPoster(app_server.url, SLACK_SECRET)
    yield poster
    await poster.close()
    await app_server.runner.app[SENDER].idle()


async def slack_command(slack: SlackPoster, fake: FakeSlack, user: str, text: str, key: str) -> str:
    """`/convene <text>`; returns what Slack shows the person in reply (ephemeral)."""
    from tests.slack.helpers import eventually

    status, _ = await slack.command(text, user_id=user, response_url=fake.response_url(key))
    assert status == 200
    bodies = await eventually(lambda: fake.responses.get(key))
    return str(bodies)


async def test_slack_export_arrives_as_a_file_in_the_dm(
    services: Services, slack: SlackPoster, fake_slack: FakeSlack, sender: OutboxSender
) -> None:
    await seed(services)
    said = await slack_command(slack, fake_slack, PRIYA_SLACK, "export readiness xlsx", "r1")
    assert "sending the file to our direct messages" in said
    await settle(sender)

    ((file, content),) = fake_slack.files_in(PRIYA_SLACK)
    assert file["name"].startswith("convene-readiness-riverside-") and file["name"].endswith(
        ".xlsx"
    )
    assert file["mimetype"] == XLSX and file["size"] == len(content)
    (shared,) = [m for m in fake_slack.delivered(PRIYA_SLACK) if m.get("files")]
    assert "Only Riverside Borough Council's commissioning team" in shared["text"]
    _, _, rows = sheet_rows(content)
    _, expected = await expected_readiness(services)
    assert [r["Organisation name"] for r in rows] == [e["Organisation name"] for e in expected]
    assert [m for m in fake_slack.delivered(PRIYA_SLACK) if "/downloads/" in str(m)] == []

    upload_calls = [c.method for c in fake_slack.calls if c.method.startswith(("files.", "upload"))]
    assert upload_calls == [
        "files.getUploadURLExternal",
        "upload_url",
        "files.completeUploadExternal",
    ]
    (created,) = await audit_events(services, "export.created")
    assert (created.door, created.details["kind"], created.details["format"]) == (
        "slack",
        "readiness",
        "xlsx",
    )
    (handed,) = await audit_events(services, "export.downloaded")
    assert (handed.door, handed.details["via"], handed.object_id) == (
        "slack",
        "slack file",
        created.object_id,
    )
    log = BlockKitLog(fakes=[fake_slack])
    assert block_kit_problems(log) == []


async def test_slack_without_the_file_scope_sends_a_link_that_works_on_the_web(
    services: Services,
    app_server: RunningApp,
    slack: SlackPoster,
    fake_slack: FakeSlack,
    sender: OutboxSender,
    web_user: WebUser,
) -> None:
    await seed(services)
    fake_slack.deny_file_uploads()
    await slack_command(slack, fake_slack, PRIYA_SLACK, "export directory csv", "r2")
    await settle(sender)
    assert fake_slack.files_in(PRIYA_SLACK) == []
    (message,) = fake_slack.delivered(PRIYA_SLACK)
    assert "Slack could not take the file" in message["text"]
    (url,) = re.findall(r'"url": "([^"]+/downloads/[^"]+)"', __import__("json").dumps(message))
    assert url.startswith(services.settings.base_url)
    await web_user.sign_in_locally("Priya Shah")
    status, headers, body = await fetch(web_user, url.removeprefix(services.settings.base_url))
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert "Riverside Youth Trust" in body.decode("utf-8-sig")
    assert block_kit_problems(BlockKitLog(fakes=[fake_slack])) == []


async def test_slack_provider_is_refused_politely(
    services: Services, slack: SlackPoster, fake_slack: FakeSlack, sender: OutboxSender
) -> None:
    said = await slack_command(slack, fake_slack, "U0001", "export readiness", "r3")
    assert "Exports are for the council" in said
    await settle(sender)
    assert fake_slack.files_in("U0001") == []
    (refused,) = await audit_events(services, "export.refused")
    assert refused.door == "slack"


# --- Teams: a link, because bots cannot attach files to a chat -------------------------------


async def link_priya_in_teams(services: Services, fake: FakeBotFramework) -> None:
    """Priya's Teams account is hers in Convene (what first contact does by email on Slack)."""
    async with services.db.session() as session:
        person = await session.scalar(select(Person).where(Person.name == "Priya Shah"))
        assert person is not None
        session.add(
            ChatIdentity(
                person_id=person.id,
                platform=Door.TEAMS,
                workspace_id=fake.tenant_id,
                user_id=PRIYA_TEAMS.aad_object_id,
            )
        )


async def test_teams_export_sends_a_link_that_works_on_the_web_for_her_only(
    services: Services,
    app_server: RunningApp,
    fake_teams: FakeBotFramework,
    sender: OutboxSender,
    web_user: WebUser,
) -> None:
    await seed(services)
    await link_priya_in_teams(services, fake_teams)
    build = TeamsActivities.from_fake(fake_teams)
    activity = build.personal_message("export readiness xlsx", user=PRIYA_TEAMS)
    response = await fake_teams.send_to_bot(f"{app_server.url}/api/messages", activity)
    assert response.status == 200
    await settle(sender)

    (posted,) = fake_teams.activities_in(activity["conversation"]["id"])
    (card,) = cards_of(posted)
    assert "Teams does not let Convene attach files to a chat" in card_text(card)
    opens = [a for a in re.findall(r"'url': '([^']+)'", str(card)) if "/downloads/" in a]
    (url,) = opens
    assert "Action.OpenUrl" in str(card)
    assert card_problems(CardLog(fakes=[fake_teams])) == []

    path = url.removeprefix(services.settings.base_url)
    await web_user.sign_in_locally("Tom Okafor")  # someone else signed in: refused
    status, _, _ = await fetch(web_user, path)
    assert status == 403
    await web_user.post("/signout", {})
    await web_user.sign_in_locally("Priya Shah")
    status, headers, body = await fetch(web_user, path)
    assert status == 200 and headers["Content-Type"] == XLSX
    _, _, rows = sheet_rows(body)
    assert len(rows) == 3

    (created,) = await audit_events(services, "export.created")
    assert (created.door, created.details["format"]) == ("teams", "xlsx")
    assert [e.door for e in await audit_events(services, "export.downloaded")] == ["web"]
    assert await count_refused(services) == 1


async def count_refused(services: Services) -> int:
    async with services.db.session() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "export.refused")
            )
            or 0
        )


async def test_export_on_its_own_offers_a_menu_whose_buttons_work(
    services: Services, web_user: WebUser
) -> None:
    await web_user.sign_in_locally("Priya Shah")
    status, html = await web_user.get("/do/export")
    page = text_of(html)
    assert status == 200 and "What would you like to download?" in page
    for label in ("Readiness answers (Excel)", "Provider directory (CSV)"):
        assert label in page
    status, html = await web_user.post(
        "/actions/cmd.export", {"value": "directory csv for=riverside"}
    )
    found = LINK.search(html)
    assert status == 200 and found, text_of(html)
    status, headers, body = await fetch(web_user, found.group(1))
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert "Eastgate Community Kitchen" in body.decode("utf-8-sig")


async def test_a_link_kept_after_leaving_the_commissioning_team_no_longer_works(
    services: Services, web_user: WebUser
) -> None:
    await seed(services)
    await web_user.sign_in_locally("Priya Shah")
    link = await export_link(web_user, "readiness", "xlsx")
    async with services.db.session() as session:  # Priya moves to another job
        priya = await session.scalar(select(Person).where(Person.name == "Priya Shah"))
        assert priya is not None
        for membership in list(priya.memberships):
            await session.delete(membership)
    status, _, body = await fetch(web_user, link)
    assert status == 403 and b"Riverside Youth Trust" not in body
    (refused,) = await audit_events(services, "export.refused")
    assert refused.details["reason"] == "not allowed now"
    assert await audit_events(services, "export.downloaded") == []
