"""Dashboard charts as PNG pictures for Slack and Teams, through the app's file desk.

Slack and Teams show a picture by fetching its address themselves, from their own servers,
without our session cookie. So a chart's picture is a signed ticket on the app's public
address (`/chart-images/<ticket>`), good for whoever holds it, but only briefly and only
for what it names: one person, one council, one chart, and the filters chosen. The
picture is drawn when it is fetched, from the same service step as the dashboard
(`council_page`), checking again that the person still commissions for the council, so
it never shows more than that person could see on the page, and small groups are hidden
exactly as there.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bot.core.files import FileRefused, TakenFile, TicketExpired, TicketInvalid
from bot.settings import Settings
from handlers.dashboard.charts import Bar, png_of
from handlers.dashboard.page import council_page
from storage.people import load_actor
from storage.visibility import Refusal

SALT = "dashboard-chart-image"
#: How long a picture's address works: one hour. Slack fetches the picture once, when the
#: message is posted, and keeps its own copy; Teams fetches it whenever the card is shown,
#: which for a message just sent is within minutes. An hour covers a person scrolling
#: back to the dashboard they asked for, while a link copied out of a chat soon stops
#: working (it needs no sign-in, so it must not live long). After that the chart's table,
#: sent as text with the picture, still says the same numbers.
IMAGE_SECONDS = 60 * 60
CONTENT_TYPE = "image/png"
PATH = "/chart-images/"
EXPIRED = (
    "This chart picture is more than an hour old, so it no longer works. "
    "Ask for the dashboard again to see it."
)


@dataclass(frozen=True)
class ChartTicket:
    """One chart of one person's dashboard: the person, the council (slug), the chart's
    key and the filters they chose. `bearer`: fetched without a session."""

    person_id: int
    council: str
    key: str
    service: str = ""
    area: str = ""
    bearer: bool = True


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.signing_key, salt=SALT)


def sign(settings: Settings, ticket: ChartTicket) -> str:
    return str(
        _serializer(settings).dumps(
            {
                "p": ticket.person_id,
                "c": ticket.council,
                "k": ticket.key,
                "s": ticket.service,
                "a": ticket.area,
            }
        )
    )


def chat_image_url(settings: Settings, ticket: ChartTicket) -> str:
    """The full public address of a chart's picture, for Slack and Teams to fetch."""
    return f"{settings.base_url}{PATH}{sign(settings, ticket)}"


class ChartImages:
    """Chart pictures as a file source at the app's `FileDesk`."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def read(self, token: str) -> object:
        if not token or len(token) > 600:
            raise TicketInvalid("no ticket")
        try:
            data = _serializer(self._settings).loads(token, max_age=IMAGE_SECONDS)
        except SignatureExpired as exc:
            raise TicketExpired([EXPIRED], EXPIRED) from exc
        except BadSignature as exc:
            raise TicketInvalid("bad signature") from exc
        try:
            return ChartTicket(
                person_id=int(data["p"]),
                council=str(data["c"]),
                key=str(data["k"]),
                service=str(data["s"]),
                area=str(data["a"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TicketInvalid("not a chart ticket") from exc

    async def take(
        self,
        services: Any,
        ticket: object,
        *,
        person_id: int,
        door: str,
        via: str,
        record: bool = True,
    ) -> TakenFile | FileRefused:
        assert isinstance(ticket, ChartTicket)
        if person_id != ticket.person_id:
            return FileRefused("This chart was made for someone else.")
        async with services.db.session() as session:
            actor = await load_actor(session, ticket.person_id, services.tz)
        councils = actor.commissioner_for() if actor is not None else set()
        if not councils:
            return FileRefused("Only a council's commissioning team can see its charts.")
        page = await council_page(
            services,
            councils,
            wanted=ticket.council,
            service=ticket.service,
            area=ticket.area,
            now=services.clock.now(),
        )
        if isinstance(page, Refusal):
            return FileRefused(page.message)
        chart = next((c for c in page.charts if c.key == ticket.key), None)
        if chart is None:
            return FileRefused("This chart is not on the dashboard any more.")
        bars = [Bar(row.label, row.amount, row.shown) for row in chart.rows]
        png = await asyncio.to_thread(png_of, chart.title, bars)
        return TakenFile(f"{chart.key}.png", CONTENT_TYPE, png, len(chart.rows))

    async def handed_over(
        self, services: Any, ticket: object, *, person_id: int, door: str, via: str, rows: int
    ) -> None:
        """Nothing to note: the picture shows what the dashboard just told the person."""
