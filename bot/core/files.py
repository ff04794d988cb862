"""Files a person can take, without the door knowing which feature made them.

A feature answers with a `FileOffer` (see bot/core/reply.py) carrying an opaque ticket.
A door that can hand over a file (the web's download page, Slack's upload to a direct
message) redeems the ticket here, at the `FileDesk` the app fills at start, and gets
bytes, a refusal in the feature's own words, or a ticket that no longer works. The door
never learns what the file is or who may have it: the feature's `FileSource` decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class TakenFile:
    """The bytes of a file, made for the person fetching it."""

    filename: str
    content_type: str
    data: bytes
    rows: int


@dataclass(frozen=True)
class FileRefused:
    """The person may not (or no longer) have the file; `message` says why, to them."""

    message: str


class TicketInvalid(Exception):
    """No source recognises the ticket: not ours, or changed."""


class TicketExpired(Exception):
    """The ticket was ours but is too old. Carries what to tell the person, in the
    feature's words, on a page (`lines`) or in a chat message (`late_text`)."""

    def __init__(self, lines: list[str], late_text: str) -> None:
        super().__init__("ticket expired")
        self.lines = lines
        self.late_text = late_text


@runtime_checkable
class BearerTicket(Protocol):
    """A ticket good for whoever holds its link, with no session: a chat platform fetching
    a picture to show in a message. It still names the person it was made for
    (`person_id`), and the file is made as that person may see it now; a door may hand
    over a bearer file only at its sessionless address, and only as a picture."""

    person_id: int
    bearer: bool


class FileSource(Protocol):
    """What a feature that offers files registers. `services` is the app's services."""

    def read(self, token: str) -> object:
        """The ticket behind a token. Raises TicketExpired or TicketInvalid."""
        ...

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
        """Make the file for this person, checking again that they may have it."""
        ...

    async def handed_over(
        self, services: Any, ticket: object, *, person_id: int, door: str, via: str, rows: int
    ) -> None:
        """Note that the file reached the person (doors that send it themselves)."""
        ...


@dataclass(frozen=True)
class Claim:
    """A ticket read by the source that made it; the door passes it back to fetch the file."""

    source: FileSource
    ticket: object

    async def take(
        self, services: Any, *, person_id: int, door: str, via: str, record: bool = True
    ) -> TakenFile | FileRefused:
        return await self.source.take(
            services, self.ticket, person_id=person_id, door=door, via=via, record=record
        )

    async def handed_over(
        self, services: Any, *, person_id: int, door: str, via: str, rows: int
    ) -> None:
        await self.source.handed_over(
            services, self.ticket, person_id=person_id, door=door, via=via, rows=rows
        )


class FileDesk:
    """Every registered file source; doors redeem tickets here."""

    def __init__(self, sources: Iterable[FileSource] = ()) -> None:
        self._sources = list(sources)

    def register(self, source: FileSource) -> None:
        self._sources.append(source)

    def claim(self, token: str) -> Claim:
        """The source that made this token, with its ticket. Raises TicketExpired, or
        TicketInvalid if no source made it."""
        for source in self._sources:
            try:
                return Claim(source, source.read(token))
            except TicketInvalid:
                continue
        raise TicketInvalid("no source made this ticket")
