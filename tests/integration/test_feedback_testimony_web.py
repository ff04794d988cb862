"""Testimony on a feedback point's public page over real HTTP: a photo sent with both ticks is
kept without its EXIF (GPS) and the provider downloads it as an attachment that runs
nothing; the council's team gets it only because it may quote it; another provider is told
it was not found. A voice note without the "service can see this" tick, a file too big, a
PDF, and a web page named .jpg are each refused kindly and NOTHING of the entry is kept. No
response sets a cookie, and the stored file row holds no name, address or time."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from sqlalchemy import select

from bot.web.routes import MAX_BODY
from storage.feedback_tables import FeedbackPoint
from storage.models import AuditEvent
from tests.integration.test_feedback_web import TOKEN, Visitor, point, stored, visitor  # noqa: F401
from tests.support import evidence_files as f
from tests.support.inprocess import TestDoor
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of

LIMIT = 64 * 1024
GPS_MARKER = b"GPSLatitude 53.7632N 2.7031W"
#: A JPEG as a phone makes it: JFIF, then EXIF with a GPS position, then the picture.
PHOTO_WITH_GPS = (
    b"\xff\xd8"
    + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\xff\xe1"
    + (2 + 6 + len(GPS_MARKER)).to_bytes(2, "big")
    + b"Exif\x00\x00"
    + GPS_MARKER
    + b"\xff\xdb\x00\x05\x00\x01\x02"  # a (tiny) quantisation table: kept
    + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    + b"\x12\x34\x56\x78" * 8
    + b"\xff\xd9"
)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "feedback_per_client_per_hour": 20,
        "feedback_per_point_per_hour": 100,
        "upload_max_bytes": LIMIT,
        "suppression_minimum": 1,
    }


async def send_with_file(
    person: Visitor, slug: str, file: tuple[str, bytes, str] | None, **fields: str
) -> tuple[int, str, Any]:
    """Open the page (for its token) and send the form with a file, as a browser does."""
    html = await person.open(slug)
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html
    match = TOKEN.search(html)
    assert match
    form = aiohttp.FormData()
    form.add_field("form_token", match.group(1))
    for name, value in fields.items():
        form.add_field(name, value)
    if file is not None:
        filename, data, content_type = file
        form.add_field("testimony", data, filename=filename, content_type=content_type)
    return await person.request("POST", f"/f/{slug}", data=form)


async def files(door: TestDoor) -> list[dict[str, Any]]:
    async with door.services.db.engine.connect() as connection:
        rows = await connection.execute(sa.text("SELECT * FROM feedback_testimony"))
        return [dict(row._mapping) for row in rows]


async def test_a_photo_with_both_ticks_is_kept_clean_and_reaches_only_those_who_may_see_it(
    door: TestDoor,
    point: FeedbackPoint,  # noqa: F811
    visitor: Visitor,  # noqa: F811
    app_server: RunningApp,
) -> None:
    html = await visitor.open(point.slug)
    page = text_of(html)
    assert "Add a photo or a voice note (you do not have to)" in page
    assert "We only keep your photo or voice note if you tick this." in page
    assert page.index("The council may use it, without your name") < page.index("Send")
    assert 'accept=".jpg' in html and ".pdf" not in html.split('type="file"')[1][:400]

    status, html, _ = await send_with_file(
        visitor,
        point.slug,
        ("IMG_2041.jpg", PHOTO_WITH_GPS, "image/jpeg"),
        helping="yes",
        anything_else="The garden we built.",
        service_may_see="yes",
        council_may_quote="yes",
    )
    assert status == 200 and "Thank you" in text_of(html), text_of(html)
    (entry,) = await stored(door)
    (row,) = await files(door)
    assert set(row) == {
        "id",
        "entry_id",
        "kind",
        "content_type",
        "extension",
        "size",
        "sha256",
        "data",
        "service_may_see",
        "council_may_quote",
    }
    assert row["entry_id"] == entry["id"] and row["kind"] == "photo"
    assert row["service_may_see"] and row["council_may_quote"]
    kept = bytes(row["data"])
    assert GPS_MARKER not in kept and b"Exif" not in kept  # where it was taken: gone
    assert kept.startswith(b"\xff\xd8\xff\xe0") and b"\xff\xdb\x00\x05" in kept
    assert kept.endswith(b"\x12\x34\x56\x78\xff\xd9") and row["size"] == len(kept)
    assert "IMG_2041" not in repr(row) and "127.0.0.1" not in repr(row)

    tom, priya, grace = (WebUser(app_server.url) for _ in range(3))
    try:
        await tom.sign_in_locally("Tom Okafor")
        status, html = await tom.get(f"/do/feedback?words=show+{point.id}")
        said = text_of(html)
        assert "A photo (1 KB): the council may quote it without a name." in said, said
        link = f"/feedback/testimony/{row['id']}"
        assert link in html
        async with tom.client.get(tom.base + link) as resp:
            assert resp.status == 200 and await resp.read() == kept
            assert resp.headers["Content-Type"] == "image/jpeg"
            assert resp.headers["Content-Disposition"].startswith("attachment")
            assert "sandbox" in resp.headers["Content-Security-Policy"]
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
        await priya.sign_in_locally("Priya Shah")  # the council: it may quote this one
        async with priya.client.get(priya.base + link) as resp:
            assert resp.status == 200 and await resp.read() == kept
        await grace.sign_in_locally("Grace Lee")  # another provider
        async with grace.client.get(grace.base + link) as resp:
            assert resp.status == 404 and await resp.read() != kept
    finally:
        for user in (tom, priya, grace):
            await user.close()
    async with door.services.db.session() as session:
        actions = list((await session.scalars(select(AuditEvent.action))).all())
    assert actions.count("feedback.testimony_downloaded") == 2
    assert "feedback.refused" in actions


async def test_without_the_council_tick_the_council_does_not_get_the_file(
    door: TestDoor,
    point: FeedbackPoint,  # noqa: F811
    visitor: Visitor,  # noqa: F811
    app_server: RunningApp,
) -> None:
    status, _, _ = await send_with_file(
        visitor, point.slug, ("voice.ogg", f.OGG, "audio/ogg"), helping="yes", service_may_see="yes"
    )
    assert status == 200
    (row,) = await files(door)
    assert row["kind"] == "voice" and not row["council_may_quote"]
    link = f"/feedback/testimony/{row['id']}"
    tom, priya = WebUser(app_server.url), WebUser(app_server.url)
    try:
        await tom.sign_in_locally("Tom Okafor")
        _, html = await tom.get(f"/do/feedback?words=show+{point.id}")
        assert "only the service may see or hear it" in text_of(html) and link in html
        await priya.sign_in_locally("Priya Shah")
        _, html = await priya.get(f"/do/feedback?words=show+{point.id}")
        assert link not in html and "voice note" not in text_of(html)
        async with priya.client.get(priya.base + link) as resp:
            assert resp.status == 404
    finally:
        await tom.close()
        await priya.close()


async def test_a_voice_note_without_the_service_tick_keeps_nothing_and_says_why(
    door: TestDoor,
    point: FeedbackPoint,  # noqa: F811
    visitor: Visitor,  # noqa: F811
) -> None:
    status, html, _ = await send_with_file(
        visitor,
        point.slug,
        ("voice.ogg", f.OGG, "audio/ogg"),
        helping="yes",
        anything_else="Please keep the Tuesday group.",
        council_may_quote="yes",
    )
    page = text_of(html)
    assert status == 422
    assert "did not tick that the people who run the service can see or hear it" in page
    assert "We have not saved anything yet" in page and 'href="#testimony"' in html
    assert "Please keep the Tuesday group." in html  # the answers come back, to send again
    assert await stored(door) == [] and await files(door) == []
    async with door.services.db.session() as session:
        refused = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "feedback.testimony_refused")
            )
        ).one()
    assert refused.actor_id is None and refused.details["reason"].startswith("no consent")
    assert (refused.at.hour, refused.at.minute, refused.at.second) == (0, 0, 0)  # the day only


@pytest.mark.parametrize(
    ("file", "words"),
    [
        (("big.jpg", f.JPEG + b"\x00" * LIMIT, "image/jpeg"), "is too big. It can be up to 64 KB"),
        (("report.pdf", f.PDF, "application/pdf"), "We can only take a photo or a voice note"),
        (("cat.jpg", f.HTML, "image/jpeg"), "a kind that can run code"),
        (("photo.heic", f.HEIC, "image/heic"), "We can only take a photo or a voice note"),
        (("photo.png", f.JPEG, "image/png"), "name does not match what is inside it"),
    ],
)
async def test_bad_files_are_refused_kindly_and_nothing_of_the_entry_is_kept(
    door: TestDoor,
    point: FeedbackPoint,  # noqa: F811
    visitor: Visitor,  # noqa: F811
    file: tuple[str, bytes, str],
    words: str,
) -> None:
    status, html, _ = await send_with_file(
        visitor,
        point.slug,
        file,
        helping="no",
        anything_else="It closed early.",
        service_may_see="yes",
    )
    assert status == 422 and words in text_of(html), text_of(html)
    assert "We have not saved anything yet" in text_of(html)
    assert await stored(door) == [] and await files(door) == []


async def test_a_body_far_past_the_limit_is_stopped_and_keeps_nothing(
    door: TestDoor,
    point: FeedbackPoint,  # noqa: F811
    visitor: Visitor,  # noqa: F811
) -> None:
    status, html, _ = await send_with_file(
        visitor,
        point.slug,
        ("huge.jpg", f.JPEG + b"\x00" * (LIMIT + MAX_BODY), "image/jpeg"),
        helping="yes",
        service_may_see="yes",
    )
    assert status == 413 and "Nothing was saved" in text_of(html)
    assert await stored(door) == [] and await files(door) == []


async def test_the_form_without_a_file_still_works_as_multipart(
    door: TestDoor,
    point: FeedbackPoint,  # noqa: F811
    visitor: Visitor,  # noqa: F811
) -> None:
    status, html, _ = await send_with_file(visitor, point.slug, None, helping="yes")
    assert status == 200 and "Thank you" in text_of(html)
    assert len(await stored(door)) == 1 and await files(door) == []
    status, html, _ = await send_with_file(
        visitor,
        point.slug,
        ("voice.ogg", f.OGG, "audio/ogg"),
        service_may_see="yes",
        form_token="x",
    )
    assert status == 422 and len(await stored(door)) == 1 and await files(door) == []


async def test_a_support_worker_enters_feedback_with_help_from_their_own_link(
    door: TestDoor,
    point: FeedbackPoint,  # noqa: F811
    visitor: Visitor,  # noqa: F811
    app_server: RunningApp,
) -> None:
    tom = WebUser(app_server.url)
    try:
        await tom.sign_in_locally("Tom Okafor")
        status, html = await tom.get(f"/do/feedback?words=show+{point.id}")
        assert status == 200 and "Help someone give feedback" in text_of(html)
        match = re.search(rf'href="(/f/{point.slug}/with-help/[^"]+)"', html)
        assert match, html
        link = match.group(1)
    finally:
        await tom.close()
    status, html, _ = await visitor.request("GET", link)  # the worker's phone: no session
    assert status == 200 and "You are helping someone give feedback" in text_of(html)
    assert f'action="{link}"' in html
    token = TOKEN.search(html)
    assert token
    status, html, _ = await visitor.request(
        "POST", link, data={"form_token": token.group(1), "helping": "yes"}
    )
    assert status == 200 and "Thank you" in text_of(html)
    (entry,) = await stored(door)
    tom_id = await door.person_id("Tom Okafor")
    assert entry["with_help"] is True or entry["with_help"] == 1
    assert str(tom_id) not in {str(v) for k, v in entry.items() if k != "point_id"}
    async with door.services.db.session() as session:
        (event,) = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "feedback.entered_with_help")
            )
        ).all()
    assert event.actor_id == tom_id and event.object_id == str(point.id)
    assert entry["id"] not in repr(event.details) and entry["id"] != event.object_id
    assert (event.at.hour, event.at.minute, event.at.second) == (0, 0, 0)  # the day only

    forged = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
    status, html, _ = await visitor.request(
        "POST", forged, data={"form_token": token.group(1), "helping": "no"}
    )
    assert status == 410 and "has run out" in text_of(html)
    assert len(await stored(door)) == 1
