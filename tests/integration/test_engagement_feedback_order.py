"""Feedback leaves no order to match against who gave it: every new piece rewrites the
engagement's feedback, shuffled, with new random ids."""

from __future__ import annotations

from sqlalchemy import select

from bot.services import Services
from handlers.engagements.feedback import store_shuffled
from storage.engagement_tables import EngagementFeedback
from tests.support.engagements import draft_engagement


async def test_each_new_piece_rewrites_all_of_it_with_new_ids(services: Services) -> None:
    engagement = await draft_engagement(services)
    seen_ids: set[str] = set()
    for n in range(1, 6):
        async with services.db.session() as session:
            await store_shuffled(
                session,
                engagement.id,
                {"engagement_rating": n, "engagement_comment": f"comment {n}"},
            )
        async with services.db.session() as session:
            rows = (
                await session.scalars(
                    select(EngagementFeedback).where(
                        EngagementFeedback.engagement_id == engagement.id
                    )
                )
            ).all()
        ids = {row.id for row in rows}
        assert len(rows) == n
        assert not ids & seen_ids, "every row was written again with a new id"
        seen_ids |= ids
        assert sorted(r.engagement_comment or "" for r in rows) == [
            f"comment {i}" for i in range(1, n + 1)
        ]
