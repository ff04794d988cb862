"""Shared by the Slack and Teams chart picture tests: a generated council with Dana Reid
as its commissioner, the PNG its red, amber, green chart must be (counted row by row from
the database), and fetching a picture's address the way a chat platform does: no cookie."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import aiohttp
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from bench.dashboard import NOW, Size, python_figures, seed
from bot.core.clock import FixedClock
from bot.services import Services
from handlers.dashboard.charts import Bar, png_of
from handlers.dashboard.images import SALT
from handlers.export_files import ExportFormat, ExportKind
from handlers.exports import ExportTicket, sign_ticket
from storage.models import Person, Role
from storage.people import grant

SMALL = Size(organisations=60, engagements=6, opportunities=20, agreements=12, years=1, councils=2)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DANA_EMAIL = "dana@bench.example"
RAG_TITLE = "Latest red, amber, green ratings"


async def seed_council(services: Services) -> int:
    """The bench's councils, the first with Dana as commissioner; returns that council."""
    services.clock = FixedClock(NOW)
    async with services.db.session() as session:
        councils, _ = await seed(session, SMALL)
        dana = Person(name="Dana Reid", email=DANA_EMAIL, is_demo=True)
        session.add(dana)
        await session.flush()
        await grant(session, dana, Role.COMMISSIONER, authority_id=councils[0])
    return councils[0]


async def expected_rag_png(services: Services, council: int) -> bytes:
    """The red, amber, green chart drawn from the ratings counted in Python from every row."""
    async with services.db.session() as session:
        _, _, agreement, _ = await python_figures(session, council, today=NOW.date(), now=NOW)
    counts = [
        ("Red", agreement.rag.get("red", 0)),
        ("Amber", agreement.rag.get("amber", 0)),
        ("Green", agreement.rag.get("green", 0)),
        ("No colour given yet", agreement.rag.get(None, 0)),
    ]
    assert sum(n for _, n in counts) > 0, "the seeded council has ratings to draw"
    return png_of(RAG_TITLE, [Bar(label, n, f"{n:,}") for label, n in counts])


async def dana_id(services: Services) -> int:
    async with services.db.session() as session:
        found = await session.scalar(select(Person.id).where(Person.email == DANA_EMAIL))
    assert found is not None
    return found


async def fetch(app_url: str, address: str) -> tuple[int, str, bytes]:
    """GET a picture's address on the running app as a chat platform does: no cookie.
    The address names the app's public base URL; the test app listens elsewhere."""
    parts = urlsplit(address)
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{app_url}{parts.path}", allow_redirects=False) as response,
    ):
        assert "Set-Cookie" not in response.headers
        return response.status, response.headers.get("Content-Type", ""), await response.read()


def old_token(services: Services, data: dict[str, object], age_seconds: int) -> str:
    """A chart ticket signed with our key `age_seconds` ago (for a stale address)."""

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age_seconds

    signed = URLSafeTimedSerializer(services.settings.signing_key, salt=SALT, signer=Then)
    return str(signed.dumps(data))


async def check_picture_addresses(app_url: str, services: Services, address: str) -> None:
    """A forged, altered, stale or non-picture address answers 404 or 403, never 5xx."""
    base = address.rpartition("/")[0]
    token = address.rpartition("/")[2]
    status, _, _ = await fetch(app_url, f"{base}/not-a-ticket")
    assert status == 404
    status, _, _ = await fetch(app_url, f"{base}/{token[:-3]}xyz")
    assert status == 404
    stale = old_token(
        services,
        {"p": await dana_id(services), "c": "x", "k": "rag", "s": "", "a": ""},
        2 * 60 * 60,
    )
    status, _, body = await fetch(app_url, f"{base}/{stale}")
    assert status == 403 and b"more than an hour old" in body
    # A download ticket (not a picture, and needing sign-in) is not served here.
    export = sign_ticket(
        services.settings,
        ExportTicket(
            export_id="e1",
            person_id=await dana_id(services),
            kind=ExportKind.DIRECTORY,
            fmt=ExportFormat.CSV,
            authority_id=1,
        ),
    )
    status, _, _ = await fetch(app_url, f"{base}/{export}")
    assert status == 404
