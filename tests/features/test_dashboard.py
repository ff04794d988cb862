"""The dashboards, in-process: a commissioner's "where are we?" over a generated council
(the bench's seeding, small), checked number by number against the same figures counted
in Python from every row (`bench.dashboard.python_figures`); its charts (the SVG says what
the table says, a small group is hidden in both, the PNG is a real picture of the same
chart); the same number of queries for a small and a larger database; the provider's
small dashboard; and who is refused.

The web page itself (the chart's picture, its table and links, no script) is tested over
HTTP in tests/integration/test_dashboard_web.py.
"""

from __future__ import annotations

import base64
import io
import re
import struct
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, insert, select

from bench.dashboard import NOW, QUESTIONS, Size, python_figures, seed
from bot.core.enums import Door
from bot.core.files import FileRefused, TakenFile
from bot.core.reply import Chart, Message, Reply
from bot.services import Services
from handlers.dashboard.charts import Bar, chart_images, png_of, svg_of
from handlers.dashboard.figures import FEEDBACK_QUESTIONS
from storage.feedback_tables import FeedbackEntry, FeedbackPoint
from storage.models import Authority, Membership, Person, Role
from storage.people import grant
from tests.support.inprocess import Conversation, TestDoor, text_of

SMALL = Size(organisations=60, engagements=6, opportunities=20, agreements=12, years=1, councils=2)
LARGER = Size(
    organisations=180, engagements=18, opportunities=60, agreements=36, years=2, councils=2
)
COMMISSIONER = "Dana Reid"


async def seeded(door: TestDoor, size: Size = SMALL) -> tuple[Conversation, int]:
    """The generated councils, and the first one's commissioner signed in."""
    door.freeze(NOW)
    async with door.services.db.session() as session:
        councils, _ = await seed(session, size)
        person = Person(name=COMMISSIONER, email="dana@bench.example", is_demo=True)
        session.add(person)
        await session.flush()
        await grant(session, person, Role.COMMISSIONER, authority_id=councils[0])
    return await door.sign_in(COMMISSIONER), councils[0]


def numbers(replies: Sequence[Reply]) -> dict[str, str]:
    """Every "label: number" button, by its label (the last one wins: labels repeat
    across sections only for agreements, which are checked by section)."""
    found: dict[str, str] = {}
    for reply in replies:
        if isinstance(reply, Message):
            for section in reply.sections:
                for button in section.buttons:
                    label, _, value = button.label.rpartition(": ")
                    found[f"{section.heading}/{label}"] = value
    return found


def charts(replies: Sequence[Reply]) -> dict[str, Chart]:
    return {r.key: r for r in replies if isinstance(r, Chart)}


def svg_in(chart: Chart) -> str:
    assert chart.image_url is not None
    prefix = "data:image/svg+xml;base64,"
    assert chart.image_url.startswith(prefix)
    return base64.b64decode(chart.image_url[len(prefix) :]).decode()


def svg_texts(svg: str) -> list[str]:
    """The words written in the SVG (text stays text: `svg.fonttype` is none)."""
    from html import unescape

    return [unescape(t).strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


async def test_the_commissioners_numbers_match_every_row_counted(door: TestDoor) -> None:
    dana, council = await seeded(door)
    replies = await dana.say("dashboard")
    async with door.services.db.session() as session:
        engagement, opportunity, agreement, feedback = await python_figures(
            session, council, today=NOW.date(), now=NOW
        )
    shown = numbers(replies)
    assert shown["Engagements/Open"] == f"{engagement.open:,}"
    assert shown["Engagements/Organisations invited"] == f"{engagement.invited:,}"
    assert shown["Engagements/Organisations that took part"] == f"{engagement.took_part:,}"
    assert shown["Engagements/Answers in"] == f"{engagement.answers_in:,}"
    assert shown["Engagements/Events coming up"] == f"{engagement.events_coming:,}"
    assert shown["Engagements/Questions waiting for an answer"] == (
        f"{engagement.clarifications_waiting:,}"
    )
    assert shown["Opportunities/Open"] == f"{opportunity.open:,}"
    assert shown["Opportunities/Interest in open opportunities"] == f"{opportunity.interested:,}"
    assert shown["Agreements/Running now"] == f"{agreement.live:,}"
    assert shown["Agreements/Check-ins overdue"] == f"{agreement.checkins_overdue:,}"
    assert shown["Agreements/Check-ins due in the next 14 days"] == f"{agreement.checkins_due:,}"
    assert shown["Agreements/Changes (variations) waiting for a decision"] == (
        f"{agreement.variations_open:,}"
    )
    fb = "Feedback from people who use services"
    assert shown[f"{fb}/Feedback points"] == f"{feedback.points:,}"
    assert shown[f'{fb}/Waiting for "you said, we did"'] == f"{feedback.yousaid_pending:,}"
    # The charts' tables say what the rows say; every number links to its list.
    drawn = charts(replies)
    size = {row.label: row.amount for row in drawn["interest-by-size"].rows}
    assert sum(v or 0 for v in size.values()) == opportunity.interested
    assert size.get("Not said", 0) == opportunity.by_income.get(None, 0)
    assert size["Under £10,000"] == opportunity.by_income.get("under_10k", 0)
    rag = {row.label: row.amount for row in drawn["rag"].rows}
    assert rag == {
        "Red": agreement.rag.get("red", 0),
        "Amber": agreement.rag.get("amber", 0),
        "Green": agreement.rag.get("green", 0),
        "No colour given yet": agreement.rag.get(None, 0),
    }
    assert all(row.action for chart in drawn.values() for row in chart.rows)
    # The SVG is drawn from the table: every label and every number shown is in it.
    for chart in drawn.values():
        words = svg_texts(svg_in(chart))
        assert chart.title in words
        for row in chart.rows:
            assert row.label in words and row.shown in words, (chart.key, row)
    assert "Only Bench Council 0's commissioning team can see this dashboard." in text_of(replies)


async def test_small_groups_are_hidden_in_the_chart_as_in_its_table(door: TestDoor) -> None:
    """Riverside's own feedback point, 22 answers to "is it helping?": 5 each of yes, a
    bit, no and "I don't know", and 2 with no answer. The 2 is under the minimum (5), and
    since it could be worked out from the total, one more (the smallest, "yes") is hidden
    too: the rule of the readiness summary's tables, in the table and the chart alike."""
    door.freeze(NOW)
    async with door.services.db.session() as session:
        council = await session.scalar(select(Authority.id).where(Authority.slug == "riverside"))
        point = FeedbackPoint(
            slug="dash-test",
            service_name="Youth club",
            question_keys=list(QUESTIONS),
            authority_id=council,
        )
        session.add(point)
        await session.flush()
        helping = ["yes"] * 5 + ["a_bit"] * 5 + ["no"] * 5 + ["dont_know"] * 5 + [None] * 2
        await session.execute(
            insert(FeedbackEntry),
            [
                {
                    "id": f"t{i}",
                    "point_id": point.id,
                    "given_on": NOW.date() - timedelta(days=i),
                    "answers": {"helping": a} if a else {},
                }
                for i, a in enumerate(helping)
            ],
        )
    priya = await door.sign_in("Priya Shah")
    replies = await priya.say("dashboard")
    assert door.services.settings.suppression_minimum == 5
    chart = charts(replies)["feedback"]
    first = FEEDBACK_QUESTIONS[0]
    assert first.key == "helping"
    rows = {
        row.label.removeprefix(first.text + " "): (row.shown, row.amount)
        for row in chart.rows
        if row.label.startswith(first.text)
    }
    assert rows == {
        "Yes": ("hidden to protect a small group", None),
        "A bit": ("5", 5),
        "No": ("5", 5),
        "I don't know": ("5", 5),
        "No answer": ("fewer than 5", None),
    }
    svg = svg_in(chart)
    words = svg_texts(svg)
    assert all(row.shown in words for row in chart.rows)
    # A bar for each number shown, none for a hidden one (the other two questions have
    # only "no answer", 22, shown).
    drawn = [row for row in chart.rows if row.amount is not None]
    assert len(drawn) == 3 + 1 + 1
    assert svg.count('style="fill: #1d70b8') == len(drawn)
    assert "2" not in words  # the hidden number is nowhere in the picture
    assert "Answers: 22" in text_of(replies)


def test_the_png_is_a_picture_of_the_same_chart() -> None:
    bars = [Bar("Yes", 12, "12"), Bar("A bit", None, "fewer than 5"), Bar("No", 7, "7")]
    images = chart_images("Is it helping?", bars)
    assert images.svg == svg_of("Is it helping?", bars)  # the same bytes for the same data
    assert images.png == png_of("Is it helping?", bars)
    assert images.png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", images.png[16:24])  # the IHDR chunk
    assert (width, height) == (640, round(100 * (0.8 + 0.34 * 3)))
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - matplotlib brings Pillow
        return
    with Image.open(io.BytesIO(images.png)) as picture:
        assert picture.format == "PNG" and picture.size == (width, height)
        # Some of it is the bars' blue.
        assert (29, 112, 184, 255) in {
            c for _, c in picture.convert("RGBA").getcolors(1 << 16) or []
        }
    words = svg_texts(images.svg.decode())
    assert "Is it helping?" in words
    assert [w for w in words if w in ("Yes", "A bit", "No")] == ["Yes", "A bit", "No"]
    assert "fewer than 5" in words and "12" in words and "7" in words


async def _queries(door: TestDoor, dana: Conversation) -> int:
    counted = 0

    def seen(*_: object) -> None:
        nonlocal counted
        counted += 1

    engine = door.services.db.engine.sync_engine
    await dana.say("dashboard")  # warm: the actor and the forms are read the same way
    event.listen(engine, "before_cursor_execute", seen)
    try:
        await dana.say("dashboard")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return counted


async def test_a_page_runs_the_same_queries_whatever_the_size(services: Services) -> None:
    small_door = TestDoor(services)
    dana, _ = await seeded(small_door, SMALL)
    small = await _queries(small_door, dana)
    # Three times as much of everything, in the same database.
    async with services.db.session() as session:
        council = await session.scalar(select(Authority.id).where(Authority.slug == "bench-0"))
        assert council is not None
        await seed(session, LARGER, seed=7, start=1, councils=[council])
    larger = await _queries(small_door, dana)
    assert small == larger
    assert small <= 25


async def test_filters_by_service_area_and_area(door: TestDoor) -> None:
    dana, _ = await seeded(door)
    everything = numbers(await dana.say("dashboard"))
    replies = await dana.say("dashboard service=older_people area=Preston")
    filtered = numbers(replies)
    assert int(filtered["Engagements/Open"]) <= int(everything["Engagements/Open"])
    assert "Only things in older people and covering Preston." in text_of(replies)
    bar = next(r for r in replies if r.kind == "filters")
    assert [f.selected for f in bar.filters] == ["older_people", bar.filters[1].selected]
    assert bar.filters[1].selected.startswith("E")  # Preston, as its code


async def test_the_provider_sees_its_own_small_dashboard(door: TestDoor) -> None:
    tom = await door.sign_in("Tom Okafor")
    replies = await tom.say("dashboard")
    text = text_of(replies)
    assert "Dashboard: Riverside Youth Trust" in text
    assert "Open opportunities you are interested in: 0" in text
    assert "Check-ins due in the next 14 days: 0" in text
    assert "Only people in Riverside Youth Trust can see this dashboard." in text
    assert not charts(replies)


async def test_another_councils_dashboard_is_refused(door: TestDoor) -> None:
    from tests.features.engagement_story import add_hilltop

    await add_hilltop(door.services)
    yusuf = await door.sign_in("Yusuf Khan")
    replies = await yusuf.say("dashboard for=riverside")
    assert "Only Riverside Borough Council's commissioning team can see its dashboard." in text_of(
        replies
    )
    own = await yusuf.say("dashboard")
    assert "Dashboard: Hilltop District Council" in text_of(own)


@pytest.mark.parametrize("name", ["Alex Morgan"])
async def test_someone_with_no_council_or_organisation_is_told_who_it_is_for(
    door: TestDoor, name: str
) -> None:
    alex = await door.sign_in(name)
    replies = await alex.say("dashboard")
    assert "The dashboard is for council commissioning teams and for providers." in text_of(replies)


async def test_chat_doors_show_each_charts_picture_then_its_table(door: TestDoor) -> None:
    """On Slack and Teams each chart is a PNG at a signed address (the web keeps its SVG
    and has no chat address), followed by its table as text: its title, each row's label
    and number, and the links."""
    import json

    from bot.slack.blocks import messages
    from bot.teams.cards import cards

    dana, _ = await seeded(door)
    on_web = charts(await dana.say("dashboard"))
    assert on_web and all(c.chat_image_url is None for c in on_web.values())
    in_slack = await door.sign_in(COMMISSIONER, door=Door.SLACK)
    replies = await in_slack.say("dashboard")
    drawn = charts(replies)
    assert drawn.keys() == on_web.keys()
    base = f"{door.services.settings.base_url}/chart-images/"
    assert all((c.chat_image_url or "").startswith(base) for c in drawn.values())
    slack = json.dumps(messages(replies))
    teams = json.dumps(cards(replies))
    for chart in drawn.values():
        assert json.dumps(chart.chat_image_url) in slack
        assert json.dumps(chart.chat_image_url) in teams
        for words in (chart.title, *(f"{r.label}: {r.shown}" for r in chart.rows[:3])):
            encoded = json.dumps(words)[1:-1]
            assert encoded in slack, words
            assert encoded in teams, words


def _token(chart: Chart) -> str:
    assert chart.chat_image_url is not None
    return chart.chat_image_url.rpartition("/")[2]


async def test_a_charts_picture_is_drawn_from_the_councils_rows(door: TestDoor) -> None:
    """Redeemed at the file desk, the red, amber, green chart's ticket gives exactly the
    PNG of the ratings counted row by row from the database, for the person it names."""
    _, council = await seeded(door)
    in_teams = await door.sign_in(COMMISSIONER, door=Door.TEAMS)
    rag = charts(await in_teams.say("dashboard"))["rag"]
    async with door.services.db.session() as session:
        _, _, agreement, _ = await python_figures(session, council, today=NOW.date(), now=NOW)
        dana_id = await session.scalar(select(Person.id).where(Person.name == COMMISSIONER))
    assert dana_id is not None
    counts = [
        ("Red", agreement.rag.get("red", 0)),
        ("Amber", agreement.rag.get("amber", 0)),
        ("Green", agreement.rag.get("green", 0)),
        ("No colour given yet", agreement.rag.get(None, 0)),
    ]
    assert sum(n for _, n in counts) > 0
    expected = png_of(rag.title, [Bar(label, n, f"{n:,}") for label, n in counts])
    claim = door.services.files.claim(_token(rag))
    made = await claim.take(door.services, person_id=dana_id, door="web", via="image")
    assert isinstance(made, TakenFile)
    assert made.content_type == "image/png" and made.data == expected
    # Someone else presenting Dana's ticket gets nothing.
    other = await claim.take(door.services, person_id=dana_id + 1000, door="web", via="image")
    assert isinstance(other, FileRefused)


async def test_a_charts_picture_stops_when_the_person_leaves_the_team(door: TestDoor) -> None:
    """The ticket is checked again when the picture is fetched: once Dana no longer
    commissions for the council, her old address draws nothing."""
    await seeded(door)
    in_slack = await door.sign_in(COMMISSIONER, door=Door.SLACK)
    rag = charts(await in_slack.say("dashboard"))["rag"]
    async with door.services.db.session() as session:
        dana = await session.scalar(select(Person).where(Person.name == COMMISSIONER))
        assert dana is not None
        await session.execute(delete(Membership).where(Membership.person_id == dana.id))
        dana_id = dana.id
    claim = door.services.files.claim(_token(rag))
    made = await claim.take(door.services, person_id=dana_id, door="web", via="image")
    assert isinstance(made, FileRefused)
