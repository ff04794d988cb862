"""A tiny round-robin HTTP proxy on loopback, in front of several `convene serve` replicas.

Each request goes to the next replica in turn. When a replica cannot be reached (it was
killed, or is starting again) the request is tried once more on the next one, as a real
load balancer retries a connection error; any other answer, 5xx included, is passed on
as it is, so a test sees it. Requests are counted, with the retries, for the report.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

import aiohttp
from aiohttp import web

from tests.support.servers import free_port

#: Headers that belong to one hop, not to the request or answer being passed on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
        "host",
    }
)


class RoundRobinProxy:
    def __init__(self, upstreams: Sequence[str], port: int | None = None) -> None:
        self.upstreams = list(upstreams)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        #: Answers by status, connection retries, and requests no replica could take.
        self.statuses: Counter[int] = Counter()
        self.retries = 0
        self.unreachable = 0
        #: Requests each replica answered, by its address.
        self.answered: Counter[str] = Counter()

    async def start(self) -> RoundRobinProxy:
        self._client = aiohttp.ClientSession(
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=60),
            connector=aiohttp.TCPConnector(limit=200),
        )
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def __aenter__(self) -> RoundRobinProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._client is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = request.remote or "127.0.0.1"
        first = next(self._turn)
        for attempt in range(2):
            upstream = self.upstreams[(first + attempt) % len(self.upstreams)]
            try:
                async with self._client.request(
                    request.method,
                    upstream + str(request.rel_url),
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                ) as answer:
                    content = await answer.read()
                    out = web.Response(status=answer.status, body=content)
                    for name, value in answer.headers.items():
                        if name.lower() not in HOP_BY_HOP:
                            out.headers.add(name, value)
                    if "Content-Encoding" in answer.headers:
                        out.headers["Content-Encoding"] = answer.headers["Content-Encoding"]
                    self.statuses[answer.status] += 1
                    self.answered[upstream] += 1
                    return out
            except (aiohttp.ClientConnectionError, aiohttp.ServerDisconnectedError):
                if attempt == 0:
                    self.retries += 1
                    continue
        self.unreachable += 1
        self.statuses[502] += 1
        return web.Response(status=502, text="no replica could take this request")
