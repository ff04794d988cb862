"""Finding partners for an opportunity, with both sides' consent before any name is shared.

- `partners N`: a provider the opportunity fits posts "looking for partners" (what it
  brings, what it needs, where, which lot), or changes its post; `takedown N` takes it down.
- `partnering N`: what this person may see. Providers it fits: the other posts without
  names (what is brought and needed, where, the organisation's size and kind), requests to
  talk waiting for their answer, and the partners they were introduced to, with contact
  details. A local infrastructure organisation (CVS) serving its places: every post, with
  names, to broker. The commissioning team: counts only, and consortia once confirmed.
- `talk P`: "we'd like to talk" about post P. `agree I` / `decline I`: an answer to
  introduction I. Names and contact details go to both only when both said yes, and each
  is told on their own door through the outbox. A no is quiet: nobody learns who said it.
- `introduce P Q`: a CVS suggests posts P and Q talk; both must still say yes.
- `consortium N`: an introduced provider says its part in a consortium (role, whether it
  leads, its share); `invite I` asks the partner of introduction I to join. When every
  member has said its part and one leads, it is confirmed, and the team is told.

The rule for names is `storage.partners`' (one place); every view here goes through it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import FormDefinition, format_answer
from bot.core.reply import Button, Fact, Message, Notice, Reply, ReplyList, Section
from bot.core.turn import Actor, Turn
from bot.services import Services
from handlers.engagements.common import load_locked
from handlers.forms import FormPurpose, Subject, form_view, open_form
from handlers.opportunities.common import COMMAND, Refused, number_at, refuse, runs_it
from handlers.opportunities.views import areas_text
from storage import audit
from storage.engagements import commissioning_team, matching_area_codes, members_of
from storage.forms import latest_definition
from storage.models import FormResponse, Organisation, ResponseState
from storage.opportunities import lots_of, matches
from storage.opportunity_tables import Opportunity, OpportunityState
from storage.outbox import send_to_people
from storage.partner_tables import (
    Answer,
    Consortium,
    ConsortiumMember,
    ConsortiumState,
    IntroductionState,
    PartnerIntroduction,
    PartnerPost,
    PostState,
)
from storage.partners import (
    PartnerCounts,
    answer_of,
    brokered_by,
    brokers_for,
    confirmed_consortia,
    introduction_between,
    introductions_of,
    members_of_consortium,
    membership_in,
    names_shared,
    open_posts,
    other_side,
    pair,
    partner_counts,
    post_of,
    side_of,
    waiting_for,
)
from storage.visibility import Refusal

NOT_FOUND = f"We couldn't find that opportunity. Type {COMMAND} to see the open ones."
ONLY_FITTING = (
    "Only providers this opportunity fits, and the local support organisation for its "
    "area, can see partner posts. Nothing was changed."
)
NO_SUCH_POST = (
    f"We couldn't find that post, or it was taken down. Type {COMMAND} partnering and the "
    "opportunity's number to see the posts."
)
NO_SUCH_REQUEST = "We couldn't find that request to talk. Nothing was changed."


class NotForYou(Refused):
    """The opportunity is missing, or this person has no place among its partner posts."""


class NotOpen(Refused):
    """Posts are made, and talks asked for, only while the opportunity is open for bids."""


class AlreadyDone(Refused):
    level = "info"


def _is_open(opportunity: Opportunity, services: Services) -> bool:
    deadline = opportunity.submission_deadline
    return (
        opportunity.state == OpportunityState.OPEN
        and deadline is not None
        and services.clock.now() < deadline
    )


def _partnering(opportunity_id: int) -> Button:
    return Button(
        label="See partner posts", action=f"cmd.{COMMAND}", value=f"partnering {opportunity_id}"
    )


# --- who is acting -------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """How one person stands towards an opportunity's partner posts."""

    opportunity: Opportunity
    #: Their provider organisation that the opportunity fits (None: none fits).
    organisation: Organisation | None
    #: Their infrastructure organisations serving its places (they broker, and see names).
    brokers: list[Organisation]
    #: They are in the commissioning team of the council that posted it.
    team: bool


async def fitting_organisation(
    session: AsyncSession, turn: Turn, opportunity: Opportunity
) -> Organisation | None:
    """The first of this person's organisations the opportunity fits (as announcing does)."""
    assert turn.actor is not None
    for organisation_id in sorted(turn.actor.member_of()):
        if await matches(session, opportunity, {organisation_id}):
            return await session.get(Organisation, organisation_id)
    return None


async def seat_for(
    session: AsyncSession, turn: Turn, opportunity_id: int | None, attempted: str
) -> Seat:
    """Who this person is to the opportunity's posts. Anyone with no place is refused, on
    the record, with the same words whether or not the opportunity exists."""
    assert turn.actor is not None
    opportunity = await session.get(Opportunity, opportunity_id) if opportunity_id else None
    if opportunity is None or opportunity.state == OpportunityState.DRAFT:
        await refuse(session, turn, None, attempted, "not found")
        raise NotForYou(NOT_FOUND)
    team = runs_it(turn.actor, opportunity)
    organisation = await fitting_organisation(session, turn, opportunity)
    brokers = await brokers_for(session, opportunity, turn.actor.member_of())
    if not (team or organisation or brokers):
        await refuse(session, turn, opportunity, attempted, "no place among partner posts")
        raise NotForYou(ONLY_FITTING)
    return Seat(opportunity, organisation, brokers, team)


# --- the anonymous summary -------------------------------------------------------------------


async def _about(session: AsyncSession) -> Callable[[Organisation], list[Fact]]:
    """A function giving an organisation's size and kind in the profile's own words (never
    its name): what a provider may know of another before both say yes."""
    profile = await latest_definition(session, "organisation_profile")

    def words(organisation: Organisation) -> list[Fact]:
        facts = []
        for attribute, label in (("legal_form", "Kind"), ("income_band", "Size (yearly income)")):
            value = getattr(organisation, attribute)
            found = profile.field(attribute) if profile else None
            facts.append(
                Fact(
                    label=label,
                    value=format_answer(found, value) if found and value else "Not given",
                )
            )
        return facts

    return words


def _post_facts(post: PartnerPost, opportunity: Opportunity, who: str = "They") -> list[Fact]:
    facts = [
        Fact(label=f"{who} bring", value=post.brings),
        Fact(label=f"{who} need", value=post.needs),
        Fact(label="Where", value=areas_text(list(post.area_served or opportunity.area_served))),
    ]
    if post.lot_number is not None:
        facts.append(Fact(label="Lot", value=str(post.lot_number)))
    return facts


def _contact_facts(organisation: Organisation) -> list[Fact]:
    return [
        Fact(label="Organisation", value=organisation.name),
        Fact(label="Contact", value=organisation.contact_name or "Not given"),
        Fact(label="Email", value=organisation.contact_email or "Not given"),
        Fact(label="Phone", value=organisation.contact_phone or "Not given"),
    ]


async def _tell_organisations(
    session: AsyncSession,
    organisation_ids: list[int],
    message: Message,
    key: str,
    services: Services,
) -> None:
    """One message to every member of these organisations, each on their own door."""
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    people = members_of(select(Organisation.id).where(Organisation.id.in_(organisation_ids)))
    await send_to_people(session, people, payload, key, not_before=services.clock.now())


# --- posting ---------------------------------------------------------------------------------


def _back_to_draft(response: FormResponse) -> None:
    """A post refused on sending stays a draft, so the person can fix it and send again."""
    response.state = ResponseState.DRAFT
    response.submitted_at = None


def _opportunity_in(topic: str | None) -> int | None:
    parts = (topic or "").split(":")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


async def _post_problems(
    session: AsyncSession, opportunity: Opportunity, answers: dict[str, Any]
) -> dict[str, str]:
    """A lot the opportunity does not have, or places it does not cover, by field."""
    problems: dict[str, str] = {}
    lot = answers.get("lot")
    numbers = [found.number for found in await lots_of(session, opportunity.id)]
    if lot is not None and int(lot) not in numbers:
        problems["lot"] = f"{opportunity.title} has no lot {lot}." + (
            " Its lots are " + ", ".join(str(n) for n in numbers) + "."
            if numbers
            else " It has no lots: leave this blank."
        )
    areas = set(answers.get("area_served") or [])
    covered = set(matching_area_codes(list(opportunity.area_served)))
    if areas and covered and not areas & covered:
        problems["area_served"] = (
            f"{opportunity.title} is for {areas_text(list(opportunity.area_served))}. Choose "
            "a place there, or leave this blank."
        )
    return problems


class PostForm(FormPurpose):
    """`opportunities partners 4`: a provider's "looking for partners" post, new or changed."""

    form_key = "partner_post"
    command = COMMAND
    confirms_itself = True

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        opportunity_id = number_at(turn, 1)
        if opportunity_id is None:
            return Refusal(
                f"Which opportunity? Type {COMMAND} partners and its number, for example "
                f"{COMMAND} partners 4."
            )
        opportunity = await session.get(Opportunity, opportunity_id)
        if opportunity is None or opportunity.state == OpportunityState.DRAFT:
            await refuse(session, turn, None, "partners", "not found")
            return Refusal(NOT_FOUND)
        organisation = await fitting_organisation(session, turn, opportunity)
        if organisation is None:
            await refuse(session, turn, opportunity, "partners", "not a fitting provider")
            return Refusal(
                "Only providers this opportunity fits can post that they are looking for "
                "partners. Check your profile says what you do and where: type profile."
            )
        if not _is_open(opportunity, services):
            await refuse(session, turn, opportunity, "partners", "not open")
            return Refusal(f"{opportunity.title} is not open for bids now, so you can't post.")
        return Subject(
            organisation.id, None, label=organisation.name, topic=f"partners:{opportunity.id}"
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        opportunity_id = _opportunity_in(subject.topic)
        if opportunity_id is None or subject.organisation_id is None:
            return {}
        post = await post_of(session, opportunity_id, subject.organisation_id)
        if post is None:
            return {}
        return {
            "brings": post.brings,
            "needs": post.needs,
            "area_served": list(post.area_served) or None,
            "lot": post.lot_number,
        }

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and response.organisation_id is not None
        opportunity = await load_locked(session, Opportunity, _opportunity_in(response.topic))
        assert opportunity is not None
        if not _is_open(opportunity, services):
            await refuse(session, turn, opportunity, "partners", "not open")
            return [
                Notice(
                    text=f"{opportunity.title} closed while you were writing, so your post "
                    "was not saved.",
                    level="warning",
                )
            ]
        answers = response.answers
        problems = await _post_problems(session, opportunity, answers)
        if problems:
            await refuse(session, turn, opportunity, "partners", " ".join(problems.values()))
            _back_to_draft(response)
            return [form_view(definition, response, 0, errors=problems)]
        now = services.clock.now()
        post = await post_of(session, opportunity.id, response.organisation_id)
        changed = post is not None and post.state == PostState.OPEN
        if post is None:
            post = PartnerPost(
                opportunity_id=opportunity.id,
                organisation_id=response.organisation_id,
                created_at=now,
            )
            session.add(post)
        post.posted_by = turn.actor.person_id
        post.brings = answers["brings"]
        post.needs = answers["needs"]
        post.area_served = list(answers.get("area_served") or [])
        lot = answers.get("lot")
        post.lot_number = int(lot) if lot is not None else None
        post.state = PostState.OPEN
        post.taken_down_at = None
        post.updated_at = now
        await session.flush()
        await audit.record_turn(
            session,
            turn,
            "opportunity.partner_post_changed" if changed else "opportunity.partner_posted",
            object_type="partner_post",
            object_id=post.id,
            authority_id=opportunity.authority_id,
            organisation_id=post.organisation_id,
            opportunity_id=opportunity.id,
        )
        o = opportunity.id
        return [
            Notice(
                text=("Your post is changed. " if changed else "Your post is up. ")
                + f"Other providers that {opportunity.title} fits can see what you bring, what "
                "you need and where, but not your name. When one wants to talk, we will "
                "ask you. We share names and contact details only when you both say yes.",
                level="success",
                buttons=[
                    _partnering(o),
                    Button(label="Change it", action=f"cmd.{COMMAND}", value=f"partners {o}"),
                    Button(
                        label="Take it down",
                        action=f"cmd.{COMMAND}",
                        value=f"takedown {o}",
                        style="danger",
                    ),
                ],
            )
        ]


POST = PostForm()


async def open_post(turn: Turn, services: Services) -> list[Reply]:
    """`opportunities partners 4`."""
    return await open_form(turn, services, POST)


@dataclass(frozen=True)
class TakenDown:
    opportunity: Opportunity
    post: PartnerPost


async def take_down_post(
    session: AsyncSession, turn: Turn, services: Services, opportunity_id: int | None
) -> TakenDown:
    """The organisation's post goes; requests nobody has answered end quietly."""
    assert turn.actor is not None
    opportunity = await load_locked(session, Opportunity, opportunity_id)
    post = None
    for organisation_id in sorted(turn.actor.member_of()):
        if opportunity is not None:
            post = await post_of(session, opportunity.id, organisation_id)
        if post is not None:
            break
    if opportunity is None or post is None:
        await refuse(session, turn, opportunity, "takedown", "no post")
        raise NotForYou("You have no partner post for that opportunity, so nothing changed.")
    if post.state == PostState.TAKEN_DOWN:
        raise AlreadyDone("Your post was already taken down, so nothing changed.")
    now = services.clock.now()
    post.state = PostState.TAKEN_DOWN
    post.taken_down_at = now
    post.updated_at = now
    for introduction in await introductions_of(session, opportunity.id, post.organisation_id):
        waiting = answer_of(introduction, post.organisation_id) is None
        if introduction.state == IntroductionState.ASKED and waiting:
            introduction.state = IntroductionState.DECLINED
            introduction.decided_at = now
    await audit.record_turn(
        session,
        turn,
        "opportunity.partner_post_taken_down",
        object_type="partner_post",
        object_id=post.id,
        authority_id=opportunity.authority_id,
        organisation_id=post.organisation_id,
        opportunity_id=opportunity.id,
    )
    return TakenDown(opportunity, post)


async def take_down(turn: Turn, services: Services, opportunity_id: int | None) -> list[Reply]:
    """`opportunities takedown 4`."""
    async with services.db.session() as session:
        try:
            done = await take_down_post(session, turn, services, opportunity_id)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    o = done.opportunity.id
    return [
        Notice(
            text=f"Your post for {done.opportunity.title} is taken down. Nobody can ask to talk "
            "about it now. Requests you had not answered are closed, and nobody is told your "
            "name. You can post again any time before the deadline.",
            level="success",
            buttons=[Button(label="Post again", action=f"cmd.{COMMAND}", value=f"partners {o}")],
        )
    ]


# --- what each person sees -------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """An introduction as one side sees it: the other side anonymous until both said yes."""

    introduction: PartnerIntroduction
    mine: str | None
    theirs: str | None
    #: Their post, when they have one (what they bring and need).
    their_post: PartnerPost | None
    #: Who they are: only set once both said yes.
    partner: Organisation | None
    #: Their size and kind, for the anonymous summary.
    about: list[Fact]
    broker: Organisation | None


@dataclass(frozen=True)
class BrokerPost:
    post: PartnerPost
    organisation: Organisation


@dataclass(frozen=True)
class ConsortiumView:
    consortium: Consortium
    members: list[tuple[ConsortiumMember, Organisation]]


@dataclass(frozen=True)
class PartnerView:
    seat: Seat
    own_post: PartnerPost | None = None
    #: Other providers' open posts, with their size and kind only.
    others: list[tuple[PartnerPost, list[Fact]]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    consortium: ConsortiumView | None = None
    broker_posts: list[BrokerPost] = field(default_factory=list)
    brokered: list[tuple[PartnerIntroduction, str, str]] = field(default_factory=list)
    counts: PartnerCounts | None = None
    confirmed: list[ConsortiumView] = field(default_factory=list)


async def _consortium_view(session: AsyncSession, consortium: Consortium) -> ConsortiumView:
    return ConsortiumView(consortium, await members_of_consortium(session, consortium.id))


async def partner_view(
    session: AsyncSession, turn: Turn, opportunity_id: int | None
) -> PartnerView:
    """What this person may see of the opportunity's partner posts, by the one rule."""
    seat = await seat_for(session, turn, opportunity_id, "partnering")
    o = seat.opportunity
    view = PartnerView(seat)
    about = await _about(session)
    if seat.organisation is not None:
        mine = seat.organisation.id
        requests = []
        for introduction in await introductions_of(session, o.id, mine):
            their_id = other_side(introduction, mine)
            them = await session.get(Organisation, their_id)
            assert them is not None
            broker = (
                await session.get(Organisation, introduction.brokered_by_organisation_id)
                if introduction.brokered_by_organisation_id
                else None
            )
            their_post = await post_of(session, o.id, their_id)
            requests.append(
                Request(
                    introduction,
                    answer_of(introduction, mine),
                    answer_of(introduction, their_id),
                    their_post if their_post and their_post.state == PostState.OPEN else None,
                    them if names_shared(introduction) else None,
                    about(them),
                    broker,
                )
            )
        membership = await membership_in(session, o.id, mine)
        joined = await session.get(Consortium, membership.consortium_id) if membership else None
        consortium = await _consortium_view(session, joined) if joined else None
        others = []
        for post in await open_posts(session, o.id):
            if post.organisation_id == mine:
                continue
            poster = await session.get(Organisation, post.organisation_id)
            assert poster is not None
            others.append((post, about(poster)))
        view = PartnerView(
            seat,
            own_post=await post_of(session, o.id, mine),
            others=others,
            requests=requests,
            consortium=consortium,
        )
    if seat.brokers:
        posts = []
        for post in await open_posts(session, o.id):
            poster = await session.get(Organisation, post.organisation_id)
            assert poster is not None
            posts.append(BrokerPost(post, poster))
        brokered = []
        for introduction in await brokered_by(session, o.id, {b.id for b in seat.brokers}):
            first = await session.get(Organisation, introduction.first_organisation_id)
            second = await session.get(Organisation, introduction.second_organisation_id)
            assert first is not None and second is not None
            brokered.append((introduction, first.name, second.name))
        view = replace(view, broker_posts=posts, brokered=brokered)
    if seat.team:
        confirmed = [
            await _consortium_view(session, c) for c in await confirmed_consortia(session, o.id)
        ]
        view = replace(view, counts=await partner_counts(session, o.id), confirmed=confirmed)
    return view


def _request_section(request: Request, opportunity_id: int) -> Section:
    i = request.introduction
    if request.partner is not None:
        return Section(
            heading=f"You and {request.partner.name} both said yes",
            text="Get in touch with each other. Only your two organisations see these details.",
            facts=_contact_facts(request.partner),
            buttons=[
                Button(
                    label="Ask them to join our consortium",
                    action=f"cmd.{COMMAND}",
                    value=f"invite {i.id}",
                ),
                Button(
                    label="Say our part in a consortium",
                    action=f"cmd.{COMMAND}",
                    value=f"consortium {opportunity_id}",
                ),
            ],
        )
    facts = (
        [
            Fact(label="They bring", value=request.their_post.brings),
            Fact(label="They need", value=request.their_post.needs),
        ]
        if request.their_post
        else []
    ) + request.about
    if i.state == IntroductionState.DECLINED:
        return Section(
            heading="A request that ended",
            text="One of you said no, or took their post down. That is fine: nobody is told "
            "who. You can still find other partners.",
            facts=facts,
        )
    if request.mine is None:
        why = (
            f"{request.broker.name}, your local support organisation, thinks you could work "
            "well with this provider."
            if request.broker
            else "A provider wants to talk with you about working together."
        )
        return Section(
            heading="Waiting for your answer",
            text=f"{why} We don't tell you who they are, or them who you are, unless you both "
            "say yes. If you say no, they are not told your name.",
            facts=facts,
            buttons=[
                Button(
                    label="Yes, share our details",
                    action=f"cmd.{COMMAND}",
                    value=f"agree {i.id}",
                    style="primary",
                ),
                Button(label="No, thank you", action=f"cmd.{COMMAND}", value=f"decline {i.id}"),
            ],
        )
    return Section(
        heading="Waiting for the other provider",
        text="You said yes. We will tell you if they say yes too, and then share both your "
        "names and contact details.",
        facts=facts,
        buttons=[
            Button(label="Take back our yes", action=f"cmd.{COMMAND}", value=f"decline {i.id}")
        ],
    )


def _consortium_section(view: ConsortiumView, title: str) -> Section:
    lead = view.consortium.lead_organisation_id
    facts = []
    for member, organisation in view.members:
        part = member.role or "Not said yet"
        if member.share_percent is not None:
            part += f" ({member.share_percent}% share)"
        if member.confirmed_at is None:
            part += ". Not confirmed yet"
        name = organisation.name + (" (lead)" if organisation.id == lead else "")
        facts.append(Fact(label=name, value=part))
    state = (
        "Confirmed by every member."
        if view.consortium.state == ConsortiumState.CONFIRMED
        else "Not confirmed yet: every member must say its part, and one must lead."
    )
    return Section(heading=title, text=state, facts=facts)


def partner_replies(view: PartnerView, turn: Turn) -> list[Reply]:
    o = view.seat.opportunity
    replies: list[Reply] = []
    if view.seat.organisation is not None:
        sections: list[Section] = []
        own = view.own_post
        if own is not None and own.state == PostState.OPEN:
            sections.append(
                Section(
                    heading="Your post",
                    facts=_post_facts(own, o, "You"),
                    buttons=[
                        Button(
                            label="Change it", action=f"cmd.{COMMAND}", value=f"partners {o.id}"
                        ),
                        Button(
                            label="Take it down",
                            action=f"cmd.{COMMAND}",
                            value=f"takedown {o.id}",
                            style="danger",
                        ),
                    ],
                )
            )
        asked = {r.their_post.id for r in view.requests if r.their_post is not None}
        sections += [_request_section(r, o.id) for r in view.requests]
        for post, about in view.others:
            sections.append(
                Section(
                    heading=f"Post {post.id}: a provider looking for partners",
                    facts=_post_facts(post, o) + about,
                    buttons=[]
                    if post.id in asked
                    else [
                        Button(
                            label="We'd like to talk",
                            action=f"cmd.{COMMAND}",
                            value=f"talk {post.id}",
                            style="primary",
                        )
                    ],
                )
            )
        if view.consortium is not None:
            sections.append(_consortium_section(view.consortium, "Your consortium"))
        buttons = (
            []
            if own is not None and own.state == PostState.OPEN
            else [
                Button(
                    label="Post that we're looking for partners",
                    action=f"cmd.{COMMAND}",
                    value=f"partners {o.id}",
                    style="primary",
                )
            ]
        )
        replies.append(
            Message(
                title=f"Finding partners: {o.title}",
                text=(
                    "Other providers this fits are looking for partners. "
                    if view.others
                    else "No other provider has posted yet. "
                )
                + "You see what they bring and need, not who they are. Say \"we'd like to "
                'talk", and we ask them. Names and contact details are shared only when you '
                "both say yes.",
                sections=sections,
                buttons=buttons,
                who_sees="Only the providers this opportunity fits see posts, without names. "
                "Your local support organisation sees names, to help. The council sees only "
                "how many there are.",
            )
        )
    if view.seat.brokers:
        broker = view.seat.brokers[0].name
        sections = [
            Section(
                heading=f"Post {p.post.id}: {p.organisation.name}",
                facts=_post_facts(p.post, o),
            )
            for p in view.broker_posts
        ]
        sections += [
            Section(
                heading=f"You suggested {first} and {second} talk",
                text={
                    IntroductionState.ASKED: "Waiting for both to say yes.",
                    IntroductionState.INTRODUCED: "Both said yes: they have each other's details.",
                    IntroductionState.DECLINED: "It did not go ahead.",
                }[IntroductionState(introduction.state)],
            )
            for introduction, first, second in view.brokered
        ]
        replies.append(
            Message(
                title=f"Partner posts to broker: {o.title}",
                text=f"You see these as {broker}, the local support organisation. To suggest "
                f"two talk, type {COMMAND} introduce and both post numbers, for example "
                f"{COMMAND} introduce 3 5. We ask both, and share names only if both say yes."
                if view.broker_posts
                else "Nobody has posted yet.",
                sections=sections,
                who_sees="Only your organisation sees these names. Please keep them to "
                "yourselves until both providers say yes.",
            )
        )
    if view.counts is not None:
        c = view.counts
        replies.append(
            Message(
                title=f"Partners: {o.title}",
                text=f"{c.posts} {'provider is' if c.posts == 1 else 'providers are'} looking "
                f"for partners. {c.asked} {'request' if c.asked == 1 else 'requests'} to talk; "
                f"{c.introduced} {'introduction' if c.introduced == 1 else 'introductions'} "
                "made. Posts are private to providers: you see a consortium when all its "
                "members have confirmed it.",
                sections=[
                    _consortium_section(v, f"Consortium {v.consortium.id}") for v in view.confirmed
                ],
                who_sees="Only your council's commissioning team sees this.",
            )
        )
    return replies


async def show_partners(turn: Turn, services: Services, opportunity_id: int | None) -> list[Reply]:
    """`opportunities partnering 4`."""
    async with services.db.session() as session:
        try:
            view = await partner_view(session, turn, opportunity_id)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
        return partner_replies(view, turn)


# --- asking to talk, and answering -----------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    introduction: PartnerIntroduction
    opportunity: Opportunity
    #: This person's organisation, and the other side once both said yes.
    organisation: Organisation
    partner: Organisation | None
    answer: Answer


async def _introduce_if_both(
    session: AsyncSession,
    services: Services,
    introduction: PartnerIntroduction,
    opportunity: Opportunity,
) -> None:
    """When both said yes: the introduction is made and each side gets the other's details
    on their own door."""
    if not (introduction.first_answer == Answer.YES and introduction.second_answer == Answer.YES):
        return
    introduction.state = IntroductionState.INTRODUCED
    introduction.decided_at = services.clock.now()
    first = await session.get(Organisation, introduction.first_organisation_id)
    second = await session.get(Organisation, introduction.second_organisation_id)
    assert first is not None and second is not None
    for me, them in ((first, second), (second, first)):
        await _tell_organisations(
            session,
            [me.id],
            Message(
                title=f"You have a partner to talk to: {opportunity.title}",
                text=f"You and {them.name} both said yes to talking about working together. "
                "Here are their details. Only your two organisations see this. If you decide "
                "to bid together, each of you can say your part in the consortium.",
                sections=[Section(facts=_contact_facts(them))],
                buttons=[
                    Button(
                        label="Say our part in a consortium",
                        action=f"cmd.{COMMAND}",
                        value=f"consortium {opportunity.id}",
                    )
                ],
            ),
            f"partners:{introduction.id}:introduced:{me.id}:{{person_id}}",
            services,
        )


async def ask_to_talk(
    session: AsyncSession, turn: Turn, services: Services, post_id: int | None
) -> Answered:
    """A provider says "we'd like to talk" about another's post. Its own yes is given at
    once; the poster is asked, without being told who asks."""
    assert turn.actor is not None
    post = await session.get(PartnerPost, post_id) if post_id else None
    opportunity = (
        await load_locked(session, Opportunity, post.opportunity_id) if post is not None else None
    )
    if post is None or opportunity is None or post.state != PostState.OPEN:
        await refuse(session, turn, opportunity, "talk", "no such post")
        raise NotForYou(NO_SUCH_POST)
    organisation = await fitting_organisation(session, turn, opportunity)
    if organisation is None:
        await refuse(session, turn, opportunity, "talk", "not a fitting provider")
        raise NotForYou(ONLY_FITTING)
    if organisation.id == post.organisation_id:
        await refuse(session, turn, opportunity, "talk", "own post")
        raise NotForYou("That is your own post, so nothing was changed.")
    if not _is_open(opportunity, services):
        await refuse(session, turn, opportunity, "talk", "not open")
        raise NotOpen(f"{opportunity.title} is not open for bids now, so nothing was sent.")
    introduction = await introduction_between(
        session, opportunity.id, organisation.id, post.organisation_id
    )
    if introduction is not None:
        if introduction.state != IntroductionState.ASKED or answer_of(
            introduction, organisation.id
        ):
            await refuse(session, turn, opportunity, "talk", "asked before")
            raise AlreadyDone(
                "You have asked to talk with this provider before, so nothing changed. Type "
                f"{COMMAND} partnering {opportunity.id} to see where it is."
            )
        # They (or a CVS) asked first: saying "we'd like to talk" is saying yes.
        return await _answer(
            session, turn, services, introduction, opportunity, organisation, Answer.YES
        )
    first, second = pair(organisation.id, post.organisation_id)
    introduction = PartnerIntroduction(
        opportunity_id=opportunity.id,
        first_organisation_id=first,
        second_organisation_id=second,
        asked_by_organisation_id=organisation.id,
        requested_by=turn.actor.person_id,
        state=IntroductionState.ASKED,
        created_at=services.clock.now(),
    )
    setattr(introduction, f"{side_of(introduction, organisation.id)}_answer", Answer.YES)
    session.add(introduction)
    await session.flush()
    about = await _about(session)
    asker_post = await post_of(session, opportunity.id, organisation.id)
    facts = (
        _post_facts(asker_post, opportunity)
        if asker_post and asker_post.state == PostState.OPEN
        else []
    ) + about(organisation)
    await _tell_organisations(
        session,
        [post.organisation_id],
        Message(
            title=f"A provider would like to talk: {opportunity.title}",
            text="A provider saw your post and would like to talk about working together. We "
            "have not told them who you are. Say yes and we share both your names and "
            "contact details. Say no and nobody is told your name.",
            sections=[Section(heading="About them", facts=facts)],
            buttons=[
                Button(
                    label="Yes, share our details",
                    action=f"cmd.{COMMAND}",
                    value=f"agree {introduction.id}",
                    style="primary",
                ),
                Button(
                    label="No, thank you",
                    action=f"cmd.{COMMAND}",
                    value=f"decline {introduction.id}",
                ),
            ],
            who_sees="Only your organisation sees this.",
        ),
        f"partners:{introduction.id}:asked:{{person_id}}",
        services,
    )
    await audit.record_turn(
        session,
        turn,
        "opportunity.partner_talk_asked",
        object_type="partner_introduction",
        object_id=introduction.id,
        authority_id=opportunity.authority_id,
        organisation_id=organisation.id,
        opportunity_id=opportunity.id,
    )
    return Answered(introduction, opportunity, organisation, None, Answer.YES)


async def _answer(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    introduction: PartnerIntroduction,
    opportunity: Opportunity,
    organisation: Organisation,
    answer: Answer,
) -> Answered:
    side = side_of(introduction, organisation.id)
    setattr(introduction, f"{side}_answer", answer)
    if answer == Answer.NO:
        introduction.state = IntroductionState.DECLINED
        introduction.decided_at = services.clock.now()
    else:
        await _introduce_if_both(session, services, introduction, opportunity)
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        f"opportunity.partner_{'agreed' if answer == Answer.YES else 'declined'}",
        object_type="partner_introduction",
        object_id=introduction.id,
        authority_id=opportunity.authority_id,
        organisation_id=organisation.id,
        opportunity_id=opportunity.id,
    )
    partner = (
        await session.get(Organisation, other_side(introduction, organisation.id))
        if names_shared(introduction)
        else None
    )
    return Answered(introduction, opportunity, organisation, partner, answer)


async def answer_introduction(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    introduction_id: int | None,
    answer: Answer,
) -> Answered:
    """One side's yes or no. Only the two organisations may answer; a yes once, and a no
    (taking back a yes, too) until both have said yes."""
    assert turn.actor is not None
    attempted = "agree" if answer == Answer.YES else "decline"
    introduction = await load_locked(session, PartnerIntroduction, introduction_id)
    mine = (
        next(
            (o for o in sorted(turn.actor.member_of()) if side_of(introduction, o) is not None),
            None,
        )
        if introduction is not None
        else None
    )
    opportunity = (
        await session.get(Opportunity, introduction.opportunity_id) if introduction else None
    )
    if introduction is None or mine is None or opportunity is None:
        await refuse(session, turn, opportunity, attempted, "not theirs to answer")
        raise NotForYou(NO_SUCH_REQUEST)
    # A yes is given once; a no can also take back a yes while the other side has not
    # answered (either can decline, until both said yes).
    said = answer_of(introduction, mine)
    if introduction.state != IntroductionState.ASKED or (said and answer == Answer.YES):
        await refuse(session, turn, opportunity, attempted, "already answered")
        raise AlreadyDone(
            "This request is already answered, so nothing changed. Type "
            f"{COMMAND} partnering {opportunity.id} to see where it is."
        )
    organisation = await session.get(Organisation, mine)
    assert organisation is not None
    return await _answer(session, turn, services, introduction, opportunity, organisation, answer)


def answered_replies(answered: Answered) -> list[Reply]:
    o = answered.opportunity
    if answered.partner is not None:
        return [
            Notice(
                text=f"You both said yes. You can now talk with {answered.partner.name}. We "
                "have sent both of you each other's details. Only your two organisations see "
                "them.",
                level="success",
                buttons=[_partnering(o.id)],
            )
        ]
    if answered.answer == Answer.NO:
        return [
            Notice(
                text="Done: you said no, thank you. They are not told your name, and nothing "
                "else changes.",
                level="info",
                buttons=[_partnering(o.id)],
            )
        ]
    return [
        Notice(
            text="Thank you. We have asked them, without telling them who you are. If they "
            "say yes, we send both of you each other's names and contact details. If they "
            "say no, nobody is told who you are.",
            level="success",
            buttons=[_partnering(o.id)],
        )
    ]


async def _answering(
    turn: Turn, services: Services, run: Callable[[AsyncSession], Awaitable[Answered]]
) -> list[Reply]:
    async with services.db.session() as session:
        try:
            answered = await run(session)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    return answered_replies(answered)


async def talk(turn: Turn, services: Services, post_id: int | None) -> list[Reply]:
    """`opportunities talk 5`: we'd like to talk about post 5."""
    return await _answering(
        turn, services, lambda session: ask_to_talk(session, turn, services, post_id)
    )


async def agree(turn: Turn, services: Services, introduction_id: int | None) -> list[Reply]:
    """`opportunities agree 7`."""
    return await _answering(
        turn,
        services,
        lambda session: answer_introduction(session, turn, services, introduction_id, Answer.YES),
    )


async def decline(turn: Turn, services: Services, introduction_id: int | None) -> list[Reply]:
    """`opportunities decline 7`."""
    return await _answering(
        turn,
        services,
        lambda session: answer_introduction(session, turn, services, introduction_id, Answer.NO),
    )


# --- the CVS brokers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggested:
    introduction: PartnerIntroduction
    opportunity: Opportunity
    names: tuple[str, str]


async def suggest_introduction(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    first_post_id: int | None,
    second_post_id: int | None,
) -> Suggested:
    """A CVS serving the opportunity's places suggests two posters talk. Neither learns the
    other's name until both say yes."""
    assert turn.actor is not None
    posts = [
        await session.get(PartnerPost, p) if p is not None else None
        for p in (first_post_id, second_post_id)
    ]
    a, b = posts
    opportunity = (
        await load_locked(session, Opportunity, a.opportunity_id) if a is not None else None
    )
    brokers = await brokers_for(session, opportunity, turn.actor.member_of()) if opportunity else []
    if opportunity is None or not brokers:
        await refuse(session, turn, opportunity, "introduce", "not a local broker")
        raise NotForYou(
            "Only the local support organisation for this opportunity's area can suggest "
            f"introductions. Type {COMMAND} introduce and two post numbers, for example "
            f"{COMMAND} introduce 3 5."
        )
    if (
        a is None
        or b is None
        or a.state != PostState.OPEN
        or b.state != PostState.OPEN
        or a.opportunity_id != b.opportunity_id
        or a.organisation_id == b.organisation_id
    ):
        await refuse(session, turn, opportunity, "introduce", "posts do not pair")
        raise NotForYou(
            "Those two posts can't be introduced: each must be an open post from a different "
            f"provider, for the same opportunity. Type {COMMAND} partnering "
            f"{opportunity.id} to see them."
        )
    if not _is_open(opportunity, services):
        await refuse(session, turn, opportunity, "introduce", "not open")
        raise NotOpen(f"{opportunity.title} is not open for bids now, so nothing was sent.")
    if await introduction_between(session, opportunity.id, a.organisation_id, b.organisation_id):
        await refuse(session, turn, opportunity, "introduce", "already asked")
        raise AlreadyDone("These two have been asked about each other before, so nothing changed.")
    broker = brokers[0]
    first, second = pair(a.organisation_id, b.organisation_id)
    introduction = PartnerIntroduction(
        opportunity_id=opportunity.id,
        first_organisation_id=first,
        second_organisation_id=second,
        brokered_by_organisation_id=broker.id,
        requested_by=turn.actor.person_id,
        state=IntroductionState.ASKED,
        created_at=services.clock.now(),
    )
    session.add(introduction)
    await session.flush()
    about = await _about(session)
    for mine, theirs in ((a, b), (b, a)):
        them = await session.get(Organisation, theirs.organisation_id)
        assert them is not None
        await _tell_organisations(
            session,
            [mine.organisation_id],
            Message(
                title=f"A possible partner: {opportunity.title}",
                text=f"{broker.name}, your local support organisation, thinks you could work "
                "well with another provider that posted. We have not told them who you are. "
                "Say yes and, if they say yes too, we share both your names and contact "
                "details. Say no and nobody is told your name.",
                sections=[
                    Section(
                        heading="About them", facts=_post_facts(theirs, opportunity) + about(them)
                    )
                ],
                buttons=[
                    Button(
                        label="Yes, share our details",
                        action=f"cmd.{COMMAND}",
                        value=f"agree {introduction.id}",
                        style="primary",
                    ),
                    Button(
                        label="No, thank you",
                        action=f"cmd.{COMMAND}",
                        value=f"decline {introduction.id}",
                    ),
                ],
                who_sees="Only your organisation sees this.",
            ),
            f"partners:{introduction.id}:suggested:{{person_id}}",
            services,
        )
    await audit.record_turn(
        session,
        turn,
        "opportunity.partner_introduction_suggested",
        object_type="partner_introduction",
        object_id=introduction.id,
        authority_id=opportunity.authority_id,
        organisation_id=broker.id,
        opportunity_id=opportunity.id,
    )
    names = []
    for post in (a, b):
        poster = await session.get(Organisation, post.organisation_id)
        assert poster is not None
        names.append(poster.name)
    return Suggested(introduction, opportunity, (names[0], names[1]))


async def introduce(turn: Turn, services: Services) -> list[Reply]:
    """`opportunities introduce 3 5`."""
    first, second = number_at(turn, 1), number_at(turn, 2)
    if first is None or second is None:
        return [
            Notice(
                text=f"Which two posts? Type {COMMAND} introduce and both numbers, for example "
                f"{COMMAND} introduce 3 5.",
                level="warning",
            )
        ]
    async with services.db.session() as session:
        try:
            suggested = await suggest_introduction(session, turn, services, first, second)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    one, two = suggested.names
    return [
        Notice(
            text=f"Thank you. We have asked {one} and {two} if they would like to talk. "
            "Neither is told the other's name unless both say yes. You can see how it goes "
            f"with {COMMAND} partnering {suggested.opportunity.id}.",
            level="success",
        )
    ]


# --- the consortium --------------------------------------------------------------------------


async def _introduced(session: AsyncSession, opportunity_id: int, organisation_id: int) -> bool:
    return any(
        names_shared(i) for i in await introductions_of(session, opportunity_id, organisation_id)
    )


class ConsortiumForm(FormPurpose):
    """`opportunities consortium 4`: an introduced provider says its part in a consortium."""

    form_key = "partner_consortium"
    command = COMMAND
    confirms_itself = True

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        assert turn.actor is not None
        opportunity_id = number_at(turn, 1)
        if opportunity_id is None:
            return Refusal(
                f"Which opportunity? Type {COMMAND} consortium and its number, for example "
                f"{COMMAND} consortium 4."
            )
        opportunity = await session.get(Opportunity, opportunity_id)
        if opportunity is None or opportunity.state == OpportunityState.DRAFT:
            await refuse(session, turn, None, "consortium", "not found")
            return Refusal(NOT_FOUND)
        for organisation_id in sorted(turn.actor.member_of()):
            if await membership_in(session, opportunity.id, organisation_id) or await _introduced(
                session, opportunity.id, organisation_id
            ):
                organisation = await session.get(Organisation, organisation_id)
                assert organisation is not None
                return Subject(
                    organisation.id,
                    None,
                    label=organisation.name,
                    topic=f"consortium:{opportunity.id}",
                )
        await refuse(session, turn, opportunity, "consortium", "not introduced")
        return Refusal(
            "You can record a consortium once you and a partner have both said yes to "
            f"talking. Type {COMMAND} partnering {opportunity.id} to find partners."
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        opportunity_id = _opportunity_in(subject.topic)
        if opportunity_id is None or subject.organisation_id is None:
            return {}
        member = await membership_in(session, opportunity_id, subject.organisation_id)
        if member is None:
            return {}
        consortium = await session.get(Consortium, member.consortium_id)
        assert consortium is not None
        return {
            "role": member.role,
            "lead": consortium.lead_organisation_id == subject.organisation_id,
            "share": member.share_percent,
        }

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and response.organisation_id is not None
        # Locked, so two members confirming at once are counted one after the other.
        opportunity = await load_locked(session, Opportunity, _opportunity_in(response.topic))
        assert opportunity is not None
        organisation = await session.get(Organisation, response.organisation_id)
        assert organisation is not None
        now = services.clock.now()
        answers = response.answers
        member = await membership_in(session, opportunity.id, organisation.id)
        if member is None:
            consortium = Consortium(
                opportunity_id=opportunity.id,
                state=ConsortiumState.PROPOSED,
                created_by=turn.actor.person_id,
                created_at=now,
            )
            session.add(consortium)
            await session.flush()
            member = ConsortiumMember(
                consortium_id=consortium.id,
                opportunity_id=opportunity.id,
                organisation_id=organisation.id,
                invited_at=now,
            )
            session.add(member)
        else:
            found = await session.get(Consortium, member.consortium_id)
            assert found is not None
            consortium = found
        leads = bool(answers.get("lead"))
        lead = consortium.lead_organisation_id
        if leads and lead is not None and lead != organisation.id:
            current = await session.get(Organisation, lead)
            problem = (
                f"{current.name if current else 'Another member'} leads it already. Only one "
                "member can lead. Say no here, or ask them to change their answer first."
            )
            await refuse(session, turn, opportunity, "consortium", "two leads")
            _back_to_draft(response)
            return [form_view(definition, response, 0, errors={"lead": problem})]
        if leads:
            consortium.lead_organisation_id = organisation.id
        elif lead == organisation.id:
            consortium.lead_organisation_id = None
        share = answers.get("share")
        member.role = answers["role"]
        member.share_percent = round(share) if share is not None else None
        member.confirmed_at = now
        member.confirmed_by = turn.actor.person_id
        await session.flush()
        members = await members_of_consortium(session, consortium.id)
        complete = (
            len(members) >= 2
            and all(m.confirmed_at is not None for m, _ in members)
            and consortium.lead_organisation_id is not None
        )
        newly = complete and consortium.state != ConsortiumState.CONFIRMED
        consortium.state = ConsortiumState.CONFIRMED if complete else ConsortiumState.PROPOSED
        consortium.confirmed_at = (consortium.confirmed_at or now) if complete else None
        await audit.record_turn(
            session,
            turn,
            "opportunity.consortium_part_said",
            object_type="consortium",
            object_id=consortium.id,
            authority_id=opportunity.authority_id,
            organisation_id=organisation.id,
            opportunity_id=opportunity.id,
            confirmed=complete,
        )
        view = ConsortiumView(consortium, members)
        shares = [m.share_percent for m, _ in members if m.share_percent is not None]
        uneven = (
            [
                Notice(
                    text=f"The members' shares add up to {sum(shares)}%, not 100%. Agree them "
                    "with your partners, and each can change its own here.",
                    level="warning",
                )
            ]
            if complete and len(shares) == len(members) and sum(shares) != 100
            else []
        )
        if newly:
            await _tell_confirmed(session, services, opportunity, view)
        replies: list[Reply] = [
            Notice(
                text=(
                    "Thank you. Every member has said its part, so your consortium is "
                    "confirmed. We have told every member and the council's commissioning team."
                    if newly
                    else "Thank you, your part is saved. "
                    + (
                        "The consortium is confirmed."
                        if complete
                        else "The consortium is confirmed when every member has said its part "
                        "and one leads. Ask your partners to join it from their introductions."
                    )
                ),
                level="success",
                buttons=[_partnering(opportunity.id)],
            ),
            *uneven,
            Message(
                title=f"Your consortium: {opportunity.title}",
                sections=[_consortium_section(view, "Members")],
                who_sees="Its members see this. The council's commissioning team sees it once "
                "every member has confirmed. Other providers never see it.",
            ),
        ]
        return replies


async def _tell_confirmed(
    session: AsyncSession, services: Services, opportunity: Opportunity, view: ConsortiumView
) -> None:
    """Every member, and the commissioning team, hear that it is confirmed."""
    message = Message(
        title=f"A consortium is confirmed: {opportunity.title}",
        text="Every member has said its part and one leads. It will be carried into the "
        "agreement if this consortium is funded.",
        sections=[_consortium_section(view, "Members")],
        who_sees="Its members and the council's commissioning team see this.",
    )
    key = f"partners:consortium:{view.consortium.id}:confirmed:{{person_id}}"
    await _tell_organisations(session, [o.id for _, o in view.members], message, key, services)
    team = [p.id for p in await commissioning_team(session, opportunity.authority_id)]
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    await send_to_people(session, team, payload, key, not_before=services.clock.now())


CONSORTIUM = ConsortiumForm()


async def open_consortium(turn: Turn, services: Services) -> list[Reply]:
    """`opportunities consortium 4`."""
    return await open_form(turn, services, CONSORTIUM)


@dataclass(frozen=True)
class Invited:
    opportunity: Opportunity
    partner: Organisation


async def invite_partner(
    session: AsyncSession, turn: Turn, services: Services, introduction_id: int | None
) -> Invited:
    """A member of a consortium asks the partner it was introduced to to join it."""
    assert turn.actor is not None
    introduction = await load_locked(session, PartnerIntroduction, introduction_id)
    opportunity = (
        await load_locked(session, Opportunity, introduction.opportunity_id)
        if introduction
        else None
    )
    mine = (
        next(
            (o for o in sorted(turn.actor.member_of()) if side_of(introduction, o) is not None),
            None,
        )
        if introduction is not None
        else None
    )
    if (
        introduction is None
        or opportunity is None
        or mine is None
        or not names_shared(introduction)
    ):
        await refuse(session, turn, opportunity, "invite", "not introduced")
        raise NotForYou(
            "You can ask a partner to join once you have both said yes to talking. Nothing "
            "was changed."
        )
    member = await membership_in(session, opportunity.id, mine)
    if member is None:
        await refuse(session, turn, opportunity, "invite", "not in a consortium")
        raise NotForYou(
            "Say your own part in the consortium first, then ask partners to join: type "
            f"{COMMAND} consortium {opportunity.id}."
        )
    partner = await session.get(Organisation, other_side(introduction, mine))
    assert partner is not None
    if await membership_in(session, opportunity.id, partner.id):
        await refuse(session, turn, opportunity, "invite", "partner already in one")
        raise AlreadyDone(
            f"{partner.name} is already in a consortium for this opportunity, so nothing changed."
        )
    now = services.clock.now()
    session.add(
        ConsortiumMember(
            consortium_id=member.consortium_id,
            opportunity_id=opportunity.id,
            organisation_id=partner.id,
            invited_at=now,
        )
    )
    consortium = await session.get(Consortium, member.consortium_id)
    assert consortium is not None
    consortium.state = ConsortiumState.PROPOSED
    consortium.confirmed_at = None
    await session.flush()
    inviter = await session.get(Organisation, mine)
    assert inviter is not None
    await _tell_organisations(
        session,
        [partner.id],
        Message(
            title=f"Join a consortium: {opportunity.title}",
            text=f"{inviter.name} asks you to join its consortium for {opportunity.title}. "
            "If you want to, say what your organisation will do. The consortium is confirmed "
            "when every member has said its part.",
            buttons=[
                Button(
                    label="Say our part",
                    action=f"cmd.{COMMAND}",
                    value=f"consortium {opportunity.id}",
                    style="primary",
                )
            ],
            who_sees="Only the consortium's members see this.",
        ),
        f"partners:consortium:{consortium.id}:invited:{partner.id}:{{person_id}}",
        services,
    )
    await audit.record_turn(
        session,
        turn,
        "opportunity.consortium_invited",
        object_type="consortium",
        object_id=consortium.id,
        authority_id=opportunity.authority_id,
        organisation_id=mine,
        invited_organisation_id=partner.id,
        opportunity_id=opportunity.id,
    )
    return Invited(opportunity, partner)


async def invite(turn: Turn, services: Services, introduction_id: int | None) -> list[Reply]:
    """`opportunities invite 7`: ask the partner of introduction 7 to join our consortium."""
    async with services.db.session() as session:
        try:
            invited = await invite_partner(session, turn, services, introduction_id)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
    return [
        Notice(
            text=f"We have asked {invited.partner.name} to join. When they have said their "
            "part, the consortium is confirmed and the council's commissioning team sees it.",
            level="success",
            buttons=[_partnering(invited.opportunity.id)],
        )
    ]


# --- Home ------------------------------------------------------------------------------------


async def home_sections(session: AsyncSession, actor: Actor, services: Services) -> list[Section]:
    """Requests to talk waiting for this provider's answer (never saying who asked)."""
    sections = []
    for _, opportunity in await waiting_for(session, actor.member_of()):
        sections.append(
            Section(
                heading=f"Finding partners: {opportunity.title}",
                text="A provider would like to talk with you about working together. Say yes "
                "or no: we share names only when you both say yes.",
                buttons=[_partnering(opportunity.id)],
            )
        )
    return sections


__all__ = [
    "CONSORTIUM",
    "POST",
    "agree",
    "decline",
    "home_sections",
    "introduce",
    "invite",
    "open_consortium",
    "open_post",
    "show_partners",
    "take_down",
    "talk",
]
