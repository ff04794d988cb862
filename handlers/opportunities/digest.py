"""The weekly digest: one message per person who chose it, listing every open opportunity
that fits their organisation and that they have not heard of yet, on their chosen weekday
in their own waking hours. Nothing is sent when there is nothing new.

The due sweep runs `build_digests` every hour (one reminder row, so one replica at a time;
it queues the next run itself). Each run works on everybody whose digest is due, in
batches, with a fixed number of queries per batch however many people there are:
matching is the announcing rule (`fit_keys`), asked for every open opportunity at once in
two queries (`fitting_pairs`). A digest is claimed per person and day (`opportunity_digests`) and its
message has an idempotency key per person and day, so a second run, or a second replica,
adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import LONDON, format_when
from bot.core.quiet_hours import digest_day, zone_named
from bot.core.reply import Button, Message, ReplyList, Section, command_ref
from bot.services import Services
from handlers.notifications.choices import COMMAND as CHANGE_COMMAND
from handlers.opportunities.common import COMMAND
from storage import audit
from storage.digests import (
    ensure_digest_job,
    had_digest,
    organisations_of,
    record_digests,
    told_already,
)
from storage.models import Authority, Reminder
from storage.notification_preferences import weekly_readers
from storage.opportunities import fitting_pairs, open_opportunities
from storage.opportunity_tables import Opportunity
from storage.outbox import send_each

#: People handled per batch: each batch costs the same few queries.
BATCH = 1000
#: Opportunities listed in one message (Slack shows at most 50 blocks); the rest are counted.
MOST_LISTED = 20

WHO_SEES_DIGEST = (
    "Only you get this list. It has the open opportunities that fit your organisation and "
    "that we had not told you about yet."
)


@dataclass(frozen=True)
class DigestRun:
    """What one run queued: digests (people), opportunities listed in all of them, batches."""

    people: int = 0
    items: int = 0
    batches: int = 0


@dataclass(frozen=True)
class _Listed:
    opportunity: Opportunity
    council: str


def digest_message(listed: Sequence[_Listed], tz: ZoneInfo) -> Message:
    """The view: one message listing each opportunity, its deadline in full and a button."""
    shown = listed[:MOST_LISTED]
    n = len(listed)
    sections = [
        Section(
            heading=item.opportunity.title,
            text=f"From {item.council}. Deadline for bids: "
            + (
                format_when(item.opportunity.submission_deadline, tz)
                if item.opportunity.submission_deadline
                else "not set yet"
            )
            + ".",
            buttons=[
                Button(label="Open", action=f"cmd.{COMMAND}", value=f"show {item.opportunity.id}")
            ],
        )
        for item in shown
    ]
    if n > len(shown):
        sections.append(
            Section(
                text=f"And {n - len(shown)} more. See them all: "
                f"{command_ref(COMMAND, 'the open opportunities')}."
            )
        )
    return Message(
        title="New opportunities for you this week",
        text=(
            f"{n} new {'opportunity fits' if n == 1 else 'opportunities fit'} your "
            "organisation. Open one to see if it is for you."
        ),
        sections=sections,
        buttons=[Button(label="Change how often we tell you", action=f"cmd.{CHANGE_COMMAND}")],
        who_sees=WHO_SEES_DIGEST,
    )


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def queue_digests(
    session: AsyncSession,
    now: datetime,
    tz: ZoneInfo = LONDON,
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> DigestRun:
    """Build and queue every weekly digest due at `now` (the service step). `tz` is the zone
    of people without their own. `progress(n)` is called when the batches start (0) and
    after each (1, 2, ...): the benchmark counts queries per batch with it."""
    readers = await weekly_readers(session)
    zones = {pid: zone_named(reach.timezone, tz) for pid, reach in readers.items()}
    days: dict[int, date] = {}
    for person_id, reach in readers.items():
        day = digest_day(now, zones[person_id], reach.preferences)
        if day is not None:
            days[person_id] = day
    if not days:
        return DigestRun()
    opportunities = [
        o
        for o in await open_opportunities(session)
        if o.submission_deadline is None or o.submission_deadline > now
    ]
    if not opportunities:
        return DigestRun()
    fits = await fitting_pairs(session, opportunities)
    councils = dict(
        (
            await session.execute(
                select(Authority.id, Authority.name).where(
                    Authority.id.in_({o.authority_id for o in opportunities})
                )
            )
        ).all()
    )
    # Listed soonest deadline first, the order `open_opportunities` gives.
    position = {o.id: i for i, o in enumerate(opportunities)}
    listed = {o.id: _Listed(o, councils.get(o.authority_id, "The council")) for o in opportunities}
    # People of one organisation in one zone get the same message: built once.
    payloads: dict[tuple[tuple[int, ...], str], dict[str, Any]] = {}
    people = items = batches = 0
    if progress is not None:
        progress(0)
    for chunk in _chunks(sorted(days), batch):
        batches += 1
        had = await had_digest(session, {p: days[p] for p in chunk})
        todo = [p for p in chunk if p not in had]
        organisations = await organisations_of(session, todo)
        candidates: dict[int, dict[int, int]] = {}
        for person_id in todo:
            for organisation_id in sorted(organisations.get(person_id, ())):
                for opportunity_id in fits.get(organisation_id, ()):
                    candidates.setdefault(person_id, {}).setdefault(opportunity_id, organisation_id)
        told = await told_already(
            session, list(candidates), {o for found in candidates.values() for o in found}
        )
        contents: dict[int, list[int]] = {}
        for person_id, found in candidates.items():
            new = [o for o in found if (person_id, o) not in told]
            if new:
                contents[person_id] = sorted(new, key=position.__getitem__)
        messages: dict[int, dict[str, Any]] = {}
        for person_id, ids in contents.items():
            zone = zones[person_id]
            cache_key = (tuple(ids), zone.key)
            if cache_key not in payloads:
                message = digest_message([listed[o] for o in ids], zone)
                payloads[cache_key] = ReplyList(replies=[message]).model_dump(mode="json")
            messages[person_id] = payloads[cache_key]

        by_day: dict[date, list[int]] = {}
        for person_id in contents:
            by_day.setdefault(days[person_id], []).append(person_id)
        digests: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        for day, ids in by_day.items():
            key = f"opportunity-digest:{{person_id}}:{day.isoformat()}"
            sent = await send_each(session, ids, messages.get, key, not_before=now)
            for person_id, (_, message_key) in sent.items():
                digests.append(
                    {
                        "person_id": person_id,
                        "week_of": day,
                        "outbox_key": message_key,
                        "opportunities": len(contents[person_id]),
                        "created_at": now,
                    }
                )
                entries.extend(
                    {
                        "person_id": person_id,
                        "opportunity_id": o,
                        "organisation_id": candidates[person_id][o],
                        "outbox_key": message_key,
                        "created_at": now,
                    }
                    for o in contents[person_id]
                )
        await record_digests(session, digests, entries)
        people += len(digests)
        items += len(entries)
        if progress is not None:
            progress(batches)
    return DigestRun(people, items, batches)


def next_run(now: datetime) -> datetime:
    """The top of the next hour: every person's day starts on an hour in some zone."""
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


async def build_digests(reminder: Reminder, services: Services) -> None:
    """The due sweep's hourly job: queue every digest due now, then the next run."""
    now = services.clock.now()
    async with services.db.session() as session:
        run = await queue_digests(session, now, services.tz)
        if run.people:
            await audit.record(
                session,
                "opportunity.digests_queued",
                actor_id=None,
                object_type="opportunity_digests",
                object_id=None,
                at=now,
                people=run.people,
                opportunities_listed=run.items,
            )
        await ensure_digest_job(session, next_run(now), running=reminder.id)
