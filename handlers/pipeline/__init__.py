"""The pipeline (issue 14): what a council plans to fund or buy in the next 18 months, shown
to providers early as advance notice (seed 003), and exported for a UK1 pipeline notice.

`pipeline` lists it: the team's own entries (with what providers see, and the UK1 warning),
or, for providers, every council's published plans. Team steps: `plan` (a new entry),
`edit N`, `remove N`, `publish` (show providers the entries within the window), `draft N`
(a draft opportunity filled in from the entry). The UK1 file is a web download for the
team (`/pipeline/{council}/uk1.csv` or `.json`), linked from the list on every door.
"""

from __future__ import annotations

from datetime import date

from bot.core.feature import Command, Feature, SubCommand, link_pressed, run_step
from bot.core.law import pipeline_ends
from bot.core.reply import Button, Notice, Reply
from bot.core.turn import Door, Turn
from bot.services import Services
from handlers.engagements.common import Refused
from handlers.forms import form_step
from handlers.opportunities.setup import preview_replies
from handlers.pipeline import confirming, planning
from handlers.pipeline.common import COMMAND, today
from handlers.pipeline.uk1 import PAGES
from handlers.pipeline.views import provider_pipeline, team_pipeline, uk1_warning
from storage.models import Authority
from storage.pipeline import entries_of, last_publication, published_entries


def _links(turn: Turn, services: Services) -> str:
    """Where web links point from this door: the same site on the web, the full address
    from chat."""
    return "" if turn.door == Door.WEB else services.settings.base_url


async def list_pipeline(turn: Turn, services: Services) -> list[Reply]:
    """The team's pipeline for each council it plans for; providers' advance notice."""
    assert turn.actor is not None
    actor = turn.actor
    on: date = today(services)
    replies: list[Reply] = []
    async with services.db.session() as session:
        for authority_id in sorted(actor.commissioner_for()):
            authority = await session.get(Authority, authority_id)
            if authority is None:
                continue
            replies += team_pipeline(
                authority,
                await entries_of(session, {authority_id}),
                await last_publication(session, authority_id),
                on,
                _links(turn, services),
            )
        if actor.member_of() or not actor.is_commissioner:
            replies.append(
                provider_pipeline(await published_entries(session, on, pipeline_ends(on)))
            )
    return replies


plan = form_step(planning.FORM)


async def remove(turn: Turn, services: Services, entry_id: int | None) -> list[Reply]:
    """`pipeline remove 4`."""
    async with services.db.session() as session:
        try:
            removed = await planning.remove_entry(session, turn, entry_id)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    seen = " Providers no longer see it." if removed.was_published else " Providers never saw it."
    return [
        Notice(
            text=f"Removed from your pipeline: {removed.title}.{seen}",
            level="success",
            buttons=[Button(label="See the pipeline", action=f"cmd.{COMMAND}")],
        )
    ]


async def publish(turn: Turn, services: Services) -> list[Reply]:
    """`pipeline publish [for=council]`."""
    async with services.db.session() as session:
        try:
            published = await planning.publish_pipeline(session, turn, services)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    count = len(published.shown)
    text = (
        f"Published. Every provider can now see {count} planned "
        f"{'opportunity' if count == 1 else 'opportunities'} from {published.authority.name}, "
        "with a note that plans can change. Nobody is sent a message: providers find it "
        "when they look at the pipeline."
    )
    if published.held_back:
        text += (
            f" {len(published.held_back)} more {'is' if len(published.held_back) == 1 else 'are'}"
            " not shown: too far ahead, or the expected date has passed."
        )
    replies: list[Reply] = [
        Notice(
            text=text,
            level="success",
            buttons=[Button(label="See the pipeline", action=f"cmd.{COMMAND}")],
        )
    ]
    warning = uk1_warning(published.authority, list(published.shown), today(services))
    return replies if warning is None else [*replies, warning]


async def draft(turn: Turn, services: Services, entry_id: int | None) -> list[Reply]:
    """`pipeline draft 4`: a draft opportunity filled in from entry 4."""
    async with services.db.session() as session:
        try:
            opportunity = await planning.draft_from_entry(session, turn, services, entry_id)
        except planning.AlreadyDrafted as already:
            return [
                Notice(
                    text=already.message,
                    level=already.level,
                    buttons=[
                        Button(
                            label="Open it",
                            action="cmd.opportunities",
                            value=f"show {already.opportunity_id}",
                        )
                    ],
                )
            ]
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
        preview = await preview_replies(session, turn, services, opportunity)
    return [
        Notice(
            text=f"We made a draft opportunity from your plan, number {opportunity.id}. It "
            "is not sent to anyone yet. Press Change it to finish it: it needs the kinds of "
            "work, a deadline for bids and how to apply.",
            level="success",
        ),
        *preview,
    ]


#: Every step of `pipeline`, each declared once with what it does.
STEPS: tuple[SubCommand, ...] = (
    SubCommand("plan", plan, opens_form=True),
    SubCommand("edit", plan, opens_form=True),
    SubCommand("remove", remove, numbered=True, changes_things=True, confirm=confirming.REMOVE),
    SubCommand("publish", publish, changes_things=True, confirm=confirming.PUBLISH),
    SubCommand("draft", draft, numbered=True, changes_things=True, confirm=confirming.DRAFT),
)
_STEPS = {step.name: step for step in STEPS}


async def pipeline(turn: Turn, services: Services) -> list[Reply]:
    """Route `pipeline <step> …` to the step; a bare `pipeline` lists it."""
    return await run_step(COMMAND, _STEPS, turn, services, listing=list_pipeline)


FEATURE = Feature(
    name="pipeline",
    commands=(
        Command(
            COMMAND,
            "work councils plan to fund or buy in the next 18 months (councils: plan yours)",
            pipeline,
            subcommands=STEPS,
            teams_scopes=frozenset({"team", "groupChat"}),
        ),
    ),
    actions={"pipeline.": link_pressed},
    form_purposes=(planning.FORM,),
    pages=PAGES,
)
