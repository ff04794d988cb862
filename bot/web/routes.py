"""Routes of the web door. Each one builds a `Turn`, runs it through the door pipeline
(`bot.turns`), and renders HTML.

Nothing here knows about any feature: `/do/{command}` runs a command, `/forms/{id}`
sends a form page, `/actions/{id}` presses a button.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.clock import format_when
from bot.core.feature import navigation
from bot.core.pages import PageContent, PageRefusal, PageRequest, WebPage
from bot.core.reply import ReplyList
from bot.core.turn import (
    MAX_ROW_ID,
    Action,
    Actor,
    Attachment,
    Door,
    Intent,
    Submission,
    Turn,
    row_id,
)
from bot.core.uploads import size_words
from bot.guard import Throttle, client_address
from bot.services import Services
from bot.turns import DatabaseDown, Delivery, DoorPipeline
from bot.web.auth import COOKIE, SessionCodec, WebSession
from bot.web.render import command_href, page, status_of, title_of
from bot.web.uploads import BodyTooBig, PostedWithFiles, body_limit, read_with_files, sends_files
from storage.health import schema_state
from storage.inbox import read_inbox, unread_count
from storage.people import load_session_actor
from storage.sessions import (
    demo_generation,
    demo_people,
    end_sessions,
    redeem_sign_in_link,
    session_generation,
    sign_in_link_works,
)

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
PIPELINE = web.AppKey("pipeline", DoorPipeline)
CODEC = web.AppKey("codec", SessionCodec)
SIGNIN_THROTTLE = web.AppKey("signin_throttle", Throttle)
#: Anonymous pages' POSTs (feedback), per client address and per page, each hour.
ANONYMOUS_CLIENT_THROTTLE = web.AppKey("anonymous_client_throttle", Throttle)
ANONYMOUS_PAGE_THROTTLE = web.AppKey("anonymous_page_throttle", Throttle)
SESSION = web.RequestKey("session", WebSession)
POSTED_FILES = web.RequestKey("posted_files", PostedWithFiles)
MAX_BODY = 256 * 1024
# The cookie outlives the session it carries (whose end is fixed by the signed timestamp),
# so a browser still sends it after the session ends and we can say why they were signed out.
EXPIRED_NOTICE_SECONDS = 7 * 24 * 3600
EXEMPT_FROM_CSRF = ("/slack/", "/api/")
#: Probes from a load balancer: no session, no cookie.
NO_SESSION = ("/healthz", "/readyz", "/favicon.ico")
#: Pictures chat platforms fetch from their own servers: no session, no cookie.
PICTURES = "/chart-images/"
#: Paths read by programs, not people (chat platforms, probes, metrics, data): a missing
#: page or wrong method there keeps aiohttp's plain answer.
FOR_PROGRAMS = ("/slack/", "/api/", "/healthz", "/readyz", "/metrics", PICTURES)
FAVICON = Path(__file__).parent / "static" / "favicon.svg"
#: No script at all, and nothing from anywhere else. Pages keep their styles in the
#: stylesheet, so `style-src` needs no 'unsafe-inline' either.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
STRICT_TRANSPORT = "max-age=31536000; includeSubDomains"


def setup_web(app: web.Application, services: Services, pipeline: DoorPipeline) -> None:
    app[SERVICES] = services
    app[PIPELINE] = pipeline
    app[CODEC] = SessionCodec(
        services.settings.signing_key, services.settings.session_max_age_seconds
    )
    app[SIGNIN_THROTTLE] = Throttle(services.settings.signin_attempts_per_minute, 60.0)
    app[ANONYMOUS_CLIENT_THROTTLE] = Throttle(
        services.settings.feedback_per_client_per_hour, 3600.0
    )
    app[ANONYMOUS_PAGE_THROTTLE] = Throttle(services.settings.feedback_per_point_per_hour, 3600.0)
    app.middlewares.append(error_pages)
    app.middlewares.append(session_middleware)
    app.on_response_prepare.append(security_headers)
    app.router.add_get("/", home)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/privacy", privacy_notice)
    app.router.add_get("/terms", terms_of_use)
    app.router.add_get("/accessibility", accessibility_statement)
    app.router.add_get("/signin", signin_page)
    app.router.add_post("/signin/local", signin_local)
    app.router.add_get("/signin/{token}", signin_link)
    app.router.add_post("/signin/{token}", signin_link_used)
    app.router.add_post("/signout", signout)
    app.router.add_get("/do/{command}", run_command)
    app.router.add_post("/do/{command}", run_command_posted)
    app.router.add_post("/forms/{response_id}", send_form_page)
    app.router.add_post("/actions/{action_id}", press_button)
    app.router.add_get("/inbox", inbox)
    from bot.web.downloads import chart_image, download  # it uses this module's keys

    app.router.add_get("/downloads/{token}", download)
    app.router.add_get(PICTURES + "{token}", chart_image)
    for feature_page in services.pages:
        if feature_page.anonymous:
            serve = _serve_anonymous(feature_page)
            if feature_page.method == "POST":
                app.router.add_post(feature_page.path, serve)
            else:
                app.router.add_get(feature_page.path, serve)
        else:
            app.router.add_get(feature_page.path, _serve_page(feature_page))
    app.router.add_static("/static", Path(__file__).parent / "static")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every response the server sends (pages, errors, redirects, files, JSON, and the
    Slack and Teams endpoints) tells the browser not to run scripts we did not serve, not
    to show us inside another site's frame, and not to tell other sites where people were.
    """
    headers = response.headers
    # A file sets its own, stricter policy (a sandbox that runs nothing): keep it.
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Content-Type-Options"] = "nosniff"
    if request.app[SERVICES].settings.base_url.startswith("https://"):
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A missing page or a wrong method is a page in the site's style with a way back to the
    start, wherever it happens (a static file, a route with no POST). Paths programs read
    keep aiohttp's plain answers."""
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed) as error:
        if request.path.startswith(FOR_PROGRAMS):
            raise
        if isinstance(error, web.HTTPNotFound):
            return _problem(
                request, 404, "Page not found", ["Check the web address, or go to the start."]
            )
        refused = _problem(
            request,
            405,
            "This page cannot do that",
            [
                "This page cannot be used that way. You may have used an old link or "
                "bookmark. Nothing was changed.",
                "Go to the start and find the page from there.",
            ],
        )
        refused.headers["Allow"] = error.headers.get("Allow", "")
        return refused


async def favicon(request: web.Request) -> web.FileResponse:
    """The site's small icon, for browsers that ask for it where pages do not say."""
    return web.FileResponse(FAVICON, headers={"Content-Type": "image/svg+xml"})


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Load the signed session, check CSRF on every POST, and save the session after."""
    if (
        request.path.startswith(EXEMPT_FROM_CSRF)
        or request.path.startswith("/static")
        or request.path in NO_SESSION
        or request.path.startswith(PICTURES)
        or getattr(request.match_info.handler, "anonymous", False)
    ):
        return await handler(request)
    codec = request.app[CODEC]
    session = codec.load(request.cookies.get(COOKIE))
    request[SESSION] = session
    if sends_files(request):  # a command with files: read as a stream, with its own limits
        limit = request.app[SERVICES].settings.upload_max_bytes
        try:
            posted = await read_with_files(
                request, max_file_bytes=limit, max_body_bytes=body_limit(limit, MAX_BODY)
            )
        except BodyTooBig:
            return _problem(
                request,
                413,
                "That was too much to send",
                [
                    "Nothing was saved.",
                    f"Each file can be up to {size_words(limit)}. Send fewer files at a "
                    "time, or make them smaller, and try again.",
                ],
            )
        except ValueError:
            return _problem(
                request, 400, "We could not read that form", ["Nothing was saved. Try again."]
            )
        request[POSTED_FILES] = posted
        if not codec.check_csrf(session, posted.fields.get("csrf_token")):
            return _expired(request, session)
    elif request.method == "POST":
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _problem(
                request,
                413,
                "That was too much to send",
                ["Please shorten your answers and try again."],
            )
        try:
            form = await request.post()
        except (ValueError, web.HTTPRequestEntityTooLarge):
            return _problem(
                request,
                413,
                "That was too much to send",
                ["Please shorten your answers and try again."],
            )
        token = form.get("csrf_token")
        if not codec.check_csrf(session, token if isinstance(token, str) else None):
            return _expired(request, session)
    response: web.StreamResponse
    try:
        response = await handler(request)
    except web.HTTPNotFound:  # no such route: our own page, with the footer's links
        response = _problem(
            request,
            404,
            "Page not found",
            ["Check the web address, or go to the start."],
        )
    except (SQLAlchemyError, OSError):
        log.exception("database error on %s", request.path)
        response = _database_down(request)
    except DatabaseDown:  # finding who is signed in failed; the pipeline logged why
        log.error("database error on %s", request.path)
        response = _database_down(request)
    _save(request, response, session)
    return response


def _expired(request: web.Request, session: WebSession) -> web.Response:
    refused = _problem(
        request,
        403,
        "This page has expired",
        [
            "For your security we did not save anything.",
            "Go back, reload the page and try again.",
        ],
    )
    _save(request, refused, session)
    return refused


def _database_down(request: web.Request) -> web.Response:
    return _problem(
        request,
        503,
        "Sorry, something went wrong on our side",
        [
            "We could not reach our database, so nothing was saved.",
            "Please try again in a few minutes.",
        ],
    )


def _save(request: web.Request, response: web.StreamResponse, session: WebSession) -> None:
    if not session.dirty or response.prepared:
        return
    settings = request.app[SERVICES].settings
    response.set_cookie(
        COOKIE,
        request.app[CODEC].dump(session),
        httponly=True,
        samesite="Lax",
        secure=settings.base_url.startswith("https://"),
        max_age=settings.session_max_age_seconds + EXPIRED_NOTICE_SECONDS,
        path="/",
    )


def _session(request: web.Request) -> WebSession:
    session: WebSession = request[SESSION]
    return session


def _csrf(request: web.Request) -> str:
    return request.app[CODEC].csrf_token(_session(request))


def _problem(
    request: web.Request, status: int, heading: str, lines: list[str], **extra: Any
) -> web.Response:
    csrf = _csrf(request) if SESSION in request else ""
    return page(
        "problem.html",
        status=status,
        heading=heading,
        lines=lines,
        csrf=csrf,
        title=heading,
        **extra,
    )


def _nav(request: web.Request, actor: Actor | None) -> list[dict[str, Any]]:
    """The main navigation for `actor`: the links features declare for their roles, each
    marked `current` when it is the page being shown (not a page inside it)."""
    if actor is None:
        return []
    router = request.app[SERVICES].router
    here = "/do/home" if request.path == "/" else request.path
    exact = "words" not in request.query
    links = []
    for label, place in navigation(request.app[SERVICES].nav, actor, router.commands.__contains__):
        href = place if place.startswith("/") else command_href(place)
        links.append({"label": label, "href": href, "current": exact and href == here})
    links.append({"label": "Messages", "href": "/inbox", "current": here == "/inbox"})
    return links


def _title_for(request: web.Request, turn: Turn) -> str:
    """A page's title when its replies have none (a notice alone): the name its link has
    in the navigation, or the command's own word."""
    if turn.text:
        name = turn.text.split()[0]
    elif turn.action is not None:
        name = turn.action.id.split(".")[0]
    else:
        return "Your form"
    labels = {link.command: link.label for link in request.app[SERVICES].nav if not link.path}
    return labels.get(name, name.replace("_", " ").capitalize())


async def _actor(request: web.Request) -> Actor | None:
    """Who is signed in. Raises `DatabaseDown` (a 503 page) when the database fails."""
    session = _session(request)
    person_id = session.person_id
    if person_id is None:
        return None
    services = request.app[SERVICES]

    async def signed_in() -> Actor | None:
        async with services.db.session() as db:
            return await load_session_actor(db, person_id, session.generation, services.tz)

    actor = await request.app[PIPELINE].actor(Door.WEB, signed_in)
    if actor is None:  # the person was removed, or this session was ended: forget them
        session.person_id = None
        session.generation = 0
        session.dirty = True
    return actor


def _must_sign_in(request: web.Request) -> web.Response:
    session = _session(request)
    if session.expired:
        raise web.HTTPSeeOther("/signin?expired=1")
    raise web.HTTPSeeOther("/signin")


async def _render(request: web.Request, turn: Turn) -> web.Response:
    services = request.app[SERVICES]
    outcome = await request.app[PIPELINE].run(Delivery(turn))
    if outcome.failed:
        return _database_down(request)
    replies = outcome.replies
    async with services.db.session() as db:
        unread = await unread_count(db, turn.actor.person_id) if turn.actor else 0
    return page(
        "replies.html",
        status=status_of(replies),
        replies=replies,
        person=turn.actor,
        csrf=_csrf(request),
        unread=unread,
        title=title_of(replies) or _title_for(request, turn),
        nav=_nav(request, turn.actor),
    )


async def home(request: web.Request) -> web.StreamResponse:
    actor = await _actor(request)
    if actor is None:
        return _must_sign_in(request)
    return await _render(request, Turn(door=Door.WEB, actor=actor, text="home"))


def _too_big_for_an_id(value: str) -> bool:
    """Buttons carry row ids as text; a whole number past any id is not from our pages."""
    digits = value.strip().removeprefix("-")
    return digits.isascii() and digits.isdigit() and int(digits) > MAX_ROW_ID


def _database_timeout(request: web.Request) -> float:
    return request.app[SERVICES].settings.database_timeout_seconds


def _why(exc: BaseException) -> str:
    """The reason, for the operator's log (a timeout has no words of its own)."""
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


async def healthz(request: web.Request) -> web.Response:
    """The process is alive and can reach its database. Anyone can ask, so the answer
    names no server, user or error: the reason goes to the log for the operator."""
    services = request.app[SERVICES]
    try:
        await asyncio.wait_for(services.db.check(), _database_timeout(request))
    except Exception as exc:
        log.warning("health check: the database is unreachable: %s", _why(exc))
        return web.json_response({"ok": False, "database": "unreachable"}, status=503)
    return web.json_response({"ok": True})


async def readyz(request: web.Request) -> web.Response:
    """Ready for traffic: the database answers and its schema is exactly this code's.

    A load balancer keeps people away from a replica whose migrations have not run yet.
    """
    services = request.app[SERVICES]
    try:
        state = await asyncio.wait_for(schema_state(services.db.engine), _database_timeout(request))
    except Exception as exc:
        log.warning("readiness check: the database is unreachable: %s", _why(exc))
        return web.json_response({"ok": False, "reason": "database unreachable"}, status=503)
    if state != "current":
        log.warning("readiness check: the database schema is %s this code's migrations", state)
        return web.json_response({"ok": False, "reason": f"migrations {state}"}, status=503)
    return web.json_response({"ok": True})


def _throttled(request: web.Request) -> web.Response | None:
    """Sign-in attempts are counted per client address; past the limit, a 429 page."""
    settings = request.app[SERVICES].settings
    throttle = request.app[SIGNIN_THROTTLE]
    if throttle.allow(client_address(request, settings.trusted_proxy_networks)):
        return None
    refused = _problem(
        request,
        429,
        "Too many tries",
        [
            "There were too many tries to sign in from here.",
            "Please wait a minute, then try again.",
        ],
        next_url="/signin",
        next_label="Go to sign in",
    )
    refused.headers["Retry-After"] = str(throttle.retry_after())
    return refused


async def signin_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    notice = None
    if request.query.get("expired"):
        notice = "You were signed out because you were away for a while. Please sign in again."
    elif request.query.get("signedout"):
        notice = "You are signed out."
    people: list[dict[str, object]] = []
    if services.settings.local_mode_enabled:
        async with services.db.session() as db:
            rows = await demo_people(db)
        seen: dict[int, dict[str, object]] = {}
        for pid, name, role in rows:
            entry = seen.setdefault(pid, {"id": pid, "name": name, "role": ""})
            if role and not entry["role"]:
                entry["role"] = role.replace("_", " ").capitalize()
        people = list(seen.values())
    return page(
        "signin.html", notice=notice, local_people=people, csrf=_csrf(request), title="Sign in"
    )


async def signin_local(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    if not services.settings.local_mode_enabled:
        return _problem(request, 404, "Page not found", ["This page is not available."])
    refused = _throttled(request)
    if refused is not None:
        return refused
    form = await request.post()
    person_id = row_id(str(form.get("person_id", "")))
    generation = None
    if person_id is not None:
        async with services.db.session() as db:
            generation = await demo_generation(db, person_id)
    if person_id is None or generation is None:
        return _problem(
            request,
            400,
            "We could not sign you in",
            ["Choose a person from the list."],
            next_url="/signin",
            next_label="Back to sign in",
        )
    return _sign_in(request, person_id, generation)


def _sign_in(
    request: web.Request, person_id: int, generation: int, location: str = "/"
) -> web.StreamResponse:
    old = _session(request)
    fresh = request.app[CODEC].load(None)  # new session id on sign-in: no fixation
    fresh.person_id = person_id
    fresh.generation = generation
    request[SESSION] = fresh
    old.dirty = False
    raise _redirect_with(request, location, fresh)


def _redirect_with(request: web.Request, location: str, session: WebSession) -> web.HTTPSeeOther:
    redirect = web.HTTPSeeOther(location)
    _save(request, redirect, session)
    return redirect


def _bad_link(request: web.Request) -> web.Response:
    return _problem(
        request,
        400,
        "This sign-in link does not work",
        [
            "It may have been used already, or it is too old.",
            "Ask the person who sent it for a new one.",
        ],
        next_url="/signin",
        next_label="Go to sign in",
    )


async def signin_link(request: web.Request) -> web.StreamResponse:
    """Opening a link only shows a button. Email systems open links to check them, and
    that must not use the link up before the person it was sent to presses the button."""
    refused = _throttled(request)
    if refused is not None:
        return refused
    services = request.app[SERVICES]
    token = request.match_info["token"]
    async with services.db.session() as db:
        works = await sign_in_link_works(db, token, now=services.clock.now())
    if not works:
        return _bad_link(request)
    response = page(
        "signin_link.html",
        token=token,
        next=_local_path(request.query.get("next")),
        csrf=_csrf(request),
        title="Sign in",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def signin_link_used(request: web.Request) -> web.StreamResponse:
    """The button on the link's page (CSRF-checked by the middleware): this uses the link."""
    refused = _throttled(request)
    if refused is not None:
        return refused
    services = request.app[SERVICES]
    async with services.db.session() as db:
        person_id = await redeem_sign_in_link(
            db, request.match_info["token"], now=services.clock.now()
        )
        generation = None if person_id is None else await session_generation(db, person_id)
    if person_id is None or generation is None:
        return _bad_link(request)
    return _sign_in(request, person_id, generation, _local_path(request.query.get("next")))


def _local_path(asked: str | None) -> str:
    """Where a sign-in link goes once used (an email's page): a path on this site only."""
    if not asked or not asked.startswith("/") or asked.startswith("//") or "\\" in asked:
        return "/"
    return asked


async def signout(request: web.Request) -> web.StreamResponse:
    """Sign out everywhere: the person's other copies of this session end too, so a cookie
    copied from this browser (or left on a shared computer) stops working."""
    actor = await _actor(request)
    if actor is not None:
        async with request.app[SERVICES].db.session() as db:
            await end_sessions(db, actor.person_id)
    session = _session(request)
    session.person_id = None
    session.generation = 0
    session.sid = request.app[CODEC].load(None).sid
    session.dirty = True
    raise _redirect_with(request, "/signin?signedout=1", session)


async def run_command(request: web.Request) -> web.StreamResponse:
    actor = await _actor(request)
    if actor is None:
        return _must_sign_in(request)
    args = {k: v for k, v in request.query.items() if v}
    command = request.match_info["command"]
    text = _command_text(command, args)
    services = request.app[SERVICES]
    back = _safe_back(request, args.pop("back", None))
    turn = Turn(door=Door.WEB, actor=actor, text=text, args=args)
    if (args or len(text.split()) > 1) and services.router.changes_things(text):
        # A link alone never changes anything: another site could send people here. Ask,
        # in the words the feature declared for the step, and run it from a form that
        # carries this browser's CSRF token. That includes words in the path itself
        # (/do/engagements%20publish%204), not only ?words=.
        asked = await services.router.confirmation(turn, services)
        return page(
            "confirm.html",
            command=command,
            words=text.removeprefix(command).strip(),
            args=args,
            person=actor,
            csrf=_csrf(request),
            confirmation=asked,
            back=back,
            title=asked.title,
            nav=_nav(request, actor),
        )
    return await _render(request, turn)


def _safe_back(request: web.Request, asked: str | None) -> str:
    """Where "No, go back" goes: the `back` path asked for, else the page the person came
    from (its Referer), but only ever a path on this site; Home otherwise. Never another
    site's address, so a link cannot use the confirm page to send people elsewhere."""
    for candidate, same_site in ((asked, True), (request.headers.get("Referer"), False)):
        if not candidate:
            continue
        parts = urlsplit(candidate)
        if same_site:
            if parts.scheme or parts.netloc:
                continue
        elif parts.scheme not in ("http", "https") or parts.netloc != request.host:
            continue
        path = parts.path
        if (
            not path.startswith("/")
            or path.startswith("//")
            or "\\" in candidate
            or any(ord(c) < 32 for c in candidate)
        ):
            continue
        return f"{path}?{parts.query}" if parts.query else path
    return "/"


def _command_text(command: str, args: dict[str, str]) -> str:
    """The command as a chat door would see it typed: `words` (from a button) follow the
    command word, and are taken out of the arguments."""
    words = args.pop("words", "").strip()
    return f"{command} {words}" if words else command


async def run_command_posted(request: web.Request) -> web.StreamResponse:
    """A command sent from a form (CSRF-checked by the middleware)."""
    actor = await _actor(request)
    if actor is None:
        return _must_sign_in(request)
    posted = request.get(POSTED_FILES)
    form = posted.fields if posted is not None else await request.post()
    args = {k: str(v) for k, v in form.items() if k != "csrf_token" and isinstance(v, str) and v}
    text = _command_text(request.match_info["command"], args)
    attachments = posted.attachments if posted is not None else ()
    turn = Turn(door=Door.WEB, actor=actor, text=text, args=args, attachments=attachments)
    return await _render(request, turn)


async def send_form_page(request: web.Request) -> web.StreamResponse:
    actor = await _actor(request)
    if actor is None:
        return _must_sign_in(request)
    form = await request.post()
    response_id = row_id(request.match_info["response_id"])
    try:
        if response_id is None:
            raise ValueError("not a form id")
        page_index = int(str(form.get("_page", "0")))
        intent = Intent(str(form.get("_intent", "next")))
    except ValueError:
        return _problem(
            request,
            400,
            "We could not read that form",
            ["Nothing was saved. Go back and try again."],
        )
    values: dict[str, str | list[str]] = {}
    for key in set(form.keys()):
        if key.startswith("_") or key == "csrf_token":
            continue
        items = [str(v) for v in form.getall(key) if isinstance(v, str)]
        values[key] = items if len(items) > 1 else (items[0] if items else "")
    # Checkbox groups send nothing when none are ticked, and one value when one is:
    # the form engine accepts both shapes.
    submission = Submission(response_id=response_id, page=page_index, values=values, intent=intent)
    return await _render(request, Turn(door=Door.WEB, actor=actor, submission=submission))


async def press_button(request: web.Request) -> web.StreamResponse:
    actor = await _actor(request)
    if actor is None:
        return _must_sign_in(request)
    form = await request.post()
    value = str(form.get("value", ""))
    if _too_big_for_an_id(value):
        return _problem(
            request,
            400,
            "We could not read that button",
            ["Nothing was changed. Go back, reload the page and try again."],
        )
    action = Action(id=request.match_info["action_id"], value=value)
    return await _render(request, Turn(door=Door.WEB, actor=actor, action=action))


async def inbox(request: web.Request) -> web.StreamResponse:
    actor = await _actor(request)
    if actor is None:
        return _must_sign_in(request)
    services = request.app[SERVICES]
    async with services.db.session() as db:
        entries = await read_inbox(db, actor.person_id, now=services.clock.now())
    items = [
        {
            "when": format_when(entry.created_at, actor.timezone),
            "unread": entry.unread,
            "replies": ReplyList.model_validate(entry.payload).replies,
        }
        for entry in entries
    ]
    return page(
        "inbox.html",
        items=items,
        person=actor,
        csrf=_csrf(request),
        unread=0,
        title="Messages",
        nav=_nav(request, actor),
    )


__all__ = ["setup_web"]


def _serve_page(feature_page: WebPage) -> Handler:
    """A page a feature registered (see bot/core/pages.py): the door signs the person in
    and lays the page out; the feature decides what it says and who may see it."""

    async def serve(request: web.Request) -> web.StreamResponse:
        actor = await _actor(request)
        if actor is None and not feature_page.public:
            return _must_sign_in(request)
        asked = PageRequest(actor=actor, params=request.match_info, format=feature_page.format)
        answer = await feature_page.handler(asked, request.app[SERVICES])
        if isinstance(answer, PageRefusal):
            return _problem(request, answer.status, answer.title, answer.lines)
        if feature_page.format == "file":
            assert answer.body is not None and answer.content_type and answer.download_name
            return web.Response(body=answer.body, headers=file_headers(answer))
        if feature_page.format == "json":
            headers = {}
            if answer.download_name:
                headers["Content-Disposition"] = f'attachment; filename="{answer.download_name}"'
            return web.json_response(answer.data, headers=headers)
        assert answer.template is not None
        return page(
            answer.template,
            **answer.data,
            person=actor,
            csrf=_csrf(request),
            title=answer.title,
            nav=_nav(request, actor),
        )

    return serve


def _anonymous_problem(
    status: int,
    heading: str,
    lines: list[str],
    retry_after: int | None = None,
    *,
    request: web.Request | None = None,
    feature_page: WebPage | None = None,
) -> web.Response:
    """A problem page for someone with no account: no session, no cookie, no sign-out. The
    page may word the door's refusals itself (`WebPage.refusals`: in its own language)."""
    refusal = PageRefusal(status, heading, lines)
    if request is not None and feature_page is not None and feature_page.refusals is not None:
        asked = PageRequest(
            actor=None,
            params=request.match_info,
            format=feature_page.format,
            query={key: value for key, value in request.query.items()},
        )
        refusal = feature_page.refusals(status, asked, request.app[SERVICES]) or refusal
    return _refusal_page(refusal, retry_after)


def _refusal_page(refusal: PageRefusal, retry_after: int | None = None) -> web.Response:
    response = page(
        "problem.html",
        status=refusal.status,
        heading=refusal.title,
        lines=refusal.lines,
        csrf="",
        html_lang=refusal.html_lang,
        next_url=refusal.next_url,
        next_label=refusal.next_label,
    )
    response.headers["Cache-Control"] = "no-store"
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def _anonymous_form(
    request: web.Request, feature_page: WebPage
) -> tuple[dict[str, str], tuple[Attachment, ...]] | web.Response:
    """A POST's text fields and files, or the kind page that says it was too much or
    unreadable. A form with a file (a feedback photo or voice note) is read as a stream by
    `bot.web.uploads`, with room for one file at the upload limit: a file past the limit
    reaches the feature marked too big, so the feature words the refusal."""
    problem = partial(_anonymous_problem, request=request, feature_page=feature_page)
    too_much = problem(
        413,
        "That was too much to send",
        ["Nothing was saved. Please make your message shorter and try again."],
    )
    if request.content_type == "multipart/form-data":
        limit = request.app[SERVICES].settings.upload_max_bytes
        try:
            with_files = await read_with_files(
                request, max_file_bytes=limit, max_body_bytes=limit + MAX_BODY
            )
        except BodyTooBig:
            return problem(
                413,
                "That was too much to send",
                [
                    "Nothing was saved.",
                    f"A file can be up to {size_words(limit)}. Please send a smaller "
                    "one, or send your answers without it.",
                ],
            )
        except ValueError:
            return problem(
                400, "We could not read that form", ["Nothing was saved. Please try again."]
            )
        return dict(with_files.fields.items()), with_files.attachments
    if request.content_length is not None and request.content_length > MAX_BODY:
        return too_much
    try:
        posted = await request.post()
    except (ValueError, web.HTTPRequestEntityTooLarge):
        return too_much
    return {key: value for key, value in posted.items() if isinstance(value, str)}, ()


def _anonymous_flood(request: web.Request, feature_page: WebPage) -> web.Response | None:
    """Too many POSTs from this address, or to this page, this hour: a kind 429.

    The address is only a key in memory (`bot.guard.Throttle`); the feature never sees it."""
    settings = request.app[SERVICES].settings
    by_client = request.app[ANONYMOUS_CLIENT_THROTTLE]
    by_page = request.app[ANONYMOUS_PAGE_THROTTLE]
    for throttle, key in (
        (by_client, client_address(request, settings.trusted_proxy_networks)),
        (by_page, request.path),
    ):
        if not throttle.allow(key):
            return _anonymous_problem(
                429,
                "Too many messages",
                [
                    "Thank you for wanting to tell us. We have had a lot of messages from here "
                    "in the last hour, so we did not save this one.",
                    "Please try again in an hour. If you or someone else is in danger now, "
                    "call 999.",
                ],
                retry_after=throttle.retry_after(),
                request=request,
                feature_page=feature_page,
            )
    return None


def _serve_anonymous(feature_page: WebPage) -> Handler:
    """A page for people with no account (see `WebPage.anonymous`): no session, no cookie,
    no CSRF check, POSTs counted per client address and per page. The database being down
    is a 503 page like everywhere else; nothing else a person sends can make a 5xx."""

    async def serve(request: web.Request) -> web.StreamResponse:
        form: dict[str, str] = {}
        files: tuple[Attachment, ...] = ()
        if request.method == "POST":
            refused = _anonymous_flood(request, feature_page)
            if refused is not None:
                return refused
            read = await _anonymous_form(request, feature_page)
            if isinstance(read, web.Response):
                return read
            form, files = read
        asked = PageRequest(
            actor=None,
            params=request.match_info,
            format=feature_page.format,
            form=form,
            files=files,
            query={key: value for key, value in request.query.items()},
        )
        try:
            answer = await feature_page.handler(asked, request.app[SERVICES])
        except (SQLAlchemyError, OSError):
            log.exception("database error on an anonymous page")
            return _anonymous_problem(
                503,
                "Sorry, something went wrong on our side",
                [
                    "We could not reach our database, so nothing was saved.",
                    "Please try again in a few minutes.",
                ],
                request=request,
                feature_page=feature_page,
            )
        if isinstance(answer, PageRefusal):
            return _refusal_page(answer)
        if answer.redirect is not None:
            # Only ever a path on this site (a feature's own page), never another address.
            assert answer.redirect.startswith("/") and not answer.redirect.startswith("//")
            return web.Response(
                status=303, headers={"Location": answer.redirect, "Cache-Control": "no-store"}
            )
        if feature_page.format == "file":
            assert answer.body is not None and answer.content_type and answer.download_name
            return web.Response(body=answer.body, headers=file_headers(answer))
        assert answer.template is not None and feature_page.format == "html"
        response = page(
            answer.template,
            status=answer.status,
            translations=answer.translations,
            **answer.data,
            person=None,
            csrf="",
            title=answer.title,
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    serve.anonymous = True  # type: ignore[attr-defined]
    return serve


#: A file is never shown in the site's pages: it runs nothing, loads nothing, and is kept
#: by no shared cache, whatever its bytes hold.
FILE_SECURITY_POLICY = "sandbox; default-src 'none'"


def attachment_disposition(filename: str) -> str:
    """`attachment`, with an ASCII name for old browsers and the exact name for the rest."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "").replace("\\", "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def file_headers(answer: PageContent) -> dict[str, str]:
    """What a feature's file page is sent with: always a download, never shown inline."""
    assert answer.content_type and answer.download_name
    return {
        "Content-Type": answer.content_type,
        "Content-Disposition": attachment_disposition(answer.download_name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_SECURITY_POLICY,
        "Cache-Control": "private, no-store",
    }


def _about_page(template: str, title: str) -> Handler:
    """A page about the service itself. It needs nobody signed in and no database, so it
    can be read even when everything else is down."""

    async def show(request: web.Request) -> web.StreamResponse:
        settings = request.app[SERVICES].settings
        return page(
            template,
            title=title,
            operator_name=settings.operator_name,
            operator_email=settings.operator_email,
            base_url=settings.base_url,
            csrf=_csrf(request),
        )

    show.__name__ = template.removesuffix(".html")
    return show


privacy_notice = _about_page("privacy.html", "Privacy notice")
terms_of_use = _about_page("terms.html", "Terms of use")
accessibility_statement = _about_page("accessibility.html", "Accessibility statement")
