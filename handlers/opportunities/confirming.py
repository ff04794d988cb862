"""What each opportunity step that changes things asks first, in words that say what will
happen and who is told. Declared on the steps (`SubCommand.confirm`); every door asks the
same. A draft is named only to its council's team; anyone else is asked the plain words,
and the step itself refuses when it runs."""

from __future__ import annotations

from bot.core.feature import Confirmation
from bot.core.turn import Turn
from bot.services import Services
from handlers.steps import nameable, organisations_told
from storage.opportunities import matching_organisations
from storage.opportunity_tables import Opportunity


async def _visible(services: Services, turn: Turn, opportunity_id: int) -> Opportunity | None:
    async with services.db.session() as session:
        found: Opportunity | None = await nameable(session, Opportunity, opportunity_id, turn.actor)
        return found


async def publish(turn: Turn, services: Services, opportunity_id: int) -> Confirmation | None:
    opportunity = await _visible(services, turn, opportunity_id)
    if opportunity is None:
        return None
    async with services.db.session() as session:
        whom = await organisations_told(session, matching_organisations(opportunity))
    return Confirmation(
        title="Publish this opportunity?",
        question=f"Publish '{opportunity.title}' to {whom} now?",
        consequence="They will all be told at the same moment, and it shows on the list of "
        "opportunities for every provider.",
        yes_label="Yes, publish it",
    )


async def interest(turn: Turn, services: Services, opportunity_id: int) -> Confirmation | None:
    opportunity = await _visible(services, turn, opportunity_id)
    if opportunity is None:
        return None
    return Confirmation(
        title="Say you are interested?",
        question=f"Tell the council you are interested in '{opportunity.title}'?",
        consequence="The council's team will see your organisation's name. You can "
        "withdraw it later.",
        yes_label="Yes, I am interested",
    )


async def leave(turn: Turn, services: Services, opportunity_id: int) -> Confirmation | None:
    opportunity = await _visible(services, turn, opportunity_id)
    if opportunity is None:
        return None
    return Confirmation(
        title="Withdraw your interest?",
        question=f"Withdraw your organisation's interest in '{opportunity.title}'?",
        consequence="The council's team will see that you withdrew. You can say you are "
        "interested again while it is open.",
        yes_label="Yes, withdraw",
    )


FOLLOW = Confirmation(
    title="Follow this opportunity?",
    question="Follow this opportunity?",
    consequence="We will tell you when it changes or a question is answered. Only you see "
    "that you follow it.",
    yes_label="Yes, follow it",
)
UNFOLLOW = Confirmation(
    title="Stop following?",
    question="Stop following this opportunity?",
    consequence="We will stop telling you when it changes. You can follow it again later.",
    yes_label="Yes, stop following",
)
TAKEDOWN = Confirmation(
    title="Take down your post?",
    question="Take down your post looking for partners?",
    consequence="Other providers will not see it any more. Talks you have started stay.",
    yes_label="Yes, take it down",
)
TALK = Confirmation(
    title="Ask to talk?",
    question="Ask this provider to talk about working together?",
    consequence="They will be told who you are and can agree or say no.",
    yes_label="Yes, ask them",
)
AGREE = Confirmation(
    title="Agree to talk?",
    question="Agree to talk with this provider?",
    consequence="Both of you will be given each other's contact details.",
    yes_label="Yes, agree",
)
DECLINE = Confirmation(
    title="Say no to this provider?",
    question="Say no to talking with this provider?",
    consequence="They will be told politely that you said no. Your details are not shared.",
    yes_label="Yes, say no",
)
INTRODUCE = Confirmation(
    title="Introduce these providers?",
    question="Introduce these providers to each other?",
    consequence="Each will be told about the other and can agree or say no.",
    yes_label="Yes, introduce them",
)
INVITE = Confirmation(
    title="Invite them to your group?",
    question="Invite this provider to join your group of partners?",
    consequence="They will be told and can agree or say no.",
    yes_label="Yes, invite them",
)
UNDO = Confirmation(
    title="Undo this step?",
    question="Mark this step of the route as not done?",
    consequence="It goes back on the checklist as a step still to do.",
    yes_label="Yes, undo it",
)
