"""Key-date reminders for agreements (issue 15): each key date of an agreement, as the
monitoring core works it out (`bot.core.monitoring.key_dates`), is one reminder row.

Scheduled when an agreement is saved, new or changed (`schedule_key_dates`, called from the
register's save step). A change that moves a date moves its reminder; a date the agreement
no longer has, or one already past, has none. Each reminder goes on the working day on or
before its date (never after: a date on Boxing Day is reminded of on the working day
before Christmas). The due sweep wakes at the start of that day in the council's zone and
queues one message per person, each due at the start of *their* working day in their own
zone (8am unless they chose another hour), moved on by their quiet hours.

Who is told: the council's commissioning team for a date that is the team's; the members
of every provider party for a date that is the provider's; both for one that is for both.
Nobody else. The sweep checks again before sending: the agreement must still have this date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.monitoring import (
    AgreementDates,
    Audience,
    BreakClause,
    KeyDate,
    KeyDatesError,
    key_dates,
    start_of_working_day,
)
from bot.core.quiet_hours import next_waking_moment
from bot.core.reply import ReplyList
from bot.core.working_days import working_day_on_or_before
from bot.services import Services
from handlers.agreements.key_date_views import key_date_reminder
from storage import audit
from storage.agreement_tables import Agreement
from storage.agreements import kpis_of, parties_of
from storage.engagements import commissioning_team
from storage.models import Membership, Reminder, Role
from storage.notification_preferences import preferences_for
from storage.outbox import send_to_people
from storage.people import zones_of
from storage.reminders import cancel_reminders, pending_reminders, schedule_reminder

REMINDER_KIND = "agreement.key_date"
TARGET_TYPE = "agreement"
#: The due sweep wakes at the very start of the reminder's day (council's zone); each
#: person's message then waits for the start of their own working day.
WAKE = time(0, 0)


@dataclass(frozen=True)
class Planned:
    """One key date with its stable reminder target ("4:break_notice:0") and the day its
    reminder goes."""

    target: str
    key_date: KeyDate
    remind_on: date


def dates_of(agreement: Agreement, kpi_count: int) -> AgreementDates | None:
    """The agreement's dates as the monitoring core reads them; None when they contradict
    (the register's form does not let that happen). A break clause with no notice period
    has no notice deadline, so it is left out."""
    breaks = tuple(
        BreakClause(date.fromisoformat(c["on"]), int(c["notice_days"]))
        for c in agreement.break_clauses or []
        if c.get("on") and c.get("notice_days") is not None
    )
    try:
        return AgreementDates(
            starts=agreement.starts_on,
            ends=agreement.ends_on,
            break_clauses=breaks,
            light_touch=agreement.light_touch,
            grant=agreement.grant_funded,
            kpis_set=kpi_count > 0,
            payment_terms_days=agreement.payment_terms_days,
        )
    except KeyDatesError:
        return None


def plan(agreement: Agreement, kpi_count: int) -> list[Planned]:
    """Every key date of the agreement with its reminder target and day, in date order.
    The target numbers dates of one kind in date order, so a moved date keeps its row."""
    dates = dates_of(agreement, kpi_count)
    if dates is None:
        return []
    counts: dict[str, int] = {}
    planned = []
    for key_date in key_dates(dates):
        n = counts.get(key_date.kind, 0)
        counts[key_date.kind] = n + 1
        planned.append(
            Planned(
                f"{agreement.id}:{key_date.kind}:{n}",
                key_date,
                working_day_on_or_before(key_date.on),
            )
        )
    return planned


async def planned_for(session: AsyncSession, agreement: Agreement) -> list[Planned]:
    return plan(agreement, len(await kpis_of(session, agreement.id)))


def upcoming(planned: list[Planned], today: date, *, for_team: bool) -> list[KeyDate]:
    """The key dates from today on: all of them for the team; a provider's own for a party."""
    return [
        p.key_date
        for p in planned
        if p.key_date.on >= today and (for_team or p.key_date.audience != Audience.TEAM)
    ]


async def schedule_key_dates(
    session: AsyncSession, agreement: Agreement, services: Services
) -> list[Planned]:
    """Schedule (or move) one reminder per key date of the agreement still to come, and drop
    the pending ones it no longer has. The key dates scheduled."""
    now = services.clock.now()
    tz = services.tz
    today = now.astimezone(tz).date()
    scheduled: list[Planned] = []
    for planned in await planned_for(session, agreement):
        if planned.key_date.on < today:
            continue  # already past
        wake = datetime.combine(planned.remind_on, WAKE, tzinfo=tz)
        await schedule_reminder(
            session,
            kind=REMINDER_KIND,
            due_at=max(wake, now),
            target_type=TARGET_TYPE,
            target_id=planned.target,
            payload={
                "agreement_id": agreement.id,
                "kind": str(planned.key_date.kind),
                "on": planned.key_date.on.isoformat(),
            },
        )
        scheduled.append(planned)
    wanted = {p.target for p in scheduled}
    stale = [
        r.target_id
        for r in await pending_reminders(
            session, kind=REMINDER_KIND, target_type=TARGET_TYPE, target_prefix=f"{agreement.id}:"
        )
        if r.target_id not in wanted
    ]
    await cancel_reminders(session, kind=REMINDER_KIND, target_type=TARGET_TYPE, target_ids=stale)
    return scheduled


async def people_for(session: AsyncSession, agreement: Agreement, audience: Audience) -> list[int]:
    """Who a key date is for: the council's commissioning team, the members of every
    provider party, or both. Nobody else."""
    people: list[int] = []
    if audience in (Audience.TEAM, Audience.BOTH):
        people += [p.id for p in await commissioning_team(session, agreement.authority_id)]
    if audience in (Audience.PROVIDER, Audience.BOTH):
        organisations = [o.id for _, o in await parties_of(session, agreement.id)]
        if organisations:
            people += (
                await session.scalars(
                    select(Membership.person_id)
                    .where(
                        Membership.organisation_id.in_(organisations),
                        Membership.role.in_((Role.PROVIDER_MEMBER, Role.PROVIDER_ADMIN)),
                    )
                    .order_by(Membership.person_id)
                )
            ).all()
    return list(dict.fromkeys(people))


async def send_key_date(
    session: AsyncSession, agreement: Agreement, target: str, services: Services
) -> int | None:
    """Queue the reminder for this key date to everyone it is for, each at the start of their
    own working day. None when it must not go: the agreement no longer has this date, or
    it has passed. How many people it was queued for."""
    now = services.clock.now()
    tz = services.tz
    today = now.astimezone(tz).date()
    planned = next((p for p in await planned_for(session, agreement) if p.target == target), None)
    if planned is None or planned.key_date.on < today:
        return None
    key_date = planned.key_date
    person_ids = await people_for(session, agreement, key_date.audience)
    zones = await zones_of(session, person_ids, tz)
    preferences = await preferences_for(session, person_ids)
    due: dict[int, datetime] = {}
    for person_id in person_ids:
        zone: ZoneInfo = zones[person_id]
        chosen = preferences[person_id]
        start = start_of_working_day(planned.remind_on, zone, chosen)
        due[person_id] = next_waking_moment(max(start, now), zone, chosen)
    message = key_date_reminder(agreement, key_date, today=today)
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    key = f"agreement:{agreement.id}:key_date:{target}:{key_date.on.isoformat()}:{{person_id}}"
    sent = await send_to_people(session, list(due), payload, key, not_before=due)
    await audit.record(
        session,
        "agreement.key_date_reminded",
        actor_id=None,
        object_type="agreement",
        object_id=agreement.id,
        authority_id=agreement.authority_id,
        at=now,
        key_date=str(key_date.kind),
        on=key_date.on.isoformat(),
        audience=str(key_date.audience),
        people_told=len(sent),
    )
    return len(sent)


async def remind_of_key_date(reminder: Reminder, services: Services) -> None:
    """The due sweep's job for `REMINDER_KIND`."""
    agreement_id = int(reminder.payload.get("agreement_id") or reminder.target_id.split(":")[0])
    async with services.db.session() as session:
        agreement = await session.get(Agreement, agreement_id)
        if agreement is None:
            return
        await send_key_date(session, agreement, reminder.target_id, services)
