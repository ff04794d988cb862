"""The unsubscribe link every email carries: a GET shows a page that asks, the POST (the
page's button, or a mail program's one-click `List-Unsubscribe-Post`) turns email off at
once. The signed token is the only thing needed, so neither asks anyone to sign in."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.email.render import TEMPLATES
from bot.email.tokens import person_in
from bot.services import Services
from storage.email_door import unsubscribe

_pages = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
SERVICES = web.AppKey("email_services", Services)


def _page(status: int, heading: str, lines: list[str], token: str = "") -> web.Response:
    html = _pages.get_template("unsubscribe.html").render(heading=heading, lines=lines, token=token)
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


def _bad_link() -> web.Response:
    return _page(
        400,
        "This link does not work",
        [
            "It may have been copied wrongly. Nothing has changed.",
            "You can turn emails off on the How we tell you page in Convene.",
        ],
    )


async def ask(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    if person_in(request.app[SERVICES].settings.signing_key, token) is None:
        return _bad_link()
    return _page(
        200,
        "Stop emails from Convene?",
        [
            "If you stop them, we will not email you again. Your messages will still be on "
            "your Convene messages page, and you can turn emails back on there.",
        ],
        token,
    )


async def confirmed(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    person_id = person_in(services.settings.signing_key, request.match_info["token"])
    if person_id is None:
        return _bad_link()
    async with services.db.session() as session:
        await unsubscribe(session, person_id, now=services.clock.now())
    return _page(
        200,
        "You will not get emails from Convene",
        [
            "We have stopped them now. New messages will be on your Convene messages page.",
            "You can turn emails back on from the How we tell you page.",
        ],
    )


def _anonymous(handler: Any) -> Any:
    handler.anonymous = True  # no session and no CSRF token: the signed link is enough
    return handler


def mount(app: web.Application, services: Services) -> None:
    app[SERVICES] = services
    app.router.add_get("/email/unsubscribe/{token}", _anonymous(ask))
    app.router.add_post("/email/unsubscribe/{token}", _anonymous(confirmed))
