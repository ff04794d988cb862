"""Chasing an unanswered check-in: reminders after 3 and 7 working days, then the
commissioner is told; never on a weekend or bank holiday, and paused while someone is away."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.monitoring import ChasePolicy, ChaseStep, chase_moments
from bot.core.quiet_hours import Preferences, is_awake
from bot.core.working_days import is_working_day, next_working_day

LONDON = ZoneInfo("Europe/London")


def test_a_check_in_sent_on_a_monday_is_chased_on_thursday_and_the_next_wednesday() -> None:
    sent = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # Monday 2 November 2026
    chases = chase_moments(sent, LONDON)
    assert [c.step for c in chases] == list(ChaseStep)
    assert [c.on for c in chases] == [date(2026, 11, 5), date(2026, 11, 11), date(2026, 11, 16)]
    assert [c.at for c in chases] == [
        datetime(2026, 11, 5, 8, 0, tzinfo=UTC),
        datetime(2026, 11, 11, 8, 0, tzinfo=UTC),
        datetime(2026, 11, 16, 8, 0, tzinfo=UTC),
    ]
    assert not any(c.paused for c in chases)


def test_christmas_and_new_year_are_not_counted() -> None:
    sent = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)  # Monday 21 December 2026
    chases = chase_moments(sent, LONDON)
    # 22, 23, 24; then 29, 30, 31 and (New Year's Day is a bank holiday) 4 January; 5, 6, 7.
    assert [c.on for c in chases] == [date(2026, 12, 24), date(2027, 1, 4), date(2027, 1, 7)]


def test_easter_2027_and_the_clock_change_move_the_reminder_and_keep_it_at_eight() -> None:
    sent = datetime(2027, 3, 23, 9, 0, tzinfo=UTC)  # Tuesday 23 March 2027
    first, second, _ = chase_moments(sent, LONDON)
    # 24, 25, then Good Friday, the weekend and Easter Monday are skipped: Tuesday 30 March.
    assert first.on == date(2027, 3, 30)
    assert first.at == datetime(2027, 3, 30, 7, 0, tzinfo=UTC)  # 8am British Summer Time
    assert second.on == date(2027, 4, 5)


def test_a_message_sent_late_in_the_evening_counts_from_the_persons_own_day() -> None:
    # 11pm UTC on Sunday is already Monday morning in Kolkata.
    sent = datetime(2026, 11, 1, 23, 0, tzinfo=UTC)
    kolkata = ZoneInfo("Asia/Kolkata")
    first = chase_moments(sent, kolkata)[0]
    assert first.on == date(2026, 11, 5)
    assert first.at.astimezone(kolkata).time() == time(8, 0)


def test_away_until_moves_the_chases_and_says_so() -> None:
    sent = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)
    first, second, tell = chase_moments(sent, LONDON, away_until=date(2027, 1, 8))
    assert first.paused and first.due_on == date(2026, 12, 24)
    assert first.on == date(2027, 1, 11)  # the first working day after Friday 8 January
    # The rest keep their gaps (4 and 3 working days), so nobody gets three at once.
    assert second.on == date(2027, 1, 15) and second.paused
    assert tell.on == date(2027, 1, 20) and tell.step is ChaseStep.TELL_COMMISSIONER


def test_a_short_absence_only_moves_what_falls_inside_it() -> None:
    sent = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    first, second, tell = chase_moments(sent, LONDON, away_until=date(2026, 11, 5))
    assert first.on == date(2026, 11, 6) and first.paused
    assert second.on == date(2026, 11, 12)
    assert tell.on == date(2026, 11, 17)


def test_an_absence_that_ended_before_changes_nothing() -> None:
    sent = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    assert chase_moments(sent, LONDON, away_until=date(2026, 10, 30)) == chase_moments(sent, LONDON)


def test_a_naive_time_and_a_muddled_policy_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        chase_moments(datetime(2026, 11, 2, 10, 0), LONDON)
    with pytest.raises(ValueError):
        ChasePolicy(first_reminder=3, second_reminder=3, tell_commissioner=10)


PREFERENCES = st.builds(
    Preferences,
    day_starts=st.sampled_from([time(7, 0), time(8, 0), time(9, 30)]),
)


@given(
    st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2032, 12, 31), timezones=st.just(UTC)
    ),
    st.sampled_from(["Europe/London", "America/New_York", "Asia/Kolkata"]),
    PREFERENCES,
    st.one_of(st.none(), st.integers(-10, 60)),
)
def test_every_chase_is_on_a_working_day_in_working_hours_and_after_the_one_before(
    sent: datetime, zone: str, preferences: Preferences, away_days: int | None
) -> None:
    tz = ZoneInfo(zone)
    sent_on = sent.astimezone(tz).date()
    away_until = None if away_days is None else sent_on + timedelta(days=away_days)
    chases = chase_moments(sent, tz, preferences, away_until=away_until)
    previous = sent
    for chase in chases:
        local = chase.at.astimezone(tz)
        assert local.date() == chase.on and is_working_day(chase.on)
        assert local.time() == preferences.day_starts and is_awake(chase.at, tz, preferences)
        assert chase.at > previous
        assert chase.on >= chase.due_on
        assert chase.paused == (chase.on != chase.due_on)
        if away_until is not None:
            assert chase.on > away_until
            if chase is chases[0] and chase.paused:
                assert chase.on == next_working_day(away_until)
        previous = chase.at
