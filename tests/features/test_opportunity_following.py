"""Following an opportunity: anyone signed in hears every change without saying their
organisation is interested; nobody else, not even the council's team, sees who follows."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEvent
from storage.opportunity_tables import OpportunityFollower
from tests.features.opportunity_story import (
    NOW,
    post,
    post_with_two_lots,
    refusals,
    state_of,
)
from tests.support.inprocess import Conversation, TestDoor, text_of


async def _published(door: TestDoor) -> tuple[Conversation, int]:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post_with_two_lots(priya)
    assert "Published" in text_of(await priya.say(f"opportunities publish {opportunity_id}"))
    return priya, opportunity_id


async def _amend(priya: Conversation, opportunity_id: int, what: str) -> None:
    await priya.fill(f"opportunities amend {opportunity_id}", {0: {"what_changed": what}})


def _changes(texts: list[str], what: str) -> list[str]:
    return [t for t in texts if what in t]


async def test_a_follower_hears_every_change_and_nobody_else_sees_who_follows(
    door: TestDoor,
) -> None:
    priya, opportunity_id = await _published(door)
    # Grace's kitchen does not fit (food is not one of its kinds of work), so she was not
    # told; she found it in the list and wants to keep up without saying she is interested.
    grace = await door.sign_in("Grace Lee")
    assert await grace.inbox() == []
    shown = await grace.say(f"opportunities show {opportunity_id}")
    assert "Follow for updates" in text_of(shown)
    followed = text_of(await grace.say(f"opportunities follow {opportunity_id}"))
    assert "You follow" in followed and "does not tell the council you are interested" in followed
    assert "Nobody else sees who follows" in followed
    # The team's view of interest does not count or name her.
    interest = text_of(await priya.say(f"opportunities interested {opportunity_id}"))
    assert "Grace" not in interest and "Eastgate" not in interest
    # A change reaches her, like everyone told.
    await _amend(priya, opportunity_id, "The second lot now covers Burnley too.")
    grace_texts = [q.text for q in await grace.inbox()]
    assert len(_changes(grace_texts, "Burnley too")) == 1
    # Following twice changes nothing.
    again = text_of(await grace.say(f"opportunities follow {opportunity_id}"))
    assert "You already follow" in again
    async with door.services.db.session() as session:
        rows = (await session.scalars(select(OpportunityFollower))).all()
    assert [(r.opportunity_id, r.person_id) for r in rows] == [(opportunity_id, grace.person_id)]
    # She stops; the next change does not reach her.
    stopped = text_of(await grace.say(f"opportunities unfollow {opportunity_id}"))
    assert "You no longer follow" in stopped
    await _amend(priya, opportunity_id, "A briefing on Zoom is added.")
    grace_texts = [q.text for q in await grace.inbox()]
    assert _changes(grace_texts, "briefing on Zoom") == []
    async with door.services.db.session() as session:
        actions = [
            e.action
            for e in (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
            if e.actor_id == grace.person_id
        ]
    assert actions == ["opportunity.followed", "opportunity.unfollowed"]


async def test_a_draft_cannot_be_followed_and_the_attempt_is_on_the_record(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    draft = await post(priya)
    grace = await door.sign_in("Grace Lee")
    before = await state_of(door.services)
    answer = text_of(await grace.say(f"opportunities follow {draft}"))
    assert "We couldn't find that opportunity" in answer
    assert await state_of(door.services) == before
    [refused] = await refusals(door.services, grace.person_id)
    assert refused.details["attempted"] == "follow"


async def test_a_withdrawn_opportunity_cannot_be_followed(door: TestDoor) -> None:
    priya, opportunity_id = await _published(door)
    await priya.fill(
        f"opportunities withdraw {opportunity_id}", {0: {"reason": "The money was cut."}}
    )
    grace = await door.sign_in("Grace Lee")
    answer = text_of(await grace.say(f"opportunities follow {opportunity_id}"))
    assert "is not open any more" in answer
    async with door.services.db.session() as session:
        assert (await session.scalars(select(OpportunityFollower))).all() == []
