"""Reading an opportunity's route and the checklist steps its team recorded (rows, no words)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Organisation
from storage.opportunity_route_tables import OpportunityChecklistStep, OpportunityRoute
from storage.opportunity_tables import Opportunity

#: The route key (`bot.core.law.Route.RESERVED_MUTUAL`) and the step key
#: (`StepKey.CONTRACT_AWARD_NOTICE`) the three-year rule reads; storage does not import
#: the law, so the stored values are named here.
RESERVED_MUTUAL = "reserved_mutual"
CONTRACT_AWARD_NOTICE = "contract_award_notice"


async def route_of(session: AsyncSession, opportunity_id: int) -> OpportunityRoute | None:
    return await session.get(OpportunityRoute, opportunity_id)


async def steps_done(session: AsyncSession, opportunity_id: int) -> list[OpportunityChecklistStep]:
    return list(
        (
            await session.scalars(
                select(OpportunityChecklistStep).where(
                    OpportunityChecklistStep.opportunity_id == opportunity_id
                )
            )
        ).all()
    )


async def step_done(
    session: AsyncSession, opportunity_id: int, step: str
) -> OpportunityChecklistStep | None:
    return await session.get(OpportunityChecklistStep, (opportunity_id, step))


async def reserved_mutual_awards(
    session: AsyncSession, authority_id: int, organisation_id: int, *, besides: int
) -> list[date]:
    """The days this council recorded giving this organisation a contract reserved for
    public service mutuals (its contract award notice, done), other than opportunity
    `besides`."""
    rows = await session.scalars(
        select(OpportunityChecklistStep.done_on)
        .join(Opportunity, Opportunity.id == OpportunityChecklistStep.opportunity_id)
        .join(OpportunityRoute, OpportunityRoute.opportunity_id == Opportunity.id)
        .where(
            Opportunity.authority_id == authority_id,
            Opportunity.id != besides,
            OpportunityRoute.route == RESERVED_MUTUAL,
            OpportunityChecklistStep.step == CONTRACT_AWARD_NOTICE,
            OpportunityChecklistStep.awarded_organisation_id == organisation_id,
        )
    )
    return list(rows.all())


async def organisations_named(session: AsyncSession, name: str) -> list[Organisation]:
    """Organisations whose name is `name`, ignoring capitals and spaces at the ends."""
    wanted = name.strip().lower()
    return list(
        (
            await session.scalars(
                select(Organisation).where(func.lower(Organisation.name) == wanted).limit(5)
            )
        ).all()
    )
