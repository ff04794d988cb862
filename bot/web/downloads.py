"""`GET /downloads/{token}`: hand a person the file a signed link stands for.

The link is made by the feature that offered the file (a `FileOffer`) and redeemed at the
app's `FileDesk`, so this page knows no feature: the feature checks the ticket, says what
an expired one means, decides who may have the file, and makes it now. The file is sent
as an attachment that browsers and proxies are told not to keep. What the link stands for
is checked in this order, so that nothing about a file is revealed to a stranger: is it
ours, is it still fresh, who is signed in, and may they (still) have it.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from bot.core.files import BearerTicket, FileRefused, TicketExpired, TicketInvalid
from bot.core.turn import Door
from bot.web.routes import SERVICES, _actor, _must_sign_in, _problem


def _disposition(filename: str) -> str:
    """`attachment`, with an ASCII name for old browsers and the exact name for the rest."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


async def download(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    try:
        claim = services.files.claim(request.match_info["token"])
    except TicketExpired as expired:
        return _problem(request, 410, "This download link has expired", expired.lines)
    except TicketInvalid:
        return _problem(request, 404, "Page not found", ["This download link does not work."])
    actor = await _actor(request)
    if actor is None:
        return _must_sign_in(request)
    made = await claim.take(services, person_id=actor.person_id, door=Door.WEB, via="link")
    if isinstance(made, FileRefused):
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


def _plain(status: int, text: str) -> web.Response:
    return web.Response(
        status=status,
        text=text,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


async def chart_image(request: web.Request) -> web.StreamResponse:
    """`GET /chart-images/{token}`: a picture Slack or Teams fetches to show in a message,
    without our session. Only a bearer ticket (one made to be fetched this way) works here,
    only for a picture, made as the person it names may see it now. A forged, stale or
    refused address answers 404 or 403 in plain words, never the picture."""
    services = request.app[SERVICES]
    try:
        claim = services.files.claim(request.match_info["token"])
    except TicketExpired as expired:
        return _plain(403, expired.late_text)
    except TicketInvalid:
        return _plain(404, "This picture address does not work.")
    ticket = claim.ticket
    if not isinstance(ticket, BearerTicket) or not ticket.bearer:
        return _plain(404, "This picture address does not work.")
    made = await claim.take(services, person_id=ticket.person_id, door=Door.WEB, via="image")
    if isinstance(made, FileRefused):
        return _plain(403, made.message)
    if made.content_type != "image/png":
        return _plain(404, "This picture address does not work.")
    return web.Response(
        body=made.data,
        headers={
            "Content-Type": made.content_type,
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
        },
    )
