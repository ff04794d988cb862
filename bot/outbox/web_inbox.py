"""The web door's sender: delivers a message to the person's inbox page.

Delivery is an INSERT keyed by the outbox idempotency key (see storage/inbox.py), so it
can always tell whether an earlier attempt landed, and a repeat is refused by the database.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from bot.outbox.sender import Delivered, Undeliverable
from bot.services import Services
from storage.inbox import add_to_inbox, delivered_item
from storage.models import Door, OutboxMessage


class WebInboxSender:
    door = Door.WEB

    def __init__(self, services: Services) -> None:
        self.services = services

    async def find_delivered(self, message: OutboxMessage) -> Delivered | None:
        async with self.services.db.session() as session:
            item_id = await delivered_item(session, message.idempotency_key)
        return None if item_id is None else Delivered(external_id=f"inbox:{item_id}")

    async def deliver(self, message: OutboxMessage) -> Delivered:
        if message.person_id is None:
            raise Undeliverable("web inbox message has no person")
        try:
            async with self.services.db.session() as session:
                item_id = await add_to_inbox(
                    session,
                    person_id=message.person_id,
                    idempotency_key=message.idempotency_key,
                    payload=message.payload,
                    at=self.services.clock.now(),
                )
        except IntegrityError:
            found = await self.find_delivered(message)
            if found is None:
                raise Undeliverable("the person no longer exists") from None
            return found
        return Delivered(external_id=f"inbox:{item_id}")
