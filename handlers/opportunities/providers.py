"""Finding opportunities and saying "we're interested": the list (a council's own, or the
open ones that fit a provider), one opportunity in full, registering and withdrawing
interest, the team's view of interest (in aggregate, names for the team only), and the
deadline as a calendar file.

No provider ever learns who else is interested: the only view that names organisations
is the team's, and it is checked against the council on every read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_day
from bot.core.forms import format_answer
from bot.core.reply import Button, Fact, Message, Notice, Reply, Section, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.common import load_locked
from handlers.membership import HOW_TO_JOIN
from handlers.opportunities import clarifications
from handlers.opportunities.awards import grants_section
from handlers.opportunities.calendar import calendar_offer
from handlers.opportunities.common import (
    COMMAND,
    NOT_FOUND,
    STATE_WORDS,
    Refused,
    authority_name,
    deadline_text,
    load_for_team,
    refuse,
    runs_it,
)
from handlers.opportunities.following import is_following
from handlers.opportunities.open_data import is_grant, ocds_button
from handlers.opportunities.routing import reserved_refusal
from handlers.opportunities.setup import preview_replies
from handlers.opportunities.views import WHO_SEES, full_details, is_this_for_us, provider_buttons
from handlers.organisations import profile_button
from storage import audit
from storage.forms import latest_definition
from storage.models import Organisation
from storage.opportunities import (
    interest_counts,
    interest_in,
    interest_of,
    interested_opportunity_ids,
    interested_organisations,
    lots_of,
    matches,
    open_opportunities,
    opportunities_of,
)
from storage.opportunity_tables import (
    InterestState,
    Opportunity,
    OpportunityInterest,
    OpportunityState,
)


def _is_open(opportunity: Opportunity, services: Services) -> bool:
    deadline = opportunity.submission_deadline
    return (
        opportunity.state == OpportunityState.OPEN
        and deadline is not None
        and services.clock.now() < deadline
    )


async def list_opportunities(turn: Turn, services: Services) -> list[Reply]:
    """Commissioners see their council's opportunities; providers see the open ones that
    fit their work and places, marked when they said they are interested."""
    assert turn.actor is not None
    actor = turn.actor
    replies: list[Reply] = []
    async with services.db.session() as session:
        if actor.is_commissioner:
            mine = await opportunities_of(session, actor.commissioner_for())
            replies.append(
                Message(
                    title="Your council's opportunities",
                    text=None if mine else "You have not posted one yet.",
                    sections=[
                        Section(
                            heading=o.title,
                            text=f"{STATE_WORDS[OpportunityState(o.state)]}. Deadline for "
                            f"bids: {deadline_text(o, actor.timezone)}.",
                            buttons=[
                                Button(label="Open", action=f"cmd.{COMMAND}", value=f"show {o.id}")
                            ],
                        )
                        for o in mine[:20]
                    ],
                    buttons=[
                        Button(
                            label="Post an opportunity",
                            action=f"cmd.{COMMAND}",
                            value="new",
                            style="primary",
                        )
                    ],
                )
            )
        organisations = actor.member_of()
        if organisations or not actor.is_commissioner:
            fitting = [
                o
                for o in await open_opportunities(session)
                if _is_open(o, services) and await matches(session, o, organisations)
            ]
            sections = []
            ours = await interested_opportunity_ids(session, organisations)
            for o in fitting[:20]:
                interested = o.id in ours
                sections.append(
                    Section(
                        heading=o.title,
                        text=("You said you are interested. " if interested else "")
                        + f"Deadline for bids: {deadline_text(o, actor.timezone)}.",
                        buttons=[
                            Button(label="See it", action=f"cmd.{COMMAND}", value=f"show {o.id}")
                        ],
                    )
                )
            replies.append(
                Message(
                    title="Opportunities that fit your work",
                    text="Councils want organisations like yours to do this work."
                    if fitting
                    else "There are no open opportunities that fit your work and areas right "
                    "now. We will tell you when there is one. Check your profile says what "
                    f"you do and where: {command_ref('profile', 'your profile')}.",
                    sections=sections,
                )
            )
    return replies


async def show(turn: Turn, services: Services, opportunity_id: int | None) -> list[Reply]:
    """One opportunity: the card, then the full details. Drafts are for their team only."""
    assert turn.actor is not None
    actor = turn.actor
    async with services.db.session() as session:
        opportunity = await session.get(Opportunity, opportunity_id) if opportunity_id else None
        team = opportunity is not None and runs_it(actor, opportunity)
        if opportunity is None or (opportunity.state == OpportunityState.DRAFT and not team):
            return [Notice(text=NOT_FOUND, level="warning")]
        if opportunity.state == OpportunityState.DRAFT:
            return await preview_replies(session, turn, services, opportunity)
        lots = await lots_of(session, opportunity.id)
        council = await authority_name(session, opportunity)
        open_data = ocds_button(services.settings, turn.door, opportunity)
        if opportunity.state == OpportunityState.WITHDRAWN:
            return [
                Message(
                    title=f"{opportunity.title} (withdrawn)",
                    text=f"{council} withdrew it. Their reason: {opportunity.withdrawal_reason}",
                    buttons=[open_data],
                )
            ]
        open_now = _is_open(opportunity, services)
        buttons: list[Button] = []
        status: list[Section] = []
        if team:
            o = opportunity.id
            waiting = await clarifications.waiting_count(session, opportunity)
            buttons = [
                Button(label="Who is interested", action=f"cmd.{COMMAND}", value=f"interested {o}"),
                Button(label="Checklist", action=f"cmd.{COMMAND}", value=f"checklist {o}"),
                Button(
                    label=f"Questions to answer ({waiting})",
                    action=f"cmd.{COMMAND}",
                    value=f"questions {o}",
                ),
                Button(label="Send a change", action=f"cmd.{COMMAND}", value=f"amend {o}"),
                Button(
                    label="Withdraw it",
                    action=f"cmd.{COMMAND}",
                    value=f"withdraw {o}",
                    style="danger",
                ),
            ]
            if is_grant(opportunity):
                buttons.append(
                    Button(label="Record a grant", action=f"cmd.{COMMAND}", value=f"award {o}")
                )
        elif open_now:
            buttons = provider_buttons(opportunity)
            for org in actor.member_of():
                row = await interest_of(session, opportunity.id, org)
                if row is not None and row.state == InterestState.INTERESTED:
                    withdraw = Button(
                        label="We're no longer interested",
                        action=f"cmd.{COMMAND}",
                        value=f"leave {opportunity.id}",
                    )
                    buttons[0] = withdraw
                    # Said where people look first: what they did, and how to undo it.
                    status.append(
                        Section(
                            heading="Your interest",
                            text="You said you are interested on "
                            f"{format_day(row.registered_at, actor.timezone)}. The council's "
                            "team can see that. You can withdraw it while it is open.",
                            buttons=[withdraw.model_copy(update={"label": "Withdraw"})],
                        )
                    )
                    break
            followed = await is_following(session, opportunity.id, actor.person_id)
            buttons.append(
                Button(
                    label="Stop following" if followed else "Follow for updates",
                    action=f"cmd.{COMMAND}",
                    value=f"{'unfollow' if followed else 'follow'} {opportunity.id}",
                )
            )
            if clarifications.asking_open(opportunity, services.clock.now(), actor.timezone):
                buttons.append(
                    Button(
                        label="Ask a question",
                        action=f"cmd.{COMMAND}",
                        value=f"ask {opportunity.id}",
                    )
                )
        if opportunity.partners_wanted and (team or open_now):
            # Finding partners (handlers/opportunities/partners/): posts for providers,
            # counts for the team.
            buttons.append(
                Button(
                    label="Partners" if team else "Find partners",
                    action=f"cmd.{COMMAND}",
                    value=f"partnering {opportunity.id}",
                )
            )
        grants = await grants_section(session, opportunity) if team else []
        return [
            Message(
                title=opportunity.title,
                text=f"From {council}. " + ("Open for bids." if open_now else "Closed for bids."),
                sections=[
                    *status,
                    is_this_for_us(opportunity, lots, council, actor.timezone),
                    *full_details(opportunity, lots, actor.timezone),
                    *grants,
                    *await clarifications.questions_and_answers(
                        session, actor, opportunity, team=team
                    ),
                ],
                buttons=[*buttons, open_data],
                who_sees=WHO_SEES,
            )
        ]


# --- interest --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interest:
    opportunity: Opportunity
    organisation: Organisation
    state: InterestState
    already: bool = False


class NotAProvider(Refused):
    """Only a provider organisation's members can say it is interested."""


class NotEligible(Refused):
    """A contract reserved (s.32, s.33) for organisations this one is not, by its profile."""


class NotOpen(Refused):
    """The opportunity is missing, a draft, withdrawn or past its deadline."""


async def set_interest(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    opportunity_id: int | None,
    state: InterestState,
) -> Interest:
    """A provider says it is interested, or no longer. Once per organisation: saying it
    twice changes nothing. Raises `NotAProvider` or `NotOpen` (audited) first."""
    assert turn.actor is not None
    attempted = "interest" if state == InterestState.INTERESTED else "leave"
    organisations = sorted(turn.actor.member_of())
    # Locked, so a double press waits for the first and then finds its row.
    opportunity = await load_locked(session, Opportunity, opportunity_id)
    if not organisations:
        await refuse(session, turn, opportunity, attempted, "not a provider")
        raise NotAProvider(HOW_TO_JOIN)
    if opportunity is None or opportunity.state == OpportunityState.DRAFT:
        raise NotOpen(NOT_FOUND)
    if not _is_open(opportunity, services):
        await refuse(session, turn, opportunity, attempted, "not open")
        raise NotOpen(f"{opportunity.title} is not open for bids now, so nothing was changed.")
    organisation = await session.get(Organisation, organisations[0])
    assert organisation is not None
    if state == InterestState.INTERESTED:
        reserved = await reserved_refusal(session, opportunity, organisation)
        if reserved is not None:
            await refuse(session, turn, opportunity, attempted, "reserved contract")
            raise NotEligible(reserved)
    now = services.clock.now()
    row = await interest_of(session, opportunity.id, organisation.id)
    if (row is not None and row.state == state) or (
        row is None and state == InterestState.WITHDRAWN
    ):
        await refuse(session, turn, opportunity, attempted, f"already {state}")
        return Interest(opportunity, organisation, state, already=True)
    if row is None:
        row = OpportunityInterest(
            opportunity_id=opportunity.id,
            organisation_id=organisation.id,
            registered_at=now,
        )
        session.add(row)
    row.person_id = turn.actor.person_id
    row.state = state
    if state == InterestState.INTERESTED:
        row.registered_at = now
        row.withdrawn_at = None
    else:
        row.withdrawn_at = now
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        f"opportunity.{'interested' if state == InterestState.INTERESTED else 'not_interested'}",
        object_type="opportunity",
        object_id=opportunity.id,
        authority_id=opportunity.authority_id,
        organisation_id=organisation.id,
    )
    return Interest(opportunity, organisation, state)


def interest_replies(interest: Interest, turn: Turn) -> list[Reply]:
    assert turn.actor is not None
    o = interest.opportunity
    if interest.state == InterestState.INTERESTED:
        text = (
            f"{interest.organisation.name} is already down as interested in {o.title}."
            if interest.already
            else f"Thank you. {interest.organisation.name} is down as interested in {o.title}."
        )
        return [
            Notice(
                text=f"{text} Only the council's commissioning team sees this; other "
                "providers never see who is interested. We will tell you about every change. "
                f"The deadline for bids is {deadline_text(o, turn.actor.timezone)}. "
                "You can change your mind any time.",
                level="info" if interest.already else "success",
                buttons=[
                    Button(
                        label="Add the deadline to my calendar",
                        action=f"cmd.{COMMAND}",
                        value=f"calendar {o.id}",
                    ),
                    Button(
                        label="We're no longer interested",
                        action=f"cmd.{COMMAND}",
                        value=f"leave {o.id}",
                    ),
                ],
            )
        ]
    return [
        Notice(
            text=(
                f"{interest.organisation.name} was not down as interested in {o.title}, so "
                "nothing changed."
                if interest.already
                else f"Done. {interest.organisation.name} is no longer down as interested in "
                f"{o.title}. That is fine: you can say you are interested again before the "
                "deadline."
            ),
            level="info",
        )
    ]


async def register_interest(
    turn: Turn, services: Services, opportunity_id: int | None
) -> list[Reply]:
    """`opportunities interest 4`."""
    return await _interest(turn, services, opportunity_id, InterestState.INTERESTED)


async def withdraw_interest(
    turn: Turn, services: Services, opportunity_id: int | None
) -> list[Reply]:
    """`opportunities leave 4`."""
    return await _interest(turn, services, opportunity_id, InterestState.WITHDRAWN)


async def _interest(
    turn: Turn, services: Services, opportunity_id: int | None, state: InterestState
) -> list[Reply]:
    async with services.db.session() as session:
        try:
            interest = await set_interest(session, turn, services, opportunity_id, state)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    return interest_replies(interest, turn)


@dataclass(frozen=True)
class InterestSummary:
    """Interest in one opportunity, for its team: counts by size and kind, and names."""

    opportunity: Opportunity
    by_size: list[tuple[str, int]]
    by_kind: list[tuple[str, int]]
    names: list[str]
    withdrew: int
    #: Short names, in the order of `names`: each name links to its profile.
    slugs: list[str] = field(default_factory=list)


async def interest_summary(
    session: AsyncSession, turn: Turn, opportunity_id: int | None
) -> InterestSummary:
    """Only the opportunity's own team: raises `NotTheTeam` (audited) for anyone else."""
    opportunity = await load_for_team(session, turn, opportunity_id, "interested")
    interested = await interested_organisations(session, opportunity.id)
    withdrew = sum(
        1
        for row in await interest_in(session, opportunity.id)
        if row.state == InterestState.WITHDRAWN
    )
    profile = await latest_definition(session, "organisation_profile")

    def labelled(attribute: str) -> list[tuple[str, int]]:
        counts = interest_counts(interested, attribute)
        field = profile.field(attribute) if profile else None
        return sorted(
            (
                (format_answer(field, value) if field and value else "Not given", count)
                for value, count in counts.items()
            ),
            key=lambda pair: (-pair[1], pair[0]),
        )

    return InterestSummary(
        opportunity,
        labelled("income_band"),
        labelled("legal_form"),
        [org.name for org in interested],
        withdrew,
        [org.slug for org in interested],
    )


#: Links to profiles under the names; past this many the names alone are listed (a chat
#: message has room for only so many buttons).
MAX_PROFILE_LINKS = 20


def summary_replies(summary: InterestSummary) -> list[Reply]:
    count = len(summary.names)
    return [
        Message(
            title=f"Who is interested: {summary.opportunity.title}",
            text=f"{count} organisation{'s are' if count != 1 else ' is'} interested"
            + (f"; {summary.withdrew} withdrew" if summary.withdrew else "")
            + ". This is not a shortlist: anyone can bid.",
            sections=[
                Section(
                    heading="By size (yearly income)",
                    facts=[Fact(label=label, value=str(n)) for label, n in summary.by_size],
                ),
                Section(
                    heading="By kind of organisation",
                    facts=[Fact(label=label, value=str(n)) for label, n in summary.by_kind],
                ),
                Section(
                    heading="Names (only your team sees these)",
                    text=", ".join(summary.names) or "None yet.",
                    buttons=[
                        profile_button(name, slug)
                        for name, slug in zip(summary.names, summary.slugs, strict=False)
                    ][:MAX_PROFILE_LINKS],
                ),
            ],
            who_sees="Only your council's commissioning team sees this. Providers never see "
            "who else is interested.",
        )
    ]


async def show_interest(turn: Turn, services: Services, opportunity_id: int | None) -> list[Reply]:
    """`opportunities interested 4`: the team's view."""
    async with services.db.session() as session:
        try:
            summary = await interest_summary(session, turn, opportunity_id)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    return summary_replies(summary)


async def deadline_file(turn: Turn, services: Services, opportunity_id: int | None) -> list[Reply]:
    """`opportunities calendar 4`: the deadline as a calendar file, for this person."""
    assert turn.actor is not None
    async with services.db.session() as session:
        opportunity = await session.get(Opportunity, opportunity_id) if opportunity_id else None
        if opportunity is None or not _is_open(opportunity, services):
            return [Notice(text=NOT_FOUND, level="warning")]
        return [calendar_offer(services.settings, turn.door, turn.actor.person_id, opportunity)]
