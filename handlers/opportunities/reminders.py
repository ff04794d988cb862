"""Deadline reminders to the people whose organisations said they are interested: 14 days
before the deadline for bids, 3 working days before, and on the morning of the deadline.

When: each reminder has a day, worked out in the council's zone from the deadline. A day
that is not a working day (a weekend, an England and Wales bank holiday) moves to the
working day before; "3 working days" counts working days only. The due sweep wakes at
10am on that day (8am for the morning one) in the council's zone, and queues one message
per person, each due at that day's 10am (or the start of their day, 8am unless they chose
otherwise, for the morning one) in *their own* zone, moved on by `next_waking_moment` to
when their quiet hours allow. A message that could only arrive after the deadline is not
sent.

Scheduled at publishing (`schedule_deadline_reminders`) and again when an amendment moves
the deadline (the amendment itself already told everyone); a reminder whose moment has
passed is never scheduled, and a pending one that no longer fits is dropped. When the
sweep runs it checks again: nothing for a withdrawn or closed opportunity, nothing if the
deadline moved so this reminder is no longer today's, nothing for organisations that
withdrew their interest. Each message is on the record as an `OpportunityAnnouncement`
(kind "reminded"), and its outbox key names the deadline, so a sweep run twice sends
nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.quiet_hours import Preferences, next_waking_moment
from bot.core.reply import ReplyList
from bot.core.working_days import is_working_day
from bot.services import Services
from handlers.engagements.common import load_locked
from handlers.engagements.working_days import REMINDER_TIME, working_days_before
from handlers.opportunities.announce import put_on_record
from handlers.opportunities.common import authority_name
from handlers.opportunities.views import deadline_reminder
from storage import audit
from storage.models import Reminder
from storage.notification_preferences import preferences_for
from storage.opportunities import interested_people
from storage.opportunity_tables import AnnouncementKind, Opportunity, OpportunityState
from storage.outbox import send_to_people
from storage.people import zones_of
from storage.reminders import cancel_reminders, schedule_reminder

REMINDER_KIND = "opportunity.deadline_reminder"
TARGET_TYPE = "opportunity"


class Which(StrEnum):
    """The three deadline reminders. The values are stored in reminders: never rename."""

    FOURTEEN_DAYS = "14_days"
    THREE_WORKING_DAYS = "3_working_days"
    MORNING_OF = "morning_of"


def working_day_on_or_before(day: date) -> date:
    """`day` itself if it is a working day, else the working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def reminder_day(which: Which, deadline: datetime, tz: ZoneInfo) -> date:
    """The day a reminder goes, in the council's zone (`tz`)."""
    deadline_day = deadline.astimezone(tz).date()
    if which is Which.FOURTEEN_DAYS:
        return working_day_on_or_before(deadline_day - timedelta(days=14))
    if which is Which.THREE_WORKING_DAYS:
        return working_days_before(deadline, 3, tz=tz).date()
    return working_day_on_or_before(deadline_day)


def _time_of(which: Which, preferences: Preferences | None = None) -> time:
    """The morning one comes at the start of the person's day (8am unless they chose
    otherwise); the others at 10am, when people are at work to act on them."""
    if which is Which.MORNING_OF:
        return preferences.day_starts if preferences is not None else time(8, 0)
    return REMINDER_TIME


def reminder_moment(which: Which, deadline: datetime, tz: ZoneInfo) -> datetime:
    """When the due sweep wakes for this reminder: its day, at its time, in `tz`."""
    return datetime.combine(reminder_day(which, deadline, tz), _time_of(which), tzinfo=tz)


def person_moment(
    which: Which,
    deadline: datetime,
    council_tz: ZoneInfo,
    person_tz: ZoneInfo,
    preferences: Preferences,
    now: datetime,
) -> datetime:
    """When this person's message is due: the reminder's day at its time in their own
    zone, never before now, moved on to when their quiet hours allow."""
    day = reminder_day(which, deadline, council_tz)
    wanted = datetime.combine(day, _time_of(which, preferences), tzinfo=person_tz)
    return next_waking_moment(max(wanted, now), person_tz, preferences)


def _target(opportunity_id: int, which: Which) -> str:
    return f"{opportunity_id}:{which}"


async def schedule_deadline_reminders(
    session: AsyncSession, opportunity: Opportunity, now: datetime, tz: ZoneInfo
) -> list[Which]:
    """Schedule (or move) the three reminders for the opportunity's deadline. One whose
    moment has passed is not scheduled, and a pending one is dropped. Which are due."""
    deadline = opportunity.submission_deadline
    assert deadline is not None
    scheduled: list[Which] = []
    dropped: list[str] = []
    for which in Which:
        moment = reminder_moment(which, deadline, tz)
        if now < moment < deadline:
            await schedule_reminder(
                session,
                kind=REMINDER_KIND,
                due_at=moment,
                target_type=TARGET_TYPE,
                target_id=_target(opportunity.id, which),
                payload={"opportunity_id": opportunity.id, "which": str(which)},
            )
            scheduled.append(which)
        else:
            dropped.append(_target(opportunity.id, which))
    await cancel_reminders(session, kind=REMINDER_KIND, target_type=TARGET_TYPE, target_ids=dropped)
    return scheduled


async def cancel_deadline_reminders(session: AsyncSession, opportunity: Opportunity) -> None:
    """A withdrawn opportunity reminds nobody."""
    await cancel_reminders(
        session,
        kind=REMINDER_KIND,
        target_type=TARGET_TYPE,
        target_ids=[_target(opportunity.id, which) for which in Which],
    )


@dataclass(frozen=True)
class Reminded:
    """What one reminder did: how many people it queued a message for."""

    people: int
    skipped_after_deadline: int = 0


async def send_deadline_reminder(
    session: AsyncSession, opportunity: Opportunity, which: Which, services: Services
) -> Reminded | None:
    """Queue this reminder for everyone interested, each at their own moment. None when it
    must not go: not open, no deadline or past it, or the deadline moved so this reminder
    is not for today."""
    now = services.clock.now()
    tz = services.tz
    deadline = opportunity.submission_deadline
    if opportunity.state != OpportunityState.OPEN or deadline is None or deadline <= now:
        return None
    if reminder_day(which, deadline, tz) != now.astimezone(tz).date():
        return None  # the deadline moved (a rescheduled reminder carries on) or we are late
    people = interested_people(opportunity.id)
    person_ids = list((await session.scalars(people)).all())
    zones = await zones_of(session, person_ids, tz)
    preferences = await preferences_for(session, person_ids)
    council = await authority_name(session, opportunity)
    by_zone: dict[str, dict[int, datetime]] = {}
    skipped = 0
    for person_id in person_ids:
        zone = zones[person_id]
        when = person_moment(which, deadline, tz, zone, preferences[person_id], now)
        if when >= deadline:
            skipped += 1
            continue
        by_zone.setdefault(str(zone), {})[person_id] = when
    key = (
        f"opportunity:{opportunity.id}:reminder:{which}:"
        f"{deadline.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M}:{{person_id}}"
    )
    told = 0
    for zone_name, moments in by_zone.items():
        message = deadline_reminder(
            opportunity,
            which,
            council,
            ZoneInfo(zone_name),
            today=reminder_day(which, deadline, tz) == deadline.astimezone(tz).date(),
        )
        payload = ReplyList(replies=[message]).model_dump(mode="json")
        sent = await send_to_people(session, list(moments), payload, key, not_before=moments)
        people_told, _ = await put_on_record(
            session, opportunity, sent, None, AnnouncementKind.REMINDED, now
        )
        told += people_told
    await audit.record(
        session,
        "opportunity.reminded",
        actor_id=None,
        object_type="opportunity",
        object_id=opportunity.id,
        authority_id=opportunity.authority_id,
        at=now,
        which=str(which),
        people_told=told,
        skipped_after_deadline=skipped,
    )
    return Reminded(told, skipped)


async def remind_before_deadline(reminder: Reminder, services: Services) -> None:
    """The due sweep's job for `REMINDER_KIND`."""
    opportunity_id = int(reminder.payload.get("opportunity_id") or reminder.target_id.split(":")[0])
    which = Which(reminder.payload.get("which") or reminder.target_id.split(":")[1])
    async with services.db.session() as session:
        opportunity = await load_locked(session, Opportunity, opportunity_id)
        if opportunity is None:
            return
        await send_deadline_reminder(session, opportunity, which, services)
