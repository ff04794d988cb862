"""Guards at the edge of every door: who is calling, how often, and what reaches the log.

Three small tools the doors share:

- `client_address`: the caller's address. Behind a reverse proxy every request comes
  from the proxy, so `X-Forwarded-For` is read, but only when the request really came
  from a proxy we were told to trust (`CONVENE_TRUSTED_PROXIES`); otherwise anybody
  could pick the address their requests are counted under.
- `Throttle`: a per-key allowance (sign-in attempts, bad signatures, bad tokens per
  client address). Over it, the door answers 429. Kept in memory per process, with a
  bounded number of keys so a flood of addresses cannot grow it without end.
- `LogOnce`: a warning said once per source per interval, in fixed words. A flood of
  forged requests must not flood the log, and nothing a caller sent is ever written
  into it (a body with a newline could forge a log line).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from aiohttp import web

MAX_KEYS = 10_000


def parse_networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """`"127.0.0.1, ::1, 10.0.0.0/8"` as networks; words that are not addresses are skipped."""
    networks = []
    for part in spec.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            continue
    return tuple(networks)


def _is_in(address: str, networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(
    request: web.BaseRequest,
    trusted: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> str:
    """The address a request came from, seen through the proxies we trust.

    `X-Forwarded-For` lists the client, then each proxy that passed the request on. Walk it
    from the right, skipping our own trusted proxies; the first address that is not one of
    them is the caller. A request that did not come from a trusted proxy is its peer.
    """
    trusted = tuple(trusted)
    peer = request.remote or "-"
    if not trusted or not _is_in(peer, trusted):
        return peer
    forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_in(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a made-up hop: count it under the proxy, not under a free name
    return peer


class Throttle:
    """Allow `limit` events per key in any `window` seconds (a sliding token bucket)."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = max(1, limit)
        self.window = window
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def allow(self, key: str) -> bool:
        """Take one token for `key`; False when it has none left (answer 429)."""
        now = self._clock()
        tokens, at = self._buckets.pop(key, (float(self.limit), now))
        tokens = min(float(self.limit), tokens + (now - at) * self.limit / self.window)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > MAX_KEYS:
            self._buckets.popitem(last=False)
        return allowed

    def retry_after(self) -> int:
        """Seconds until one more token comes, for the `Retry-After` header."""
        return max(1, round(self.window / self.limit))


class LogOnce:
    """Say a fixed warning once per source per interval, and count what was not said."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self.interval = interval
        self._clock = clock
        self._said: OrderedDict[str, float] = OrderedDict()
        self.quiet: dict[str, int] = {}

    def warning(self, message: str, source: str) -> None:
        """`message` must be our own words: never a caller's body, header or text."""
        now = self._clock()
        key = f"{message}|{source}"
        last = self._said.get(key)
        if last is not None and now - last < self.interval:
            self.quiet[key] = self.quiet.get(key, 0) + 1
            return
        skipped = self.quiet.pop(key, 0)
        self._said.pop(key, None)
        self._said[key] = now
        while len(self._said) > MAX_KEYS:
            self._said.popitem(last=False)
        suffix = f" ({skipped} more since the last warning)" if skipped else ""
        self._log.warning("%s from %s%s", message, _safe(source), suffix)


def _safe(source: str) -> str:
    """An address for the log: printable, short, one line."""
    return "".join(ch for ch in source[:64] if ch.isprintable()) or "-"


def too_many(retry_after: int, text: str = "Too many tries. Please wait a minute.") -> web.Response:
    return web.Response(status=429, text=text, headers={"Retry-After": str(retry_after)})
