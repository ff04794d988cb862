"""`dashboard`: "where are we?" on one page.

A commissioner sees their council's engagements, opportunities, agreements, feedback from
people who use services and readiness, filtered by service area and area, with charts
drawn on the server. A provider sees its own small dashboard: its opportunities,
engagements, agreements and check-ins due. Every number links to the list behind it.

The figures come from `storage.dashboard`, added up in SQL in a small fixed number of
queries (bench/dashboard.py counts them); the service step is `figures`, the words
`views`, the pictures `charts`.
"""

from __future__ import annotations

from bot.core.feature import Command, Feature
from bot.core.reply import Notice, Reply, command_ref
from bot.core.turn import Door, Turn, parse_command
from bot.services import Services
from handlers.dashboard import digest, digest_day, figures, images, views
from handlers.dashboard.page import council_page
from handlers.directory import _area_code as typed_area_code
from storage.commissioner_digests import COMMISSIONER_DIGEST_KIND, ensure_commissioner_digest_job
from storage.visibility import Refusal

NOT_FOR_YOU = (
    "The dashboard is for council commissioning teams and for providers. "
    f"See what you can do: {command_ref('help', 'help')}."
)


def _args(turn: Turn) -> dict[str, str]:
    _, typed = parse_command(turn.text or "")
    return {**typed, **turn.args}


async def dashboard(turn: Turn, services: Services) -> list[Reply]:
    """The commissioner's dashboard, or the provider's (`view=provider` for someone who is
    both)."""
    assert turn.actor is not None
    if (turn.text or "").split()[1:2] == [digest_day.SUB]:
        return await digest_day.digest(turn, services)
    args = _args(turn)
    councils = turn.actor.commissioner_for()
    organisations = sorted(turn.actor.member_of())
    now = services.clock.now()
    today = now.astimezone(services.tz).date()
    if organisations and (not councils or args.get("view") == "provider"):
        async with services.db.session() as session:
            found = await figures.provider_dashboard(
                session, organisations[0], today=today, now=now
            )
        if isinstance(found, Refusal):
            return [Notice(text=found.message, level="warning")]
        return views.provider_view(found)
    if not councils:
        return [Notice(text=NOT_FOR_YOU, level="warning")]
    service = args.get("service", "")
    area = typed_area_code(args.get("area", ""))
    if area and views.known_place(area) is None:
        return [
            Notice(
                text=f"We could not find one place called '{area[:40]}'. Choose a place from "
                "the list, or type a council or county name, like Leeds.",
                level="warning",
            )
        ]
    page = await council_page(
        services, councils, wanted=args.get("for"), service=service, area=area, now=now
    )
    if isinstance(page, Refusal):
        return [Notice(text=page.message, level="warning")]
    await views.drawn(page.charts)
    async with services.db.session() as session:
        # The weekly digest's hourly job, started by the first commissioner to look.
        await ensure_commissioner_digest_job(session, now)
    if turn.door in (Door.SLACK, Door.TEAMS):
        # Chat shows a PNG fetched by the platform from a short-lived signed address.
        for chart in page.charts:
            chart.chat_image_url = images.chat_image_url(
                services.settings,
                images.ChartTicket(
                    person_id=turn.actor.person_id,
                    council=page.council,
                    key=chart.key,
                    service=service,
                    area=area,
                ),
            )
    return page.replies


FEATURE = Feature(
    name="dashboard",
    exports=(images.ChartImages,),
    reminders={COMMISSIONER_DIGEST_KIND: digest.build_commissioner_digests},
    commands=(
        Command(
            "dashboard",
            "where things are: engagements, opportunities, agreements, feedback, readiness",
            dashboard,
            # Councils and providers each see their own; the handler decides which. Teams'
            # personal command list is full (ten), so it is listed for teams and group
            # chats, where, being private, the router answers it with a way to a personal
            # chat or the web, never with the figures.
            teams_scopes=frozenset({"team", "groupChat"}),
            private=True,
        ),
    ),
)
