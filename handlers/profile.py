"""The organisation profile: a provider keeps its own details up to date.

The profile form's answers are copied onto the organisation row (and its service
areas and areas served) on submission, so the directory can filter in SQL, and
the submitted form response is kept as the record of what was said and when.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.feature import Command, Feature, HomeSection
from bot.core.forms import FormDefinition
from bot.core.reply import Button, Reply, Section
from bot.core.turn import Turn
from bot.services import Services
from handlers.forms import FormPurpose, Subject, open_form
from handlers.membership import HOW_TO_JOIN
from storage import audit
from storage.models import FormResponse, Organisation
from storage.organisations import set_areas_served, set_service_areas
from storage.visibility import Refusal

PROFILE_COLUMNS = (
    "name",
    "legal_form",
    "charity_number",
    "company_number",
    "oscr_number",
    "ccni_number",
    "mutuals_number",
    "ppon",
    "public_service_mutual",
    "supported_employment",
    "income_band",
    "staff_count",
    "volunteer_count",
    "led_by_and_for",
    "contact_name",
    "contact_email",
    "contact_phone",
)


class OrganisationProfile(FormPurpose):
    form_key = "organisation_profile"
    command = "profile"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        assert turn.actor is not None
        organisations = sorted(turn.actor.member_of())
        if not organisations:
            return Refusal(HOW_TO_JOIN)
        wanted = turn.args.get("org")
        if wanted:
            for org_id in organisations:
                org = await session.get(Organisation, org_id)
                if org is not None and wanted in (org.slug, str(org.id)):
                    return Subject(organisation_id=org.id, label=org.name)
            return Refusal("You can only change the profile of an organisation you belong to.")
        org = await session.get(Organisation, organisations[0])
        assert org is not None
        return Subject(organisation_id=org.id, label=org.name)

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        assert subject.organisation_id is not None
        org = await session.get(Organisation, subject.organisation_id)
        if org is None:
            return {}
        answers: dict[str, Any] = {
            column: getattr(org, column)
            for column in PROFILE_COLUMNS
            if getattr(org, column) is not None
        }
        if org.service_areas:
            answers["service_areas"] = [a.value for a in org.service_areas]
        if org.areas_served:
            answers["areas_served"] = [a.value for a in org.areas_served]
        return answers

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and response.organisation_id is not None
        org = await session.get(Organisation, response.organisation_id, with_for_update=True)
        assert org is not None
        answers = response.answers
        changed = []
        for column in PROFILE_COLUMNS:
            new = answers.get(column)
            if column == "name" and not new:
                continue
            if getattr(org, column) != new:
                changed.append(column)
                setattr(org, column, new)
        details: dict[str, Any] = {}
        if org.registration_note is not None:
            # The note asked them to check their numbers, which they have just sent: it is
            # done with. The audit event keeps its words.
            details["cleared_registration_note"] = org.registration_note
            org.registration_note = None
        set_service_areas(org, answers.get("service_areas") or [])
        # The area question's answer is already GSS codes, checked against the area data.
        set_areas_served(org, answers.get("areas_served") or [])
        org.updated_at = services.clock.now()
        await audit.record_turn(
            session,
            turn,
            "organisation.profile_updated",
            object_type="organisation",
            object_id=org.id,
            organisation_id=org.id,
            changed=changed,
            at=services.clock.now(),
            **details,
        )
        return []


PROFILE = OrganisationProfile()


async def show_profile_form(turn: Turn, services: Services) -> list[Reply]:
    """`profile`: open the profile form (or, with `chat`, ask one question at a time)."""
    return await open_form(turn, services, PROFILE)


async def _home_sections(session: AsyncSession, actor: Any, services: Services) -> list[Section]:
    """Home shows a member their organisation, with the way to its profile."""
    member_of = actor.member_of()
    if not member_of:
        return []
    names = (
        await session.scalars(select(Organisation.name).where(Organisation.id.in_(member_of)))
    ).all()
    return [
        Section(
            heading="Your organisation",
            text=", ".join(names),
            buttons=[Button(label="See or change your profile", action="cmd.profile")],
        )
    ]


FEATURE = Feature(
    name="profile",
    commands=(
        Command(
            "profile",
            "see and change your organisation's profile",
            show_profile_form,
            "providers",
            opens_form=True,
        ),
    ),
    form_purposes=(PROFILE,),
    home_sections=(HomeSection(order=10, sections=_home_sections),),
)
