"""Following an opportunity (`follow N`, `unfollow N`): anyone signed in can hear every
change and answered question about an open opportunity without their organisation saying
it is interested. A provider the opportunity does not fit, a CVS helping local groups, or
someone still deciding can keep up. Nobody else is told who follows, not even the
council's team: following is not interest, and never a shortlist.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reply import Button, Notice, Reply
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.common import load_locked
from handlers.opportunities.common import COMMAND, NOT_FOUND, Refused, deadline_text, refuse
from storage import audit
from storage.opportunity_tables import Opportunity, OpportunityFollower, OpportunityState

#: Said under every reply about following.
WHO_SEES = "Nobody else sees who follows an opportunity, not even the council's team."


class NotFollowable(Refused):
    """The opportunity is missing, a draft, or no longer open."""


@dataclass(frozen=True)
class Following:
    """The outcome of `follow` or `unfollow`: whether they follow now, and whether that
    was already so (nothing changed)."""

    opportunity: Opportunity
    following: bool
    already: bool = False


async def set_following(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    opportunity_id: int | None,
    follow: bool,
) -> Following:
    """Follow an open opportunity, or stop. Twice changes nothing. Raises `NotFollowable`
    (audited) for a draft, a missing one, or one that is closed or withdrawn."""
    assert turn.actor is not None
    attempted = "follow" if follow else "unfollow"
    opportunity = await load_locked(session, Opportunity, opportunity_id)
    if opportunity is None or opportunity.state == OpportunityState.DRAFT:
        await refuse(session, turn, None, attempted, "not found")
        raise NotFollowable(NOT_FOUND)
    person_id = turn.actor.person_id
    row = await session.get(OpportunityFollower, (opportunity.id, person_id))
    if not follow:
        if row is None:
            return Following(opportunity, following=False, already=True)
        await session.delete(row)
    else:
        if opportunity.state != OpportunityState.OPEN:
            await refuse(session, turn, opportunity, attempted, "not open")
            raise NotFollowable(
                f"{opportunity.title} is not open any more, so there is nothing to follow."
            )
        if row is not None:
            return Following(opportunity, following=True, already=True)
        session.add(
            OpportunityFollower(
                opportunity_id=opportunity.id,
                person_id=person_id,
                followed_at=services.clock.now(),
            )
        )
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        f"opportunity.{attempted}ed",
        object_type="opportunity",
        object_id=opportunity.id,
        authority_id=opportunity.authority_id,
    )
    return Following(opportunity, following=follow)


def following_replies(result: Following, turn: Turn) -> list[Reply]:
    assert turn.actor is not None
    o = result.opportunity
    if result.following:
        text = (
            f"You already follow {o.title}."
            if result.already
            else f"Done. You follow {o.title}. We will tell you about every change and every "
            "answered question, until it closes."
        )
        text += (
            f" The deadline for bids is {deadline_text(o, turn.actor.timezone)}. Following "
            'does not tell the council you are interested: press "We\'re interested" for '
            f"that. {WHO_SEES}"
        )
        button = Button(label="Stop following", action=f"cmd.{COMMAND}", value=f"unfollow {o.id}")
    else:
        text = (
            f"You were not following {o.title}, so nothing changed."
            if result.already
            else f"Done. You no longer follow {o.title}. We will not tell you about changes, "
            "unless your organisation said it is interested."
        )
        button = Button(label="Follow it again", action=f"cmd.{COMMAND}", value=f"follow {o.id}")
    return [
        Notice(
            text=text,
            level="info" if result.already else "success",
            buttons=[
                button,
                Button(label="Full details", action=f"cmd.{COMMAND}", value=f"show {o.id}"),
            ],
        )
    ]


async def _following(
    turn: Turn, services: Services, opportunity_id: int | None, follow: bool
) -> list[Reply]:
    async with services.db.session() as session:
        try:
            result = await set_following(session, turn, services, opportunity_id, follow)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    return following_replies(result, turn)


async def follow(turn: Turn, services: Services, opportunity_id: int | None) -> list[Reply]:
    """`opportunities follow 4`."""
    return await _following(turn, services, opportunity_id, True)


async def unfollow(turn: Turn, services: Services, opportunity_id: int | None) -> list[Reply]:
    """`opportunities unfollow 4`."""
    return await _following(turn, services, opportunity_id, False)


async def is_following(session: AsyncSession, opportunity_id: int, person_id: int) -> bool:
    return await session.get(OpportunityFollower, (opportunity_id, person_id)) is not None
