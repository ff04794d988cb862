"""A feedback point's QR code (SVG and PNG), its printable A4 poster and its short link.

The poster is for the people who look after the point (signed in). The QR code opens the
point's public page; the poster carries the service's name, the short link in big letters
for people who can't scan, and plain words about what happens to what they say.

The short link (`/s/<code>`, six letters with no look-alikes, any case) is for an SMS or
for typing off a poster: it sends the browser on (303) to the point's public page, with no
account, no cookie and no tracking. A wrong code gets the same page as an unknown point.
"""

from __future__ import annotations

import io

import segno
from sqlalchemy import select

from bot.core.pages import PageContent, PageRefusal, PageRequest, WebPage
from bot.core.turn import Door, Turn, row_id
from bot.services import Services
from handlers.feedback.common import load_for_owner, public_path
from handlers.steps import Refused
from storage.feedback_tables import FeedbackPoint, read_short_code

NOT_FOUND_PAGE = PageRefusal(404, "Page not found", ["Check the web address, or go to the start."])
CONTENT_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def link_of(services: Services, point: FeedbackPoint) -> str:
    return services.settings.base_url + public_path(point)


#: An SMS is 160 characters (GSM letters); longer ones are sent, and paid for, as two.
SMS_LIMIT = 160


def short_path(point: FeedbackPoint) -> str | None:
    return f"/s/{point.short_code}" if point.short_code else None


def short_link(base_url: str, point: FeedbackPoint) -> str:
    """The short link with the public base URL (the page's own link if it has no code)."""
    return base_url + (short_path(point) or public_path(point))


def sms_text(service_name: str, link: str) -> str:
    """A ready-to-copy text message with the short link, always within one SMS: a long
    service name is cut short rather than the link."""
    text = f"Tell us what you think of {service_name}: {link}"
    if len(text) <= SMS_LIMIT:
        return text
    room = SMS_LIMIT - len(f"Tell us what you think of ...: {link}")
    return f"Tell us what you think of {service_name[: max(room, 0)].rstrip()}...: {link}"


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
            "short_link_text": short_link(services.settings.base_url, point).split("://", 1)[-1],
            "qr": qr_code(link).svg_data_uri(scale=8, border=4),
            "svg_url": f"/feedback/{point.id}/qr.svg",
            "png_url": f"/feedback/{point.id}/qr.png",
        },
    )


async def short_link_page(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """GET `/s/<code>`: on to the point's public page (303), whatever case was typed."""
    from handlers.feedback.public import choice_of, not_found

    missing = not_found(services, choice_of(request, services))
    code = read_short_code(request.params.get("code", ""))
    if code is None:
        return missing
    async with services.db.session() as session:
        slug = await session.scalar(
            select(FeedbackPoint.slug).where(FeedbackPoint.short_code == code)
        )
    if slug is None:
        return missing
    return PageContent(title="", data={}, redirect=f"/f/{slug}")


PAGES = (
    WebPage("/s/{code}", "html", short_link_page, anonymous=True),
    WebPage("/feedback/{point_id}/poster", "html", poster_page),
    WebPage("/feedback/{point_id}/qr.{kind:svg|png}", "file", qr_file),
)
