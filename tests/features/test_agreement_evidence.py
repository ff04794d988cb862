"""Evidence for a check-in, in-process: Tom (Riverside Youth Trust) answers a check-in with
his own PDF report instead of the form, and Priya's team is told, with the file; photos
and voice notes are kept with the consent given. Every bad file (too big, empty, a type we
do not take, bytes that do not match the name, a web page called .pdf, no consent) is
refused with a clear message, nothing of the turn is kept, and the attempt is on the
record. Only the team and the reporting organisation see or download the files: not a
consortium member, not another provider."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.core.enums import Door
from bot.core.pages import PageContent, PageRefusal, PageRequest
from bot.core.turn import Attachment, AttachmentProblem, parse_command
from handlers.agreements.evidence import download_file, upload_page
from handlers.agreements.monitoring import CHASE_KIND
from storage.evidence_tables import EvidenceRow
from storage.monitoring_tables import CheckinRow
from tests.features.test_agreement_monitoring import (
    NOW,
    agreed,
    make_agreement,
    refusals,
    send_first,
    texts_to,
)
from tests.support import evidence_files as f
from tests.support.inprocess import Conversation, TestDoor, text_of


async def send(who: Conversation, text: str, *files: Attachment) -> str:
    """Type `text` with files attached, as a chat door or the web's upload form sends it."""
    _, args = parse_command(text)
    return text_of(await who._send(text=text, args=args, attachments=files))


def attach(name: str, data: bytes, content_type: str = "application/octet-stream") -> Attachment:
    return Attachment(filename=name, content_type=content_type, data=data)


async def kept(door: TestDoor) -> list[EvidenceRow]:
    async with door.services.db.session() as session:
        return list((await session.scalars(select(EvidenceRow).order_by(EvidenceRow.id))).all())


async def ready(
    door: TestDoor, *, consortium: bool = False
) -> tuple[Conversation, Conversation, int]:
    door.freeze(NOW)
    agreement_id = await make_agreement(door, consortium=consortium)
    priya, tom = await agreed(door, agreement_id)
    return priya, tom, await send_first(door)


@pytest.mark.parametrize("tom_door", [Door.SLACK, Door.TEAMS, Door.WEB])
async def test_a_report_answers_the_checkin_and_the_team_is_told(
    door: TestDoor, tom_door: Door
) -> None:
    priya, _, checkin_id = await ready(door)
    tom = await door.sign_in("Tom Okafor", door=tom_door)
    said = await send(
        tom,
        f"agreements upload {checkin_id} team=yes report=yes",
        attach("C:\\Reports\\Quarter 1 report.pdf", f.PDF, "application/pdf"),
    )
    assert "your report answers your check-in for Youth clubs in Preston" in said, said
    assert "Quarter 1 report.pdf" in said and "No other provider sees them" in said

    (row,) = await kept(door)
    assert (row.filename, row.kind, row.content_type) == (
        "Quarter 1 report.pdf",
        "report",
        "application/pdf",
    )
    assert row.answers_checkin and row.service_may_see and not row.council_may_quote
    assert row.organisation_id is not None and row.size == len(f.PDF)
    async with door.services.db.session() as session:
        checkin = await session.get(CheckinRow, checkin_id)
        assert checkin is not None and checkin.answered_at is not None
        assert checkin.answered_by == tom.person_id and checkin.minutes_spent
    assert [r for r in await door.reminders(kind=CHASE_KIND) if r.state == "pending"] == []

    (told,) = [t for t in await texts_to(door, "Priya Shah") if "answered" in t]
    assert "Riverside Youth Trust" in told and "Quarter 1 report.pdf" in told
    assert "sent instead of the form" in told
    assert f"/agreements/evidence/{row.id}" in told

    listed = text_of(await priya.say(f"agreements evidence {checkin_id}"))
    assert "Quarter 1 report.pdf" in listed and f"/agreements/evidence/{row.id}" in listed


async def test_photos_and_voice_notes_are_kept_with_the_consent_given(door: TestDoor) -> None:
    _, tom, checkin_id = await ready(door)
    said = await send(
        tom,
        f"agreements upload {checkin_id} team=yes quote=yes people_agreed=yes",
        attach("football.jpg", f.JPEG, "image/jpeg"),
        attach("Voice note.m4a", f.M4A, "audio/mp4"),
    )
    assert "we kept football.jpg (photo), Voice note.m4a (voice note)" in said, said
    assert "may quote them without anyone's name" in said
    rows = await kept(door)
    assert [(r.kind, r.council_may_quote, r.people_shown_agreed) for r in rows] == [
        ("photo", True, True),
        ("voice", True, True),
    ]
    assert not any(r.answers_checkin for r in rows)
    async with door.services.db.session() as session:
        checkin = await session.get(CheckinRow, checkin_id)
        assert checkin is not None and checkin.answered_at is None  # not a report
    listed = text_of(await tom.say(f"agreements evidence {checkin_id}"))
    assert "football.jpg: photo" in listed and "the people shown agreed" in listed


@pytest.mark.parametrize(
    ("on", "words"),
    [
        (Door.SLACK, "In Slack, attach the files"),
        (Door.TEAMS, "In Teams, attach the files"),
        (Door.WEB, "Use the upload page"),
    ],
)
async def test_without_a_file_each_door_says_how_to_send_one(
    door: TestDoor, on: Door, words: str
) -> None:
    _, _, checkin_id = await ready(door)
    tom = await door.sign_in("Tom Okafor", door=on)
    said = text_of(await tom.say(f"agreements upload {checkin_id}"))
    assert words in said and "up to 10 MB" in said
    assert f"/agreements/checkins/{checkin_id}/upload" in said
    if on != Door.WEB:
        assert door.services.settings.base_url + "/agreements/checkins/" in said
    assert await kept(door) == []


BAD = [
    (
        "too big",
        [Attachment("big.pdf", "application/pdf", problem=AttachmentProblem.TOO_BIG)],
        "team=yes",
        '"big.pdf" is too big. Files can be up to 10 MB',
    ),
    ("empty", [attach("report.pdf", b"")], "team=yes", '"report.pdf" is empty'),
    (
        "wrong type",
        [attach("notes.zip", f.plain_zip())],
        "team=yes",
        '"notes.zip" is not a kind of file we take. We take reports as PDF',
    ),
    (
        "html called pdf",
        [attach("report.pdf", f.HTML, "application/pdf")],
        "team=yes",
        '"report.pdf" is a kind of file that can run code',
    ),
    (
        "mismatch",
        [attach("report.docx", f.xlsx())],
        "team=yes",
        "its name says a Word (.docx) file, but inside it is a Excel (.xlsx) file",
    ),
    (
        "one bad among good",
        [attach("photo.jpg", f.JPEG), attach("photo2.png", f.PDF)],
        "team=yes",
        '"photo2.png" does not match its name',
    ),
    (
        "unreadable",
        [Attachment("voice.ogg", "audio/ogg", problem=AttachmentProblem.UNREADABLE)],
        "team=yes",
        'We could not get "voice.ogg" from your app',
    ),
    (
        "no consent",
        [attach("photo.jpg", f.JPEG)],
        "quote=yes",
        "Please say the council's commissioning team may see these files",
    ),
    (
        "report without a report",
        [attach("photo.jpg", f.JPEG)],
        "team=yes report=yes",
        "To answer the check-in with your own report, send a report file",
    ),
    (
        "too many",
        [attach(f"p{n}.jpg", f.JPEG) for n in range(11)],
        "team=yes",
        "Send at most 10 files at a time",
    ),
]


@pytest.mark.parametrize(("case", "files", "flags", "words"), BAD, ids=[b[0] for b in BAD])
async def test_bad_files_are_refused_nothing_is_kept_and_it_is_on_the_record(
    door: TestDoor, case: str, files: list[Attachment], flags: str, words: str
) -> None:
    _, tom, checkin_id = await ready(door)
    before = len(await refusals(door))
    said = await send(tom, f"agreements upload {checkin_id} {flags}", *files)
    assert words in said, said
    assert "Nothing was kept" in said
    assert await kept(door) == []
    (refusal,) = (await refusals(door))[before:]
    assert refusal.details["attempted"] == "upload evidence"
    async with door.services.db.session() as session:
        checkin = await session.get(CheckinRow, checkin_id)
        assert checkin is not None and checkin.answered_at is None


async def test_a_file_over_the_limit_is_refused_even_when_the_door_fetched_it(
    door: TestDoor,
) -> None:
    _, tom, checkin_id = await ready(door)
    big = f.PDF + b"\x00" * door.services.settings.upload_max_bytes
    said = await send(tom, f"agreements upload {checkin_id} team=yes", attach("big.pdf", big))
    assert "is too big" in said and "Nothing was kept" in said
    assert await kept(door) == []


async def test_an_answered_checkin_takes_more_files_but_not_a_second_report(
    door: TestDoor,
) -> None:
    _, tom, checkin_id = await ready(door)
    await send(tom, f"agreements upload {checkin_id} team=yes report=yes", attach("r.pdf", f.PDF))
    said = await send(
        tom, f"agreements upload {checkin_id} team=yes report=yes", attach("r2.pdf", f.PDF)
    )
    assert "already been answered" in said and len(await kept(door)) == 1
    said = await send(tom, f"agreements upload {checkin_id} team=yes", attach("r2.pdf", f.PDF))
    assert "we kept r2.pdf (report)" in said and len(await kept(door)) == 2


async def test_only_the_reporter_uploads_and_only_the_team_and_reporter_see_files(
    door: TestDoor,
) -> None:
    priya, tom, checkin_id = await ready(door, consortium=True)
    await send(tom, f"agreements upload {checkin_id} team=yes", attach("photo.png", f.PNG))
    (row,) = await kept(door)
    before = len(await refusals(door))

    # The team sees and downloads, but does not upload for the provider.
    said = await send(priya, f"agreements upload {checkin_id} team=yes", attach("x.png", f.PNG))
    assert "Only the organisation asked for this check-in can send files" in said
    # A consortium member and another provider: not found, by every step, on the record.
    amina = await door.sign_in("Amina Begum")
    grace = await door.sign_in("Grace Lee")
    for who in (amina, grace):
        said = await send(who, f"agreements upload {checkin_id} team=yes", attach("x.png", f.PNG))
        assert "couldn't find that agreement" in said
        said = text_of(await who.say(f"agreements evidence {checkin_id}"))
        assert "couldn't find that agreement" in said and "photo.png" not in said
    assert len(await kept(door)) == 1

    services = door.services
    for name, allowed in (("Tom Okafor", True), ("Priya Shah", True), ("Amina Begum", False)):
        actor = await door.actor(await door.person_id(name))
        got = await download_file(
            PageRequest(actor=actor, params={"evidence_id": str(row.id)}, format="file"), services
        )
        if allowed:
            assert isinstance(got, PageContent) and got.body == f.PNG
            assert got.content_type == "image/png" and got.download_name == "photo.png"
        else:
            assert isinstance(got, PageRefusal) and got.status == 404
    grace_actor = await door.actor(grace.person_id)
    for params in ({"evidence_id": str(row.id)}, {"evidence_id": "999999"}):
        got = await download_file(PageRequest(grace_actor, params, "file"), services)
        assert isinstance(got, PageRefusal) and got.status == 404
    page = await upload_page(
        PageRequest(grace_actor, {"checkin_id": str(checkin_id)}, "html"), services
    )
    assert isinstance(page, PageRefusal) and page.status == 404
    # 1 team + 2×2 steps + Amina's and Grace's 3 downloads + Grace's upload page.
    assert len(await refusals(door)) == before + 1 + 4 + 3 + 1
