"""The consortium: each introduced provider says its part (`consortium N`), invites its
partner (`invite I`), and it is confirmed when every member has said its part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import FormDefinition
from bot.core.reply import Button, Message, Notice, Reply, ReplyList, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.common import load_locked
from handlers.forms import FormPurpose, Subject, form_view
from handlers.opportunities.common import COMMAND, Refused, number_at, refuse
from handlers.opportunities.partners.common import (
    NOT_FOUND,
    AlreadyDone,
    NotForYou,
    partnering,
    tell_organisations,
)
from handlers.opportunities.partners.posts import back_to_draft, opportunity_in
from handlers.opportunities.partners.views import ConsortiumView, consortium_section
from storage import audit
from storage.engagements import commissioning_team
from storage.models import FormResponse, Organisation
from storage.opportunity_tables import Opportunity, OpportunityState
from storage.outbox import send_to_people
from storage.partner_tables import (
    Consortium,
    ConsortiumMember,
    ConsortiumState,
    PartnerIntroduction,
)
from storage.partners import (
    introductions_of,
    members_of_consortium,
    membership_in,
    names_shared,
    other_side,
    side_of,
)
from storage.visibility import Refusal

# --- the consortium --------------------------------------------------------------------------


async def _introduced(session: AsyncSession, opportunity_id: int, organisation_id: int) -> bool:
    return any(
        names_shared(i) for i in await introductions_of(session, opportunity_id, organisation_id)
    )


class ConsortiumForm(FormPurpose):
    """`opportunities consortium 4`: an introduced provider says its part in a consortium."""

    form_key = "partner_consortium"
    command = COMMAND
    confirms_itself = True

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        assert turn.actor is not None
        opportunity_id = number_at(turn, 1)
        if opportunity_id is None:
            return Refusal(
                f"Which opportunity? Open it from the list: {command_ref(COMMAND, 'the opportunities')}."
            )
        opportunity = await session.get(Opportunity, opportunity_id)
        if opportunity is None or opportunity.state == OpportunityState.DRAFT:
            await refuse(session, turn, None, "consortium", "not found")
            return Refusal(NOT_FOUND)
        for organisation_id in sorted(turn.actor.member_of()):
            if await membership_in(session, opportunity.id, organisation_id) or await _introduced(
                session, opportunity.id, organisation_id
            ):
                organisation = await session.get(Organisation, organisation_id)
                assert organisation is not None
                return Subject(
                    organisation.id,
                    None,
                    label=organisation.name,
                    topic=f"consortium:{opportunity.id}",
                )
        await refuse(session, turn, opportunity, "consortium", "not introduced")
        return Refusal(
            "You can record a consortium once you and a partner have both said yes to "
            f"talking. Find partners: "
            f"{command_ref(f'{COMMAND} partnering {opportunity.id}', 'the partner posts')}."
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        opportunity_id = opportunity_in(subject.topic)
        if opportunity_id is None or subject.organisation_id is None:
            return {}
        member = await membership_in(session, opportunity_id, subject.organisation_id)
        if member is None:
            return {}
        consortium = await session.get(Consortium, member.consortium_id)
        assert consortium is not None
        return {
            "role": member.role,
            "lead": consortium.lead_organisation_id == subject.organisation_id,
            "share": member.share_percent,
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
        # Locked, so two members confirming at once are counted one after the other.
        opportunity = await load_locked(session, Opportunity, opportunity_in(response.topic))
        assert opportunity is not None
        organisation = await session.get(Organisation, response.organisation_id)
        assert organisation is not None
        now = services.clock.now()
        answers = response.answers
        member = await membership_in(session, opportunity.id, organisation.id)
        if member is None:
            consortium = Consortium(
                opportunity_id=opportunity.id,
                state=ConsortiumState.PROPOSED,
                created_by=turn.actor.person_id,
                created_at=now,
            )
            session.add(consortium)
            await session.flush()
            member = ConsortiumMember(
                consortium_id=consortium.id,
                opportunity_id=opportunity.id,
                organisation_id=organisation.id,
                invited_at=now,
            )
            session.add(member)
        else:
            found = await session.get(Consortium, member.consortium_id)
            assert found is not None
            consortium = found
        leads = bool(answers.get("lead"))
        lead = consortium.lead_organisation_id
        if leads and lead is not None and lead != organisation.id:
            current = await session.get(Organisation, lead)
            problem = (
                f"{current.name if current else 'Another member'} leads it already. Only one "
                "member can lead. Say no here, or ask them to change their answer first."
            )
            await refuse(session, turn, opportunity, "consortium", "two leads")
            back_to_draft(response)
            return [form_view(definition, response, 0, errors={"lead": problem})]
        if leads:
            consortium.lead_organisation_id = organisation.id
        elif lead == organisation.id:
            consortium.lead_organisation_id = None
        share = answers.get("share")
        member.role = answers["role"]
        member.share_percent = round(share) if share is not None else None
        member.confirmed_at = now
        member.confirmed_by = turn.actor.person_id
        await session.flush()
        members = await members_of_consortium(session, consortium.id)
        complete = (
            len(members) >= 2
            and all(m.confirmed_at is not None for m, _ in members)
            and consortium.lead_organisation_id is not None
        )
        newly = complete and consortium.state != ConsortiumState.CONFIRMED
        consortium.state = ConsortiumState.CONFIRMED if complete else ConsortiumState.PROPOSED
        consortium.confirmed_at = (consortium.confirmed_at or now) if complete else None
        await audit.record_turn(
            session,
            turn,
            "opportunity.consortium_part_said",
            object_type="consortium",
            object_id=consortium.id,
            authority_id=opportunity.authority_id,
            organisation_id=organisation.id,
            opportunity_id=opportunity.id,
            confirmed=complete,
        )
        view = ConsortiumView(consortium, members)
        shares = [m.share_percent for m, _ in members if m.share_percent is not None]
        uneven = (
            [
                Notice(
                    text=f"The members' shares add up to {sum(shares)}%, not 100%. Agree them "
                    "with your partners, and each can change its own here.",
                    level="warning",
                )
            ]
            if complete and len(shares) == len(members) and sum(shares) != 100
            else []
        )
        if newly:
            await _tell_confirmed(session, services, opportunity, view)
        replies: list[Reply] = [
            Notice(
                text=(
                    "Thank you. Every member has said its part, so your consortium is "
                    "confirmed. We have told every member and the council's commissioning team."
                    if newly
                    else "Thank you, your part is saved. "
                    + (
                        "The consortium is confirmed."
                        if complete
                        else "The consortium is confirmed when every member has said its part "
                        "and one leads. Ask your partners to join it from their introductions."
                    )
                ),
                level="success",
                buttons=[partnering(opportunity.id)],
            ),
            *uneven,
            Message(
                title=f"Your consortium: {opportunity.title}",
                sections=[consortium_section(view, "Members")],
                who_sees="Its members see this. The council's commissioning team sees it once "
                "every member has confirmed. Other providers never see it.",
            ),
        ]
        return replies


async def _tell_confirmed(
    session: AsyncSession, services: Services, opportunity: Opportunity, view: ConsortiumView
) -> None:
    """Every member, and the commissioning team, hear that it is confirmed."""
    message = Message(
        title=f"A consortium is confirmed: {opportunity.title}",
        text="Every member has said its part and one leads. It will be carried into the "
        "agreement if this consortium is funded.",
        sections=[consortium_section(view, "Members")],
        who_sees="Its members and the council's commissioning team see this.",
    )
    key = f"partners:consortium:{view.consortium.id}:confirmed:{{person_id}}"
    await tell_organisations(session, [o.id for _, o in view.members], message, key, services)
    team = [p.id for p in await commissioning_team(session, opportunity.authority_id)]
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    await send_to_people(session, team, payload, key, not_before=services.clock.now())


CONSORTIUM = ConsortiumForm()


@dataclass(frozen=True)
class Invited:
    opportunity: Opportunity
    partner: Organisation


async def invite_partner(
    session: AsyncSession, turn: Turn, services: Services, introduction_id: int | None
) -> Invited:
    """A member of a consortium asks the partner it was introduced to to join it."""
    assert turn.actor is not None
    introduction = await load_locked(session, PartnerIntroduction, introduction_id)
    opportunity = (
        await load_locked(session, Opportunity, introduction.opportunity_id)
        if introduction
        else None
    )
    mine = (
        next(
            (o for o in sorted(turn.actor.member_of()) if side_of(introduction, o) is not None),
            None,
        )
        if introduction is not None
        else None
    )
    if (
        introduction is None
        or opportunity is None
        or mine is None
        or not names_shared(introduction)
    ):
        await refuse(session, turn, opportunity, "invite", "not introduced")
        raise NotForYou(
            "You can ask a partner to join once you have both said yes to talking. Nothing "
            "was changed."
        )
    member = await membership_in(session, opportunity.id, mine)
    if member is None:
        await refuse(session, turn, opportunity, "invite", "not in a consortium")
        raise NotForYou(
            "Say your own part in the consortium first, then ask partners to join: "
            + command_ref(
                f"{COMMAND} consortium {opportunity.id}",
                f"the consortium form for opportunity {opportunity.id}",
            )
            + "."
        )
    partner = await session.get(Organisation, other_side(introduction, mine))
    assert partner is not None
    if await membership_in(session, opportunity.id, partner.id):
        await refuse(session, turn, opportunity, "invite", "partner already in one")
        raise AlreadyDone(
            f"{partner.name} is already in a consortium for this opportunity, so nothing changed."
        )
    now = services.clock.now()
    session.add(
        ConsortiumMember(
            consortium_id=member.consortium_id,
            opportunity_id=opportunity.id,
            organisation_id=partner.id,
            invited_at=now,
        )
    )
    consortium = await session.get(Consortium, member.consortium_id)
    assert consortium is not None
    consortium.state = ConsortiumState.PROPOSED
    consortium.confirmed_at = None
    await session.flush()
    inviter = await session.get(Organisation, mine)
    assert inviter is not None
    await tell_organisations(
        session,
        [partner.id],
        Message(
            title=f"Join a consortium: {opportunity.title}",
            text=f"{inviter.name} asks you to join its consortium for {opportunity.title}. "
            "If you want to, say what your organisation will do. The consortium is confirmed "
            "when every member has said its part.",
            buttons=[
                Button(
                    label="Say our part",
                    action=f"cmd.{COMMAND}",
                    value=f"consortium {opportunity.id}",
                    style="primary",
                )
            ],
            who_sees="Only the consortium's members see this.",
        ),
        f"partners:consortium:{consortium.id}:invited:{partner.id}:{{person_id}}",
        services,
    )
    await audit.record_turn(
        session,
        turn,
        "opportunity.consortium_invited",
        object_type="consortium",
        object_id=consortium.id,
        authority_id=opportunity.authority_id,
        organisation_id=mine,
        invited_organisation_id=partner.id,
        opportunity_id=opportunity.id,
    )
    return Invited(opportunity, partner)


async def invite(turn: Turn, services: Services, introduction_id: int | None) -> list[Reply]:
    """`opportunities invite 7`: ask the partner of introduction 7 to join our consortium."""
    async with services.db.session() as session:
        try:
            invited = await invite_partner(session, turn, services, introduction_id)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    return [
        Notice(
            text=f"We have asked {invited.partner.name} to join. When they have said their "
            "part, the consortium is confirmed and the council's commissioning team sees it.",
            level="success",
            buttons=[partnering(invited.opportunity.id)],
        )
    ]
