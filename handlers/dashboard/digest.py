"""The commissioners' weekly digest: one message a week, on the day each commissioner
chose (Monday unless they changed it, or never if they turned it off), in their own
waking hours and time zone. It says what changed in the last seven days (new answers,
interest, changes asked for, feedback), what is due in the next seven (key dates,
check-ins, closing dates) and which check-ins are overdue; every line is a button onward.

Nothing is sent to a commissioner whose week held nothing: a message saying "nothing new"
every week teaches people to ignore the ones that matter, and the dashboard is always one
command away. Each message has an idempotency key per person and ISO week
(`digest:commissioner:<person>:<year>-W<week>`), so a second run, a second replica, or a
person who changes their day mid-week, adds nothing.

The due sweep runs `build_commissioner_digests` every hour (one reminder row; it queues
the next run itself). The job is started when a commissioner opens their dashboard or
chooses a day, so a council with commissioners always has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import LONDON, format_date, format_when
from bot.core.quiet_hours import Preferences, is_awake, zone_named
from bot.core.reply import Button, Message, ReplyList, Section
from bot.services import Services
from storage import audit
from storage.commissioner_digests import (
    MOST_LINES,
    CouncilWeek,
    Line,
    council_week,
    digest_days,
    ensure_commissioner_digest_job,
)
from storage.models import Authority, Reminder
from storage.notification_preferences import reach_of
from storage.outbox import send_each

KEY = "digest:commissioner:{person_id}:"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
KEY_DATES = {
    "signed": "signed",
    "review": "review",
    "price_uplift": "price uplift",
    "tupe_transfer": "TUPE transfer",
    "ends": "ends",
}
WHO_SEES = (
    "Only you get this message. Other people in your council's commissioning team get "
    "their own, on the day they chose."
)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def due_day(now: datetime, tz: ZoneInfo, weekday: int | None, chosen: Preferences) -> date | None:
    """The person's own day, when `now` is on their digest weekday, at or after the start
    of their day and while they may be messaged; else None."""
    if weekday is None:
        return None
    local = now.astimezone(tz)
    if local.weekday() != weekday:
        return None
    if local.time() < chosen.day_starts or not is_awake(now, tz, chosen):
        return None
    return local.date()


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _buttons(lines: Sequence[Line], words: Any, action: str, value: str) -> list[Button]:
    buttons = [
        Button(label=words(line), action=action, value=value.format(id=line.subject_id))
        for line in lines[:MOST_LINES]
    ]
    if len(lines) > MOST_LINES:
        buttons.append(
            Button(label=f"And {len(lines) - MOST_LINES} more: see them all", action=action)
        )
    return buttons


def council_sections(
    name: str, week: CouncilWeek, *, today: date, tz: ZoneInfo, minimum: int
) -> list[Section]:
    """The view of one council's week: changed, due, overdue; a button on every line."""
    changed = (
        _buttons(
            week.answers,
            lambda line: f"{line.title}: {_n(line.count, 'new answer')}",
            "cmd.engagements",
            "show {id}",
        )
        + _buttons(
            week.interest,
            lambda line: f"{line.title}: {_n(line.count, 'organisation')} said they are interested",
            "cmd.opportunities",
            "interested {id}",
        )
        + _buttons(
            week.variations,
            lambda line: f"{line.title}: {_n(line.count, 'change')} asked for",
            "cmd.agreements",
            "show {id}",
        )
    )
    if week.feedback:
        # The same rule as the dashboard: a small number is not shown exactly.
        said = _n(week.feedback, "answer") if week.feedback >= minimum else f"fewer than {minimum}"
        changed.append(
            Button(label=f"Feedback from people who use services: {said}", action="cmd.feedback")
        )
    due = (
        _buttons(
            week.key_dates,
            lambda line: (
                f"{line.title}: {KEY_DATES.get(line.kind, line.kind.replace('_', ' '))}"
                f" on {format_date(line.on or today)}"
            ),
            "cmd.agreements",
            "show {id}",
        )
        + _buttons(
            week.checkins_due,
            lambda line: f"{line.title}: check-in due {format_date(line.on or today)}",
            "cmd.agreements",
            "show {id}",
        )
        + _buttons(
            week.closing,
            lambda line: (
                f"{line.title}: closes {format_when(line.when, tz)}" if line.when else line.title
            ),
            "cmd.opportunities",
            "interested {id}",
        )
    )
    overdue = _buttons(
        week.overdue,
        lambda line: (
            f"{line.title}: {_n(line.count, 'check-in')} overdue since "
            f"{format_date(line.on or today)}"
        ),
        "cmd.agreements",
        "show {id}",
    )
    week_end = today + timedelta(days=6)
    sections = [Section(heading=name)]
    if changed:
        sections.append(Section(heading="What changed in the last 7 days", buttons=changed))
    if due:
        sections.append(
            Section(heading=f"Due by {format_date(week_end)}", buttons=due),
        )
    if overdue:
        sections.append(
            Section(
                heading="Overdue",
                text="Check-ins the provider has not answered yet.",
                buttons=overdue,
            )
        )
    return sections


def digest_message(sections: list[Section], today: date) -> Message:
    return Message(
        title=f"Your week, {format_date(today)}",
        text="What changed, what is due this week and what is overdue. Choose a line to open "
        "it. We send this once a week; you can change the day or turn it off.",
        sections=sections,
        buttons=[
            Button(label="Open the dashboard", action="cmd.dashboard"),
            Button(label="Change the day", action="cmd.dashboard", value="digest"),
        ],
        who_sees=WHO_SEES,
    )


@dataclass(frozen=True)
class CommissionerRun:
    people: int = 0


async def queue_commissioner_digests(
    session: AsyncSession, now: datetime, tz: ZoneInfo = LONDON, *, minimum: int = 5
) -> CommissionerRun:
    """Build and queue every commissioner's digest due at `now` (the service step)."""
    chosen = await digest_days(session)
    if not chosen:
        return CommissionerRun()
    reach = await reach_of(session, list(chosen))
    due: dict[int, tuple[date, ZoneInfo]] = {}
    for person_id, (weekday, _) in chosen.items():
        if person_id not in reach:
            continue
        zone = zone_named(reach[person_id].timezone, tz)
        day = due_day(now, zone, weekday, reach[person_id].preferences)
        if day is not None:
            due[person_id] = (day, zone)
    if not due:
        return CommissionerRun()
    councils = {a for pid in due for a in chosen[pid][1]}
    names = dict(
        (
            await session.execute(
                select(Authority.id, Authority.name).where(Authority.id.in_(councils))
            )
        )
        .tuples()
        .all()
    )
    weeks: dict[tuple[int, date], CouncilWeek] = {}
    payloads: dict[int, dict[str, Any]] = {}
    for person_id, (day, zone) in due.items():
        sections: list[Section] = []
        for authority_id in sorted(chosen[person_id][1]):
            if (authority_id, day) not in weeks:
                weeks[(authority_id, day)] = await council_week(
                    session, authority_id, now=now, today=day
                )
            week = weeks[(authority_id, day)]
            if not week.empty:
                sections += council_sections(
                    names.get(authority_id, "Your council"),
                    week,
                    today=day,
                    tz=zone,
                    minimum=minimum,
                )
        if sections:
            message = digest_message(sections, day)
            payloads[person_id] = ReplyList(replies=[message]).model_dump(mode="json")
    sent = 0
    by_week: dict[str, list[int]] = {}
    for person_id in payloads:
        by_week.setdefault(iso_week(due[person_id][0]), []).append(person_id)
    for week_name, ids in by_week.items():
        done = await send_each(session, ids, payloads.get, KEY + week_name, not_before=now)
        sent += len(done)
    return CommissionerRun(people=sent)


def next_run(now: datetime) -> datetime:
    """The top of the next hour: every person's day starts on an hour in some zone."""
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


async def build_commissioner_digests(reminder: Reminder, services: Services) -> None:
    """The due sweep's hourly job: queue every commissioner digest due now, then the next."""
    now = services.clock.now()
    async with services.db.session() as session:
        run = await queue_commissioner_digests(
            session, now, services.tz, minimum=services.settings.suppression_minimum
        )
        if run.people:
            await audit.record(
                session,
                "dashboard.digests_queued",
                actor_id=None,
                object_type="commissioner_digests",
                object_id=None,
                at=now,
                people=run.people,
            )
        await ensure_commissioner_digest_job(session, next_run(now), running=reminder.id)
