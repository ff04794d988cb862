"""Telling providers: every fitting provider at publishing, and everyone told or interested
at each amendment and at a withdrawal. Each message goes to each person on their own door
through the outbox, and each is on the record as an `OpportunityAnnouncement`.

Each person's notification preferences decide when (`due_for`): at publishing, people who
chose "immediately" are told at once, or at the start of their day when it is night where
they are; people on a weekly digest get it in their next digest (`digest.py`); people who
chose "none" are not messaged. Changes go to everyone told and everyone interested,
whatever they chose, at once or when their day starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import LONDON
from bot.core.quiet_hours import HowOften, next_waking_moment, zone_named
from bot.core.reply import Message, ReplyList
from storage.digests import ensure_digest_job
from storage.engagement_tables import AuthorityChannel
from storage.engagements import members_of
from storage.models import Door
from storage.notification_preferences import reach_of
from storage.opportunities import (
    everyone_to_tell,
    matching_organisations,
    organisation_of_people,
)
from storage.opportunity_tables import AnnouncementKind, Opportunity, OpportunityAnnouncement
from storage.outbox import Address, enqueue, send_to_people
from storage.upsert import insert_many_ignoring_duplicates

#: People per statement when their ids are listed in it.
PEOPLE_PER_QUERY = 5000


@dataclass(frozen=True)
class Told:
    """How many were told: people, their organisations, and channel posts; and of the
    people it fits, how many wait for their weekly digest, and how many wait for morning."""

    people: int
    organisations: int
    channels: int
    in_digest: int = 0
    in_the_morning: int = 0


@dataclass(frozen=True)
class Timing:
    """When each person's message is due (only those to message now), and who waits."""

    due: dict[int, datetime] = field(default_factory=dict)
    #: On a weekly digest: the opportunity goes in their next one instead.
    in_digest: int = 0
    #: Chose to hear nothing of new opportunities.
    not_wanted: int = 0

    def in_the_morning(self, now: datetime) -> int:
        return sum(1 for at in self.due.values() if at > now)


async def due_for(
    session: AsyncSession,
    people: Select[Any],
    now: datetime,
    *,
    new: bool,
    tz: ZoneInfo = LONDON,
) -> Timing:
    """When these people's opportunity messages are due, by each one's choices, in one query.
    `new` is a newly published opportunity (their choice of how often applies); otherwise it
    is a change to one they heard of or are interested in (quiet hours only). `tz` is the
    zone of anybody who has not got their own."""
    due: dict[int, datetime] = {}
    in_digest = not_wanted = 0
    for person_id, reach in (await reach_of(session, people)).items():
        choice = reach.preferences.opportunities
        if new and choice == HowOften.WEEKLY:
            in_digest += 1
            continue
        if new and choice == HowOften.NONE:
            not_wanted += 1
            continue
        zone = zone_named(reach.timezone, tz)
        due[person_id] = next_waking_moment(now, zone, reach.preferences)
    return Timing(due, in_digest, not_wanted)


async def _tell(
    session: AsyncSession,
    opportunity: Opportunity,
    timing: Timing,
    organisations: Select[Any] | None,
    message: Message,
    kind: AnnouncementKind,
    key: str,
    now: datetime,
) -> tuple[int, int]:
    """Queue one identical message per person, each at their own moment, on the record."""
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    people = list(timing.due)
    told = 0
    organisations_told: set[int] = set()
    # Some thousands at a time: each id in a list is a parameter of its own, and
    # database drivers allow about 32,000 in one statement.
    for start in range(0, len(people), PEOPLE_PER_QUERY):
        chunk = people[start : start + PEOPLE_PER_QUERY]
        sent = await send_to_people(session, chunk, payload, key, not_before=timing.due)
        people_told, organisations_in = await put_on_record(
            session, opportunity, sent, organisations, kind, now
        )
        told += people_told
        organisations_told |= organisations_in
    return told, len(organisations_told)


async def put_on_record(
    session: AsyncSession,
    opportunity: Opportunity,
    sent: Mapping[int, tuple[Address, str]],
    organisations: Select[Any] | None,
    kind: AnnouncementKind,
    now: datetime,
) -> tuple[int, set[int]]:
    """One `OpportunityAnnouncement` per person a message was queued for (what
    `send_to_people` returned): how many people, and which organisations, were told."""
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
    return len(sent), set(organisation_of.values())


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
    session: AsyncSession,
    opportunity: Opportunity,
    message: Message,
    now: datetime,
    tz: ZoneInfo = LONDON,
) -> Told:
    """At publishing: every provider the opportunity fits, by each person's choices."""
    matched = matching_organisations(opportunity)
    key = f"opportunity:{opportunity.id}:published:{{person_id}}"
    timing = await due_for(session, members_of(matched), now, new=True, tz=tz)
    people, organisations = await _tell(
        session, opportunity, timing, matched, message, AnnouncementKind.PUBLISHED, key, now
    )
    if timing.in_digest:
        await ensure_digest_job(session, now + timedelta(hours=1))
    channels = await _post_to_channels(
        session, opportunity, message, AnnouncementKind.PUBLISHED, key, now
    )
    return Told(people, organisations, channels, timing.in_digest, timing.in_the_morning(now))


async def tell_everyone(
    session: AsyncSession,
    opportunity: Opportunity,
    message: Message,
    kind: AnnouncementKind,
    change_id: str,
    now: datetime,
    tz: ZoneInfo = LONDON,
) -> Told:
    """A change (an amendment, a withdrawal): everyone told before and everyone interested,
    whatever they chose, each as soon as their quiet hours allow. `change_id` makes each
    change's messages their own."""
    key = f"opportunity:{opportunity.id}:{kind}:{change_id}:{{person_id}}"
    people = select(everyone_to_tell(opportunity.id).subquery().c[0])
    timing = await due_for(session, people, now, new=False, tz=tz)
    told, organisations = await _tell(session, opportunity, timing, None, message, kind, key, now)
    channels = await _post_to_channels(session, opportunity, message, kind, key, now)
    return Told(told, organisations, channels, in_the_morning=timing.in_the_morning(now))
