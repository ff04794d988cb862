"""An in-process test door: drive a feature with Turns, in milliseconds, with no HTTP.

errbot's test backend is the model. A chat or web door's job is to turn a platform payload
into a `Turn` and a neutral reply into Block Kit, a card or a page; everything between is
the same code on every door. This door skips only the two translations: a test signs in as
a person from the database, sends text, button presses and form pages as `Turn`s through
`bot.turns.run_turn` (the path the chat doors use: one unit of work, the app's router and
handlers), and reads back the neutral replies (`bot/core/reply.py`). Nothing in our code is
replaced: it is the app's real `Services` on the test database, the same router, the same
outbox and reminder tables, the same file desk.

Use it for a feature's logic. A door's own contract (signatures, CSRF, rendering, status
codes, what a link alone may do) still needs an HTTP test through `tests/support/doors.py`,
`tests/support/web.py` or the fake Slack and Bot Framework.

    async def test_the_directory_is_for_commissioners(door: TestDoor) -> None:
        tom = await door.sign_in("Tom Okafor")
        replies = await tom.say("directory", service="food")
        assert "The provider directory is for council commissioners" in text_of(replies)

Time: `door.freeze(at)` gives the app a `FixedClock` (the app's own seam for time, see
bot/core/clock.py) and `door.advance(delta)` moves it; `door.sweep()` runs one pass of the
real due sweep with every feature's reminder handlers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import unescape
from typing import Any

from sqlalchemy import select

from bot.clock import FixedClock
from bot.core.files import FileRefused, TakenFile
from bot.core.reply import FileOffer, FormView, Reply, ReplyList
from bot.core.turn import Action, Actor, Intent, Submission, Turn, parse_command
from bot.scheduler import DueSweep
from bot.services import Services
from bot.turns import Event, ReplyRoute, TurnOutcome, run_turn
from bot.web.render import WebWords
from handlers import reminder_handlers
from storage.models import Door, OutboxMessage, Person, Reminder
from storage.people import load_actor

__all__ = ["Conversation", "Queued", "TestDoor", "TurnFailed", "form_in", "text_of"]

#: A form page's answers: one value, or several for checkbox groups.
Answers = Mapping[str, str | list[str]]


class TurnFailed(AssertionError):
    """The turn hit a database error. `run_turn` turns that into an apology for a person;
    a test must not mistake the apology for the feature's answer."""


#: Parts of a reply that say how to show it, not what it says.
UNSEEN = frozenset({"kind", "level", "style"})


def on_the_web(text: str) -> str:
    """Text as the web shows it: a command the words point at is a link or button named
    by its label ("go to your profile"), never "type profile" (see `command_ref`)."""
    html = str(WebWords().words(text))
    return unescape(re.sub(r"<[^>]+>", "", html))


def text_of(replies: Sequence[Reply]) -> str:
    """Every word in the replies, one string a line, in order: titles, texts, facts, button
    labels, a form's questions, hints, options and errors. What a person could read on any
    door (and a little more: action ids and option values too, so a test that something is
    *not* shown is, if anything, stricter than on a rendered page)."""
    out: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            out.append(on_the_web(value))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if key not in UNSEEN:
                    walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif value is not None and not isinstance(value, bool):
            out.append(str(value))

    for reply in replies:
        walk(reply.model_dump(mode="json", exclude_none=True))
    return "\n".join(out)


def form_in(replies: Sequence[Reply]) -> FormView:
    """The form page among these replies; fails, saying what was there, if there is none."""
    for reply in replies:
        if isinstance(reply, FormView):
            return reply
    raise AssertionError(f"no form in the replies: {text_of(replies)!r}")


@dataclass(frozen=True)
class Queued:
    """A message waiting in the outbox, with its payload read back as neutral replies."""

    row: OutboxMessage
    replies: list[Reply]

    @property
    def text(self) -> str:
        return text_of(self.replies)


class TestDoor:
    """The app's services with a door that needs no network. One per test."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, services: Services, *, door: Door = Door.WEB) -> None:
        self.services = services
        self.door = door

    # --- people ---------------------------------------------------------------------------

    async def person_id(self, name: str) -> int:
        """The id of the person with this name (the demo council's people, or a test's)."""
        async with self.services.db.session() as session:
            found = (await session.scalars(select(Person.id).where(Person.name == name))).all()
        assert len(found) == 1, f"expected one person called {name!r}, found {len(found)}"
        return found[0]

    async def actor(self, person_id: int) -> Actor:
        """The person's actor as every door builds it: their row and roles, read now."""
        async with self.services.db.session() as session:
            actor = await load_actor(session, person_id, self.services.tz)
        assert actor is not None, f"person {person_id} is gone"
        return actor

    async def sign_in(
        self,
        name: str,
        *,
        door: Door | None = None,
        conversation: str | None = None,
        prefers_chat: bool = False,
    ) -> Conversation:
        """A conversation with the app as this person, on `door` (the door's own default).

        Each conversation has its own chat id, so chat-mode form state is kept apart as it
        is between two people's direct messages."""
        person_id = await self.person_id(name)
        on = door or self.door
        return Conversation(
            test_door=self,
            person_id=person_id,
            door=on,
            conversation=conversation or ("web" if on == Door.WEB else f"dm-{on}-{person_id}"),
            prefers_chat=prefers_chat,
        )

    # --- the path every door takes -------------------------------------------------------

    async def run(
        self, turn: Turn, *, event: str | None = None, route: ReplyRoute | None = None
    ) -> TurnOutcome:
        """Run one turn exactly as a chat door does, and fail loudly on a database error.

        `event` names a platform delivery (run it twice to see a retry ignored); `route`
        queues the replies in the outbox in the same transaction, as chat doors do."""
        outcome = await run_turn(
            self.services,
            turn,
            event=Event("test", event) if event is not None else None,
            route=route,
        )
        if outcome.failed:
            raise TurnFailed(f"the turn failed on the database: {turn!r}")
        return outcome

    # --- the clock ------------------------------------------------------------------------

    def freeze(self, at: datetime | None = None) -> FixedClock:
        """Stop the app's clock at `at` (default: now), so a test can move it by hand."""
        clock = FixedClock(at or self.services.clock.now())
        self.services.clock = clock
        return clock

    def advance(self, delta: timedelta) -> datetime:
        """Move the app's clock on (freezing it first if it still runs); the new time."""
        clock = self.services.clock
        if not isinstance(clock, FixedClock):
            clock = self.freeze()
        clock.advance(delta)
        return clock.now()

    def now(self) -> datetime:
        return self.services.clock.now()

    async def sweep(self, limit: int = 50) -> int:
        """One pass of the real due sweep, with every feature's reminder handlers: how many
        reminders it handled."""
        return await DueSweep(self.services, reminder_handlers()).run_once(limit)

    # --- what the app left in its tables -------------------------------------------------

    async def outbox(
        self, *, person_id: int | None = None, door: Door | None = None
    ) -> list[Queued]:
        """Messages queued to be sent, oldest first (optionally to one person or door)."""
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if person_id is not None:
            query = query.where(OutboxMessage.person_id == person_id)
        if door is not None:
            query = query.where(OutboxMessage.door == door)
        async with self.services.db.session() as session:
            rows = list((await session.scalars(query)).all())
        return [Queued(row, ReplyList.model_validate(row.payload).replies) for row in rows]

    async def reminders(self, *, kind: str | None = None) -> list[Reminder]:
        """Reminders in the table, soonest first (optionally of one kind)."""
        query = select(Reminder).order_by(Reminder.due_at, Reminder.id)
        if kind is not None:
            query = query.where(Reminder.kind == kind)
        async with self.services.db.session() as session:
            return list((await session.scalars(query)).all())

    async def take_file(self, offer: FileOffer, person_id: int) -> TakenFile | FileRefused:
        """Redeem an offered file at the app's file desk, as the web's download page does."""
        claim = self.services.files.claim(offer.ticket)
        return await claim.take(self.services, person_id=person_id, door=self.door, via="link")


@dataclass
class Conversation:
    """One person talking to the app through the test door. Their actor is read again for
    every turn (as the web door reads it on every request), so a role they gain or lose
    applies to their next turn."""

    test_door: TestDoor
    person_id: int
    door: Door
    conversation: str
    prefers_chat: bool = False
    #: The replies to the last turn.
    last: list[Reply] = field(default_factory=list)

    async def actor(self) -> Actor:
        return await self.test_door.actor(self.person_id)

    async def _send(self, event: str | None = None, **turn: Any) -> list[Reply]:
        built = Turn(
            door=self.door,
            actor=await self.actor(),
            conversation=self.conversation,
            prefers_chat=self.prefers_chat,
            **turn,
        )
        outcome = await self.test_door.run(built, event=event)
        self.last = outcome.replies
        return self.last

    async def say(self, text: str, *, event: str | None = None, **args: str) -> list[Reply]:
        """Type a command or a chat answer. `name=value` words in the text and keyword
        arguments both become the turn's arguments (as the chat and web doors send them)."""
        _, parsed = parse_command(text)
        return await self._send(event=event, text=text, args={**parsed, **args})

    async def press(self, action: str, value: str = "", *, event: str | None = None) -> list[Reply]:
        """Press a button: its action id and value, as every door sends them back."""
        return await self._send(event=event, action=Action(id=action, value=value))

    async def send_page(
        self,
        form: FormView,
        answers: Answers | None = None,
        *,
        intent: Intent = Intent.NEXT,
        page: int | None = None,
    ) -> list[Reply]:
        """Send one page of a form (default: the page `form` shows) with these answers."""
        submission = Submission(
            response_id=form.response_id,
            page=form.page_index if page is None else page,
            values=dict(answers or {}),
            intent=intent,
        )
        return await self._send(submission=submission)

    async def fill(self, command: str, pages: Mapping[int, Answers]) -> list[Reply]:
        """Open a form with `command` and send every page in turn (the last one submits),
        each with its answers from `pages`; the replies to the last page."""
        form = form_in(await self.say(command))
        count = form.page_count
        for index in range(count):
            last = index == count - 1
            replies = await self.send_page(
                form,
                pages.get(index, {}),
                intent=Intent.SUBMIT if last else Intent.NEXT,
                page=index,
            )
            if not last:
                form = form_in(replies)
                assert form.page_index == index + 1, f"page {index} was refused: {form.errors}"
        return self.last

    def text(self) -> str:
        """Every word of the last turn's replies."""
        return text_of(self.last)

    async def inbox(self) -> list[Queued]:
        """Messages queued for this person."""
        return await self.test_door.outbox(person_id=self.person_id)

    async def take_file(self, offer: FileOffer | None = None) -> TakenFile | FileRefused:
        """Take the file offered in the last replies (or `offer`), as this person."""
        if offer is None:
            offer = next((r for r in self.last if isinstance(r, FileOffer)), None)
            assert offer is not None, f"no file offered: {self.text()!r}"
        return await self.test_door.take_file(offer, self.person_id)
