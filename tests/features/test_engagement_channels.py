"""A council's open invitations also go to the channels it chose, and onto the record.

The channel is chosen with the real command line; publishing happens in-process, on the
test door, with the turn the web door's confirm button sends.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.services import Services
from storage.engagement_tables import AuthorityChannel, EngagementInvitation
from storage.models import OutboxMessage
from tests.integration.test_link_workspace import convene
from tests.support.engagements import draft_engagement
from tests.support.inprocess import TestDoor, text_of


async def test_invitations_are_posted_to_the_councils_channel(
    database_url: str, door: TestDoor, services: Services
) -> None:
    done = convene(
        database_url,
        "post-invitations-to",
        "riverside",
        "slack",
        "C0SECTOR",
        "--workspace",
        "T0COUNCIL",
        "--name",
        "#local-sector",
    )
    assert done.returncode == 0, done.stderr
    assert "#local-sector" in done.stdout
    refused = convene(database_url, "post-invitations-to", "nowhere", "slack", "C1")
    assert refused.returncode != 0 and "No authority called 'nowhere'" in refused.stderr

    engagement = await draft_engagement(
        services,
        title="Food support this winter",
        purpose="Warm spaces and food.",
        service_area="food",
    )
    priya = await door.sign_in("Priya Shah")
    replies = await priya.say(f"engagements publish {engagement.id}")
    assert "Published" in text_of(replies), text_of(replies)
    async with services.db.session() as session:
        channel = await session.scalar(select(AuthorityChannel))
        assert channel is not None
        posted = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.idempotency_key == f"engagement:{engagement.id}:channel:{channel.id}"
            )
        )
        assert posted is not None
        assert (posted.door, posted.address, posted.workspace_id) == (
            "slack",
            "C0SECTOR",
            "T0COUNCIL",
        )
        on_record = await session.scalar(
            select(EngagementInvitation).where(
                EngagementInvitation.outbox_key == posted.idempotency_key
            )
        )
        assert on_record is not None and on_record.person_id is None
        # Eastgate Community Kitchen works on food: it was invited too, at the same moment.
        people = (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.idempotency_key.like(f"engagement:{engagement.id}:invite:%")
                )
            )
        ).all()
        assert len(people) == 1
        assert people[0].next_attempt_at == posted.next_attempt_at
        assert people[0].payload == posted.payload
