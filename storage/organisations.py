"""Provider organisations: profiles and the directory query."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.areas import overlapping
from storage.models import Organisation, OrganisationAreaServed, OrganisationServiceArea


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:70] or "organisation"


async def unique_slug(session: AsyncSession, name: str) -> str:
    base = slugify(name)
    slug, n = base, 1
    while await session.scalar(select(Organisation.id).where(Organisation.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    return slug


def set_service_areas(organisation: Organisation, values: Iterable[str]) -> None:
    organisation.service_areas = [OrganisationServiceArea(value=v) for v in dict.fromkeys(values)]


def set_areas_served(organisation: Organisation, values: Iterable[str]) -> None:
    """The places an organisation serves, as GSS codes (the area question's answer)."""
    organisation.areas_served = [
        OrganisationAreaServed(value=v[:80]) for v in dict.fromkeys(values)
    ]


@dataclass(frozen=True)
class DirectoryFilter:
    """What a commissioner filters the directory by. Blank means any; `area` is a GSS code,
    and matches organisations serving any place that shares ground with it."""

    service_area: str = ""
    area: str = ""
    legal_form: str = ""
    income_band: str = ""
    led_by_and_for: str = ""
    text: str = ""


async def search_directory(
    session: AsyncSession, criteria: DirectoryFilter, *, limit: int = 200
) -> Sequence[Organisation]:
    """Organisations matching every given filter, by name. Filtering happens in SQL."""
    query = select(Organisation)
    if criteria.service_area:
        query = query.where(
            Organisation.id.in_(
                select(OrganisationServiceArea.organisation_id).where(
                    OrganisationServiceArea.value == criteria.service_area
                )
            )
        )
    if criteria.area:
        query = query.where(
            Organisation.id.in_(
                select(OrganisationAreaServed.organisation_id).where(
                    OrganisationAreaServed.value.in_(sorted(overlapping([criteria.area])))
                )
            )
        )
    if criteria.legal_form:
        query = query.where(Organisation.legal_form == criteria.legal_form)
    if criteria.income_band:
        query = query.where(Organisation.income_band == criteria.income_band)
    if criteria.led_by_and_for:
        query = query.where(Organisation.led_by_and_for == criteria.led_by_and_for)
    if criteria.text:
        query = query.where(func.lower(Organisation.name).contains(criteria.text.lower()))
    result = await session.scalars(query.order_by(Organisation.name).limit(limit))
    return result.all()


async def all_areas_served(session: AsyncSession) -> list[str]:
    """Every GSS code some organisation serves (the directory's area filter)."""
    rows = await session.scalars(
        select(OrganisationAreaServed.value).distinct().order_by(OrganisationAreaServed.value)
    )
    return list(rows.all())
