"""Changing a published opportunity: each amendment, and a withdrawal, goes to everyone told
and everyone interested at the same moment, and is on the record."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.forms import FormDefinition
from bot.core.reply import Button, Message, Notice, Reply, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.forms import Subject, form_step, form_view
from handlers.opportunities.announce import Told, tell_everyone
from handlers.opportunities.closing import schedule_closing
from handlers.opportunities.common import (
    COMMAND,
    Refused,
    authority_name,
    load_for_team,
    moment,
    number_at,
    refuse,
)
from handlers.opportunities.guardrails import tender_period_checks
from handlers.opportunities.reminders import (
    cancel_deadline_reminders,
    schedule_deadline_reminders,
)
from handlers.opportunities.setup import (
    TeamForm,
    back_to_draft,
    opportunity_of,
    opportunity_topic,
    which_one,
)
from handlers.opportunities.views import WHO_SEES, guardrail_text, waiting_words
from storage import audit
from storage.models import FormResponse
from storage.opportunity_tables import (
    AnnouncementKind,
    Opportunity,
    OpportunityAmendment,
    OpportunityState,
)
from storage.visibility import Refusal


class _ChangeForm(TeamForm):
    """A change to an open opportunity, by its own team."""

    attempted = ""

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        if number_at(turn, 1) is None:
            return Refusal(which_one(self.attempted))
        try:
            opportunity = await load_for_team(session, turn, number_at(turn, 1), self.attempted)
        except Refused as refused:
            return Refusal(refused.message)
        if opportunity.state != OpportunityState.OPEN:
            return Refusal(
                f"{opportunity.title} is not open, so it can't be changed now. "
                + (
                    f"It is still a draft: {command_ref(f'{COMMAND} edit {opportunity.id}', 'the draft')}."
                    if opportunity.state == OpportunityState.DRAFT
                    else ""
                )
            )
        return Subject(
            None,
            opportunity.authority_id,
            topic=f"{opportunity_topic(opportunity.id)}:{self.attempted}",
        )

    async def open_one(
        self, session: AsyncSession, turn: Turn, response: FormResponse
    ) -> Opportunity | list[Reply]:
        """The opportunity, locked, and still open (else a refusal, audited)."""
        opportunity = await load_for_team(
            session, turn, opportunity_of(response), self.attempted, lock=True
        )
        if opportunity.state != OpportunityState.OPEN:
            await refuse(session, turn, opportunity, self.attempted, "not open")
            return [
                Notice(
                    text=f"{opportunity.title} is no longer open, so nothing was sent.",
                    level="warning",
                )
            ]
        return opportunity


class AmendmentForm(_ChangeForm):
    form_key = "opportunity_amendment"
    attempted = "amend"

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None
        opened = await self.open_one(session, turn, response)
        if isinstance(opened, list):
            return opened
        opportunity = opened
        now = services.clock.now()
        answers: dict[str, Any] = response.answers
        old = opportunity.submission_deadline
        new = (
            moment(answers["submission_deadline"], services.tz)
            if answers.get("submission_deadline")
            else None
        )
        problem = _deadline_problem(opportunity, new, now, services.tz)
        if problem is None and new is not None and opportunity.published_at is not None:
            # Counted from publishing: a deadline brought forward must still keep the law.
            too_short, _ = tender_period_checks(
                opportunity, opportunity.published_at, services.tz, deadline=new
            )
            if too_short:
                problem = guardrail_text(too_short[0]) + " Nothing was sent."
        if problem:
            await refuse(session, turn, opportunity, "amend", problem)
            back_to_draft(response)
            return [form_view(definition, response, 0, errors={"submission_deadline": problem})]
        amendment = OpportunityAmendment(
            opportunity_id=opportunity.id,
            what_changed=answers["what_changed"],
            old_deadline=old if new is not None else None,
            new_deadline=new,
            made_by=turn.actor.person_id,
            made_at=now,
        )
        session.add(amendment)
        if new is not None:
            opportunity.submission_deadline = new
            await schedule_closing(session, opportunity)
            await schedule_deadline_reminders(session, opportunity, now, services.tz)
        opportunity.updated_at = now
        await session.flush()
        council = await authority_name(session, opportunity)
        text = amendment.what_changed
        if new is not None and old is not None and new != old:
            text = (
                f"The deadline for bids has changed. It was {format_when(old, services.tz)}. "
                f"It is now {format_when(new, services.tz)}.\n\n{text}"
            )
        message = Message(
            title=f"A change to {opportunity.title}, from {council}",
            text=text,
            buttons=[
                Button(
                    label="Full details", action=f"cmd.{COMMAND}", value=f"show {opportunity.id}"
                )
            ],
            who_sees=WHO_SEES,
        )
        told = await tell_everyone(
            session,
            opportunity,
            message,
            AnnouncementKind.AMENDED,
            str(amendment.id),
            now,
            services.tz,
        )
        await audit.record_turn(
            session,
            turn,
            "opportunity.amended",
            object_type="opportunity",
            object_id=opportunity.id,
            authority_id=opportunity.authority_id,
            amendment_id=amendment.id,
            people_told=told.people,
        )
        return _sent(told, "This change")


def _deadline_problem(
    opportunity: Opportunity, new: datetime | None, now: datetime, tz: ZoneInfo
) -> str | None:
    if new is None:
        return None
    if new <= now:
        return "The new deadline has passed already. Choose a later day. Nothing was sent."
    questions = opportunity.clarification_deadline
    if questions is not None and new <= questions:
        return (
            f"The new deadline must be after the last day for questions "
            f"({format_when(questions, tz)}). Nothing was sent."
        )
    return None


def _sent(told: Told, what: str) -> list[Reply]:
    return [
        Notice(
            text=f"{what} is on its way to {told.people} "
            f"{'person' if told.people == 1 else 'people'}"
            + ("" if told.in_the_morning else ", all at the same moment,")
            + " and is on the record."
            + waiting_words(told),
            level="success",
        )
    ]


class WithdrawalForm(_ChangeForm):
    form_key = "opportunity_withdrawal"
    attempted = "withdraw"

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        opened = await self.open_one(session, turn, response)
        if isinstance(opened, list):
            return opened
        opportunity = opened
        now = services.clock.now()
        reason = response.answers["reason"]
        opportunity.state = OpportunityState.WITHDRAWN
        opportunity.withdrawn_at = now
        opportunity.withdrawal_reason = reason
        await cancel_deadline_reminders(session, opportunity)
        council = await authority_name(session, opportunity)
        message = Message(
            title=f"{opportunity.title} has been withdrawn by {council}",
            text=f"You can't bid for it now. The council's reason: {reason}",
            who_sees=WHO_SEES,
        )
        told = await tell_everyone(
            session, opportunity, message, AnnouncementKind.WITHDRAWN, "1", now, services.tz
        )
        await audit.record_turn(
            session,
            turn,
            "opportunity.withdrawn",
            object_type="opportunity",
            object_id=opportunity.id,
            authority_id=opportunity.authority_id,
            reason=reason,
            people_told=told.people,
        )
        return _sent(told, "The news that it is withdrawn")


AMEND = AmendmentForm()
WITHDRAW = WithdrawalForm()


amend = form_step(AMEND)


withdraw = form_step(WITHDRAW)
