"""Home: the person's open tasks (forms to finish, messages) in one place."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.clock import format_when
from bot.core.reply import Button, Message, Reply, Section
from bot.core.turn import Turn
from bot.services import Services
from handlers.forms import purpose_for
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
                        text=f"{draft.form_key.replace('_', ' ').capitalize()}, last saved "
                        f"{format_when(draft.updated_at, actor.timezone)}.",
                        buttons=_carry_on(draft.form_key),
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


def _carry_on(form_key: str) -> list[Button]:
    """The button that reopens a draft: the command of whatever feature owns the form."""
    purpose = purpose_for(form_key)
    if purpose is None:
        return []
    return [Button(label="Carry on", action=f"cmd.{purpose.command}", style="primary")]
