"""Notifications: how often a person hears of new opportunities (as soon as one is posted,
once a week in one message, or never) and the hours Convene may message them.

`notifications` opens the form on any door. Home shows the current choice with a button
to change it, so it is one press away on Slack's App Home, Teams' `home` and the web.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.feature import Command, Feature, HomeSection, NavLink
from bot.core.reply import Button, Section
from bot.core.turn import Actor
from bot.services import Services
from handlers.forms import form_step
from handlers.notifications.choices import COMMAND, PREFERENCES, describe
from handlers.notifications.commissioner_digest import digest_day_sections
from handlers.notifications.door import ACTION as DOOR_ACTION
from handlers.notifications.door import choose_door_pressed, door_sections
from storage.notification_preferences import preferences_for


async def _home_sections(session: AsyncSession, actor: Actor, services: Services) -> list[Section]:
    """For people in a provider organisation: what they chose, and a button to change it."""
    if not actor.member_of():
        return []
    chosen = (await preferences_for(session, [actor.person_id]))[actor.person_id]
    return [
        Section(
            heading="How we tell you about new opportunities",
            text=describe(chosen, actor.timezone),
            buttons=[Button(label="Change", action=f"cmd.{COMMAND}")],
        )
    ]


FEATURE = Feature(
    name="notifications",
    nav=(NavLink("How we tell you", "notifications", order=95),),
    commands=(
        Command(
            COMMAND,
            "choose how often we tell you about new opportunities, and when we may message you",
            # The form opens with the person's current choices.
            form_step(PREFERENCES),
            opens_form=True,
            teams_scopes=frozenset({"personal"}),
        ),
    ),
    form_purposes=(PREFERENCES,),
    # Where notices go (web, email, Slack, Teams): its own small section, for everyone.
    actions={DOOR_ACTION: choose_door_pressed},
    home_sections=(
        HomeSection(order=90, sections=_home_sections),
        HomeSection(order=91, sections=door_sections),
        # Commissioners: the day of their weekly digest (a separate, small section).
        HomeSection(order=92, sections=digest_day_sections),
    ),
)
