"""What each person may see of partner posts (`partnering N`): providers without names,
the CVS with names, the team counts only. The rule for names is `storage.partners`'."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reply import Button, Fact, Message, Notice, Reply, Section
from bot.core.turn import Turn
from bot.services import Services
from handlers.opportunities.common import COMMAND, Refused
from handlers.opportunities.partners.common import (
    Seat,
    answer_buttons,
    contact_facts,
    organisation_summary,
    post_facts,
    seat_for,
)
from storage.models import Organisation
from storage.partner_tables import (
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
    confirmed_consortia,
    introductions_of,
    members_of_consortium,
    membership_in,
    names_shared,
    open_posts,
    other_side,
    partner_counts,
    post_of,
)

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
    about = await organisation_summary(session)
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
            facts=contact_facts(request.partner),
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
            buttons=answer_buttons(i.id),
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


def consortium_section(view: ConsortiumView, title: str) -> Section:
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
                    facts=post_facts(own, o, "You"),
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
                    facts=post_facts(post, o) + about,
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
            sections.append(consortium_section(view.consortium, "Your consortium"))
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
                facts=post_facts(p.post, o),
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
                f"two talk, give both post numbers, like {COMMAND} introduce 3 5. "
                "We ask both, and share names only if both say yes."
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
                    consortium_section(v, f"Consortium {v.consortium.id}") for v in view.confirmed
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
