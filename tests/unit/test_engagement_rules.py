"""The rules behind engagements that need no door: working days (UK bank holidays), the
commissioner's guardrails, and the question set built for providers.

Working days come from the `holidays` package; these tests pin the cases people get
wrong by hand: Easter, Christmas and Boxing Day falling on a weekend (substitute days),
and Scotland's 2 January.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.clock import LONDON
from bot.core.forms import FieldType
from bot.core.turn import Door, Turn
from bot.services import Services
from bot.settings import load_settings
from handlers.engagements.common import closing_moment, number_at
from handlers.engagements.setup import (
    build_questions,
    engagement_form_key,
    guardrails,
    question_count,
)
from handlers.engagements.working_days import (
    REMINDER_TIME,
    is_working_day,
    working_days_before,
)
from storage.engagement_tables import Engagement, EngagementState

# --- working days ----------------------------------------------------------------------------


def _at_ten(day: date, tz: ZoneInfo = LONDON) -> datetime:
    return datetime.combine(day, REMINDER_TIME, tzinfo=tz)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 3, 6), True),  # a Friday
        (date(2026, 3, 7), False),  # Saturday
        (date(2026, 3, 8), False),  # Sunday
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 4, 7), True),
        (date(2026, 5, 4), False),  # Early May bank holiday
        (date(2026, 12, 25), False),  # Christmas Day, a Friday
        (date(2026, 12, 28), False),  # Boxing Day is a Saturday: Monday is the substitute
        (date(2026, 12, 29), True),
        (date(2027, 12, 27), False),  # Christmas Day on a Saturday: substitute Monday
        (date(2027, 12, 28), False),  # Boxing Day on a Sunday: substitute Tuesday
        (date(2027, 12, 29), True),
        (date(2026, 1, 2), True),  # 2 January is not a bank holiday in England
    ],
)
def test_england_working_days(day: date, working: bool) -> None:
    assert is_working_day(day) is working
    assert is_working_day(day, "ENG") is working


def test_weekends_are_skipped() -> None:
    # Close on Monday 9 March 2026: Friday 6, Thursday 5, Wednesday 4.
    deadline = closing_moment("2026-03-09")
    assert working_days_before(deadline, 1) == _at_ten(date(2026, 3, 6))
    assert working_days_before(deadline, 3) == _at_ten(date(2026, 3, 4))


def test_easter_is_skipped() -> None:
    # Tuesday 7 April 2026: Easter Monday (6) and Good Friday (3) are not working days.
    deadline = closing_moment("2026-04-07")
    assert working_days_before(deadline, 1) == _at_ten(date(2026, 4, 2))
    assert working_days_before(deadline, 3) == _at_ten(date(2026, 3, 31))


def test_christmas_substitute_days_are_skipped() -> None:
    # Wednesday 29 December 2027: Tuesday 28 and Monday 27 are substitute bank holidays.
    deadline = closing_moment("2027-12-29")
    assert working_days_before(deadline, 1) == _at_ten(date(2027, 12, 24))
    assert working_days_before(deadline, 3) == _at_ten(date(2027, 12, 22))


def test_counting_crosses_the_year() -> None:
    # Monday 4 January 2027 (in England): Friday 1 January is New Year's Day.
    deadline = closing_moment("2027-01-04")
    assert working_days_before(deadline, 1) == _at_ten(date(2026, 12, 31))
    assert working_days_before(deadline, 3) == _at_ten(date(2026, 12, 29))


def test_scotland_has_2_january() -> None:
    assert is_working_day(date(2026, 1, 2), "ENG")
    assert not is_working_day(date(2026, 1, 2), "SCT")
    deadline = closing_moment("2026-01-05")  # a Monday
    assert working_days_before(deadline, 1, region="ENG") == _at_ten(date(2026, 1, 2))
    assert working_days_before(deadline, 1, region="SCT") == _at_ten(date(2025, 12, 31))
    # Scotland keeps Easter Monday as a working day, England does not.
    easter = closing_moment("2026-04-07")
    assert working_days_before(easter, 1, region="SCT") == _at_ten(date(2026, 4, 6))


def test_the_deadline_day_itself_never_counts() -> None:
    # Even a deadline on a working day counts back from the day before.
    deadline = closing_moment("2026-03-11")  # a Wednesday
    assert working_days_before(deadline, 1) == _at_ten(date(2026, 3, 10))


def test_reminder_is_in_the_given_zone() -> None:
    # 1am UTC on Tuesday 7 April is still Monday 6 April in Honolulu: count from there.
    moment = datetime(2026, 4, 7, 1, 0, tzinfo=UTC)
    hawaii = ZoneInfo("Pacific/Honolulu")
    got = working_days_before(moment, 1, tz=hawaii)
    assert got == _at_ten(date(2026, 4, 2), hawaii)
    assert got.tzinfo == hawaii


def test_region_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVENE_BANK_HOLIDAY_REGION", "SCT")
    monkeypatch.setenv("CONVENE_ENGAGEMENT_MINIMUM_DAYS", "42")
    monkeypatch.setenv("CONVENE_ENGAGEMENT_MAX_QUESTIONS", "10")
    settings = load_settings()
    assert settings.bank_holiday_region == "SCT"
    assert settings.engagement_minimum_days == 42
    assert settings.engagement_max_questions == 10
    monkeypatch.delenv("CONVENE_BANK_HOLIDAY_REGION")
    assert load_settings().bank_holiday_region == "ENG"


@pytest.mark.parametrize("region", ["sct", "Scotland", "UK", ""])
def test_a_region_typo_fails_at_start_up(monkeypatch: pytest.MonkeyPatch, region: str) -> None:
    """Not later, when a commissioner presses Publish and the holidays can't be looked up."""
    monkeypatch.setenv("CONVENE_BANK_HOLIDAY_REGION", region)
    with pytest.raises(ValidationError, match="bank_holiday_region"):
        load_settings()


async def test_publishing_schedules_the_reminder_with_the_region(services: Services) -> None:
    """The closing-soon reminder honours CONVENE_BANK_HOLIDAY_REGION end to end."""
    from sqlalchemy import select

    from handlers.engagements.setup import CLOSING_SOON_KIND, schedule_closing
    from storage.models import Authority, Reminder

    async with services.db.session() as session:
        authority = await session.scalar(select(Authority))
        assert authority is not None
        engagement = _engagement(closes=closing_moment("2099-01-05"))  # a Monday
        engagement.authority_id = authority.id
        session.add(engagement)
        await session.flush()
        services.settings.bank_holiday_region = "SCT"
        services.settings.engagement_reminder_working_days = 1
        await schedule_closing(session, engagement, services)
        due = await session.scalar(
            select(Reminder.due_at).where(
                Reminder.kind == CLOSING_SOON_KIND, Reminder.target_id == str(engagement.id)
            )
        )
    assert due is not None
    # Friday 2 January 2099 is a Scottish bank holiday, and 1 January too: Wednesday 31st.
    expected = _at_ten(date(2098, 12, 31)).astimezone(UTC)
    assert due.replace(tzinfo=due.tzinfo or UTC) == expected


# --- numbers people type ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("engagements show 4", 4),
        ("engagements show 4 extra", 4),
        ("engagements show  12 ", 12),
        ("engagements show abc", None),
        ("engagements show -3", None),
        ("engagements show 0", None),
        ("engagements show 1_000", None),
        ("engagements show ²", None),
        ("engagements show 2147483647", 2147483647),
        # Past any database id: PostgreSQL would refuse to look it up at all.
        ("engagements show 2147483648", None),
        ("engagements show 99999999999999999999", None),
        ("engagements show", None),
    ],
)
def test_numbers_in_commands(text: str, number: int | None) -> None:
    assert number_at(Turn(door=Door.WEB, actor=None, text=text), 1) == number


@pytest.mark.parametrize(("given", "number"), [("7", 7), ("x", None), ("99999999999", None)])
def test_numbers_from_links(given: str, number: int | None) -> None:
    turn = Turn(door=Door.WEB, actor=None, text="engagements show", args={"id": given})
    assert number_at(turn, 1) == number


# --- guardrails ------------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _engagement(
    *,
    closes: datetime | None = None,
    questions: list[str] | None = None,
    must: list[str] | None = None,
    own: list[str] | None = None,
) -> Engagement:
    return Engagement(
        id=7,
        authority_id=1,
        title="Young people's mental health",
        purpose="Better early help.",
        closes_at=closes or NOW + timedelta(weeks=8),
        confidentiality="Private.",
        question_ids=list(questions or []),
        must_answer=list(must or []),
        own_questions=list(own or []),
        funding_routes=[],
        state=EngagementState.DRAFT,
    )


def _services(**settings: Any) -> Any:
    """Only `settings` is read by the guardrails."""
    return SimpleNamespace(settings=load_settings(secret_key="x", **settings))


ALL_QUESTIONS = [
    "viable_terms",
    "outcomes_view",
    "risks",
    "ideas",
    "contract_length",
    "payment",
    "largest_value",
    "working_with_others",
    "support_wanted",
    "respond_how",
    "anything_else",
]


def test_no_warnings_for_a_good_engagement() -> None:
    engagement = _engagement(questions=["viable_terms", "ideas", "payment"], must=["payment"])
    assert guardrails(engagement, _services(), NOW) == []


@pytest.mark.parametrize(
    ("days", "warned"),
    # The default minimum is the council's own 28 days, not seed 004's six-week tender window.
    [(42, False), (28, False), (27.9, True), (14, True), (-1, True)],
)
def test_short_time_to_answer(days: float, warned: bool) -> None:
    engagement = _engagement(closes=NOW + timedelta(days=days), questions=["risks"])
    warnings = guardrails(engagement, _services(), NOW)
    assert bool(warnings) is warned, warnings
    if warned:
        assert len(warnings) == 1
        text = warnings[0]
        assert f"It is open for {int(max(0.0, days))} days after publishing" in text
        assert "at least 28 days" in text
        assert "the council's own rule, not the law" in text
        assert "week" not in text


def test_short_time_is_configurable() -> None:
    engagement = _engagement(closes=NOW + timedelta(days=35), questions=["risks"])
    assert guardrails(engagement, _services(), NOW) == []
    warnings = guardrails(engagement, _services(engagement_minimum_days=42), NOW)
    assert len(warnings) == 1 and "at least 42 days" in warnings[0]
    assert guardrails(engagement, _services(engagement_minimum_days=14), NOW) == []


def test_the_minimum_cannot_be_negative() -> None:
    with pytest.raises(ValidationError):
        load_settings(secret_key="x", engagement_minimum_days=-1)


def test_question_count_includes_own_questions_and_the_confidential_mark() -> None:
    assert question_count(_engagement()) == 0
    assert question_count(_engagement(questions=["risks"])) == 1
    assert question_count(_engagement(questions=["ideas"])) == 2
    assert question_count(_engagement(questions=ALL_QUESTIONS, own=["a", "b", "c"])) == 15


def test_many_questions() -> None:
    everything = _engagement(questions=ALL_QUESTIONS, own=["One?", "Two?", "Three?"])
    # The most the setup form allows is exactly the default limit: no warning.
    assert guardrails(everything, _services(), NOW) == []
    warnings = guardrails(everything, _services(engagement_max_questions=12), NOW)
    assert len(warnings) == 1
    assert "It asks 15 questions. More than 12" in warnings[0]
    assert guardrails(everything, _services(engagement_max_questions=15), NOW) == []


@pytest.mark.parametrize(
    ("must", "warned"),
    [
        ([], False),
        (["risks"], False),
        (["risks", "payment"], False),  # half is not "mostly"
        (["risks", "payment", "viable_terms"], True),
        (["risks", "payment", "viable_terms", "anything_else"], True),
    ],
)
def test_mostly_required(must: list[str], warned: bool) -> None:
    engagement = _engagement(questions=["risks", "payment", "viable_terms", "anything_else"])
    engagement.must_answer = must
    warnings = guardrails(engagement, _services(), NOW)
    assert bool(warnings) is warned, warnings
    if warned:
        assert warnings == [
            f"{len(must)} of 4 questions must be answered. Optional questions get more "
            "replies; make required only what you truly need."
        ]


def test_every_guardrail_at_once() -> None:
    engagement = _engagement(
        closes=NOW + timedelta(weeks=3),
        questions=ALL_QUESTIONS,
        must=ALL_QUESTIONS,
        own=["One?"],
    )
    warnings = guardrails(engagement, _services(engagement_max_questions=10), NOW)
    assert len(warnings) == 3, warnings
    assert "open for 21 days" in warnings[0]
    assert "13 questions" in warnings[1]
    assert "11 of 13 questions must be answered" in warnings[2]


# --- the question set ------------------------------------------------------------------------


async def _built(services: Services, engagement: Engagement) -> Any:
    async with services.db.session() as session:
        definition = await build_questions(session, engagement)
    assert definition is not None
    return definition


def _ids(definition: Any) -> list[str]:
    return [f.id for f in definition.all_fields()]


async def test_only_the_chosen_questions_in_bank_order(services: Services) -> None:
    definition = await _built(services, _engagement(questions=["payment", "risks"]))
    assert _ids(definition) == ["risks", "payment"]
    assert [p.id for p in definition.pages] == ["the_work", "terms"]
    assert definition.key == engagement_form_key(7) == "engagement-7"
    assert definition.title == "Questions: Young people's mental health"
    assert "Other providers never see them" in (definition.who_sees or "")


async def test_required_only_where_the_commissioner_said(services: Services) -> None:
    definition = await _built(
        services,
        _engagement(questions=["risks", "payment", "ideas"], must=["payment", "ideas"]),
    )
    required = {f.id: f.required for f in definition.all_fields()}
    assert required == {
        "risks": False,
        "ideas": True,
        # Marking an idea confidential is never forced, even when the idea is.
        "ideas_confidential": False,
        "payment": True,
    }


async def test_own_questions_come_last(services: Services) -> None:
    definition = await _built(
        services,
        _engagement(questions=["risks"], own=["Where are the gaps?", "Who is missed?"]),
    )
    assert _ids(definition) == ["risks", "own_1", "own_2"]
    last = definition.pages[-1]
    assert last.id == "council_questions"
    assert [(f.label, f.type, f.required) for f in last.fields] == [
        ("Where are the gaps?", FieldType.LONG_TEXT, False),
        ("Who is missed?", FieldType.LONG_TEXT, False),
    ]


async def test_the_confidential_mark_follows_the_idea(services: Services) -> None:
    with_idea = await _built(services, _engagement(questions=["ideas"]))
    assert _ids(with_idea) == ["ideas", "ideas_confidential"]
    assert with_idea.field("ideas_confidential").type == FieldType.YES_NO
    without = await _built(services, _engagement(questions=["risks", "anything_else"]))
    assert "ideas_confidential" not in _ids(without)
    assert "ideas" not in _ids(without)


async def test_nothing_chosen_still_leaves_room_to_say_something(services: Services) -> None:
    definition = await _built(services, _engagement())
    assert _ids(definition) == ["anything_else"]
    only_own = await _built(services, _engagement(own=["Anything we missed?"]))
    assert _ids(only_own) == ["own_1"]


@pytest.mark.parametrize(
    "questions",
    [["risks"], ["ideas"], ["ideas", "payment", "support_wanted"], ALL_QUESTIONS],
)
async def test_count_matches_what_providers_see(services: Services, questions: list[str]) -> None:
    """The guardrail counts exactly the questions providers will be asked."""
    engagement = _engagement(questions=questions, own=["Own?"])
    definition = await _built(services, engagement)
    assert len(definition.all_fields()) == question_count(engagement)
