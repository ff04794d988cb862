"""Quiet hours: nobody is messaged outside 8am-8pm in their own zone unless they chose."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.quiet_hours import (
    DEFAULT,
    HowOften,
    Preferences,
    digest_day,
    is_awake,
    next_waking_moment,
    zone_named,
)

LONDON = ZoneInfo("Europe/London")


def test_a_message_in_the_evening_waits_for_the_morning() -> None:
    late = datetime(2026, 12, 7, 21, 30, tzinfo=UTC)  # 9:30pm in London (GMT)
    assert next_waking_moment(late, LONDON) == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)


def test_a_message_in_the_day_goes_at_once() -> None:
    noon = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert next_waking_moment(noon, LONDON) == noon


def test_early_morning_waits_until_eight_the_same_day_in_summer_time() -> None:
    early = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)  # 6am BST
    assert next_waking_moment(early, LONDON) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


def test_eight_in_the_morning_after_the_clocks_go_forward() -> None:
    night = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # 11pm GMT; clocks change that night
    assert next_waking_moment(night, LONDON) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_someone_who_said_any_hour_is_always_awake() -> None:
    anytime = Preferences(quiet_hours=False)
    assert is_awake(datetime(2026, 12, 7, 3, 0, tzinfo=UTC), LONDON, anytime)


def test_a_night_worker_day_runs_past_midnight() -> None:
    night_shift = Preferences(day_starts=time(18, 0), day_ends=time(6, 0))
    assert is_awake(datetime(2026, 12, 7, 2, 0, tzinfo=UTC), LONDON, night_shift)
    assert not is_awake(datetime(2026, 12, 7, 12, 0, tzinfo=UTC), LONDON, night_shift)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        is_awake(datetime(2026, 12, 7, 12, 0), LONDON)


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(["Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]),
)
def test_the_moment_chosen_is_never_earlier_and_always_awake(moment: datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    chosen = next_waking_moment(moment, tz, DEFAULT)
    assert chosen >= moment
    assert is_awake(chosen, tz, DEFAULT)
    assert (chosen - moment).total_seconds() <= 13 * 3600


def test_a_weekly_digest_is_due_on_the_chosen_day_from_the_start_of_the_day() -> None:
    weekly = Preferences(opportunities=HowOften.WEEKLY, digest_weekday=2)  # Wednesday
    wednesday_7am = datetime(2026, 1, 14, 7, 0, tzinfo=UTC)
    assert digest_day(wednesday_7am, LONDON, weekly) is None  # before the day starts
    assert digest_day(wednesday_7am.replace(hour=8), LONDON, weekly) == wednesday_7am.date()
    assert digest_day(wednesday_7am.replace(hour=20), LONDON, weekly) is None  # too late
    assert digest_day(wednesday_7am.replace(day=13, hour=9), LONDON, weekly) is None  # Tuesday
    assert digest_day(wednesday_7am.replace(hour=9), LONDON, DEFAULT) is None  # not weekly
    # 11pm on Tuesday in London is 8am on Wednesday in Tokyo: their day, in their zone.
    tuesday_late = datetime(2026, 1, 13, 23, 0, tzinfo=UTC)
    assert digest_day(tuesday_late, ZoneInfo("Asia/Tokyo"), weekly) == wednesday_7am.date()


def test_a_missing_or_broken_zone_name_falls_back_to_the_default() -> None:
    assert zone_named(None, LONDON) is LONDON
    assert zone_named("Not/AZone", LONDON) is LONDON
    assert zone_named("Asia/Tokyo", LONDON) == ZoneInfo("Asia/Tokyo")
