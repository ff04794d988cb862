"""Asking to talk about a post (`talk P`) and answering (`agree I`, `decline I`): names
and contact details go to both only when both said yes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reply import Button, Message, Notice, Reply, Section, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.common import load_locked
from handlers.opportunities.common import COMMAND, Refused, refuse
from handlers.opportunities.partners.common import (
    NO_SUCH_POST,
    NO_SUCH_REQUEST,
    ONLY_FITTING,
    AlreadyDone,
    NotForYou,
    NotOpen,
    answer_buttons,
    contact_facts,
    fitting_organisation,
    is_open,
    organisation_summary,
    partnering,
    post_facts,
    tell_organisations,
)
from storage import audit
from storage.models import Organisation
from storage.opportunity_tables import Opportunity
from storage.partner_tables import (
    Answer,
    IntroductionState,
    PartnerIntroduction,
    PartnerPost,
    PostState,
)
from storage.partners import (
    answer_of,
    introduction_between,
    names_shared,
    other_side,
    pair,
    post_of,
    side_of,
)

# --- asking to talk, and answering -----------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    introduction: PartnerIntroduction
    opportunity: Opportunity
    #: This person's organisation, and the other side once both said yes.
    organisation: Organisation
    partner: Organisation | None
    answer: Answer


async def _introduce_if_both(
    session: AsyncSession,
    services: Services,
    introduction: PartnerIntroduction,
    opportunity: Opportunity,
) -> None:
    """When both said yes: the introduction is made and each side gets the other's details
    on their own door."""
    if not (introduction.first_answer == Answer.YES and introduction.second_answer == Answer.YES):
        return
    introduction.state = IntroductionState.INTRODUCED
    introduction.decided_at = services.clock.now()
    first = await session.get(Organisation, introduction.first_organisation_id)
    second = await session.get(Organisation, introduction.second_organisation_id)
    assert first is not None and second is not None
    for me, them in ((first, second), (second, first)):
        await tell_organisations(
            session,
            [me.id],
            Message(
                title=f"You have a partner to talk to: {opportunity.title}",
                text=f"You and {them.name} both said yes to talking about working together. "
                "Here are their details. Only your two organisations see this. If you decide "
                "to bid together, each of you can say your part in the consortium.",
                sections=[Section(facts=contact_facts(them))],
                buttons=[
                    Button(
                        label="Say our part in a consortium",
                        action=f"cmd.{COMMAND}",
                        value=f"consortium {opportunity.id}",
                    )
                ],
            ),
            f"partners:{introduction.id}:introduced:{me.id}:{{person_id}}",
            services,
        )


async def ask_to_talk(
    session: AsyncSession, turn: Turn, services: Services, post_id: int | None
) -> Answered:
    """A provider says "we'd like to talk" about another's post. Its own yes is given at
    once; the poster is asked, without being told who asks."""
    assert turn.actor is not None
    post = await session.get(PartnerPost, post_id) if post_id else None
    opportunity = (
        await load_locked(session, Opportunity, post.opportunity_id) if post is not None else None
    )
    if post is None or opportunity is None or post.state != PostState.OPEN:
        await refuse(session, turn, opportunity, "talk", "no such post")
        raise NotForYou(NO_SUCH_POST)
    organisation = await fitting_organisation(session, turn, opportunity)
    if organisation is None:
        await refuse(session, turn, opportunity, "talk", "not a fitting provider")
        raise NotForYou(ONLY_FITTING)
    if organisation.id == post.organisation_id:
        await refuse(session, turn, opportunity, "talk", "own post")
        raise NotForYou("That is your own post, so nothing was changed.")
    if not is_open(opportunity, services):
        await refuse(session, turn, opportunity, "talk", "not open")
        raise NotOpen(f"{opportunity.title} is not open for bids now, so nothing was sent.")
    introduction = await introduction_between(
        session, opportunity.id, organisation.id, post.organisation_id
    )
    if introduction is not None:
        if introduction.state != IntroductionState.ASKED or answer_of(
            introduction, organisation.id
        ):
            await refuse(session, turn, opportunity, "talk", "asked before")
            raise AlreadyDone(
                "You have asked to talk with this provider before, so nothing changed. See where it is: "
                + command_ref(
                    f"{COMMAND} partnering {opportunity.id}",
                    f"partners for opportunity {opportunity.id}",
                )
                + "."
            )
        # They (or a CVS) asked first: saying "we'd like to talk" is saying yes.
        return await _answer(
            session, turn, services, introduction, opportunity, organisation, Answer.YES
        )
    first, second = pair(organisation.id, post.organisation_id)
    introduction = PartnerIntroduction(
        opportunity_id=opportunity.id,
        first_organisation_id=first,
        second_organisation_id=second,
        asked_by_organisation_id=organisation.id,
        requested_by=turn.actor.person_id,
        state=IntroductionState.ASKED,
        created_at=services.clock.now(),
    )
    setattr(introduction, f"{side_of(introduction, organisation.id)}_answer", Answer.YES)
    session.add(introduction)
    await session.flush()
    about = await organisation_summary(session)
    asker_post = await post_of(session, opportunity.id, organisation.id)
    facts = (
        post_facts(asker_post, opportunity)
        if asker_post and asker_post.state == PostState.OPEN
        else []
    ) + about(organisation)
    await tell_organisations(
        session,
        [post.organisation_id],
        Message(
            title=f"A provider would like to talk: {opportunity.title}",
            text="A provider saw your post and would like to talk about working together. We "
            "have not told them who you are. Say yes and we share both your names and "
            "contact details. Say no and nobody is told your name.",
            sections=[Section(heading="About them", facts=facts)],
            buttons=answer_buttons(introduction.id),
            who_sees="Only your organisation sees this.",
        ),
        f"partners:{introduction.id}:asked:{{person_id}}",
        services,
    )
    await audit.record_turn(
        session,
        turn,
        "opportunity.partner_talk_asked",
        object_type="partner_introduction",
        object_id=introduction.id,
        authority_id=opportunity.authority_id,
        organisation_id=organisation.id,
        opportunity_id=opportunity.id,
    )
    return Answered(introduction, opportunity, organisation, None, Answer.YES)


async def _answer(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    introduction: PartnerIntroduction,
    opportunity: Opportunity,
    organisation: Organisation,
    answer: Answer,
) -> Answered:
    side = side_of(introduction, organisation.id)
    setattr(introduction, f"{side}_answer", answer)
    if answer == Answer.NO:
        introduction.state = IntroductionState.DECLINED
        introduction.decided_at = services.clock.now()
    else:
        await _introduce_if_both(session, services, introduction, opportunity)
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        f"opportunity.partner_{'agreed' if answer == Answer.YES else 'declined'}",
        object_type="partner_introduction",
        object_id=introduction.id,
        authority_id=opportunity.authority_id,
        organisation_id=organisation.id,
        opportunity_id=opportunity.id,
    )
    partner = (
        await session.get(Organisation, other_side(introduction, organisation.id))
        if names_shared(introduction)
        else None
    )
    return Answered(introduction, opportunity, organisation, partner, answer)


async def answer_introduction(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    introduction_id: int | None,
    answer: Answer,
) -> Answered:
    """One side's yes or no. Only the two organisations may answer; a yes once, and a no
    (taking back a yes, too) until both have said yes."""
    assert turn.actor is not None
    attempted = "agree" if answer == Answer.YES else "decline"
    introduction = await load_locked(session, PartnerIntroduction, introduction_id)
    mine = (
        next(
            (o for o in sorted(turn.actor.member_of()) if side_of(introduction, o) is not None),
            None,
        )
        if introduction is not None
        else None
    )
    opportunity = (
        await session.get(Opportunity, introduction.opportunity_id) if introduction else None
    )
    if introduction is None or mine is None or opportunity is None:
        await refuse(session, turn, opportunity, attempted, "not theirs to answer")
        raise NotForYou(NO_SUCH_REQUEST)
    # A yes is given once; a no can also take back a yes while the other side has not
    # answered (either can decline, until both said yes).
    said = answer_of(introduction, mine)
    if introduction.state != IntroductionState.ASKED or (said and answer == Answer.YES):
        await refuse(session, turn, opportunity, attempted, "already answered")
        raise AlreadyDone(
            "This request is already answered, so nothing changed. See where it is: "
            + command_ref(
                f"{COMMAND} partnering {opportunity.id}",
                f"partners for opportunity {opportunity.id}",
            )
            + "."
        )
    organisation = await session.get(Organisation, mine)
    assert organisation is not None
    return await _answer(session, turn, services, introduction, opportunity, organisation, answer)


def answered_replies(answered: Answered) -> list[Reply]:
    o = answered.opportunity
    if answered.partner is not None:
        return [
            Notice(
                text=f"You both said yes. You can now talk with {answered.partner.name}. We "
                "have sent both of you each other's details. Only your two organisations see "
                "them.",
                level="success",
                buttons=[partnering(o.id)],
            )
        ]
    if answered.answer == Answer.NO:
        return [
            Notice(
                text="Done: you said no, thank you. They are not told your name, and nothing "
                "else changes.",
                level="info",
                buttons=[partnering(o.id)],
            )
        ]
    return [
        Notice(
            text="Thank you. We have asked them, without telling them who you are. If they "
            "say yes, we send both of you each other's names and contact details. If they "
            "say no, nobody is told who you are.",
            level="success",
            buttons=[partnering(o.id)],
        )
    ]


async def _answering(
    turn: Turn, services: Services, run: Callable[[AsyncSession], Awaitable[Answered]]
) -> list[Reply]:
    async with services.db.session() as session:
        try:
            answered = await run(session)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    return answered_replies(answered)


async def talk(turn: Turn, services: Services, post_id: int | None) -> list[Reply]:
    """`opportunities talk 5`: we'd like to talk about post 5."""
    return await _answering(
        turn, services, lambda session: ask_to_talk(session, turn, services, post_id)
    )


async def agree(turn: Turn, services: Services, introduction_id: int | None) -> list[Reply]:
    """`opportunities agree 7`."""
    return await _answering(
        turn,
        services,
        lambda session: answer_introduction(session, turn, services, introduction_id, Answer.YES),
    )


async def decline(turn: Turn, services: Services, introduction_id: int | None) -> list[Reply]:
    """`opportunities decline 7`."""
    return await _answering(
        turn,
        services,
        lambda session: answer_introduction(session, turn, services, introduction_id, Answer.NO),
    )
