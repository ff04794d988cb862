"""Chasing a check-in nobody has answered: two reminders, then the commissioner is told.

After a check-in is sent, the person is reminded after 3 working days and again after 7;
if there is still no answer, the commissioner is told (never the provider's competitors,
never a public list), as a prompt to talk rather than a mark against anyone. These gaps
are Convene's practice, not law (issue 15), so they live here as a policy a caller may
replace, not in the legal rules.

Someone who says they are "away until" a date is not chased while away: the chase that
would fall then moves to the first working day after it, and the later ones keep their
gaps after it, so a long absence does not bring three messages on the morning they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.core.monitoring.moments import start_of_working_day
from bot.core.quiet_hours import DEFAULT, Preferences
from bot.core.working_days import next_working_day, working_days_after


class ChaseStep(StrEnum):
    """What happens at each step, in order."""

    FIRST_REMINDER = "first_reminder"
    SECOND_REMINDER = "second_reminder"
    TELL_COMMISSIONER = "tell_commissioner"


@dataclass(frozen=True)
class ChasePolicy:
    """Working days after the check-in was sent at which each step falls."""

    first_reminder: int = 3
    second_reminder: int = 7
    #: Three more working days after the second reminder, the same grace as the first.
    tell_commissioner: int = 10

    def __post_init__(self) -> None:
        if not 1 <= self.first_reminder < self.second_reminder < self.tell_commissioner:
            raise ValueError("each chase comes at least a working day after the one before")

    def steps(self) -> list[tuple[ChaseStep, int]]:
        return [
            (ChaseStep.FIRST_REMINDER, self.first_reminder),
            (ChaseStep.SECOND_REMINDER, self.second_reminder),
            (ChaseStep.TELL_COMMISSIONER, self.tell_commissioner),
        ]


CHASING = ChasePolicy()


@dataclass(frozen=True)
class Chase:
    """One step: the day it was due, the day it goes (later while the person is away),
    and the moment (UTC) at the start of the person's working day."""

    step: ChaseStep
    due_on: date
    on: date
    at: datetime

    @property
    def paused(self) -> bool:
        """Whether it moved because the person said they were away."""
        return self.on != self.due_on


def chase_moments(
    sent_at: datetime,
    tz: ZoneInfo,
    preferences: Preferences = DEFAULT,
    away_until: date | None = None,
    policy: ChasePolicy = CHASING,
) -> list[Chase]:
    """The chases for a check-in sent at `sent_at` (aware), counted in working days from
    the day it was sent in the person's zone, each at the start of their working day.

    `away_until` is the last day the person is away. A step due on or before it goes on
    the first working day after it instead; later steps keep their gap in working days.
    The commissioner's own hours may differ: re-time that step with
    `start_of_working_day(chase.on, their_zone, their_preferences)`.
    """
    if sent_at.tzinfo is None:
        raise ValueError("pass an aware time")
    sent_on = sent_at.astimezone(tz).date()
    chases: list[Chase] = []
    previous_due, previous_on, counted = sent_on, sent_on, 0
    for step, count in policy.steps():
        due_on = working_days_after(previous_due, count - counted)
        on = working_days_after(previous_on, count - counted)
        if away_until is not None and on <= away_until:
            on = next_working_day(away_until)
        chases.append(Chase(step, due_on, on, start_of_working_day(on, tz, preferences)))
        previous_due, previous_on, counted = due_on, on, count
    return chases
