"""An outbox sender process that dies at a chosen moment, as a crash or an OOM kill would.

Run by tests/integration/test_outbox.py as a subprocess:

    python tests/support/crashing_sender.py --crash before|after --message-id K [--batch N]

with DATABASE_URL in the environment. It builds the real services and the real
`OutboxSender` with the real `WebInboxSender`, wrapped so that the process calls
`os._exit(137)` either just before delivering message K (`before`) or right after
the web inbox delivery of K returned but before the sender could record it
(`after`). `os._exit` skips every `finally`, so nothing gets tidied up: the rows
are left exactly as a killed process would leave them.

If message K is never reached the process exits 3, so the test can tell a crash
that did not happen from one that did.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.app import build_services
from bot.outbox.sender import Delivered, OutboxSender
from bot.outbox.web_inbox import WebInboxSender
from bot.settings import load_settings
from storage.models import Door, OutboxMessage

CRASH_EXIT = 137
NOT_REACHED_EXIT = 3


class CrashingWebInbox:
    """The real web inbox sender, except that the process dies around message K."""

    door = Door.WEB

    def __init__(self, inner: WebInboxSender, *, crash: str, message_id: int) -> None:
        self.inner = inner
        self.crash = crash
        self.message_id = message_id

    async def find_delivered(self, message: OutboxMessage) -> Delivered | None:
        return await self.inner.find_delivered(message)

    async def deliver(self, message: OutboxMessage) -> Delivered:
        if self.crash == "before" and message.id == self.message_id:
            _die()
        delivered = await self.inner.deliver(message)
        if self.crash == "after" and message.id == self.message_id:
            _die()
        return delivered


def _die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(CRASH_EXIT)


async def main(crash: str, message_id: int, batch: int) -> int:
    settings = load_settings(lease_seconds=1, outbox_batch_size=batch, scheduler_enabled=False)
    services = build_services(settings)
    inner = WebInboxSender(services)
    sender = OutboxSender(services, [CrashingWebInbox(inner, crash=crash, message_id=message_id)])
    try:
        await sender.drain()
    finally:
        await services.db.dispose()
    return NOT_REACHED_EXIT


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--crash", choices=["before", "after"], required=True)
    parser.add_argument("--message-id", type=int, required=True)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.crash, args.message_id, args.batch)))
