"""Evidence over real HTTP through the web door: Tom signs in, opens the upload page for
his check-in and sends his PDF report as the answer (Priya's team is told through the
outbox), then a photo with consent. A web page named .pdf is refused, nothing kept, on the
record; a file over the limit is refused kindly, and so is a body far past it; a form with
files but no CSRF token keeps nothing. Downloads are attachments that run nothing, for the
team and the reporter only: another provider is told the page was not found."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

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
from tests.support.inprocess import TestDoor
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of

LIMIT = 64 * 1024


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"upload_max_bytes": LIMIT}


def with_files(
    csrf: str | None, fields: dict[str, str], files: list[tuple[str, bytes, str]]
) -> aiohttp.FormData:
    form = aiohttp.FormData()
    if csrf is not None:
        form.add_field("csrf_token", csrf)
    for name, value in fields.items():
        form.add_field(name, value)
    for filename, data, content_type in files:
        form.add_field("files", data, filename=filename, content_type=content_type)
    return form


async def upload(
    user: WebUser, checkin_id: int, files: list[tuple[str, bytes, str]], **flags: str
) -> tuple[int, str]:
    """Open the upload page (for its CSRF token) and send the form with files, as a browser."""
    status, html = await user.get(f"/agreements/checkins/{checkin_id}/upload")
    assert status == 200, html
    form = with_files(user.csrf(html), {"words": f"upload {checkin_id}", **flags}, files)
    async with user.client.post(f"{user.base}/do/agreements", data=form) as resp:
        return resp.status, text_of(await resp.text())


async def kept(door: TestDoor) -> list[EvidenceRow]:
    async with door.services.db.session() as session:
        return list((await session.scalars(select(EvidenceRow).order_by(EvidenceRow.id))).all())


async def fetch(user: WebUser, path: str) -> tuple[int, Any, bytes]:
    async with user.client.get(user.base + path) as resp:
        return resp.status, resp.headers, await resp.read()


async def test_a_provider_sends_evidence_from_the_web_and_only_the_right_people_fetch_it(
    door: TestDoor, app_server: RunningApp
) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    await agreed(door, agreement_id)
    checkin_id = await send_first(door)
    base = app_server.url
    tom, priya, grace = WebUser(base), WebUser(base), WebUser(base)
    try:
        await tom.sign_in_locally("Tom Okafor")
        status, html = await tom.get(f"/agreements/checkins/{checkin_id}/upload")
        assert status == 200
        assert 'enctype="multipart/form-data"' in html and 'type="file"' in html
        assert "multiple" in html and 'accept=".pdf,.docx' in html
        page = text_of(html)
        assert "each up to 64 KB" in page and "No other provider can" in page
        assert "This is our report instead of the form" in page

        # The report answers the check-in; the team is told.
        status, said = await upload(
            tom,
            checkin_id,
            [("Our report.pdf", f.PDF, "application/pdf")],
            team="yes",
            report="yes",
        )
        assert status == 200 and "your report answers your check-in" in said, said
        async with door.services.db.session() as session:
            checkin = await session.get(CheckinRow, checkin_id)
            assert checkin is not None and checkin.answered_at is not None
        (told,) = [t for t in await texts_to(door, "Priya Shah") if "answered" in t]
        assert "Our report.pdf" in told

        # A photo, with consent to quote.
        status, said = await upload(
            tom, checkin_id, [("club.png", f.PNG, "image/png")], team="yes", quote="yes"
        )
        assert status == 200 and "we kept club.png (photo)" in said, said
        report, photo = await kept(door)
        assert photo.council_may_quote and not photo.people_shown_agreed

        # A web page named .pdf: refused, nothing kept, on the record.
        before = len(await refusals(door))
        status, said = await upload(
            tom, checkin_id, [("minutes.pdf", f.HTML, "application/pdf")], team="yes"
        )
        assert status == 200 and "can run code" in said and "Nothing was kept" in said
        assert "Try again on the upload page" in said  # a next step, not a dead end
        assert len(await kept(door)) == 2
        assert len(await refusals(door)) == before + 1

        # Over the per-file limit: a kind refusal from the feature, on the record.
        big = f.PDF + b"\x00" * LIMIT
        status, said = await upload(
            tom, checkin_id, [("big.pdf", big, "application/pdf")], team="yes"
        )
        assert status == 200 and '"big.pdf" is too big. Files can be up to 64 KB' in said, said
        assert len(await kept(door)) == 2
        assert len(await refusals(door)) == before + 2

        # Far past what one form may carry: a plain page, not a stack trace; nothing kept.
        huge = [(f"big{n}.pdf", big, "application/pdf") for n in range(9)]
        status, said = await upload(tom, checkin_id, huge, team="yes")
        assert status == 413 and "That was too much to send" in said
        assert "Each file can be up to 64 KB" in said and "Traceback" not in said
        assert len(await kept(door)) == 2

        # No CSRF token: nothing kept.
        form = with_files(
            None, {"words": f"upload {checkin_id}", "team": "yes"}, [("x.png", f.PNG, "image/png")]
        )
        async with tom.client.post(f"{base}/do/agreements", data=form) as resp:
            assert resp.status == 403 and "This page has expired" in await resp.text()
        assert len(await kept(door)) == 2

        # The reporter and the team download; the file runs nothing and is kept nowhere.
        status, headers, body = await fetch(tom, f"/agreements/evidence/{report.id}")
        assert status == 200 and body == f.PDF
        assert headers["Content-Type"] == "application/pdf"
        assert headers["Content-Disposition"].startswith("attachment;")
        assert "filename*=UTF-8''Our%20report.pdf" in headers["Content-Disposition"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
        assert headers["Cache-Control"] == "private, no-store"
        await priya.sign_in_locally("Priya Shah")
        status, headers, body = await fetch(priya, f"/agreements/evidence/{photo.id}")
        assert status == 200 and body == f.PNG and headers["Content-Type"] == "image/png"
        status, html = await priya.get(f"/do/agreements?words=evidence+{checkin_id}")
        assert f'href="/agreements/evidence/{report.id}"' in html

        # Another provider: not found, for the file and the upload page, on the record.
        await grace.sign_in_locally("Grace Lee")
        before = len(await refusals(door))
        status, headers, body = await fetch(grace, f"/agreements/evidence/{report.id}")
        assert status == 404 and b"%PDF" not in body and "Page not found" in body.decode()
        status, html = await grace.get(f"/agreements/checkins/{checkin_id}/upload")
        assert status == 404 and "Youth clubs" not in html
        assert len(await refusals(door)) == before + 2
    finally:
        for user in (tom, priya, grace):
            await user.close()
