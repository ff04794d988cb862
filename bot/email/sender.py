"""The email door's outbox sender.

For each message: a one-time sign-in link to the page where the person acts (short-lived,
made as the web door makes them; only its hash is stored), an unsubscribe link, the
bodies from `render`, and the calendar files the message offers, fetched from the app's
`FileDesk` as the web's download page would. Emails go at `email_per_second` in all.
Neither the link nor the address is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import quote

from bot.core.files import FileRefused, TicketExpired, TicketInvalid
from bot.core.reply import FileOffer, ReplyList
from bot.email.backends import Attachment, EmailBackend, OutgoingEmail
from bot.email.render import act_path, render
from bot.email.tokens import unsubscribe_token
from bot.outbox.limits import Limit, RateLimiter
from bot.outbox.sender import Deferred, Delivered, Undeliverable
from bot.services import Services
from storage.email_door import email_address_of, is_unsubscribed
from storage.models import Door, OutboxMessage
from storage.sessions import create_sign_in_link

log = logging.getLogger(__name__)

CALENDAR = "text/calendar"
MAX_SLEEP = 2.0


class EmailSender:
    door = Door.EMAIL

    def __init__(
        self, services: Services, backend: EmailBackend, limiter: RateLimiter | None = None
    ) -> None:
        self.services = services
        self.backend = backend
        self.limiter = limiter or RateLimiter()

    async def find_delivered(self, message: OutboxMessage) -> Delivered | None:
        return None  # neither SMTP nor Notify can be asked; the key is the Message-ID

    async def deliver(self, message: OutboxMessage) -> Delivered:
        if message.person_id is None:
            raise Undeliverable("an email needs a person to go to")
        settings = self.services.settings
        wait = await self.limiter.acquire(
            [Limit("email:all", settings.email_per_second, burst=10)], max_wait=MAX_SLEEP
        )
        if wait is not None:
            raise Deferred(wait, "our own email rate limit")
        payload = ReplyList.model_validate(message.payload)
        replies = list(payload.replies)
        now = self.services.clock.now()
        ttl = timedelta(seconds=settings.email_signin_link_ttl_seconds)
        async with self.services.db.session() as session:
            if await is_unsubscribed(session, message.person_id):
                raise Undeliverable(
                    "The person turned email off before this was sent; "
                    "it is on their messages page."
                )
            address = await email_address_of(session, message.person_id) or message.address
            token = await create_sign_in_link(session, message.person_id, now=now, ttl=ttl)
        base = settings.base_url
        act = f"{base}/signin/{token}?next={quote(act_path(replies), safe='/')}"
        unsubscribe = (
            f"{base}/email/unsubscribe/{unsubscribe_token(settings.signing_key, message.person_id)}"
        )
        attachments = await self._calendar_files(replies, message.person_id)
        hours = ttl.total_seconds() / 3600
        email = render(
            replies,
            base_url=base,
            act_href=act,
            unsubscribe_href=unsubscribe,
            link_hours=f"{hours:g} hour" + ("" if hours == 1 else "s"),
            attachments=[a.filename for a in attachments],
        )
        sent_id = await self.backend.send(
            OutgoingEmail(
                to=address,
                subject=email.subject,
                text=email.text,
                html=email.html,
                key=message.idempotency_key,
                unsubscribe_url=unsubscribe,
                attachments=attachments,
            )
        )
        log.info("email sent for outbox message %s", message.id)
        return Delivered(external_id=sent_id[:200] or None)

    async def _calendar_files(self, replies: Sequence[object], person_id: int) -> list[Attachment]:
        """The .ics files the message offers (an event, a meeting, a deadline), made for
        this person by the feature that offered them."""
        found: list[Attachment] = []
        for reply in replies:
            if not isinstance(reply, FileOffer) or not reply.content_type.startswith(CALENDAR):
                continue
            try:
                claim = self.services.files.claim(reply.ticket)
            except (TicketInvalid, TicketExpired):
                continue
            taken = await claim.take(
                self.services, person_id=person_id, door=Door.EMAIL, via="email"
            )
            if isinstance(taken, FileRefused):
                continue
            found.append(Attachment(taken.filename, taken.content_type, taken.data))
        return found
