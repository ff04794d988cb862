"""The service step behind a commissioner's dashboard, shared by the `dashboard` command
and the chart pictures chat doors fetch (handlers/dashboard/images.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.reply import Chart, Reply
from bot.services import Services
from handlers.dashboard import figures, views
from storage.visibility import Refusal


@dataclass(frozen=True)
class CouncilPage:
    """A commissioner's dashboard: which council (its slug), the replies, the charts."""

    council: str
    replies: list[Reply]
    charts: list[Chart]


async def council_page(
    services: Services,
    councils: set[int],
    *,
    wanted: str | None,
    service: str,
    area: str,
    now: datetime,
) -> CouncilPage | Refusal:
    """The service step behind a commissioner's dashboard: the council's figures, as
    this person may see them, in words and charts (not yet drawn). The chart pictures
    for chat are made from this too, so a picture never shows more than the page."""
    today = now.astimezone(services.tz).date()
    async with services.db.session() as session:
        authority = await figures.council_for(session, councils, wanted)
        if isinstance(authority, Refusal):
            return authority
        found_figures = await figures.council_figures(
            session,
            authority,
            today=today,
            now=now,
            service_area=service or None,
            area=area or None,
            minimum=services.settings.suppression_minimum,
        )
    chosen_council = f" for={authority.slug}" if len(councils) > 1 else ""
    replies, charts = views.council_view(
        found_figures,
        now=now,
        command=f"dashboard{chosen_council}",
        service=service,
        area=area,
        chosen=views.filters_text(found_figures, service, area),
    )
    return CouncilPage(council=authority.slug, replies=replies, charts=charts)
