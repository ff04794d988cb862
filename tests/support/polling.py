"""Waiting for asynchronous effects in tests: poll, and let the outbox finish its passes."""

# `timeout` here is how long to keep polling, read by the loop itself: not a cancel scope.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from bot.outbox.sender import OutboxSender

T = TypeVar("T")


@overload
async def eventually(
    check: Callable[[], Awaitable[T | None]], *, timeout: float = ..., interval: float = ...
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T | None], *, timeout: float = ..., interval: float = ...
) -> T: ...


async def eventually(
    check: Callable[[], Any],
    *,
    timeout: float = 5.0,
    interval: float = 0.02,
) -> Any:
    """Poll `check` until it returns something truthy (and return that).

    Bolt acks first and the listener carries on afterwards, so effects appear a little
    after the HTTP response; polling keeps the tests fast when things are quick and
    patient when a machine is slow, where a fixed sleep is always one or the other.
    An AssertionError inside `check` counts as "not yet"; the last one is re-raised.
    """
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    result: Any = None
    while True:
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            last = None
        except AssertionError as exc:
            last = exc
        if time.monotonic() >= deadline:
            if last is not None:
                raise last
            raise AssertionError(f"still not true after {timeout}s (last value: {result!r})")
        await asyncio.sleep(interval)


async def settle(sender: OutboxSender) -> int:
    """Deliver everything due: wait for a pass a reply started (`kick`), then drain.

    A kicked pass may have claimed a row just before `drain` looks, so draining alone
    could return while that row is still on its way to the platform.
    """
    total = 0
    for _ in range(20):
        await sender.idle()  # the pass `kick()` started, if any
        total += await sender.drain()
        if not sender.busy:
            return total
    return total
