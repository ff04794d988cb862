"""Anonymous feedback on an engagement and on the process of taking part.

The feedback row has no person, organisation, time or sequential id, and the draft the
person typed it into is deleted when they send it. What remains about the person is only
that they gave feedback (so they are not asked again), never what they said.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import FormDefinition
from bot.core.reply import Notice, Reply
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.common import number_at
from handlers.forms import FormPurpose, Subject, form_step
from storage.engagement_tables import Engagement, EngagementFeedback, FeedbackGiven
from storage.engagements import participant_organisations
from storage.models import FormResponse
from storage.visibility import Refusal


class GiveFeedback(FormPurpose):
    form_key = "engagement_feedback"
    command = "engagements"
    confirms_itself = True

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        assert turn.actor is not None
        engagement_id = number_at(turn, 1)
        engagement = await session.get(Engagement, engagement_id) if engagement_id else None
        if engagement is None or engagement.published_at is None:
            return Refusal("We couldn't find that engagement.")
        taking_part = set((await session.scalars(participant_organisations(engagement.id))).all())
        if not taking_part & turn.actor.member_of():
            return Refusal("Feedback is for organisations that took part in this engagement.")
        if await session.get(FeedbackGiven, (engagement.id, turn.actor.person_id)):
            return Refusal("You have already given feedback on this engagement. Thank you.")
        # The draft is the person's own (no organisation), and it is deleted when sent.
        return Subject(None, None, engagement_id=engagement.id, topic="feedback")

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and response.engagement_id is not None
        if await session.get(FeedbackGiven, (response.engagement_id, turn.actor.person_id)):
            await session.delete(response)
            return [Notice(text="You have already given feedback on this engagement. Thank you.")]
        answers = response.answers
        await store_shuffled(
            session,
            response.engagement_id,
            {
                "engagement_rating": _rating(answers.get("engagement_rating")),
                "engagement_comment": answers.get("engagement_comment"),
                "process_rating": _rating(answers.get("process_rating")),
                "process_comment": answers.get("process_comment"),
            },
        )
        session.add(
            FeedbackGiven(engagement_id=response.engagement_id, person_id=turn.actor.person_id)
        )
        await session.delete(response)
        return [
            Notice(
                text="Thank you. Your feedback is saved without your name, your organisation "
                "or the time. It can't be changed now, because we can't tell which is yours.",
                level="success",
            )
        ]


async def store_shuffled(session: AsyncSession, engagement_id: int, new: dict[str, object]) -> None:
    """Add one piece of feedback by rewriting the engagement's feedback in a random order.

    Rows are stored (and numbered, on SQLite) in the order they are written, and so are the
    "gave feedback" marks and audit events. Appending would let anyone with the database
    match the third comment to the third person. Writing every row again, shuffled, with
    new random ids, leaves no order to match.
    """
    rows: list[dict[str, object]] = [
        {
            "engagement_rating": row.engagement_rating,
            "engagement_comment": row.engagement_comment,
            "process_rating": row.process_rating,
            "process_comment": row.process_comment,
        }
        for row in (
            await session.scalars(
                select(EngagementFeedback).where(EngagementFeedback.engagement_id == engagement_id)
            )
        ).all()
    ]
    rows.append(new)
    secrets.SystemRandom().shuffle(rows)
    await session.execute(
        delete(EngagementFeedback).where(EngagementFeedback.engagement_id == engagement_id)
    )
    await session.execute(
        insert(EngagementFeedback),
        [{"id": secrets.token_hex(16), "engagement_id": engagement_id, **row} for row in rows],
    )


def _rating(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


FEEDBACK = GiveFeedback()


give_feedback = form_step(FEEDBACK)


async def feedback_summary(
    session: AsyncSession, engagement_id: int, minimum: int
) -> dict[str, object]:
    """Counts and averages, only when at least `minimum` people answered (else suppressed)."""
    rows = (
        await session.scalars(
            select(EngagementFeedback).where(EngagementFeedback.engagement_id == engagement_id)
        )
    ).all()
    if len(rows) < minimum:
        return {"responses": None, "suppressed": True, "minimum": minimum}

    def average(values: list[int | None]) -> float | None:
        given = [v for v in values if v is not None]
        return round(sum(given) / len(given), 1) if given else None

    return {
        "responses": len(rows),
        "suppressed": False,
        "minimum": minimum,
        "engagement_rating": average([r.engagement_rating for r in rows]),
        "process_rating": average([r.process_rating for r in rows]),
        "engagement_comments": sorted(c for r in rows if (c := r.engagement_comment)),
        "process_comments": sorted(c for r in rows if (c := r.process_comment)),
    }
