"""Calendar files (.ics) made for one person, offered through the file desk.

An opportunity's deadline and a check-in call both hand out the same kind of file: a signed
ticket names one person and one thing, so a link passed on works only for the person it was
made for, and only for a day; the file is made when it is fetched, from the thing as it is
then, so a changed date is never stale in a new download. This is that machinery once; each
feature says only what its ticket names and how to make its file (`make`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.files import FileRefused, TakenFile, TicketExpired, TicketInvalid
from bot.core.reply import FileOffer
from bot.core.turn import Door
from bot.settings import Settings

LINK_SECONDS = 24 * 60 * 60
CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class CalendarTicket:
    """Who the file is for, and the id of the thing it is about."""

    person_id: int
    subject_id: int


@dataclass(frozen=True)
class OfferWords:
    """How a feature words its calendar file where it is offered."""

    name: str
    title: str
    text: str


class PersonalCalendars(ABC):
    """A feature's calendar files as a file source at the app's `FileDesk`."""

    #: Signs this feature's tickets apart from every other's.
    salt: ClassVar[str]
    #: The key the subject's id is kept under in the ticket.
    subject_key: ClassVar[str]
    #: What to tell a person whose link is too old: on a page, and in a chat message.
    expired: ClassVar[tuple[str, ...]]
    too_late: ClassVar[str]

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @classmethod
    def _serializer(cls, settings: Settings) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(settings.signing_key, salt=cls.salt)

    @classmethod
    def sign(cls, settings: Settings, ticket: CalendarTicket) -> str:
        return str(
            cls._serializer(settings).dumps(
                {"p": ticket.person_id, cls.subject_key: ticket.subject_id}
            )
        )

    @classmethod
    def offer(
        cls, settings: Settings, door: Door, ticket: CalendarTicket, words: OfferWords
    ) -> FileOffer:
        """The file, offered on `door`: a path on the web, the full address in chat."""
        token = cls.sign(settings, ticket)
        path = f"/downloads/{token}"
        return FileOffer(
            name=words.name,
            content_type=CONTENT_TYPE,
            ticket=token,
            url=path if door == Door.WEB else f"{settings.base_url}{path}",
            title=words.title,
            text=words.text,
            label="Add to calendar (.ics)",
            who_sees="Only you get this file.",
        )

    def read(self, token: str) -> object:
        if not token or len(token) > 500:
            raise TicketInvalid("no ticket")
        try:
            data = self._serializer(self._settings).loads(token, max_age=LINK_SECONDS)
        except SignatureExpired as exc:
            raise TicketExpired(list(self.expired), self.too_late) from exc
        except BadSignature as exc:
            raise TicketInvalid("bad signature") from exc
        try:
            return CalendarTicket(person_id=int(data["p"]), subject_id=int(data[self.subject_key]))
        except (KeyError, TypeError, ValueError) as exc:
            raise TicketInvalid("not this kind of calendar ticket") from exc

    async def take(
        self,
        services: Any,
        ticket: object,
        *,
        person_id: int,
        door: str,
        via: str,
        record: bool = True,
    ) -> TakenFile | FileRefused:
        assert isinstance(ticket, CalendarTicket)
        if ticket.person_id != person_id:
            return FileRefused("This calendar link was made for someone else.")
        async with services.db.session() as session:
            return await self.make(session, services, ticket)

    @abstractmethod
    async def make(
        self, session: AsyncSession, services: Any, ticket: CalendarTicket
    ) -> TakenFile | FileRefused:
        """The file as things are now, or why there is none for this person."""

    async def handed_over(  # noqa: B027 - the same for every calendar: nothing to do
        self, services: Any, ticket: object, *, person_id: int, door: str, via: str, rows: int
    ) -> None:
        """Nothing to note: a calendar file holds only dates the person was already told."""
