"""`GET /downloads/{token}`: hand a commissioner the export file a signed link stands for.

The link (see handlers/exports) is signed with the app's key, lasts a few minutes, and
names the person it was made for; it only works in a browser signed in as that person.
The file is made now, from the database, and sent as an attachment that browsers and
proxies are told not to keep. What the link stands for is checked in this order, so that
nothing about an export is revealed to a stranger: is it ours, is it still fresh, who is
signed in, and may they (still) have it.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from bot.core.turn import Door
from bot.web.routes import SERVICES, _actor, _must_sign_in, _problem
from handlers.exports import (
    LINK_MINUTES,
    TicketExpired,
    TicketInvalid,
    file_for_ticket,
    read_ticket,
)
from storage.visibility import Refusal


def _disposition(filename: str) -> str:
    """`attachment`, with an ASCII name for old browsers and the exact name for the rest."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


async def download(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    try:
        ticket = read_ticket(services.settings, request.match_info["token"])
    except TicketExpired:
        return _problem(
            request,
            410,
            "This download link has expired",
            [
                f"Download links work for {LINK_MINUTES} minutes, to keep providers' answers safe.",
                "Ask Convene for the file again: type export.",
            ],
        )
    except TicketInvalid:
        return _problem(request, 404, "Page not found", ["This download link does not work."])
    actor = await _actor(request)
    if actor is None:
        return _must_sign_in(request)
    made = await file_for_ticket(
        services, ticket, person_id=actor.person_id, door=Door.WEB, via="link"
    )
    if isinstance(made, Refusal):
        return _problem(request, 403, "You cannot download this file", [made.message])
    return web.Response(
        body=made.data,
        headers={
            "Content-Type": made.content_type,
            "Content-Disposition": _disposition(made.filename),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
