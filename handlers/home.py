"""Home: the person's open tasks (forms to finish, messages) in one place.

Home shows drafts and messages itself; every other section comes from the feature that
owns it (`Feature.home_sections`), so a new feature adds to Home without editing it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import as_utc, format_when
from bot.core.feature import Command, Feature
from bot.core.reply import Button, Message, Reply, Section
from bot.core.turn import Turn
from bot.services import Services
from handlers import features
from handlers.forms import purpose_for
from storage.forms import definition_at
from storage.models import FormResponse, InboxItem, ResponseState


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
            now = services.clock.now()
            for draft in drafts:
                if not has_an_answer(draft):
                    # Opened and never answered: nothing to finish. Opening the form again
                    # resumes it; one nobody came back to for a while is tidied away.
                    if draft.respondent_id == actor.person_id and (
                        as_utc(draft.updated_at) < now - UNANSWERED_DRAFTS_KEPT
                    ):
                        await session.delete(draft)
                    continue
                sections.append(
                    Section(
                        heading="Form to finish",
                        text=f"{await _form_title(session, draft)}, last saved "
                        f"{format_when(draft.updated_at, actor.timezone)}.",
                        buttons=_carry_on(draft),
                    )
                )
        for declared in features().home_sections():
            sections.extend(await declared.sections(session, actor, services))
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


#: How long a draft opened and never answered is kept, so opening it again soon resumes it.
UNANSWERED_DRAFTS_KEPT = timedelta(days=7)


def has_an_answer(draft: FormResponse) -> bool:
    """Whether the draft holds at least one answer (not only blanks from opening it)."""
    return any(value not in (None, "", [], {}) for value in (draft.answers or {}).values())


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


FEATURE = Feature(
    name="home",
    commands=(Command("home", "what needs doing", show_home),),
)
