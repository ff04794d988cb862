"""What every part of finding partners shares: refusals, who is acting (their seat), the
anonymous summary of a post, and telling organisations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import format_answer
from bot.core.reply import Button, Fact, Message, ReplyList, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.opportunities.common import COMMAND, NOT_FOUND, Refused, refuse, runs_it
from handlers.opportunities.views import areas_text
from storage.engagements import members_of
from storage.forms import latest_definition
from storage.models import Organisation
from storage.opportunities import matches
from storage.opportunity_tables import Opportunity, OpportunityState
from storage.outbox import send_to_people
from storage.partner_tables import (
    PartnerPost,
)
from storage.partners import (
    brokers_for,
)

ONLY_FITTING = (
    "Only providers this opportunity fits, and the local support organisation for its "
    "area, can see partner posts. Nothing was changed."
)
NO_SUCH_POST = (
    "We couldn't find that post, or it was taken down. Open the opportunity to see its "
    f"posts: {command_ref(COMMAND, 'the opportunities')}."
)
NO_SUCH_REQUEST = "We couldn't find that request to talk. Nothing was changed."


class NotForYou(Refused):
    """The opportunity is missing, or this person has no place among its partner posts."""


class NotOpen(Refused):
    """Posts are made, and talks asked for, only while the opportunity is open for bids."""


class AlreadyDone(Refused):
    level = "info"


def is_open(opportunity: Opportunity, services: Services) -> bool:
    deadline = opportunity.submission_deadline
    return (
        opportunity.state == OpportunityState.OPEN
        and deadline is not None
        and services.clock.now() < deadline
    )


def partnering(opportunity_id: int) -> Button:
    return Button(
        label="See partner posts", action=f"cmd.{COMMAND}", value=f"partnering {opportunity_id}"
    )


# --- who is acting -------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """How one person stands towards an opportunity's partner posts."""

    opportunity: Opportunity
    #: Their provider organisation that the opportunity fits (None: none fits).
    organisation: Organisation | None
    #: Their infrastructure organisations serving its places (they broker, and see names).
    brokers: list[Organisation]
    #: They are in the commissioning team of the council that posted it.
    team: bool


async def fitting_organisation(
    session: AsyncSession, turn: Turn, opportunity: Opportunity
) -> Organisation | None:
    """The first of this person's organisations the opportunity fits (as announcing does)."""
    assert turn.actor is not None
    for organisation_id in sorted(turn.actor.member_of()):
        if await matches(session, opportunity, {organisation_id}):
            return await session.get(Organisation, organisation_id)
    return None


async def seat_for(
    session: AsyncSession, turn: Turn, opportunity_id: int | None, attempted: str
) -> Seat:
    """Who this person is to the opportunity's posts. Anyone with no place is refused, on
    the record, with the same words whether or not the opportunity exists."""
    assert turn.actor is not None
    opportunity = await session.get(Opportunity, opportunity_id) if opportunity_id else None
    if opportunity is None or opportunity.state == OpportunityState.DRAFT:
        await refuse(session, turn, None, attempted, "not found")
        raise NotForYou(NOT_FOUND)
    team = runs_it(turn.actor, opportunity)
    organisation = await fitting_organisation(session, turn, opportunity)
    brokers = await brokers_for(session, opportunity, turn.actor.member_of())
    if not (team or organisation or brokers):
        await refuse(session, turn, opportunity, attempted, "no place among partner posts")
        raise NotForYou(ONLY_FITTING)
    return Seat(opportunity, organisation, brokers, team)


# --- the anonymous summary -------------------------------------------------------------------


async def organisation_summary(session: AsyncSession) -> Callable[[Organisation], list[Fact]]:
    """A function giving an organisation's size and kind in the profile's own words (never
    its name): what a provider may know of another before both say yes."""
    profile = await latest_definition(session, "organisation_profile")

    def words(organisation: Organisation) -> list[Fact]:
        facts = []
        for attribute, label in (("legal_form", "Kind"), ("income_band", "Size (yearly income)")):
            value = getattr(organisation, attribute)
            found = profile.field(attribute) if profile else None
            facts.append(
                Fact(
                    label=label,
                    value=format_answer(found, value) if found and value else "Not given",
                )
            )
        return facts

    return words


def post_facts(post: PartnerPost, opportunity: Opportunity, who: str = "They") -> list[Fact]:
    facts = [
        Fact(label=f"{who} bring", value=post.brings),
        Fact(label=f"{who} need", value=post.needs),
        Fact(label="Where", value=areas_text(list(post.area_served or opportunity.area_served))),
    ]
    if post.lot_number is not None:
        facts.append(Fact(label="Lot", value=str(post.lot_number)))
    return facts


def contact_facts(organisation: Organisation) -> list[Fact]:
    return [
        Fact(label="Organisation", value=organisation.name),
        Fact(label="Contact", value=organisation.contact_name or "Not given"),
        Fact(label="Email", value=organisation.contact_email or "Not given"),
        Fact(label="Phone", value=organisation.contact_phone or "Not given"),
    ]


async def tell_organisations(
    session: AsyncSession,
    organisation_ids: list[int],
    message: Message,
    key: str,
    services: Services,
) -> None:
    """One message to every member of these organisations, each on their own door."""
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    people = members_of(select(Organisation.id).where(Organisation.id.in_(organisation_ids)))
    await send_to_people(session, people, payload, key, not_before=services.clock.now())


def answer_buttons(introduction_id: int) -> list[Button]:
    """Yes or no to sharing names: the same two buttons wherever a request is answered."""
    return [
        Button(
            label="Yes, share our details",
            action=f"cmd.{COMMAND}",
            value=f"agree {introduction_id}",
            style="primary",
        ),
        Button(
            label="No, thank you",
            action=f"cmd.{COMMAND}",
            value=f"decline {introduction_id}",
        ),
    ]
