"""Fetching the files a person sends in a chat (Slack files, Teams attachments) as `Attachment`s.

A chat platform does not put a file in the message: it sends a link, and the door fetches
the bytes. That link came in a request from outside, so fetching it is done carefully,
the same way for both chat doors:

- a file whose claimed size is over the limit is refused before anything is fetched
  (`AttachmentProblem.TOO_BIG`, no bytes);
- only hosts the door allows are fetched from (Slack's file host, the Bot Connector, the
  person's SharePoint), so a forged link can't make Convene fetch, or send its token to,
  anywhere else; a redirect is followed only to an allowed host, and the token only
  goes to the host it was meant for;
- the body is read in pieces and stops at the limit (and at the size the platform
  claimed), so a server that lies about the size can't fill our memory;
- everything has a time limit; a refusal, a rate limit, a server error, a login page
  instead of the file or a broken connection is `AttachmentProblem.UNREADABLE`.

`fetch` never raises: the feature tells the person what went wrong with each file, and
the platform never sees an error from us because of a file.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp

from bot.core.turn import Attachment, AttachmentProblem

log = logging.getLogger(__name__)

#: How many redirects (each to an allowed host) a download may take.
MAX_REDIRECTS = 3
#: Bytes read at a time.
CHUNK = 64 * 1024
#: What a file with no name is called.
UNNAMED = "file"


@dataclass(frozen=True)
class OfferedFile:
    """A file a chat platform says the person sent: where it is, and what it claims to be."""

    filename: str
    content_type: str
    url: str | None
    #: The size the platform reported, if it did.
    size: int | None = None
    #: Headers for the file's own host only (the bot's token), never for a redirect's.
    headers: Mapping[str, str] = field(default_factory=dict)


class Hosts:
    """The hosts a door fetches from: exact names, or `.example.com` for any under it."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(n.strip().lower() for n in names if n.strip())

    @classmethod
    def parse(cls, text: str, *extra: str) -> Hosts:
        """From a comma-separated setting, plus any hosts the door adds (a serviceUrl's)."""
        return cls([*text.split(","), *extra])

    def allow(self, url: str) -> bool:
        """Whether `url` may be fetched: http(s) to an allowed host; plain http only on
        loopback (the fakes tests use), since a token must not cross the network in clear."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return False
        if not host or parts.scheme not in ("http", "https"):
            return False
        if parts.scheme == "http" and not _loopback(host):
            return False
        for name in self.names:
            if name.startswith("."):
                if host.endswith(name) and len(host) > len(name):
                    return True
            elif host == name:
                return True
        return False


def host_of(url: str | None) -> str:
    """The host name of a URL, or "" if it has none."""
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def too_big(offered: OfferedFile) -> Attachment:
    return Attachment(_name(offered), offered.content_type, problem=AttachmentProblem.TOO_BIG)


def unreadable(offered: OfferedFile) -> Attachment:
    return Attachment(_name(offered), offered.content_type, problem=AttachmentProblem.UNREADABLE)


def _name(offered: OfferedFile) -> str:
    return offered.filename.strip() or UNNAMED


class _Refused(Exception):
    def __init__(self, problem: AttachmentProblem, why: str) -> None:
        super().__init__(why)
        self.problem = problem
        self.why = why


class FileFetcher:
    """Fetches offered files within the size limit and the time limit (see the module)."""

    def __init__(self, limit: int, timeout: float) -> None:
        self.limit = limit
        self.timeout = timeout

    async def fetch_all(
        self, session: aiohttp.ClientSession, offered: Iterable[tuple[OfferedFile, Hosts]]
    ) -> tuple[Attachment, ...]:
        """Every offered file, each from the hosts allowed for it, in the order the person
        sent them, fetched or with its problem. The time limit is for all of them together
        (Teams waits 15 seconds for the whole turn)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        fetched = []
        for one, hosts in offered:
            fetched.append(await self.fetch(session, one, hosts, within=deadline - loop.time()))
        return tuple(fetched)

    async def fetch(
        self,
        session: aiohttp.ClientSession,
        offered: OfferedFile,
        hosts: Hosts,
        *,
        within: float | None = None,
    ) -> Attachment:
        """One file's bytes, or the reason there are none. Never raises."""
        if offered.size is not None and offered.size > self.limit:
            return too_big(offered)
        if offered.url is None or not hosts.allow(offered.url):
            log.warning("a chat file was on a host Convene does not fetch from; not fetched")
            return unreadable(offered)
        seconds = self.timeout if within is None else min(self.timeout, within)
        if seconds <= 0:
            log.info("no time was left to fetch a chat file")
            return unreadable(offered)
        try:
            async with asyncio.timeout(seconds):
                data = await self._download(session, offered, hosts)
        except _Refused as refused:
            log.info("a chat file could not be fetched: %s", refused.why)
            return Attachment(_name(offered), offered.content_type, problem=refused.problem)
        except TimeoutError:
            log.info("a chat file took too long to fetch")
            return unreadable(offered)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            log.info("a chat file could not be fetched (%s)", type(exc).__name__)
            return unreadable(offered)
        return Attachment(_name(offered), offered.content_type, data=data)

    async def _download(
        self, session: aiohttp.ClientSession, offered: OfferedFile, hosts: Hosts
    ) -> bytes:
        assert offered.url is not None
        url = offered.url
        headers = dict(offered.headers)
        first_host = host_of(url)
        for _ in range(MAX_REDIRECTS + 1):
            async with session.get(url, headers=headers, allow_redirects=False) as response:
                if response.status in (301, 302, 303, 307, 308):
                    target = urljoin(url, response.headers.get("Location", ""))
                    if not hosts.allow(target):
                        raise _Refused(AttachmentProblem.UNREADABLE, "redirected to another host")
                    if host_of(target) != first_host:
                        headers = {}  # the token is only for the host it was given for
                    url = target
                    continue
                if response.status != 200:
                    raise _Refused(AttachmentProblem.UNREADABLE, f"answered {response.status}")
                if _is_a_page(response, offered):
                    raise _Refused(AttachmentProblem.UNREADABLE, "answered a web page")
                return await self._read(response, offered)
        raise _Refused(AttachmentProblem.UNREADABLE, "too many redirects")

    async def _read(self, response: aiohttp.ClientResponse, offered: OfferedFile) -> bytes:
        """The body, stopping at the limit, or at the size the platform claimed."""
        claimed = offered.size
        length = response.content_length
        if length is not None and length > self.limit:
            raise _Refused(AttachmentProblem.TOO_BIG, "longer than the limit")
        cap = self.limit if claimed is None else min(self.limit, claimed)
        data = bytearray()
        async for chunk in response.content.iter_chunked(CHUNK):
            data += chunk
            if len(data) > cap:
                if len(data) > self.limit:
                    raise _Refused(AttachmentProblem.TOO_BIG, "longer than the limit")
                raise _Refused(AttachmentProblem.UNREADABLE, "longer than the platform said")
        return bytes(data)


def _is_a_page(response: aiohttp.ClientResponse, offered: OfferedFile) -> bool:
    """A web page where a file was expected: a sign-in page (Slack answers one with 200 to a
    request without a good token), unless the person really sent a web page."""
    return response.content_type == "text/html" and not offered.content_type.startswith("text/html")
