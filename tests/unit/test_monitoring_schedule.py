"""Check-in schedules: only from a plan both sides agreed, on working days, at the start of
the person's working day in their own zone, through bank holidays and clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.monitoring import (
    Frequency,
    MonitoringPlan,
    PlanError,
    checkin_moments,
    planned_days,
    start_of_working_day,
)
from bot.core.months import add_months
from bot.core.quiet_hours import DEFAULT, Preferences, is_awake
from bot.core.working_days import (
    is_working_day,
    working_day_on_or_after,
    working_day_on_or_before,
    working_days_after,
)

LONDON = ZoneInfo("Europe/London")


# --- the plan both sides agreed --------------------------------------------------------


def test_there_is_no_default_frequency() -> None:
    with pytest.raises(PlanError, match="Convene does not choose for you"):
        MonitoringPlan(date(2026, 4, 1), date(2027, 3, 31))


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"ends": date(2026, 3, 31), "frequency": Frequency.MONTHLY}, "ends before it starts"),
        (
            {"frequency": Frequency.MONTHLY, "dates": (date(2026, 6, 1),)},
            "not both",
        ),
        ({"frequency": Frequency.EVERY_N_WEEKS}, "how many weeks"),
        ({"frequency": Frequency.EVERY_N_WEEKS, "every_weeks": 0}, "how many weeks"),
        ({"frequency": Frequency.MONTHLY, "every_weeks": 2}, "only goes with"),
        ({"dates": (date(2027, 4, 1),)}, "between the plan's start and end"),
    ],
)
def test_a_plan_that_contradicts_itself_is_refused_in_plain_words(
    kwargs: dict[str, object], complaint: str
) -> None:
    arguments: dict[str, object] = {"starts": date(2026, 4, 1), "ends": date(2027, 3, 31)}
    arguments.update(kwargs)
    with pytest.raises(PlanError, match=complaint):
        MonitoringPlan(**arguments)  # type: ignore[arg-type]


def test_quarterly_over_a_year_asks_four_times_and_new_years_day_moves_to_monday() -> None:
    plan = MonitoringPlan(date(2026, 4, 1), date(2027, 3, 31), Frequency.QUARTERLY)
    moments = checkin_moments(plan, LONDON)
    assert [m.planned_on for m in moments] == [
        date(2026, 7, 1),
        date(2026, 10, 1),
        date(2027, 1, 1),  # New Year's Day, a Friday bank holiday
        date(2027, 3, 31),  # the last stretch, reported on at the end
    ]
    assert [m.on for m in moments][2] == date(2027, 1, 4)
    assert [m.moved for m in moments] == [False, False, True, False]
    # 8am in London: British Summer Time in July and October, Greenwich Mean Time in January.
    assert [m.at for m in moments] == [
        datetime(2026, 7, 1, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 1, 7, 0, tzinfo=UTC),
        datetime(2027, 1, 4, 8, 0, tzinfo=UTC),
        datetime(2027, 3, 31, 7, 0, tzinfo=UTC),
    ]


def test_a_yearly_plan_for_one_year_asks_once_at_the_end() -> None:
    plan = MonitoringPlan(date(2026, 4, 1), date(2027, 3, 31), Frequency.YEARLY)
    assert planned_days(plan) == [date(2027, 3, 31)]


def test_a_short_last_stretch_is_not_asked_about_twice() -> None:
    plan = MonitoringPlan(date(2026, 4, 1), date(2026, 6, 3), Frequency.MONTHLY)
    assert planned_days(plan) == [date(2026, 5, 1), date(2026, 6, 1)]


def test_monthly_from_the_31st_stays_at_the_end_of_each_month() -> None:
    plan = MonitoringPlan(date(2026, 1, 31), date(2026, 5, 31), Frequency.MONTHLY)
    assert planned_days(plan) == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]


def test_every_two_weeks_from_a_wednesday() -> None:
    plan = MonitoringPlan(
        date(2026, 12, 2), date(2027, 1, 13), Frequency.EVERY_N_WEEKS, every_weeks=2
    )
    moments = checkin_moments(plan, LONDON)
    assert [m.on for m in moments] == [
        date(2026, 12, 16),
        date(2026, 12, 30),
        date(2027, 1, 13),
    ]


def test_christmas_day_moves_past_the_boxing_day_holiday_to_tuesday() -> None:
    plan = MonitoringPlan(date(2026, 12, 1), date(2027, 2, 1), dates=(date(2026, 12, 25),))
    (moment,) = checkin_moments(plan, LONDON)
    assert moment.on == date(2026, 12, 29)  # Boxing Day is Saturday: its holiday is Monday 28
    assert moment.at == datetime(2026, 12, 29, 8, 0, tzinfo=UTC)


def test_good_friday_2027_waits_for_easter_monday_and_the_clock_change() -> None:
    """Good Friday 26 March 2027, Easter Monday 29 March; the clocks go forward on Sunday 28
    March, so 8am on Tuesday is 7am UTC."""
    plan = MonitoringPlan(date(2027, 1, 1), date(2027, 12, 31), dates=(date(2027, 3, 26),))
    (moment,) = checkin_moments(plan, LONDON)
    assert moment.on == date(2027, 3, 30)
    assert moment.at == datetime(2027, 3, 30, 7, 0, tzinfo=UTC)
    assert moment.at.astimezone(LONDON).time() == time(8, 0)


def test_after_the_clocks_go_back_eight_oclock_is_eight_utc() -> None:
    plan = MonitoringPlan(date(2026, 10, 1), date(2026, 11, 30), dates=(date(2026, 10, 24),))
    (moment,) = checkin_moments(plan, LONDON)  # Saturday 24 October; clocks go back on 25th
    assert moment.on == date(2026, 10, 26)
    assert moment.at == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_the_persons_own_hours_and_zone_are_used() -> None:
    early = Preferences(day_starts=time(7, 30))
    plan = MonitoringPlan(date(2026, 6, 1), date(2026, 6, 30), dates=(date(2026, 6, 10),))
    (moment,) = checkin_moments(plan, ZoneInfo("America/New_York"), early)
    assert moment.at == datetime(2026, 6, 10, 11, 30, tzinfo=UTC)  # 7:30am EDT


def test_a_check_in_at_the_very_end_does_not_fall_after_the_agreement() -> None:
    # Sunday 28 February 2027 is the last day: the Friday before, not Monday 1 March.
    plan = MonitoringPlan(date(2027, 1, 1), date(2027, 2, 28), dates=(date(2027, 2, 28),))
    (moment,) = checkin_moments(plan, LONDON)
    assert moment.on == date(2027, 2, 26)


def test_two_dates_on_one_weekend_make_one_check_in() -> None:
    plan = MonitoringPlan(
        date(2026, 6, 1), date(2026, 6, 30), dates=(date(2026, 6, 13), date(2026, 6, 14))
    )
    assert [m.on for m in checkin_moments(plan, LONDON)] == [date(2026, 6, 15)]


# --- every check-in, whatever the plan ---------------------------------------------------

ZONES = st.sampled_from(["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney"])
PREFERENCES = st.builds(
    Preferences,
    day_starts=st.times(min_value=time(6, 0), max_value=time(10, 0)).map(
        lambda t: t.replace(second=0, microsecond=0)
    ),
)


@st.composite
def plans(draw: st.DrawFn) -> MonitoringPlan:
    starts = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2032, 12, 31)))
    ends = starts + timedelta(days=draw(st.integers(min_value=0, max_value=3 * 366)))
    if draw(st.booleans()):
        dates = draw(st.lists(st.dates(min_value=starts, max_value=ends), min_size=1, max_size=12))
        return MonitoringPlan(starts, ends, dates=tuple(dates))
    frequency = draw(st.sampled_from(list(Frequency)))
    weeks = draw(st.integers(1, 8)) if frequency is Frequency.EVERY_N_WEEKS else None
    return MonitoringPlan(starts, ends, frequency, every_weeks=weeks)


@given(plans(), ZONES, PREFERENCES)
def test_every_check_in_is_on_a_working_day_in_working_hours_and_after_the_one_before(
    plan: MonitoringPlan, zone: str, preferences: Preferences
) -> None:
    tz = ZoneInfo(zone)
    moments = checkin_moments(plan, tz, preferences)
    assert moments, "an agreed plan always asks at least once"
    for moment in moments:
        local = moment.at.astimezone(tz)
        assert local.date() == moment.on
        assert is_working_day(moment.on)
        assert local.time() == preferences.day_starts
        assert is_awake(moment.at, tz, preferences)
        assert moment.at.tzinfo is not None
        # Never more than a long bank holiday weekend away from the day planned.
        assert abs((moment.on - moment.planned_on).days) <= 5
    days = [m.on for m in moments]
    assert days == sorted(set(days))


# --- the calendar helpers it stands on ---------------------------------------------------


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(-60, 60))
def test_adding_months_keeps_the_day_or_takes_the_months_last(day: date, months: int) -> None:
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day == day.day or (later.day < day.day and (later + timedelta(1)).day == 1)


def test_adding_months_refuses_a_time() -> None:
    with pytest.raises(TypeError):
        add_months(datetime(2026, 1, 31, tzinfo=UTC), 1)


def test_working_days_either_side_of_christmas_2026() -> None:
    assert working_day_on_or_after(date(2026, 12, 25)) == date(2026, 12, 29)
    assert working_day_on_or_before(date(2026, 12, 28)) == date(2026, 12, 24)
    assert working_day_on_or_after(date(2026, 12, 24)) == date(2026, 12, 24)
    assert working_days_after(date(2026, 12, 23), 2) == date(2026, 12, 29)
    with pytest.raises(ValueError):
        working_days_after(date(2026, 12, 23), 0)


def test_start_of_working_day_defaults_to_eight_in_london() -> None:
    assert start_of_working_day(date(2026, 12, 7), LONDON) == datetime(
        2026, 12, 7, 8, 0, tzinfo=UTC
    )
    assert start_of_working_day(date(2026, 12, 5), LONDON, DEFAULT).date() == date(2026, 12, 7)
