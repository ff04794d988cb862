"""`engagements answers N`: what each organisation told the commissioning team.

For the team of the council running the engagement only. Ideas a provider marked
commercially confidential are flagged on every one, so nobody passes them on by mistake.
Organisations are listed by name, never in any order that could read as a ranking.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.clock import format_when
from bot.core.forms import format_answer
from bot.core.reply import Fact, Message, Reply, Section
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.common import team_engagement
from storage.engagement_tables import Engagement
from storage.forms import definition_at
from storage.models import FormResponse, Organisation, ResponseState

CONFIDENTIAL = "Commercially confidential: do not share outside your team."


async def show_answers(turn: Turn, services: Services, engagement_id: int | None) -> list[Reply]:
    assert turn.actor is not None
    async with services.db.session() as session:
        engagement = await team_engagement(
            session,
            turn,
            engagement_id,
            "answers",
            "Only the commissioning team of the council running it can read the answers.",
        )
        if not isinstance(engagement, Engagement):
            return engagement
        responses = (
            await session.execute(
                select(FormResponse, Organisation.name)
                .join(Organisation, Organisation.id == FormResponse.organisation_id)
                .where(
                    FormResponse.engagement_id == engagement.id,
                    FormResponse.form_key == engagement.form_key,
                    FormResponse.state == ResponseState.SUBMITTED,
                )
                .order_by(Organisation.name, FormResponse.submitted_at)
            )
        ).all()
        latest: dict[str, FormResponse] = {}
        for response, name in responses:
            latest[name] = response  # the newest answers each organisation sent
        definition = (
            await definition_at(session, engagement.form_key, 1) if engagement.form_key else None
        )
    sections: list[Section] = []
    for name, response in latest.items():
        confidential = response.answers.get("ideas_confidential") is True
        facts = [
            Fact(label=field.label, value=format_answer(field, response.answers.get(field.id)))
            for field in (definition.all_fields() if definition else [])
            if field.id != "ideas_confidential"
        ]
        sent = (
            format_when(response.submitted_at, turn.actor.timezone) if response.submitted_at else ""
        )
        sections.append(
            Section(
                heading=name,
                text=f"Sent {sent}." + (f"\n{CONFIDENTIAL}" if confidential else ""),
                facts=facts,
            )
        )
    return [
        Message(
            title=f"Answers: {engagement.title}",
            text=None if latest else "No organisation has sent answers yet.",
            sections=sections[:40],
            who_sees="Only your commissioning team sees these, and your internal auditors may "
            "check them. Your council promised providers not to use them to score bids.",
        )
    ]
