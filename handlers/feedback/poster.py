"""A feedback point's QR code (SVG and PNG) and its printable A4 poster, for the people who
look after the point (signed in). The QR code opens the point's public page; the poster
carries the service's name, the short link for people who can't scan, and plain words
about what happens to what they say.
"""

from __future__ import annotations

import io

import segno

from bot.core.pages import PageContent, PageRefusal, PageRequest, WebPage
from bot.core.turn import Door, Turn, row_id
from bot.services import Services
from handlers.feedback.common import load_for_owner, public_path
from handlers.steps import Refused
from storage.feedback_tables import FeedbackPoint

NOT_FOUND_PAGE = PageRefusal(404, "Page not found", ["Check the web address, or go to the start."])
CONTENT_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def link_of(services: Services, point: FeedbackPoint) -> str:
    return services.settings.base_url + public_path(point)


def qr_code(link: str) -> segno.QRCode:
    """Error correction M: a poster that is a little scuffed or folded still scans."""
    return segno.make(link, error="m")


def qr_bytes(link: str, kind: str) -> bytes:
    buffer = io.BytesIO()
    qr_code(link).save(buffer, kind=kind, scale=10, border=4)
    return buffer.getvalue()


async def _owned(request: PageRequest, services: Services, attempted: str) -> FeedbackPoint | None:
    assert request.actor is not None
    turn = Turn(door=Door.WEB, actor=request.actor)
    async with services.db.session() as session:
        try:
            point, _ = await load_for_owner(
                session, turn, row_id(request.params.get("point_id")), attempted
            )
        except Refused:
            return None
        return point


async def qr_file(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """`/feedback/{point_id}/qr.svg` or `.png`: the QR code, to download."""
    point = await _owned(request, services, "qr code")
    kind = request.params.get("kind", "")
    if point is None or kind not in CONTENT_TYPES:
        return NOT_FOUND_PAGE
    return PageContent(
        title=f"QR code for {point.service_name}",
        data={},
        body=qr_bytes(link_of(services, point), kind),
        content_type=CONTENT_TYPES[kind],
        download_name=f"feedback-{point.id}-qr.{kind}",
    )


async def poster_page(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """`/feedback/{point_id}/poster`: an A4 page to print and put up where people wait."""
    point = await _owned(request, services, "poster")
    if point is None:
        return NOT_FOUND_PAGE
    link = link_of(services, point)
    return PageContent(
        title=f"Poster: {point.service_name}",
        template="feedback_poster.html",
        data={
            "service_name": point.service_name,
            "link": link,
            "link_text": link.split("://", 1)[-1],
            "qr": qr_code(link).svg_data_uri(scale=8, border=4),
            "svg_url": f"/feedback/{point.id}/qr.svg",
            "png_url": f"/feedback/{point.id}/qr.png",
        },
    )


PAGES = (
    WebPage("/feedback/{point_id}/poster", "html", poster_page),
    WebPage("/feedback/{point_id}/qr.{kind:svg|png}", "file", qr_file),
)
