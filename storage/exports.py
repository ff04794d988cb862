"""The rows export files are made from: each organisation's latest sent readiness answers
for an authority, and the organisations in the directory.

Readiness answers are read through `storage.visibility.responses_visible_to`, so a file
can never hold more than the person asking may see, whichever door asked for it. What a
file looks like, and who may have one at all, is the exports feature's
(`handlers/export_files.py`).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.turn import Actor
from storage.models import Authority, FormResponse, Organisation, ResponseState
from storage.visibility import responses_visible_to

READINESS_FORM = "readiness"
PROFILE_FORM = "organisation_profile"


async def latest_readiness(
    session: AsyncSession, actor: Actor, authority_id: int
) -> list[tuple[FormResponse, Organisation]]:
    """Each organisation's latest *sent* readiness answers for this authority, by name.

    Drafts are never included: they are the provider's own until they press Send.
    """
    ranked = (
        select(
            FormResponse.id.label("id"),
            func.row_number()
            .over(
                partition_by=FormResponse.organisation_id,
                order_by=(FormResponse.submitted_at.desc(), FormResponse.id.desc()),
            )
            .label("rank"),
        )
        .where(
            FormResponse.form_key == READINESS_FORM,
            FormResponse.state == ResponseState.SUBMITTED,
            FormResponse.authority_id == authority_id,
            FormResponse.organisation_id.is_not(None),
            responses_visible_to(actor),
        )
        .subquery()
    )
    rows = await session.execute(
        select(FormResponse, Organisation)
        .join(ranked, ranked.c.id == FormResponse.id)
        .join(Organisation, Organisation.id == FormResponse.organisation_id)
        .where(ranked.c.rank == 1)
        .order_by(Organisation.name, Organisation.id)
    )
    return [(response, org) for response, org in rows.all()]


async def organisations_answering(session: AsyncSession, actor: Actor, authority_id: int) -> int:
    """How many organisations have sent this authority readiness answers the actor may see."""
    return int(
        await session.scalar(
            select(func.count(func.distinct(FormResponse.organisation_id))).where(
                FormResponse.form_key == READINESS_FORM,
                FormResponse.state == ResponseState.SUBMITTED,
                FormResponse.authority_id == authority_id,
                FormResponse.organisation_id.is_not(None),
                responses_visible_to(actor),
            )
        )
        or 0
    )


async def organisations_count(session: AsyncSession) -> int:
    """How many organisations the directory has."""
    return int(await session.scalar(select(func.count()).select_from(Organisation)) or 0)


async def all_organisations(session: AsyncSession) -> list[Organisation]:
    """Every organisation in the directory, by name."""
    rows = await session.scalars(select(Organisation).order_by(Organisation.name, Organisation.id))
    return list(rows)


async def all_authorities(session: AsyncSession) -> list[Authority]:
    """Every council on Convene, by name (the exports feature keeps those the person may
    export for)."""
    return list(await session.scalars(select(Authority).order_by(Authority.name)))
