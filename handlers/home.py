"""Home: the person's open tasks (forms to finish, messages) in one place."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.reply import Button, Message, Reply, Section
from bot.core.turn import Actor, Turn
from bot.services import Services
from handlers.forms import purpose_for
from storage.engagement_tables import EngagementState
from storage.engagements import (
    engagements_of,
    open_engagements,
    taking_part_in,
    waiting_questions,
)
from storage.forms import definition_at
from storage.models import FormResponse, InboxItem, Organisation, ResponseState


async def show_home(turn: Turn, services: Services) -> list[Reply]:
    assert turn.actor is not None
    actor = turn.actor
    sections: list[Section] = []
    async with services.db.session() as session:
        member_of = actor.member_of()
        if member_of:
            drafts = (
                await session.scalars(
                    select(FormResponse).where(
                        FormResponse.organisation_id.in_(member_of),
                        FormResponse.state == ResponseState.DRAFT,
                    )
                )
            ).all()
            for draft in drafts:
                sections.append(
                    Section(
                        heading="Form to finish",
                        text=f"{await _form_title(session, draft)}, last saved "
                        f"{format_when(draft.updated_at, actor.timezone)}.",
                        buttons=_carry_on(draft),
                    )
                )
            names = (
                await session.scalars(
                    select(Organisation.name).where(Organisation.id.in_(member_of))
                )
            ).all()
            sections.append(
                Section(
                    heading="Your organisation",
                    text=", ".join(names),
                    buttons=[Button(label="See or change your profile", action="cmd.profile")],
                )
            )
        sections.extend(await _engagement_sections(session, actor, services.clock.now()))
        if actor.is_commissioner:
            sections.append(
                Section(
                    heading="Providers",
                    text="Browse and filter local voluntary and community organisations.",
                    buttons=[Button(label="Open the directory", action="cmd.directory")],
                )
            )
        unread = await session.scalar(
            select(func.count())
            .select_from(InboxItem)
            .where(InboxItem.person_id == actor.person_id, InboxItem.read_at.is_(None))
        )
    if unread:
        sections.insert(
            0,
            Section(
                heading="Messages",
                text=f"You have {unread} new message{'s' if unread != 1 else ''}.",
            ),
        )
    if not sections:
        sections.append(Section(text="Nothing needs doing right now."))
    return [Message(title=f"Hello {actor.first_name}", sections=sections)]


def _carry_on(draft: FormResponse) -> list[Button]:
    """The button that reopens a draft: the command of whatever feature owns the form."""
    purpose = purpose_for(draft.form_key)
    if purpose is None:
        return []
    return [
        Button(
            label="Carry on",
            action=f"cmd.{purpose.command}",
            value=purpose.resume(draft),
            style="primary",
        )
    ]


async def _form_title(session: AsyncSession, draft: FormResponse) -> str:
    definition = await definition_at(session, draft.form_key, draft.form_version)
    return definition.title if definition else draft.form_key.replace("_", " ").capitalize()


async def _engagement_sections(session: AsyncSession, actor: Actor, now: datetime) -> list[Section]:
    """Open engagements: the team's own (with questions waiting), and the ones a provider
    takes part in, with their closing dates."""
    sections: list[Section] = []
    if actor.is_commissioner:
        for engagement in await engagements_of(session, actor.commissioner_for()):
            if engagement.state == EngagementState.CLOSED:
                continue
            waiting = len(await waiting_questions(session, engagement.id))
            text = (
                "Draft, not published yet."
                if engagement.state == EngagementState.DRAFT
                else f"Open until {format_when(engagement.closes_at, actor.timezone)}."
                + (
                    f" {waiting} question{'s' if waiting != 1 else ''} to answer."
                    if waiting
                    else ""
                )
            )
            sections.append(
                Section(
                    heading=f"Engagement: {engagement.title}",
                    text=text,
                    buttons=[
                        Button(
                            label="Open", action="cmd.engagements", value=f"show {engagement.id}"
                        )
                    ],
                )
            )
    joined = await taking_part_in(session, actor.member_of())
    for engagement in await open_engagements(session):
        if engagement.id in joined and engagement.closes_at > now:
            sections.append(
                Section(
                    heading=f"Engagement: {engagement.title}",
                    text=f"You are taking part. It closes "
                    f"{format_when(engagement.closes_at, actor.timezone)}.",
                    buttons=[
                        Button(
                            label="See it", action="cmd.engagements", value=f"show {engagement.id}"
                        )
                    ],
                )
            )
    return sections
