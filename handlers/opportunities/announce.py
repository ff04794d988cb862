"""Telling providers: every fitting provider at publishing, and everyone told or interested
at each amendment and at a withdrawal. Each message goes to each person on their own door
through the outbox, all due at the same moment, and each is on the record as an
`OpportunityAnnouncement`.

The seam for notification preferences: `due_for(people, now)` is when their messages are
due. Today it is always `now` (immediately); a later slice reads each person's choice
(a weekly digest, quiet hours, none) there, and nothing else here changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reply import Message, ReplyList
from storage.engagement_tables import AuthorityChannel
from storage.engagements import members_of
from storage.models import Door
from storage.opportunities import (
    everyone_to_tell,
    matching_organisations,
    organisation_of_people,
)
from storage.opportunity_tables import AnnouncementKind, Opportunity, OpportunityAnnouncement
from storage.outbox import Address, enqueue, send_to_people
from storage.upsert import insert_many_ignoring_duplicates


@dataclass(frozen=True)
class Told:
    """How many were told: people, their organisations, and channel posts."""

    people: int
    organisations: int
    channels: int


def due_for(people: Select[Any], now: datetime) -> datetime:
    """When these people's opportunity messages are due. Immediately, for now: the seam
    where each person's notification preferences (a digest, quiet hours) will be read."""
    return now


async def _tell(
    session: AsyncSession,
    opportunity: Opportunity,
    people: Select[Any],
    organisations: Select[Any] | None,
    message: Message,
    kind: AnnouncementKind,
    key: str,
    now: datetime,
) -> tuple[int, int]:
    """Queue one identical message per person and put each on the record."""
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    sent = await send_to_people(session, people, payload, key, not_before=due_for(people, now))
    return await put_on_record(session, opportunity, sent, organisations, kind, now)


async def put_on_record(
    session: AsyncSession,
    opportunity: Opportunity,
    sent: Mapping[int, tuple[Address, str]],
    organisations: Select[Any] | None,
    kind: AnnouncementKind,
    now: datetime,
) -> tuple[int, int]:
    """One `OpportunityAnnouncement` per person a message was queued for (what
    `send_to_people` returned): people told, and their organisations."""
    organisation_of = await organisation_of_people(session, organisations, list(sent))
    rows: list[dict[str, Any]] = [
        {
            "opportunity_id": opportunity.id,
            "kind": kind,
            "organisation_id": organisation_of.get(person_id),
            "person_id": person_id,
            "door": where.door,
            "outbox_key": message_key,
            "created_at": now,
        }
        for person_id, (where, message_key) in sent.items()
    ]
    await insert_many_ignoring_duplicates(session, OpportunityAnnouncement, rows, ["outbox_key"])
    return len(sent), len(set(organisation_of.values()))


async def _post_to_channels(
    session: AsyncSession,
    opportunity: Opportunity,
    message: Message,
    kind: AnnouncementKind,
    key: str,
    now: datetime,
) -> int:
    """The council's own channels get the same post, as engagements' invitations do."""
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    channels = (
        await session.scalars(
            select(AuthorityChannel).where(
                AuthorityChannel.authority_id == opportunity.authority_id
            )
        )
    ).all()
    rows: list[dict[str, Any]] = []
    for channel in channels:
        channel_key = key.format(person_id=f"channel-{channel.id}")
        await enqueue(
            session,
            door=Door(channel.platform),
            address=channel.address,
            workspace_id=channel.workspace_id,
            payload=payload,
            idempotency_key=channel_key,
            not_before=now,
        )
        rows.append(
            {
                "opportunity_id": opportunity.id,
                "kind": kind,
                "organisation_id": None,
                "person_id": None,
                "door": channel.platform,
                "outbox_key": channel_key,
                "created_at": now,
            }
        )
    await insert_many_ignoring_duplicates(session, OpportunityAnnouncement, rows, ["outbox_key"])
    return len(channels)


async def announce(
    session: AsyncSession, opportunity: Opportunity, message: Message, now: datetime
) -> Told:
    """At publishing: every provider the opportunity fits, at the same moment."""
    matched = matching_organisations(opportunity)
    key = f"opportunity:{opportunity.id}:published:{{person_id}}"
    people, organisations = await _tell(
        session,
        opportunity,
        members_of(matched),
        matched,
        message,
        AnnouncementKind.PUBLISHED,
        key,
        now,
    )
    channels = await _post_to_channels(
        session, opportunity, message, AnnouncementKind.PUBLISHED, key, now
    )
    return Told(people, organisations, channels)


async def tell_everyone(
    session: AsyncSession,
    opportunity: Opportunity,
    message: Message,
    kind: AnnouncementKind,
    change_id: str,
    now: datetime,
) -> Told:
    """A change (an amendment, a withdrawal): everyone told before and everyone interested,
    at the same moment. `change_id` makes each change's messages their own."""
    key = f"opportunity:{opportunity.id}:{kind}:{change_id}:{{person_id}}"
    people = select(everyone_to_tell(opportunity.id).subquery().c[0])
    told, organisations = await _tell(session, opportunity, people, None, message, kind, key, now)
    channels = await _post_to_channels(session, opportunity, message, kind, key, now)
    return Told(told, organisations, channels)
