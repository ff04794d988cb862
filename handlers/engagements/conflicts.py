"""Conflicts of interest (Procurement Act 2023 ss.81-83): everyone on the commissioning team
declares, for each engagement, either that they have none or what theirs is and how it is
managed. The team sees who has and has not declared, and what each said; the record and
anyone outside the team learn only that declarations were made. People who have not
declared are reminded while the engagement is still a draft, before it opens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.forms import FormDefinition
from bot.core.reply import Button, Fact, Message, Notice, Reply, ReplyList, Section, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.common import (
    ONLY_THE_TEAM,
    TeamForm,
    number_at,
    submitted_engagement,
    team_engagement,
)
from handlers.forms import Subject, form_step
from storage import audit
from storage.engagement_tables import ConflictDeclaration, Engagement, EngagementState
from storage.engagements import commissioning_team, conflict_declarations, not_yet_declared
from storage.models import FormResponse, Reminder
from storage.outbox import send_to_people
from storage.reminders import schedule_reminder
from storage.visibility import Refusal, can_see_conflict_declarations

REMINDER_KIND = "engagement.declare_conflicts"
#: The declaration's choice that needs details (what it is, how it is managed).
CONFLICT = "conflict"


class DeclareConflicts(TeamForm):
    """One team member's declaration for one engagement; sending it again replaces it."""

    form_key = "conflict_declaration"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        engagement = await self.own_engagement(
            session,
            turn,
            number_at(turn, 1),
            "declare",
            "Only the commissioning team of the council running it declares conflicts for it.",
        )
        if isinstance(engagement, Refusal):
            return engagement
        return Subject(None, engagement.authority_id, engagement_id=engagement.id, topic="conflict")

    def cross_check(self, answers: dict[str, Any]) -> dict[str, str]:
        """A declared conflict must say what it is and how it is managed."""
        if answers.get("declaration") != CONFLICT:
            return {}
        problems: dict[str, str] = {}
        if not (answers.get("what") or "").strip():
            problems["what"] = "You said you have a conflict. Please say what it is."
        if not (answers.get("how_managed") or "").strip():
            problems["how_managed"] = "Please say how the conflict is being managed."
        return problems

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and turn.actor.person_id is not None
        engagement = await submitted_engagement(session, response)
        now = services.clock.now()
        answers = response.answers
        has_conflict = answers.get("declaration") == CONFLICT
        declared = (await conflict_declarations(session, engagement.id)).get(turn.actor.person_id)
        if declared is None:
            declared = ConflictDeclaration(
                engagement_id=engagement.id, person_id=turn.actor.person_id
            )
            session.add(declared)
        declared.has_conflict = has_conflict
        declared.what = answers.get("what") if has_conflict else None
        declared.how_managed = answers.get("how_managed") if has_conflict else None
        declared.declared_at = now
        await session.flush()
        # On the record that a declaration was made; what it says stays in its own row.
        await audit.record_turn(
            session,
            turn,
            "conflict.declared",
            object_type="engagement",
            object_id=engagement.id,
            authority_id=engagement.authority_id,
            at=now,
        )
        return [
            Notice(
                text=f"Thank you. Your declaration for {engagement.title} was saved on "
                f"{format_when(now, turn.actor.timezone)}. Only your commissioning team sees "
                "what you declared; the record shows only that you declared. If anything "
                f"changes, "
                + command_ref(
                    f"engagements declare {engagement.id}",
                    f"your declaration for engagement {engagement.id}",
                )
                + ".",
                level="success",
            )
        ]


DECLARE = DeclareConflicts()


declare = form_step(DECLARE)


async def show_declarations(
    turn: Turn, services: Services, engagement_id: int | None
) -> list[Reply]:
    """For the team: who has declared (and what), and who has not yet."""
    assert turn.actor is not None
    async with services.db.session() as session:
        engagement = await team_engagement(
            session,
            turn,
            engagement_id,
            "see declarations",
            "Only the commissioning team of the council running it can see its declarations.",
        )
        if not isinstance(engagement, Engagement):
            return engagement
        if not can_see_conflict_declarations(turn.actor, engagement):
            return [Notice(text=ONLY_THE_TEAM, level="warning")]
        declared = await conflict_declarations(session, engagement.id)
        team = await commissioning_team(session, engagement.authority_id)
    facts = [Fact(label=person.name, value=_said(declared.get(person.id))) for person in team]
    waiting = sum(1 for person in team if person.id not in declared)
    return [
        Message(
            title=f"Conflicts of interest: {engagement.title}",
            text=(
                "Everyone on your team has declared."
                if not waiting
                else f"{waiting} of {len(team)} people on your team have not declared yet."
            ),
            sections=[Section(facts=facts)],
            buttons=[
                Button(
                    label="Make or change your declaration",
                    action="cmd.engagements",
                    value=f"declare {engagement.id}",
                    style="primary",
                )
            ],
            who_sees="Only your commissioning team sees what people declared. The record "
            "shows only that declarations were made.",
        )
    ]


def _said(declaration: ConflictDeclaration | None) -> str:
    if declaration is None:
        return "Not declared yet"
    if not declaration.has_conflict:
        return "No conflict of interest"
    return f"Declared a conflict: {declaration.what}. How it is managed: {declaration.how_managed}"


async def declaration_facts(session: AsyncSession, engagement: Engagement) -> dict[str, Any]:
    """For the record: that declarations were made, and by how many, never what they say."""
    declared = await conflict_declarations(session, engagement.id)
    team = await commissioning_team(session, engagement.authority_id)
    return {
        "team_members": len(team),
        "declared": sum(1 for person in team if person.id in declared),
        "not_declared": [person.name for person in team if person.id not in declared],
    }


async def remind_to_declare(session: AsyncSession, engagement: Engagement, now: datetime) -> None:
    """Ask for declarations once the draft exists, through the due sweep (soon after)."""
    await schedule_reminder(
        session,
        kind=REMINDER_KIND,
        due_at=now,
        target_type="engagement",
        target_id=engagement.id,
    )


async def remind_undeclared(reminder: Reminder, services: Services) -> None:
    """While it is still a draft, ask each team member who has not declared to do so."""
    async with services.db.session() as session:
        engagement = await session.get(Engagement, int(reminder.target_id))
        if engagement is None or engagement.state != EngagementState.DRAFT:
            return
        waiting = [person.id for person in await not_yet_declared(session, engagement)]
        if not waiting:
            return
        message = Message(
            title=f"Please declare any conflict of interest: {engagement.title}",
            text="Before this engagement opens, everyone working on it for the council says "
            "whether they have a conflict of interest (Procurement Act 2023, sections 81 to "
            "83). It takes a minute.",
            buttons=[
                Button(
                    label="Declare",
                    action="cmd.engagements",
                    value=f"declare {engagement.id}",
                    style="primary",
                )
            ],
            who_sees="Only your commissioning team sees what you declare.",
        )
        await send_to_people(
            session,
            waiting,
            ReplyList(replies=[message]).model_dump(mode="json"),
            f"conflicts:{engagement.id}:{reminder.id}:{{person_id}}",
        )
