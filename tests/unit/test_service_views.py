"""The views of the service steps: typed results and refusals become the words people read.

The services themselves (`book_place`, `publish_engagement`, `prepare_export`, ...) are
checked through the doors in the integration tests; these check that each view says
what happened, what happens next and who sees it, from the result alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.reply import Message, Notice, chat_words
from bot.core.turn import Actor, Door, Turn
from handlers.engagements.closing import NotOpen
from handlers.engagements.common import NotTheTeam, refusal_replies
from handlers.engagements.events import Booking, booking_replies
from handlers.engagements.setup import AlreadyPublished, Published, published_replies
from handlers.export_files import ExportFormat, ExportKind
from handlers.exports import NotThatCouncil, export_asked, refused_replies
from storage.engagement_tables import BookingState, Engagement, EngagementEvent
from storage.models import Authority
from tests.support.inprocess import on_the_web

STARTS = datetime(2026, 3, 6, 17, 0, tzinfo=UTC)


def turn(text: str = "", **args: str) -> Turn:
    return Turn(door=Door.WEB, actor=Actor(person_id=1, name="Sam"), text=text, args=args)


def event(capacity: int | None = 20) -> EngagementEvent:
    return EngagementEvent(
        id=7,
        engagement_id=3,
        kind="workshop",
        title="Drop-in",
        starts_at=STARTS,
        place="Town Hall",
        capacity=capacity,
    )


def test_a_new_place_says_when_and_where_and_how_to_cancel() -> None:
    (notice,) = booking_replies(Booking(event(), BookingState.BOOKED), turn())
    assert isinstance(notice, Notice) and notice.level == "success"
    assert "You have a place at Drop-in" in notice.text
    assert "Friday 6 March 2026" in notice.text and "Town Hall" in notice.text
    assert [b.value for b in notice.buttons] == ["cancel 7"]


def test_the_waiting_list_says_its_number() -> None:
    (notice,) = booking_replies(Booking(event(), BookingState.WAITING, position=3), turn())
    assert isinstance(notice, Notice) and notice.level == "warning"
    assert "waiting list (number 3)" in notice.text
    assert notice.buttons[0].label == "Leave the waiting list"


def test_asking_again_says_nothing_changed() -> None:
    (notice,) = booking_replies(Booking(event(), BookingState.WAITING, already=True), turn())
    assert isinstance(notice, Notice)
    assert notice.text == "You already have a place on the waiting list at Drop-in."


def test_a_refusal_is_one_notice_at_its_own_level() -> None:
    assert refusal_replies(NotTheTeam("Only the team.")) == [
        Notice(text="Only the team.", level="warning")
    ]
    assert refusal_replies(AlreadyPublished("Already.")) == [Notice(text="Already.", level="info")]
    assert refusal_replies(NotOpen("Not open."))[0].level == "info"


def test_publishing_says_who_was_invited_and_what_next() -> None:
    engagement = Engagement(id=4, title="Youth services")
    replies = published_replies(
        Published(engagement, organisations=1, people=3, channels=0, warnings=("Short notice",))
    )
    done, warning, next_steps = replies
    assert isinstance(done, Notice) and done.level == "success"
    assert "to 3 people in 1 organisation." in done.text and "channels" not in done.text
    assert isinstance(warning, Notice) and warning.text == "Short notice"
    assert isinstance(next_steps, Message)
    assert [b.value for b in next_steps.buttons] == ["show 4", "event 4", "record 4"]


def test_export_reads_what_was_asked_for() -> None:
    asked = export_asked(turn("export directory csv", **{"for": "leeds"}))
    assert (asked.kind, asked.fmt, asked.council) == (
        ExportKind.DIRECTORY,
        ExportFormat.CSV,
        "leeds",
    )
    plain = export_asked(turn("export"))
    assert (plain.kind, plain.fmt, plain.council) == (None, ExportFormat.XLSX, None)


def test_naming_another_council_lists_the_ones_you_can_export_for() -> None:
    councils = (
        Authority(id=1, name="Leeds", slug="leeds"),
        Authority(id=2, name="York", slug="york"),
    )
    (notice,) = refused_replies(NotThatCouncil(councils), turn())
    assert isinstance(notice, Notice) and notice.level == "warning"
    # Chat says the words to type; the web links to each council's export.
    words = "For Leeds, type export for=leeds. For York, type export for=york."
    assert words in chat_words(notice.text)
    web = on_the_web(notice.text)
    assert "For Leeds, go to the Leeds export. For York, go to the York export." in web
