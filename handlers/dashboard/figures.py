"""The dashboards' service step: who is asking, what they may see, and the figures.

Typed input (`CouncilAsk`, `ProviderAsk`), one unit of work (one session, a small fixed
number of aggregate queries in `storage.dashboard`), and a typed result or a refusal.
Nothing here words anything: `handlers.dashboard.views` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.feedback.questions import DEFAULT_QUESTIONS, Question, chosen
from bot.core.forms import FormDefinition
from bot.core.reply import command_ref
from handlers.readiness_statistics import Summary, readiness_summary
from storage.dashboard import (
    AgreementFigures,
    EngagementFigures,
    FeedbackFigures,
    OpportunityFigures,
    ProviderFigures,
    Scope,
    agreement_figures,
    engagement_figures,
    feedback_figures,
    opportunity_figures,
    provider_figures,
)
from storage.engagements import matching_area_codes
from storage.forms import latest_definition
from storage.models import Authority, Organisation
from storage.readiness import places_covered
from storage.visibility import Refusal

#: The three questions every feedback point asks by default (is it helping, run well,
#: going to keep going), the scale questions the dashboard adds up.
FEEDBACK_QUESTIONS: tuple[Question, ...] = tuple(
    q for q in chosen(DEFAULT_QUESTIONS) if q.kind == "scale"
)


@dataclass(frozen=True)
class CouncilFigures:
    authority: Authority
    engagements: EngagementFigures
    opportunities: OpportunityFigures
    agreements: AgreementFigures
    feedback: FeedbackFigures
    #: Readiness answers with small groups hidden (None: the questions are not set up).
    readiness: Summary | None
    readiness_form: FormDefinition | None
    profile: FormDefinition | None
    #: Places providers said they could cover: the area filter's first choices.
    places: list[str]
    minimum: int


@dataclass(frozen=True)
class ProviderDashboard:
    organisation: Organisation
    figures: ProviderFigures
    agreements: AgreementFigures


async def council_for(
    session: AsyncSession, councils: set[int], wanted: str | None
) -> Authority | Refusal:
    """The council asked about with for=…, if this person commissions for it; else their
    only one; else which one they mean."""
    if wanted:
        found = await session.scalar(select(Authority).where(Authority.slug == wanted))
        if found is None:
            return Refusal(f'We can\'t find a council called "{wanted[:80]}".')
        if found.id not in councils:
            return Refusal(
                f"Only {found.name}'s commissioning team can see its dashboard. "
                f"See your own: {command_ref('dashboard', 'your dashboard')}."
            )
        return found
    authorities = list(
        (await session.scalars(select(Authority).where(Authority.id.in_(councils)))).all()
    )
    if len(authorities) == 1:
        return authorities[0]
    names = ", ".join(
        f"{a.name} ({command_ref(f'dashboard for={a.slug}', f'the {a.name} dashboard')})"
        for a in authorities
    )
    return Refusal(f"Which council's dashboard would you like? {names}")


async def council_figures(
    session: AsyncSession,
    authority: Authority,
    *,
    today: date,
    now: datetime,
    service_area: str | None,
    area: str | None,
    minimum: int,
) -> CouncilFigures:
    """Everything on the commissioner's dashboard, for one council, in one session."""
    scope = Scope(
        authority_id=authority.id,
        today=today,
        now=now,
        service_area=service_area,
        areas=matching_area_codes([area]) if area else None,
    )
    readiness_form = await latest_definition(session, "readiness")
    profile = await latest_definition(session, "organisation_profile")
    readiness = (
        await readiness_summary(
            session,
            authority_id=authority.id,
            definition=readiness_form,
            service_area=service_area,
            area=area,
            suppress=True,
            minimum=minimum,
        )
        if readiness_form is not None
        else None
    )
    return CouncilFigures(
        authority=authority,
        engagements=await engagement_figures(session, scope),
        opportunities=await opportunity_figures(session, scope),
        agreements=await agreement_figures(session, scope),
        feedback=await feedback_figures(session, scope, [q.key for q in FEEDBACK_QUESTIONS]),
        readiness=readiness,
        readiness_form=readiness_form,
        profile=profile,
        places=await places_covered(session, authority_id=authority.id),
        minimum=minimum,
    )


async def provider_dashboard(
    session: AsyncSession, organisation_id: int, *, today: date, now: datetime
) -> ProviderDashboard | Refusal:
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None:
        return Refusal(
            f"We can't find your organisation. Check it: {command_ref('profile', 'your profile')}."
        )
    # The provider's agreements are picked by party (`organisation_id`), across councils.
    scope = Scope(authority_id=0, today=today, now=now)
    return ProviderDashboard(
        organisation=organisation,
        figures=await provider_figures(session, organisation_id=organisation_id, now=now),
        agreements=await agreement_figures(session, scope, organisation_id=organisation_id),
    )
