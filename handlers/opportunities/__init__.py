"""Opportunities: one `opportunities` command with a sub-command per step.

`opportunities` lists them (a council's own; for providers, the open ones that fit them).
Teams: `new`, `edit N`, `lot N` (add a lot), `lot N L` (change lot L), `route N` (the
six route questions), `preview N`, `publish N` (refused while the route's rules are broken),
`checklist N` (the route's notices and steps with due dates), `done N [step]` (record a
step done, with the notice's identifier), `undo N step`, `amend N`, `withdraw N`,
`interested N`, `questions N` (waiting to be answered), `answer N Q`, `award N` (a grant
given, for grant routes). Providers: `show N`, `interest N` (refused for a reserved
contract the organisation does not qualify for), `leave N`, `follow N` / `unfollow N`
(hear every change without saying you are interested), `calendar N`, `ask N` (a question,
answered for everyone). Open data (each published opportunity's OCDS, a council's grants
in 360Giving) is public web pages. Chat doors type them; buttons carry them as values.

Finding partners (`partners/`): `partners N`, `takedown N`, `partnering N`,
`talk P`, `agree I`, `decline I`, `introduce P Q`, `consortium N`, `invite I`.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.feature import (
    Command,
    Feature,
    HomeSection,
    NavLink,
    SubCommand,
    link_pressed,
    run_step,
)
from bot.core.reply import Button, Reply, Section
from bot.core.turn import Actor, Turn
from bot.services import Services
from handlers.forms import form_step
from handlers.opportunities import (
    awards,
    changes,
    clarifications,
    closing,
    confirming,
    digest,
    following,
    open_data,
    partners,
    providers,
    reminders,
    route,
    setup,
)
from handlers.opportunities.calendar import DeadlineCalendars
from handlers.opportunities.common import COMMAND, STATE_WORDS, deadline_text
from storage.digests import DIGEST_KIND
from storage.opportunities import (
    interested_counts,
    interested_opportunity_ids,
    open_opportunities,
    opportunities_of,
)
from storage.opportunity_tables import OpportunityState

#: Every step of `opportunities`, each declared once with what it does.
STEPS: tuple[SubCommand, ...] = (
    SubCommand("new", setup.open_setup, opens_form=True),
    SubCommand("edit", setup.open_setup, opens_form=True),
    SubCommand("lot", setup.open_lot, opens_form=True),
    SubCommand("route", form_step(route.ROUTE), opens_form=True),
    SubCommand("checklist", route.show_checklist, numbered=True),
    SubCommand("done", form_step(route.STEP_DONE), opens_form=True),
    SubCommand("undo", route.undo, numbered=True, changes_things=True, confirm=confirming.UNDO),
    SubCommand("amend", changes.amend, opens_form=True),
    SubCommand("withdraw", changes.withdraw, opens_form=True),
    SubCommand("preview", setup.preview, numbered=True),
    SubCommand(
        "publish", setup.publish, numbered=True, changes_things=True, confirm=confirming.publish
    ),
    SubCommand("show", providers.show, numbered=True),
    SubCommand(
        "interest",
        providers.register_interest,
        numbered=True,
        changes_things=True,
        confirm=confirming.interest,
    ),
    SubCommand(
        "leave",
        providers.withdraw_interest,
        numbered=True,
        changes_things=True,
        confirm=confirming.leave,
    ),
    SubCommand(
        "follow", following.follow, numbered=True, changes_things=True, confirm=confirming.FOLLOW
    ),
    SubCommand(
        "unfollow",
        following.unfollow,
        numbered=True,
        changes_things=True,
        confirm=confirming.UNFOLLOW,
    ),
    SubCommand("interested", providers.show_interest, numbered=True),
    SubCommand("calendar", providers.deadline_file, numbered=True),
    SubCommand("award", form_step(awards.AWARD), opens_form=True),
    SubCommand("ask", form_step(clarifications.ASK), opens_form=True),
    SubCommand("answer", form_step(clarifications.ANSWER), opens_form=True),
    SubCommand("questions", clarifications.questions_to_answer, numbered=True),
    SubCommand("partners", form_step(partners.POST), opens_form=True),
    SubCommand(
        "takedown",
        partners.take_down,
        numbered=True,
        changes_things=True,
        confirm=confirming.TAKEDOWN,
    ),
    SubCommand("partnering", partners.show_partners, numbered=True),
    SubCommand("talk", partners.talk, numbered=True, changes_things=True, confirm=confirming.TALK),
    SubCommand(
        "agree", partners.agree, numbered=True, changes_things=True, confirm=confirming.AGREE
    ),
    SubCommand(
        "decline", partners.decline, numbered=True, changes_things=True, confirm=confirming.DECLINE
    ),
    SubCommand("introduce", partners.introduce, changes_things=True, confirm=confirming.INTRODUCE),
    SubCommand("consortium", form_step(partners.CONSORTIUM), opens_form=True),
    SubCommand(
        "invite", partners.invite, numbered=True, changes_things=True, confirm=confirming.INVITE
    ),
)
_STEPS = {step.name: step for step in STEPS}


async def opportunities(turn: Turn, services: Services) -> list[Reply]:
    """Route `opportunities <step> …` to the step; a bare `opportunities` lists them."""
    return await run_step(COMMAND, _STEPS, turn, services, listing=providers.list_opportunities)


async def _home_sections(session: AsyncSession, actor: Actor, services: Services) -> list[Section]:
    """The team's own opportunities still in play, with how many are interested."""
    sections = await _interested_in(session, actor, services)
    if not actor.is_commissioner:
        return sections
    in_play = [
        o
        for o in await opportunities_of(session, actor.commissioner_for())
        if o.state in (OpportunityState.DRAFT, OpportunityState.OPEN)
    ]
    counts = await interested_counts(session, [o.id for o in in_play])
    for o in in_play:
        text = STATE_WORDS[OpportunityState(o.state)] + "."
        if o.state == OpportunityState.OPEN:
            interested = counts.get(o.id, 0)
            waiting = await clarifications.waiting_count(session, o)
            text = (
                f"Open. Deadline for bids: {deadline_text(o, actor.timezone)}. "
                f"{interested} interested."
                + (
                    f" {waiting} question{'s' if waiting != 1 else ''} to answer."
                    if waiting
                    else ""
                )
            )
        sections.append(
            Section(
                heading=f"Opportunity: {o.title}",
                text=text,
                buttons=[Button(label="Open", action=f"cmd.{COMMAND}", value=f"show {o.id}")],
            )
        )
    return sections


async def _interested_in(session: AsyncSession, actor: Actor, services: Services) -> list[Section]:
    """A provider's open opportunities it said it is interested in, with their deadlines."""
    organisations = actor.member_of()
    if not organisations:
        return []
    now = services.clock.now()
    interested = await interested_opportunity_ids(session, organisations)
    return [
        Section(
            heading=f"Opportunity: {o.title}",
            text="You said you are interested. Deadline for bids: "
            f"{deadline_text(o, actor.timezone)}.",
            buttons=[Button(label="See it", action=f"cmd.{COMMAND}", value=f"show {o.id}")],
        )
        for o in await open_opportunities(session)
        if o.id in interested and o.submission_deadline is not None and o.submission_deadline > now
    ]


FEATURE = Feature(
    name="opportunities",
    nav=(
        NavLink("Opportunities", COMMAND, "providers", order=20),
        NavLink("Opportunities", COMMAND, "commissioners", order=20),
    ),
    commands=(
        Command(
            COMMAND,
            "work councils want to fund or buy: see what fits you, say you're interested "
            "(councils: post one)",
            opportunities,
            subcommands=STEPS,
            teams_scopes=frozenset({"personal", "team", "groupChat"}),
        ),
    ),
    actions={"opendata.": link_pressed},
    form_purposes=(
        setup.SETUP,
        setup.LOT,
        route.ROUTE,
        route.STEP_DONE,
        changes.AMEND,
        changes.WITHDRAW,
        clarifications.ASK,
        clarifications.ANSWER,
        awards.AWARD,
        partners.POST,
        partners.CONSORTIUM,
    ),
    reminders={
        closing.CLOSE_KIND: closing.close_on_schedule,
        reminders.REMINDER_KIND: reminders.remind_before_deadline,
        DIGEST_KIND: digest.build_digests,
    },
    home_sections=(
        HomeSection(order=25, sections=_home_sections),
        HomeSection(order=26, sections=partners.home_sections),
    ),
    exports=(DeadlineCalendars,),
    pages=open_data.PAGES,
)
