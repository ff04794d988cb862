"""What the feedback steps share: the command, who looks after a feedback point and who may
see its feedback, refusals on the record, and the point's links.

Who looks after a point (creates it, closes it, hides an entry, posts "you said, we did"):
- a point for an agreement: the council's commissioning team for it, and the members of
  its provider parties;
- a point for an engagement: the commissioning team of the council running it;
- a point for a provider's own service: that organisation's members.

The provider whose service it is sees every entry first, as a prompt for a conversation.
The council's team sees an agreement's feedback as well, but it is beyond the service: it
gets the details only once at least `CONVENE_SUPPRESSION_MINIMUM` people have answered, so
nobody can be picked out of a handful.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reply import command_ref
from bot.core.turn import Door, Turn
from bot.services import Services
from handlers.steps import Refused, load_locked
from storage import audit
from storage.agreement_tables import Agreement
from storage.agreements import parties_of
from storage.engagement_tables import Engagement
from storage.feedback_tables import FeedbackPoint

COMMAND = "feedback"
NOT_FOUND = (
    "We couldn't find that feedback point. See the ones you can see: "
    f"{command_ref(COMMAND, 'your feedback points')}."
)

#: Said wherever feedback is shown or set up: what it is for, and what it is never for.
NEVER_FOR = (
    "Feedback is a prompt to talk about the service. It is never used to rate a member of "
    "staff, and never used in a contract's performance assessment."
)


def public_path(point: FeedbackPoint) -> str:
    return f"/f/{point.slug}"


def poster_path(point: FeedbackPoint) -> str:
    return f"/feedback/{point.id}/poster"


def base_of(turn: Turn, services: Services) -> str:
    """Web links: the same site on the web, the full address from chat."""
    return "" if turn.door == Door.WEB else services.settings.base_url


@dataclass(frozen=True)
class Standing:
    """How a person stands towards a point: whether they look after it, and whether they
    are the provider whose service it is (who sees everything first) or beyond it."""

    looks_after: bool
    is_provider: bool
    is_council: bool


async def standing(session: AsyncSession, turn: Turn, point: FeedbackPoint) -> Standing:
    assert turn.actor is not None
    actor = turn.actor
    mine = actor.member_of()
    council = point.authority_id is not None and point.authority_id in actor.commissioner_for()
    provider = False
    if point.organisation_id is not None:
        provider = point.organisation_id in mine
    elif point.agreement_id is not None:
        provider = any(
            party.organisation_id in mine
            for party, _ in await parties_of(session, point.agreement_id)
        )
    return Standing(looks_after=council or provider, is_provider=provider, is_council=council)


async def refuse(
    session: AsyncSession,
    turn: Turn,
    point: FeedbackPoint | None,
    attempted: str,
    reason: str,
    *,
    authority_id: int | None = None,
    **fields: object,
) -> None:
    """Keep a record of an attempt that was refused (nothing else changes). A point may
    have no council (a provider's own service), so it is named by id, not as the subject."""
    if point is not None:
        fields.setdefault("point", point.id)
        authority_id = point.authority_id
    await audit.record_refusal(
        session,
        turn,
        "feedback.refused",
        "feedback_point",
        None,
        attempted,
        reason,
        authority_id=authority_id,
        **fields,
    )


class NotYours(Refused):
    """The point is missing, or this person does not look after it (told "not found")."""


async def load_for_owner(
    session: AsyncSession,
    turn: Turn,
    point_id: int | None,
    attempted: str,
    *,
    lock: bool = False,
) -> tuple[FeedbackPoint, Standing]:
    """The point, for someone who looks after it. Anyone else is told it was not found (so
    they learn nothing of it), and the attempt is on the record."""
    if lock:
        point = await load_locked(session, FeedbackPoint, point_id)
    else:
        point = await session.get(FeedbackPoint, point_id) if point_id else None
    where = await standing(session, turn, point) if point is not None else None
    if point is None or where is None or not where.looks_after:
        await refuse(session, turn, point, attempted, "does not look after it", asked=point_id)
        raise NotYours(NOT_FOUND)
    return point, where


async def owner_label(session: AsyncSession, point: FeedbackPoint) -> str:
    """What the point is for, in words: "the agreement Meals at home", "your service"."""
    if point.agreement_id is not None:
        agreement = await session.get(Agreement, point.agreement_id)
        return f"the agreement {agreement.title}" if agreement else "an agreement"
    if point.engagement_id is not None:
        engagement = await session.get(Engagement, point.engagement_id)
        return f"the engagement {engagement.title}" if engagement else "an engagement"
    return "a service"
