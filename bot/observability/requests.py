"""A request id for every inbound request, its access log line, and its metrics.

The reverse proxy may send `X-Request-Id` (nginx's `$request_id`, Caddy's `{http.request.uuid}`);
a sane one is kept, so the proxy's log and ours name the same request, else we make one. It
is echoed in the `X-Request-Id` answer header, set for every log line written while the
request is handled, and stored in every outbox message the request queues.

The access log line names the route (`/signin/{token}`), never the path, and no query
string, headers or cookies: a sign-in link's token must not end up in a log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from bot.core.request_id import (
    new_request_id,
    reset_request_id,
    sane_request_id,
    set_request_id,
)
from bot.observability.metrics import Metrics, door_of

HEADER = "X-Request-Id"
#: Where the request's id is kept on the aiohttp request (for the access log).
REQUEST_ID = web.RequestKey("convene_request_id", str)

#: The access log (`convene serve` passes it to aiohttp with `AccessLogger`).
ACCESS_LOGGER = logging.getLogger("convene.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_of(request: BaseRequest) -> str:
    """The route template a request matched (`/signin/{token}`), or "unmatched"."""
    match_info = getattr(request, "match_info", None)
    route = getattr(match_info, "route", None)
    resource = getattr(route, "resource", None)
    if resource is None:
        return "unmatched"
    return str(resource.canonical)


def request_middleware(metrics: Metrics | None) -> Callable[..., Awaitable[web.StreamResponse]]:
    """The outermost middleware: the request id, and the request counted when metrics are on."""

    @web.middleware
    async def with_request_id(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = sane_request_id(request.headers.get(HEADER)) or new_request_id()
        request[REQUEST_ID] = request_id
        token = set_request_id(request_id)
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            reset_request_id(token)
            if metrics is not None and request.path != "/metrics":
                metrics.count_request(door_of(request.path), status, time.perf_counter() - started)

    return with_request_id


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: every answer, streamed ones too, names its request id."""
    request_id = request.get(REQUEST_ID)
    if request_id is not None:
        response.headers[HEADER] = request_id


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, route, status, time taken, request id. No path, no query."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %.1fms",
            request.method,
            route_of(request),
            response.status,
            time * 1000,
            extra={
                "request_id": request.get(REQUEST_ID),
                "door": door_of(request.path),
                "method": request.method,
                "route": route_of(request),
                "status": response.status,
                "duration_ms": round(time * 1000, 1),
            },
        )
