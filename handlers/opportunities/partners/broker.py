"""The local CVS suggests two posts talk (`introduce P Q`); both must still say yes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reply import Message, Notice, Reply, Section, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.common import load_locked
from handlers.opportunities.common import COMMAND, Refused, number_at, refuse
from handlers.opportunities.partners.common import (
    AlreadyDone,
    NotForYou,
    NotOpen,
    answer_buttons,
    is_open,
    organisation_summary,
    post_facts,
    tell_organisations,
)
from storage import audit
from storage.models import Organisation
from storage.opportunity_tables import Opportunity
from storage.partner_tables import (
    IntroductionState,
    PartnerIntroduction,
    PartnerPost,
    PostState,
)
from storage.partners import (
    brokers_for,
    introduction_between,
    pair,
)

# --- the CVS brokers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggested:
    introduction: PartnerIntroduction
    opportunity: Opportunity
    names: tuple[str, str]


async def suggest_introduction(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    first_post_id: int | None,
    second_post_id: int | None,
) -> Suggested:
    """A CVS serving the opportunity's places suggests two posters talk. Neither learns the
    other's name until both say yes."""
    assert turn.actor is not None
    posts = [
        await session.get(PartnerPost, p) if p is not None else None
        for p in (first_post_id, second_post_id)
    ]
    a, b = posts
    opportunity = (
        await load_locked(session, Opportunity, a.opportunity_id) if a is not None else None
    )
    brokers = await brokers_for(session, opportunity, turn.actor.member_of()) if opportunity else []
    if opportunity is None or not brokers:
        await refuse(session, turn, opportunity, "introduce", "not a local broker")
        raise NotForYou(
            "Only the local support organisation for this opportunity's area can suggest "
            "introductions."
        )
    if (
        a is None
        or b is None
        or a.state != PostState.OPEN
        or b.state != PostState.OPEN
        or a.opportunity_id != b.opportunity_id
        or a.organisation_id == b.organisation_id
    ):
        await refuse(session, turn, opportunity, "introduce", "posts do not pair")
        raise NotForYou(
            "Those two posts can't be introduced: each must be an open post from a different "
            f"provider, for the same opportunity. See them: "
            f"{command_ref(f'{COMMAND} partnering {opportunity.id}', 'the partner posts')}."
        )
    if not is_open(opportunity, services):
        await refuse(session, turn, opportunity, "introduce", "not open")
        raise NotOpen(f"{opportunity.title} is not open for bids now, so nothing was sent.")
    if await introduction_between(session, opportunity.id, a.organisation_id, b.organisation_id):
        await refuse(session, turn, opportunity, "introduce", "already asked")
        raise AlreadyDone("These two have been asked about each other before, so nothing changed.")
    broker = brokers[0]
    first, second = pair(a.organisation_id, b.organisation_id)
    introduction = PartnerIntroduction(
        opportunity_id=opportunity.id,
        first_organisation_id=first,
        second_organisation_id=second,
        brokered_by_organisation_id=broker.id,
        requested_by=turn.actor.person_id,
        state=IntroductionState.ASKED,
        created_at=services.clock.now(),
    )
    session.add(introduction)
    await session.flush()
    about = await organisation_summary(session)
    for mine, theirs in ((a, b), (b, a)):
        them = await session.get(Organisation, theirs.organisation_id)
        assert them is not None
        await tell_organisations(
            session,
            [mine.organisation_id],
            Message(
                title=f"A possible partner: {opportunity.title}",
                text=f"{broker.name}, your local support organisation, thinks you could work "
                "well with another provider that posted. We have not told them who you are. "
                "Say yes and, if they say yes too, we share both your names and contact "
                "details. Say no and nobody is told your name.",
                sections=[
                    Section(
                        heading="About them", facts=post_facts(theirs, opportunity) + about(them)
                    )
                ],
                buttons=answer_buttons(introduction.id),
                who_sees="Only your organisation sees this.",
            ),
            f"partners:{introduction.id}:suggested:{{person_id}}",
            services,
        )
    await audit.record_turn(
        session,
        turn,
        "opportunity.partner_introduction_suggested",
        object_type="partner_introduction",
        object_id=introduction.id,
        authority_id=opportunity.authority_id,
        organisation_id=broker.id,
        opportunity_id=opportunity.id,
    )
    names = []
    for post in (a, b):
        poster = await session.get(Organisation, post.organisation_id)
        assert poster is not None
        names.append(poster.name)
    return Suggested(introduction, opportunity, (names[0], names[1]))


async def introduce(turn: Turn, services: Services) -> list[Reply]:
    """`opportunities introduce 3 5`."""
    first, second = number_at(turn, 1), number_at(turn, 2)
    if first is None or second is None:
        return [
            Notice(
                text="Which two posts? Open the opportunity's partner posts and choose two: "
                f"{command_ref(COMMAND, 'the opportunities')}.",
                level="warning",
            )
        ]
    async with services.db.session() as session:
        try:
            suggested = await suggest_introduction(session, turn, services, first, second)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    one, two = suggested.names
    return [
        Notice(
            text=f"Thank you. We have asked {one} and {two} if they would like to talk. "
            "Neither is told the other's name unless both say yes. You can see how it goes "
            f"with {COMMAND} partnering {suggested.opportunity.id}.",
            level="success",
        )
    ]
