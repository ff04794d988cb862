"""A council's opportunities also go to the channels it chose (as its engagement
invitations do), at the same moment as to providers, and onto the record. An amendment
follows them there."""

from __future__ import annotations

from sqlalchemy import select

from bot.services import Services
from storage.opportunity_tables import OpportunityAnnouncement
from tests.features.opportunity_story import NOW, TITLE, post
from tests.integration.test_link_workspace import convene
from tests.support.inprocess import TestDoor, text_of


async def test_opportunities_are_posted_to_the_councils_channel(
    database_url: str, door: TestDoor, services: Services
) -> None:
    done = convene(
        database_url, "post-invitations-to", "riverside", "slack", "C0SECTOR",
        "--workspace", "T0COUNCIL", "--name", "#local-sector",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await post(priya)
    published = text_of(await priya.say(f"opportunities publish {n}"))
    assert "the same moment, and to 1 channel." in published, published
    await priya.fill(
        f"opportunities amend {n}",
        {0: {"what_changed": "A briefing on Zoom.", "submission_deadline": ""}},
    )
    channel_posts = await door.outbox(door=None)
    to_channel = [q for q in channel_posts if q.row.address == "C0SECTOR"]
    assert [(q.row.door, q.row.workspace_id) for q in to_channel] == [("slack", "T0COUNCIL")] * 2
    assert f"New opportunity: {TITLE}" in to_channel[0].text
    assert "A briefing on Zoom." in to_channel[1].text
    providers = [q for q in channel_posts if q.row.person_id is not None]
    assert {q.row.next_attempt_at for q in providers if "New opportunity" in q.text} == {
        to_channel[0].row.next_attempt_at
    }
    async with services.db.session() as session:
        on_record = (
            await session.scalars(
                select(OpportunityAnnouncement).where(OpportunityAnnouncement.person_id.is_(None))
            )
        ).all()
    assert sorted((a.kind, a.door) for a in on_record) == [
        ("amended", "slack"),
        ("published", "slack"),
    ]
    assert {a.outbox_key for a in on_record} == {q.row.idempotency_key for q in to_channel}
