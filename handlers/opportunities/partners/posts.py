"""Posting "looking for partners" on an opportunity (`partners N`), and taking it down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import FormDefinition
from bot.core.reply import Button, Notice, Reply, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.common import load_locked
from handlers.forms import FormPurpose, Subject, form_view
from handlers.opportunities.common import COMMAND, Refused, number_at, refuse
from handlers.opportunities.partners.common import (
    NOT_FOUND,
    AlreadyDone,
    NotForYou,
    fitting_organisation,
    is_open,
    partnering,
)
from handlers.opportunities.views import areas_text
from storage import audit
from storage.engagements import matching_area_codes
from storage.models import FormResponse, ResponseState
from storage.opportunities import lots_of
from storage.opportunity_tables import Opportunity, OpportunityState
from storage.partner_tables import (
    IntroductionState,
    PartnerPost,
    PostState,
)
from storage.partners import (
    answer_of,
    introductions_of,
    post_of,
)
from storage.visibility import Refusal

# --- posting ---------------------------------------------------------------------------------


def back_to_draft(response: FormResponse) -> None:
    """A post refused on sending stays a draft, so the person can fix it and send again."""
    response.state = ResponseState.DRAFT
    response.submitted_at = None


def opportunity_in(topic: str | None) -> int | None:
    parts = (topic or "").split(":")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


async def _post_problems(
    session: AsyncSession, opportunity: Opportunity, answers: dict[str, Any]
) -> dict[str, str]:
    """A lot the opportunity does not have, or places it does not cover, by field."""
    problems: dict[str, str] = {}
    lot = answers.get("lot")
    numbers = [found.number for found in await lots_of(session, opportunity.id)]
    if lot is not None and int(lot) not in numbers:
        problems["lot"] = f"{opportunity.title} has no lot {lot}." + (
            " Its lots are " + ", ".join(str(n) for n in numbers) + "."
            if numbers
            else " It has no lots: leave this blank."
        )
    areas = set(answers.get("area_served") or [])
    covered = set(matching_area_codes(list(opportunity.area_served)))
    if areas and covered and not areas & covered:
        problems["area_served"] = (
            f"{opportunity.title} is for {areas_text(list(opportunity.area_served))}. Choose "
            "a place there, or leave this blank."
        )
    return problems


class PostForm(FormPurpose):
    """`opportunities partners 4`: a provider's "looking for partners" post, new or changed."""

    form_key = "partner_post"
    command = COMMAND
    confirms_itself = True

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        opportunity_id = number_at(turn, 1)
        if opportunity_id is None:
            return Refusal(
                f"Which opportunity? Open it from the list: {command_ref(COMMAND, 'the opportunities')}."
            )
        opportunity = await session.get(Opportunity, opportunity_id)
        if opportunity is None or opportunity.state == OpportunityState.DRAFT:
            await refuse(session, turn, None, "partners", "not found")
            return Refusal(NOT_FOUND)
        organisation = await fitting_organisation(session, turn, opportunity)
        if organisation is None:
            await refuse(session, turn, opportunity, "partners", "not a fitting provider")
            return Refusal(
                "Only providers this opportunity fits can post that they are looking for "
                f"partners. Check your profile says what you do and where: "
                f"{command_ref('profile', 'your profile')}."
            )
        if not is_open(opportunity, services):
            await refuse(session, turn, opportunity, "partners", "not open")
            return Refusal(f"{opportunity.title} is not open for bids now, so you can't post.")
        return Subject(
            organisation.id, None, label=organisation.name, topic=f"partners:{opportunity.id}"
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        opportunity_id = opportunity_in(subject.topic)
        if opportunity_id is None or subject.organisation_id is None:
            return {}
        post = await post_of(session, opportunity_id, subject.organisation_id)
        if post is None:
            return {}
        return {
            "brings": post.brings,
            "needs": post.needs,
            "area_served": list(post.area_served) or None,
            "lot": post.lot_number,
        }

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and response.organisation_id is not None
        opportunity = await load_locked(session, Opportunity, opportunity_in(response.topic))
        assert opportunity is not None
        if not is_open(opportunity, services):
            await refuse(session, turn, opportunity, "partners", "not open")
            return [
                Notice(
                    text=f"{opportunity.title} closed while you were writing, so your post "
                    "was not saved.",
                    level="warning",
                )
            ]
        answers = response.answers
        problems = await _post_problems(session, opportunity, answers)
        if problems:
            await refuse(session, turn, opportunity, "partners", " ".join(problems.values()))
            back_to_draft(response)
            return [form_view(definition, response, 0, errors=problems)]
        now = services.clock.now()
        post = await post_of(session, opportunity.id, response.organisation_id)
        changed = post is not None and post.state == PostState.OPEN
        if post is None:
            post = PartnerPost(
                opportunity_id=opportunity.id,
                organisation_id=response.organisation_id,
                created_at=now,
            )
            session.add(post)
        post.posted_by = turn.actor.person_id
        post.brings = answers["brings"]
        post.needs = answers["needs"]
        post.area_served = list(answers.get("area_served") or [])
        lot = answers.get("lot")
        post.lot_number = int(lot) if lot is not None else None
        post.state = PostState.OPEN
        post.taken_down_at = None
        post.updated_at = now
        await session.flush()
        await audit.record_turn(
            session,
            turn,
            "opportunity.partner_post_changed" if changed else "opportunity.partner_posted",
            object_type="partner_post",
            object_id=post.id,
            authority_id=opportunity.authority_id,
            organisation_id=post.organisation_id,
            opportunity_id=opportunity.id,
        )
        o = opportunity.id
        return [
            Notice(
                text=("Your post is changed. " if changed else "Your post is up. ")
                + f"Other providers that {opportunity.title} fits can see what you bring, what "
                "you need and where, but not your name. When one wants to talk, we will "
                "ask you. We share names and contact details only when you both say yes.",
                level="success",
                buttons=[
                    partnering(o),
                    Button(label="Change it", action=f"cmd.{COMMAND}", value=f"partners {o}"),
                    Button(
                        label="Take it down",
                        action=f"cmd.{COMMAND}",
                        value=f"takedown {o}",
                        style="danger",
                    ),
                ],
            )
        ]


POST = PostForm()


@dataclass(frozen=True)
class TakenDown:
    opportunity: Opportunity
    post: PartnerPost


async def take_down_post(
    session: AsyncSession, turn: Turn, services: Services, opportunity_id: int | None
) -> TakenDown:
    """The organisation's post goes; requests nobody has answered end quietly."""
    assert turn.actor is not None
    opportunity = await load_locked(session, Opportunity, opportunity_id)
    post = None
    for organisation_id in sorted(turn.actor.member_of()):
        if opportunity is not None:
            post = await post_of(session, opportunity.id, organisation_id)
        if post is not None:
            break
    if opportunity is None or post is None:
        await refuse(session, turn, opportunity, "takedown", "no post")
        raise NotForYou("You have no partner post for that opportunity, so nothing changed.")
    if post.state == PostState.TAKEN_DOWN:
        raise AlreadyDone("Your post was already taken down, so nothing changed.")
    now = services.clock.now()
    post.state = PostState.TAKEN_DOWN
    post.taken_down_at = now
    post.updated_at = now
    for introduction in await introductions_of(session, opportunity.id, post.organisation_id):
        waiting = answer_of(introduction, post.organisation_id) is None
        if introduction.state == IntroductionState.ASKED and waiting:
            introduction.state = IntroductionState.DECLINED
            introduction.decided_at = now
    await audit.record_turn(
        session,
        turn,
        "opportunity.partner_post_taken_down",
        object_type="partner_post",
        object_id=post.id,
        authority_id=opportunity.authority_id,
        organisation_id=post.organisation_id,
        opportunity_id=opportunity.id,
    )
    return TakenDown(opportunity, post)


async def take_down(turn: Turn, services: Services, opportunity_id: int | None) -> list[Reply]:
    """`opportunities takedown 4`."""
    async with services.db.session() as session:
        try:
            done = await take_down_post(session, turn, services, opportunity_id)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    o = done.opportunity.id
    return [
        Notice(
            text=f"Your post for {done.opportunity.title} is taken down. Nobody can ask to talk "
            "about it now. Requests you had not answered are closed, and nobody is told your "
            "name. You can post again any time before the deadline.",
            level="success",
            buttons=[Button(label="Post again", action=f"cmd.{COMMAND}", value=f"partners {o}")],
        )
    ]
