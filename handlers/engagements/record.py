"""The engagement record: everything that shows an engagement was open and equal.

When it was published and to whom, every invitation with its delivery time, every
clarification and update with its publish time, events, participation counts, the close,
the feedback summary (suppressed when small) and "you said, we did". It carries the fields
a preliminary market engagement notice needs, so the council can publish one.

It never contains anybody's answers, ideas or private conversations: only counts.
The same data is shown as a web page and given as JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.areas import area_label
from bot.core.forms import FormDefinition
from bot.core.pages import PageContent, PageRefusal, PageRequest, WebPage
from bot.core.reply import Button, Fact, Message, Notice, Reply, Section, command_ref
from bot.core.turn import Actor, Door, Turn, row_id
from bot.core.words import counted
from bot.services import Services
from handlers.engagements.closing import SummaryFacts, summary_facts
from handlers.engagements.common import (
    FUNDING_ROUTES,
    Refused,
    TeamForm,
    load_for_team,
    money,
    number_at,
    refusal_replies,
    submitted_engagement,
)
from handlers.engagements.conflicts import declaration_facts
from handlers.engagements.setup import apply_notice_fields
from handlers.forms import Subject, form_step
from storage import audit
from storage.engagement_tables import (
    Clarification,
    Engagement,
    EngagementInvitation,
    MeetingRequest,
    Threshold,
)
from storage.engagements import published_clarifications
from storage.models import Authority, FormResponse, Organisation, OutboxMessage
from storage.visibility import Refusal


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


#: Whether the eventual contract is likely above threshold, in words.
THRESHOLD_WORDS: dict[str, str] = {
    Threshold.YES: "Yes, likely above threshold",
    Threshold.NO: "No, likely below threshold",
    Threshold.NOT_SURE: "Not sure yet",
}

#: The intended route to market (the setup form's short choice list).
ROUTES = {
    "open": "Open procedure (anyone may bid)",
    "competitive_flexible": "Competitive flexible procedure",
    "framework": "A call-off from a framework or dynamic market",
    "direct_award": "Direct award",
    "grant": "A grant (not a procurement)",
    "not_decided": "Not decided yet",
}


def notice_duty(engagement: Engagement) -> str:
    """What s.17 asks of this procurement, in plain words. A UK2 notice is for
    above-threshold procurements only, and it comes before the *tender* notice (or the
    tender notice says why there was none): nothing has to be published before engaging."""
    rule = (
        "publish a preliminary market engagement notice (UK2) on Find a Tender before the "
        "tender notice, or say in the tender notice why not (Procurement Act 2023 s.17)"
    )
    if engagement.above_threshold == Threshold.YES:
        return f"Above threshold: {rule}."
    if engagement.above_threshold == Threshold.NO:
        return "Below threshold: s.17 does not apply, so no UK2 notice is needed."
    return f"Not known yet. If it is above threshold, {rule}."


def process_description(engagement: Engagement, facts: SummaryFacts) -> str:
    """The 'engagement process' text of a preliminary market engagement notice. It says who
    could take part as it was: organisations on Convene, invited or joining themselves."""
    events = facts.events
    parts = [
        "An invitation, sent at the same time to every voluntary, community, faith and "
        "social enterprise organisation on Convene whose work or area matched. Other "
        "organisations on Convene could also find it and take part; organisations not on "
        "Convene could not take part through it.",
        "Providers answered short, optional questions in writing or in chat, and could ask "
        "for a private conversation.",
        "Questions were answered for every participant at the same time, without naming who asked.",
    ]
    if events:
        parts.append(
            f"{counted(len(events), 'event')}: " + ", ".join(r.event.title for r in events) + "."
        )
    return " ".join(parts)


async def build_record(
    session: AsyncSession, engagement: Engagement, services: Services
) -> dict[str, Any]:
    facts = await summary_facts(session, engagement, services)
    authority = await session.get(Authority, engagement.authority_id)
    rows = (
        await session.execute(
            select(
                EngagementInvitation, Organisation.name, OutboxMessage.sent_at, OutboxMessage.state
            )
            .outerjoin(Organisation, Organisation.id == EngagementInvitation.organisation_id)
            .outerjoin(
                OutboxMessage, OutboxMessage.idempotency_key == EngagementInvitation.outbox_key
            )
            .where(EngagementInvitation.engagement_id == engagement.id)
            .order_by(EngagementInvitation.id)
        )
    ).all()
    log: list[Clarification] = await published_clarifications(session, engagement.id)
    return {
        "notice": {
            "title": engagement.title,
            "subject_matter": engagement.purpose,
            "service_area": engagement.service_area,
            "area_served": [
                {"code": code, "name": area_label(code)} for code in engagement.area_served
            ],
            "engagement_process": process_description(engagement, facts),
            "closing_date": _iso(engagement.closes_at),
            "contracting_authority": authority.name if authority else None,
            "procurement_reference": engagement.procurement_reference,
            "likely_above_threshold": THRESHOLD_WORDS.get(
                engagement.above_threshold or "", "Not given"
            ),
            "intended_route": ROUTES.get(engagement.intended_route or "", "Not given"),
            "notice_duty": notice_duty(engagement),
        },
        "engagement": {
            "id": engagement.id,
            "state": engagement.state,
            "indicative_budget": money(engagement.budget_pence)
            if engagement.budget_pence is not None
            else None,
            "funding_routes": [FUNDING_ROUTES.get(r, r) for r in engagement.funding_routes],
            "timeline": engagement.timeline,
            "confidentiality": engagement.confidentiality,
            "created_at": _iso(engagement.created_at),
            "published_at": _iso(engagement.published_at),
            "closes_at": _iso(engagement.closes_at),
            "closed_at": _iso(engagement.closed_at),
        },
        "invitations": [
            {
                "organisation": name,
                "channel": invitation.person_id is None,
                "door": invitation.door,
                "queued_at": _iso(invitation.created_at),
                "delivered_at": _iso(sent_at),
                "delivery": state or "unknown",
            }
            for invitation, name, sent_at, state in rows
        ],
        "clarifications": [
            {
                "kind": item.kind,
                "title": item.title,
                "question": item.question,
                "edited_to_keep_the_asker_anonymous": item.edited_for_anonymity,
                # The record is the team's (and audit's): it keeps the question as asked.
                "original_question": item.original_question,
                "answer": item.answer,
                "published_at": _iso(item.published_at),
            }
            for item in log
        ],
        "events": [
            {
                "title": row.event.title,
                "kind": row.event.kind,
                "starts_at": _iso(row.event.starts_at),
                "capacity": row.event.capacity,
                "booked": row.booked,
                "waiting": row.waiting,
                "attended": row.attended,
            }
            for row in facts.events
        ],
        "participation": {
            "organisations_invited": facts.invited_organisations,
            "people_invited": facts.invited_people,
            "joined_without_invitation": facts.joined_without_invitation,
            "organisations_answered": len(facts.answered),
            "questions_asked": len(facts.questions),
            "updates_published": len(facts.updates),
            "private_conversations": facts.private_conversations,
            # Notes are the team's alone: the record counts them, never shows them.
            "private_conversations_with_notes": await session.scalar(
                select(func.count())
                .select_from(MeetingRequest)
                .where(
                    MeetingRequest.engagement_id == engagement.id,
                    MeetingRequest.notes.is_not(None),
                )
            ),
        },
        "feedback": facts.feedback,
        # That declarations were made (ss.81-83), never what they say.
        "conflicts_of_interest": await declaration_facts(session, engagement),
        "you_said_we_did": {
            "text": engagement.you_said_we_did,
            "sent_at": _iso(engagement.you_said_at),
        },
    }


async def load_record(
    services: Services, actor: Actor, engagement_id: int, door: str, form: str
) -> dict[str, Any] | None:
    """The record for its own commissioning team (None for anyone else); every copy audited."""
    async with services.db.session() as session:
        engagement = (
            await session.get(Engagement, engagement_id) if row_id(str(engagement_id)) else None
        )
        if engagement is None or engagement.authority_id not in actor.commissioner_for():
            await audit.record(
                session,
                "engagement.record_refused",
                actor_id=actor.person_id,
                door=door,
                object_type="engagement",
                object_id=engagement_id,
            )
            return None
        record = await build_record(session, engagement, services)
        await audit.record(
            session,
            "engagement.record_exported",
            actor_id=actor.person_id,
            door=door,
            object_type="engagement",
            object_id=engagement.id,
            authority_id=engagement.authority_id,
            format=form,
        )
        return record


async def record_page(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """`/engagements/{id}/record` (a page) and `.json` (a download), served by the web door:
    the record for its own commissioning team, a plain refusal for anyone else."""
    engagement_id = row_id(request.params["id"])
    assert request.actor is not None  # not a public page: the door signed the person in
    if engagement_id is None:
        return PageRefusal(404, "Page not found", ["There is no engagement with that number."])
    record = await load_record(services, request.actor, engagement_id, Door.WEB, request.format)
    if record is None:
        return PageRefusal(
            403,
            "This record is not yours to see",
            ["Only the commissioning team of the council that ran the engagement can see it."],
        )
    notice = record["notice"]
    return PageContent(
        title=f"Engagement record: {notice['title']}",
        data={"record": record} if request.format == "html" else record,
        template="record.html",
        download_name=f"engagement-{request.params['id']}-record.json",
    )


#: The record's pages, registered with the app (see bot/core/pages.py).
PAGES = (
    WebPage("/engagements/{id:\\d+}/record", "html", record_page),
    WebPage("/engagements/{id:\\d+}/record.json", "json", record_page),
)


class NoticeFacts(TeamForm):
    """The UK2 facts on their own, for the team to change at any time (the Find a Tender
    reference usually arrives after the engagement is published)."""

    form_key = "engagement_reference"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        engagement = await self.own_engagement(
            session,
            turn,
            number_at(turn, 1),
            "reference",
            "That engagement isn't one of your council's.",
        )
        if isinstance(engagement, Refusal):
            return engagement
        return Subject(
            None, engagement.authority_id, engagement_id=engagement.id, topic="reference"
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        engagement = await session.get(Engagement, subject.engagement_id)
        assert engagement is not None
        return {
            "procurement_reference": engagement.procurement_reference,
            "above_threshold": engagement.above_threshold,
            "intended_route": engagement.intended_route,
        }

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        engagement = await submitted_engagement(session, response)
        apply_notice_fields(engagement, response.answers)
        await audit.record_turn(
            session,
            turn,
            "engagement.notice_facts_changed",
            object_type="engagement",
            object_id=engagement.id,
            authority_id=engagement.authority_id,
            procurement_reference=engagement.procurement_reference,
            above_threshold=engagement.above_threshold,
            intended_route=engagement.intended_route,
        )
        return [
            Notice(
                text=f"Saved for {engagement.title}. {notice_duty(engagement)} It is in the "
                "record. To change it again, "
                + command_ref(
                    f"engagements reference {engagement.id}",
                    f"the reference form for engagement {engagement.id}",
                )
                + ".",
                level="success",
            )
        ]


NOTICE_FACTS = NoticeFacts()


change_notice_facts = form_step(NOTICE_FACTS)


async def show_record(turn: Turn, services: Services, engagement_id: int | None) -> list[Reply]:
    """In chat: the headline facts, with links to the full record as a page and as JSON."""
    assert turn.actor is not None
    async with services.db.session() as session:
        try:
            engagement = await load_for_team(
                session,
                turn,
                engagement_id,
                "record",
                "Only the council running it can see its record.",
            )
        except Refused as refusal:
            return refusal_replies(refusal)
        record = await build_record(session, engagement, services)
    tz = turn.actor.timezone
    delivered = [i for i in record["invitations"] if i["delivered_at"]]
    published = engagement.published_at
    base = (
        services.settings.public_url or f"http://{services.settings.host}:{services.settings.port}"
    ).rstrip("/")
    return [
        Message(
            title=f"The record: {engagement.title}",
            text="Everything that shows this engagement was open and equal. It has counts, "
            "never anybody's answers.",
            sections=[
                Section(
                    facts=[
                        Fact(
                            label="Published",
                            value=format_when(published, tz) if published else "Not yet",
                        ),
                        Fact(
                            label="Invitations",
                            value=f"{len(record['invitations'])} queued, {len(delivered)} delivered",
                        ),
                        Fact(
                            label="Questions and updates published",
                            value=str(len(record["clarifications"])),
                        ),
                        Fact(
                            label="Organisations that answered",
                            value=str(record["participation"]["organisations_answered"]),
                        ),
                    ]
                )
            ],
            buttons=[
                Button(
                    label="Open the record",
                    action="link",
                    url=f"{base}/engagements/{engagement.id}/record",
                ),
                Button(
                    label="Download as JSON",
                    action="link",
                    url=f"{base}/engagements/{engagement.id}/record.json",
                ),
            ],
        )
    ]
