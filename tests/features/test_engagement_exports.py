"""An engagement's answers and summary as spreadsheets, in-process: the team downloads
them through the exports machinery, everyone else is refused (and the file is checked
again when it is made), and the summary file keeps the summary's suppression.

The download page itself is tested over HTTP in tests/integration/test_engagement_exports_web.py.
"""

from __future__ import annotations

import csv
import io

from sqlalchemy import delete

from bot.core.files import FileRefused, TakenFile
from bot.core.reply import FileOffer
from bot.services import Services
from storage.models import Membership
from tests.features.engagement_story import add_hilltop, make_engagement
from tests.integration.test_exports import audit_events, sheet_rows
from tests.support.inprocess import TestDoor, text_of


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def answered(services: Services, door: TestDoor) -> int:
    """Priya's published engagement, with Tom's answers sent."""
    story = await make_engagement(services)
    tom = await door.sign_in("Tom Okafor")
    await tom.fill(
        f"engagements answer {story.engagement_id}",
        {
            0: {"viable_terms": '=HYPERLINK("x") Longer agreements.'},
            1: {"payment": "arrears_30"},
        },
    )
    assert "FormView" not in repr(type(tom.last[-1])), tom.text()
    return story.engagement_id


async def test_the_team_downloads_the_answers_as_csv_and_excel(
    services: Services, door: TestDoor
) -> None:
    engagement_id = await answered(services, door)
    priya = await door.sign_in("Priya Shah")
    page = text_of(await priya.say(f"engagements answers {engagement_id}"))
    assert "Download (Excel)" in page and "Download (CSV)" in page

    await priya.say(f"engagements export {engagement_id} answers csv")
    offer = next(r for r in priya.last if isinstance(r, FileOffer))
    assert "engagement answers" in offer.title and "1 organisation sent" in offer.text
    taken = await priya.take_file()
    assert isinstance(taken, TakenFile), taken
    assert taken.filename.endswith(".csv") and f"-{engagement_id}-" in taken.filename
    (row,) = csv_rows(taken.data)
    assert row["Organisation"] == "Riverside Youth Trust"
    question = "What would make this work possible for an organisation like yours?"
    # A formula typed as an answer stays text in the file.
    assert row[question] == '\'=HYPERLINK("x") Longer agreements.'
    assert row["Ideas are commercially confidential"] == "No"

    await priya.say(f"engagements export {engagement_id}")
    taken = await priya.take_file()
    assert isinstance(taken, TakenFile) and taken.filename.endswith(".xlsx")
    _, header, rows = sheet_rows(taken.data)
    assert header[:2] == ["Organisation", "Answers sent (UK time)"]
    assert rows[0]["Organisation"] == "Riverside Youth Trust"
    assert rows[0]["How would you like to be paid?"] == "In arrears within 30 days"
    kinds = {e.details.get("kind") for e in await audit_events(services, "export.downloaded")}
    assert "engagement_answers" in kinds


async def test_only_the_team_of_the_council_running_it_may_export(
    services: Services, door: TestDoor
) -> None:
    engagement_id = await answered(services, door)
    tom = await door.sign_in("Tom Okafor")  # a provider who answered
    replies = await tom.say(f"engagements export {engagement_id} answers csv")
    assert not any(isinstance(r, FileOffer) for r in replies)
    assert "Only the commissioning team" in text_of(replies)
    await add_hilltop(services)
    yusuf = await door.sign_in("Yusuf Khan")  # another council's commissioner
    replies = await yusuf.say(f"engagements export {engagement_id} summary")
    assert not any(isinstance(r, FileOffer) for r in replies)


async def test_a_link_stops_working_for_someone_who_left_the_team(
    services: Services, door: TestDoor
) -> None:
    engagement_id = await answered(services, door)
    priya = await door.sign_in("Priya Shah")
    await priya.say(f"engagements export {engagement_id} answers csv")
    offer = next(r for r in priya.last if isinstance(r, FileOffer))
    async with services.db.session() as session:  # Priya leaves the commissioning team
        await session.execute(delete(Membership).where(Membership.person_id == priya.person_id))
    taken = await priya.take_file(offer)
    assert isinstance(taken, FileRefused), taken


async def test_the_summary_file_has_counts_and_keeps_feedback_suppressed(
    services: Services, door: TestDoor
) -> None:
    engagement_id = await answered(services, door)
    priya = await door.sign_in("Priya Shah")
    summary = text_of(await priya.say(f"engagements summary {engagement_id}"))
    assert "Download (CSV)" in summary
    await priya.say(f"engagements export {engagement_id} summary csv")
    taken = await priya.take_file()
    assert isinstance(taken, TakenFile), taken
    rows = csv_rows(taken.data)
    figures = {(r["Part"], r["What"]): r["Figure"] for r in rows}
    assert figures[("Who took part", "Organisations that sent answers")] == "1"
    feedback = [r["Figure"] for r in rows if r["Part"] == "Anonymous feedback"]
    assert feedback and "so we don't show it" in feedback[0]
    # Counts only: nobody's words are in the summary.
    assert "Longer agreements" not in taken.data.decode("utf-8-sig")
