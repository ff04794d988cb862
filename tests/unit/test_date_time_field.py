"""The date-and-time question ("When does the workshop start?") on every door.

Times are UK time (Europe/London) and stored as ISO 8601 in UTC with its offset. The
round-trip tests at the end render a page the way each door does, fill it in the way
Slack, Teams or a browser would, and read it back through the same code the doors use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest

from bot.core.forms import (
    AnswerError,
    ChatState,
    Field,
    FieldType,
    FormDefinition,
    chat_answer,
    chat_prompt,
    format_answer,
    parse_answer,
    read_date_time,
    start_chat,
    to_raw,
    validate_all,
    validate_page,
)
from bot.core.reply import FormView
from bot.slack import blocks as slack_kit
from bot.teams import cards as teams_kit
from bot.web.render import environment
from handlers.export_files import CellKind, Column, Table, _kind_of, cell_value, to_csv
from tests.slack.conftest import BlockKitLog, block_kit_problems
from tests.slack.helpers import fill_in, input_elements
from tests.support.adaptive_cards import check_card
from tests.teams.helpers import inputs, press

EXAMPLE = "Tuesday 2 March 2027, 2pm"
STARTS = Field(id="starts_at", type=FieldType.DATE_TIME, label="When does the workshop start?")
MEET = Field(id="meet_at", type=FieldType.DATE_TIME, label="Time you can meet", required=True)

# 2026: the clocks go forward at 1am GMT on 29 March and back at 2am BST on 25 October.
SPRING_GAP_DAY = "29 March 2026"
AUTUMN_FOLD_DAY = "25 October 2026"


def error_for(field: Field, raw: Any) -> str:
    with pytest.raises(AnswerError) as info:
        parse_answer(field, raw)
    assert info.value.field_id == field.id
    return info.value.message


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------


def test_the_type_and_its_example() -> None:
    assert FieldType("date_time") is FieldType.DATE_TIME
    assert STARTS.effective_example == EXAMPLE
    custom = Field(id="x", type=FieldType.DATE_TIME, label="X", example="Friday 5 March, 10am")
    assert custom.effective_example == "Friday 5 March, 10am"


@pytest.mark.parametrize(
    "extra",
    [{"min_value": 1}, {"max_length": 10}, {"choices": [{"value": "a", "label": "A"}]}],
)
def test_number_text_and_choice_settings_are_refused(extra: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="starts_at"):
        Field.model_validate({"id": "starts_at", "type": "date_time", "label": "Start", **extra})


# --------------------------------------------------------------------------
# Parsing: what people type
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "Tuesday 2 March 2027, 2pm",
        "2 March 2027 14:00",
        "2027-03-02T14:00",  # what <input type="datetime-local"> sends
        "2027-03-02T14:00:00",
        "2027-03-02 14:00",
        "2 March 2027 at 2pm",
        "2 Mar 2027 2 p.m.",
        "2nd March 2027, 2.00pm",
        "March 2nd, 2027 2pm",
        "02/03/2027 14.00",
        "2/3/27 14:00",
        "2pm on Tuesday 2 March 2027",
        "14:00, 2 March 2027",
        "  TUESDAY 2 MARCH 2027, 2PM.  ",
        "2 March 2027 - 2pm",
        "2 March 2027 2pm GMT",
        "2027-03-02T14:00:00Z",
        "2027-03-02T14:00:00+00:00",
        "2027-03-02T15:00:00+01:00",
    ],
)
def test_a_winter_afternoon_typed_many_ways(raw: str) -> None:
    assert parse_answer(STARTS, raw) == "2027-03-02T14:00:00+00:00"


def test_uk_day_first_order_and_half_hours() -> None:
    assert parse_answer(STARTS, "02/03/2027 2:30pm") == "2027-03-02T14:30:00+00:00"
    assert parse_answer(STARTS, "03/02/2027 2:30pm") == "2027-02-03T14:30:00+00:00"


def test_summer_times_are_bst() -> None:
    # 2pm in July is 1pm UTC: the stored value is UTC, with its offset.
    assert parse_answer(STARTS, "Friday 2 July 2027, 2pm") == "2027-07-02T13:00:00+00:00"
    assert parse_answer(STARTS, "2027-07-02T14:00") == "2027-07-02T13:00:00+00:00"
    assert parse_answer(STARTS, "2 July 2027 2pm BST") == "2027-07-02T13:00:00+00:00"
    # An explicit offset is taken as written.
    assert parse_answer(STARTS, "2027-07-02T14:00:00Z") == "2027-07-02T14:00:00+00:00"


@pytest.mark.parametrize(
    ("raw", "hour", "minute"),
    [
        ("2 March 2027 midday", 12, 0),
        ("2 March 2027 12 noon", 12, 0),
        ("2 March 2027 12pm", 12, 0),
        ("2 March 2027 midnight", 0, 0),
        ("2 March 2027 12am", 0, 0),
        ("2 March 2027 9am", 9, 0),
        ("2 March 2027 09:05", 9, 5),
        ("2 March 2027 23:59", 23, 59),
        ("2 March 2027 14:00hrs", 14, 0),
        ("2027-03-02T14:00:59.999", 14, 0),  # seconds are dropped: forms work in minutes
    ],
)
def test_times_of_day(raw: str, hour: int, minute: int) -> None:
    moment = read_date_time(parse_answer(STARTS, raw))
    assert (moment.hour, moment.minute, moment.second) == (hour, minute, 0)


def test_stored_value_is_aware_iso_8601_in_utc() -> None:
    stored = parse_answer(STARTS, EXAMPLE)
    assert isinstance(stored, str)
    moment = datetime.fromisoformat(stored)
    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(0)


def test_a_bare_date_needs_a_time() -> None:
    message = error_for(STARTS, "2 March 2027")
    assert message == (
        "Enter the answer to 'When does the workshop start?' with a time as well as the "
        f"date, like {EXAMPLE}"
    )
    assert error_for(MEET, "02/03/2027") == (
        f"Enter time you can meet with a time as well as the date, like {EXAMPLE}"
    )


def test_a_bare_time_needs_a_date() -> None:
    assert error_for(MEET, "2pm") == (
        f"Enter time you can meet with the date as well as the time, like {EXAMPLE}"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("whenever suits", f"Enter time you can meet as a date and time, like {EXAMPLE}"),
        ("2 March 2027 13pm", f"Time you can meet must be a real time, like {EXAMPLE}"),
        ("2 March 2027 0am", f"Time you can meet must be a real time, like {EXAMPLE}"),
        ("2 March 2027 24:00", f"Time you can meet must be a real time, like {EXAMPLE}"),
        ("2 March 2027 14:60", f"Time you can meet must be a real time, like {EXAMPLE}"),
        ("31/02/2027 2pm", f"Time you can meet must be a real date, like {EXAMPLE}"),
        ("next Tuesday at 2pm", f"Enter time you can meet as a date and time, like {EXAMPLE}"),
        (
            "Monday 2 March 2027, 2pm",
            "Tuesday 2 March 2027 is not a Monday. Check time you can meet and try again.",
        ),
        (
            "2 March 2pm",
            f"Enter time you can meet with the day, month and year, like {EXAMPLE}",
        ),
        ("x" * 300, f"Enter time you can meet as a date and time, like {EXAMPLE}"),
    ],
)
def test_bad_answers_get_plain_english_errors(raw: str, expected: str) -> None:
    assert error_for(MEET, raw) == expected


def test_two_answers_in_one_input_are_refused() -> None:
    assert error_for(MEET, [EXAMPLE, "3 March 2027 2pm"]).startswith("Enter only one answer")


@pytest.mark.parametrize("raw", [None, "", "   ", [], ["", " "]])
def test_blank_is_no_answer(raw: Any) -> None:
    assert parse_answer(STARTS, raw) is None


def test_a_zone_that_does_not_fit_the_date_is_questioned() -> None:
    assert error_for(MEET, "2 July 2027 2pm GMT") == (
        "On Friday 2 July 2027 UK clocks are on BST, not GMT. "
        f"Enter time you can meet without GMT, like {EXAMPLE}"
    )


# --------------------------------------------------------------------------
# When the clocks change
# --------------------------------------------------------------------------


def test_the_spring_gap_moves_forward_an_hour() -> None:
    # 1:30am on 29 March 2026 never happens in the UK: 1am GMT is followed by 2am BST.
    # zoneinfo's fold=0 reads it with the winter offset, which is 2:30am BST.
    stored = parse_answer(STARTS, f"{SPRING_GAP_DAY} 1:30am")
    assert stored == "2026-03-29T01:30:00+00:00"
    assert format_answer(STARTS, stored) == "Sunday 29 March 2026, 2:30am"
    assert parse_answer(STARTS, to_raw(STARTS, stored)) == stored


def test_times_either_side_of_the_spring_change() -> None:
    assert parse_answer(STARTS, f"{SPRING_GAP_DAY} 12:59am") == "2026-03-29T00:59:00+00:00"
    assert parse_answer(STARTS, f"{SPRING_GAP_DAY} 2am") == "2026-03-29T01:00:00+00:00"
    assert parse_answer(STARTS, f"{SPRING_GAP_DAY} 3am") == "2026-03-29T02:00:00+00:00"


def test_the_autumn_repeat_takes_the_first_unless_told() -> None:
    # 1:30am on 25 October 2026 happens twice: first in BST, then again in GMT.
    first = parse_answer(STARTS, f"{AUTUMN_FOLD_DAY} 1:30am")
    assert first == "2026-10-25T00:30:00+00:00"
    assert parse_answer(STARTS, f"{AUTUMN_FOLD_DAY} 1:30am BST") == first
    second = parse_answer(STARTS, f"{AUTUMN_FOLD_DAY} 1:30am GMT")
    assert second == "2026-10-25T01:30:00+00:00"
    # Shown with the zone, so the two can be told apart, and each reads back as itself.
    assert format_answer(STARTS, first) == "Sunday 25 October 2026, 1:30am (BST)"
    assert format_answer(STARTS, second) == "Sunday 25 October 2026, 1:30am (GMT)"
    assert parse_answer(STARTS, to_raw(STARTS, first)) == first
    assert parse_answer(STARTS, to_raw(STARTS, second)) == second


def test_times_outside_the_repeated_hour_show_no_zone() -> None:
    assert format_answer(STARTS, parse_answer(STARTS, f"{AUTUMN_FOLD_DAY} 12:30am")) == (
        "Sunday 25 October 2026, 12:30am"
    )
    assert format_answer(STARTS, parse_answer(STARTS, f"{AUTUMN_FOLD_DAY} 2:30am")) == (
        "Sunday 25 October 2026, 2:30am"
    )


def test_every_half_hour_across_both_changes_round_trips() -> None:
    for start in (datetime(2026, 3, 28, 22, tzinfo=UTC), datetime(2026, 10, 24, 22, tzinfo=UTC)):
        for step in range(12):
            stored = (start + timedelta(minutes=30 * step)).isoformat()
            raw = to_raw(STARTS, stored)
            assert parse_answer(STARTS, raw) == stored, raw


def test_relative_days_count_from_today_in_the_uk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Half past midnight on 2 July in London is still 1 July in UTC: "today" is 2 July."""
    import dateparser.freshness_date_parser as freshness

    class LateEvening(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            moment = datetime(2027, 7, 1, 23, 30, tzinfo=UTC)
            return moment.astimezone(tz) if tz is not None else moment.astimezone(UTC)

    monkeypatch.setattr(freshness, "datetime", LateEvening)
    assert parse_answer(STARTS, "today at 2pm") == "2027-07-02T13:00:00+00:00"
    assert parse_answer(STARTS, "2pm tomorrow") == "2027-07-03T13:00:00+00:00"


# --------------------------------------------------------------------------
# Showing and pre-filling
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("2027-03-02T14:00:00+00:00", EXAMPLE),
        ("2027-03-02T14:30:00+00:00", "Tuesday 2 March 2027, 2:30pm"),
        ("2027-07-02T13:00:00+00:00", "Friday 2 July 2027, 2pm"),
        ("2027-07-02T14:00:00+01:00", "Friday 2 July 2027, 2pm"),
        ("2027-03-02T12:00:00+00:00", "Tuesday 2 March 2027, midday"),
        ("2027-03-02T00:00:00+00:00", "Tuesday 2 March 2027, midnight"),
    ],
)
def test_display_and_prefill(stored: str, shown: str) -> None:
    assert format_answer(STARTS, stored) == shown
    assert to_raw(STARTS, stored) == shown


def test_blank_and_stale_values_never_break_a_page() -> None:
    assert format_answer(STARTS, None) == "Not answered"
    assert to_raw(STARTS, None) == ""
    assert parse_answer(STARTS, to_raw(STARTS, None)) is None
    # Not a time, or a time with no zone: shown as saved, never guessed at.
    for stale in ("next week", "2027-03-02T14:00"):
        assert format_answer(STARTS, stale) == stale
        assert to_raw(STARTS, stale) == stale
    with pytest.raises(ValueError, match="naive"):
        read_date_time("2027-03-02T14:00")


def test_read_date_time_gives_aware_utc() -> None:
    moment = read_date_time("2027-07-02T14:00:00+01:00")
    assert moment == datetime(2027, 7, 2, 13, tzinfo=UTC)
    assert moment.utcoffset() == timedelta(0)


# --------------------------------------------------------------------------
# Pages, the final check, and chat
# --------------------------------------------------------------------------

FORM = FormDefinition.model_validate(
    {
        "key": "workshop",
        "title": "Workshop",
        "pages": [
            {
                "id": "when",
                "title": "When",
                "fields": [STARTS.model_dump(), MEET.model_dump()],
            }
        ],
    }
)


def test_validate_page_and_validate_all() -> None:
    result = validate_page(FORM, 0, {"starts_at": EXAMPLE, "meet_at": "2 March 2027"})
    assert result.values == {"starts_at": "2027-03-02T14:00:00+00:00"}
    assert result.errors["meet_at"].startswith("Enter time you can meet with a time")
    blank = validate_page(FORM, 0, {"starts_at": ""})
    assert blank.errors == {"meet_at": "Enter time you can meet"}
    assert validate_all(FORM, {"meet_at": "2026-10-25T01:30:00+00:00"}) == {}
    assert "meet_at" in validate_all(FORM, {"meet_at": "not a time"})


def test_chat_prompt_asks_for_a_uk_date_and_time() -> None:
    prompt = chat_prompt(FORM, 0, {})
    assert prompt.splitlines()[0] == "Question 1 of 2 — When does the workshop start?"
    assert f"Reply with a date and a UK time, like {EXAMPLE}." in prompt
    shown = chat_prompt(FORM, 0, {"starts_at": "2027-07-02T13:00:00+00:00"})
    assert "Your answer now: Friday 2 July 2027, 2pm. Type keep to keep it." in shown


def test_chat_answers_are_parsed_and_errors_repeat_the_question() -> None:
    outcome = start_chat(FORM)
    outcome = chat_answer(FORM, outcome.state, "2 March 2027")
    assert outcome.error is not None and "with a time as well as the date" in outcome.error
    assert outcome.state.position == 0 and outcome.saved_field is None
    outcome = chat_answer(FORM, outcome.state, "2pm on 2/3/2027")
    assert outcome.saved_field == "starts_at"
    assert outcome.state.answers["starts_at"] == "2027-03-02T14:00:00+00:00"
    outcome = chat_answer(FORM, outcome.state, f"{AUTUMN_FOLD_DAY} 1:30am GMT")
    assert outcome.done
    assert outcome.state.answers["meet_at"] == "2026-10-25T01:30:00+00:00"
    resumed = ChatState.from_json(outcome.state.to_json())
    assert chat_prompt(FORM, 1, resumed.answers).count("1:30am (GMT)") == 1


# --------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------


def test_exports_write_uk_time_with_its_offset_as_text() -> None:
    assert _kind_of(STARTS) is CellKind.TEXT
    assert cell_value(STARTS, "2027-07-02T13:00:00+00:00") == "2027-07-02T14:00:00+01:00"
    assert cell_value(STARTS, "2027-03-02T14:00:00+00:00") == "2027-03-02T14:00:00+00:00"
    assert cell_value(STARTS, None) is None
    assert cell_value(STARTS, "stale text") == "stale text"
    table = Table(
        title="t", columns=[Column("Start")], rows=[[cell_value(STARTS, "2027-03-02T14:00Z")]]
    )
    assert "2027-03-02T14:00:00+00:00" in to_csv(table).decode("utf-8-sig")


# --------------------------------------------------------------------------
# Every door: render, fill in as the platform would, read back, store
# --------------------------------------------------------------------------

STORED_EXAMPLES = [
    "2027-03-02T14:00:00+00:00",  # GMT
    "2027-07-02T13:30:00+00:00",  # BST
    "2026-10-25T00:30:00+00:00",  # the first 1:30am on the night the clocks go back
    "2026-10-25T01:30:00+00:00",  # the second one
]


def view_with(values: dict[str, Any], errors: dict[str, str] | None = None) -> FormView:
    page = FORM.pages[0]
    return FormView(
        form_key=FORM.key,
        form_version=FORM.version,
        response_id=9,
        title=FORM.title,
        page_index=0,
        page_count=1,
        page_title=page.title,
        fields=list(page.fields),
        values=values,
        errors=errors or {},
    )


def prefilled(answers: dict[str, Any]) -> FormView:
    """What `handlers.forms.form_view` shows: stored answers through `to_raw`."""
    return view_with({f.id: to_raw(f, answers.get(f.id)) for f in FORM.pages[0].fields})


def slack_modal(view: FormView) -> dict[str, Any]:
    modal = slack_kit.form_modal(view)
    problems = block_kit_problems(BlockKitLog(views=[("form modal", modal)]))
    assert problems == [], problems
    return modal


def teams_card(view: FormView) -> dict[str, Any]:
    card = teams_kit.form_card(view)
    check_card(card)
    return card


class _Inputs(HTMLParser):
    """The named controls in a web page's form, as a browser would send them."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: dict[str, dict[str, str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "input" and "name" in found:
            self.controls[found["name"]] = found


def web_controls(view: FormView) -> dict[str, dict[str, str]]:
    template = environment.from_string('{% import "widgets.html" as w %}{{ w.form(f, "t") }}')
    parser = _Inputs()
    parser.feed(template.render(f=view))
    return parser.controls


def web_post(controls: dict[str, dict[str, str]], typed: dict[str, str]) -> dict[str, Any]:
    """The values `bot.web.routes.send_form_page` builds from a post of these controls."""
    posted = {name: typed.get(name, c.get("value", "")) for name, c in controls.items()}
    return {k: v for k, v in posted.items() if not k.startswith("_") and k != "csrf_token"}


def test_slack_modal_shows_a_text_input_with_the_example() -> None:
    element = input_elements(slack_modal(prefilled({})))["starts_at"]
    assert element["type"] == "plain_text_input"
    assert element["placeholder"]["text"] == f"For example, {EXAMPLE}"
    assert "initial_value" not in element


@pytest.mark.parametrize("raw", ["Tuesday 2 March 2027, 2pm", "2027-03-02T14:00", "2/3/27 14:00"])
def test_slack_round_trip_of_typed_value(raw: str) -> None:
    modal = slack_modal(prefilled({}))
    state = fill_in(modal, {"starts_at": raw, "meet_at": "2 July 2027 1:30pm"})
    values = slack_kit.submitted_values(state)
    result = validate_page(FORM, 0, values)
    assert result.errors == {}
    assert result.values == {
        "starts_at": "2027-03-02T14:00:00+00:00",
        "meet_at": "2027-07-02T12:30:00+00:00",
    }


@pytest.mark.parametrize("stored", STORED_EXAMPLES)
def test_slack_round_trip_of_saved_answer(stored: str) -> None:
    modal = slack_modal(prefilled({"starts_at": stored, "meet_at": stored}))
    shown = input_elements(modal)["starts_at"]["initial_value"]
    assert shown == format_answer(STARTS, stored)
    result = validate_page(FORM, 0, slack_kit.submitted_values(fill_in(modal)))
    assert result.values == {"starts_at": stored, "meet_at": stored}


def test_teams_card_shows_a_text_input_with_the_example() -> None:
    element = inputs(teams_card(prefilled({})))["meet_at"]
    assert element["type"] == "Input.Text"
    assert element["placeholder"] == f"For example, {EXAMPLE}"
    assert element["isRequired"] is True and element["errorMessage"]


@pytest.mark.parametrize("raw", ["Tuesday 2 March 2027, 2pm", "2027-03-02T14:00", "2/3/27 14:00"])
def test_teams_round_trip_of_typed_value(raw: str) -> None:
    card = teams_card(prefilled({}))
    data = press(card, "form.submit", {"starts_at": raw, "meet_at": "2 July 2027 1:30pm"})
    result = validate_page(FORM, 0, teams_kit.submitted_values(data))
    assert result.errors == {}
    assert result.values == {
        "starts_at": "2027-03-02T14:00:00+00:00",
        "meet_at": "2027-07-02T12:30:00+00:00",
    }


@pytest.mark.parametrize("stored", STORED_EXAMPLES)
def test_teams_round_trip_of_saved_answer(stored: str) -> None:
    card = teams_card(prefilled({"starts_at": stored, "meet_at": stored}))
    assert inputs(card)["starts_at"]["value"] == format_answer(STARTS, stored)
    result = validate_page(FORM, 0, teams_kit.submitted_values(press(card, "form.save")))
    assert result.values == {"starts_at": stored, "meet_at": stored}


def test_teams_card_keeps_what_was_typed_with_the_error() -> None:
    message = "Enter time you can meet with a time as well as the date, like " + EXAMPLE
    card = teams_card(view_with({"meet_at": "2 March 2027"}, {"meet_at": message}))
    assert inputs(card)["meet_at"]["value"] == "2 March 2027"
    assert inputs(card)["meet_at"]["errorMessage"] == message


def test_web_page_shows_a_text_input_with_the_example_as_a_hint() -> None:
    """The example stays readable while typing: hint text, never a placeholder."""
    control = web_controls(prefilled({}))["starts_at"]
    assert control["type"] == "text"
    assert "placeholder" not in control
    assert "starts_at-example" in control["aria-describedby"].split()
    assert control["value"] == ""
    template = environment.from_string('{% import "widgets.html" as w %}{{ w.form(f, "t") }}')
    assert f'id="starts_at-example">For example, {EXAMPLE}</p>' in template.render(f=prefilled({}))


@pytest.mark.parametrize("raw", ["Tuesday 2 March 2027, 2pm", "2027-03-02T14:00", "2/3/27 14:00"])
def test_web_round_trip_of_typed_value(raw: str) -> None:
    controls = web_controls(prefilled({}))
    values = web_post(controls, {"starts_at": raw, "meet_at": "2 July 2027 1:30pm"})
    result = validate_page(FORM, 0, values)
    assert result.errors == {}
    assert result.values == {
        "starts_at": "2027-03-02T14:00:00+00:00",
        "meet_at": "2027-07-02T12:30:00+00:00",
    }


@pytest.mark.parametrize("stored", STORED_EXAMPLES)
def test_web_round_trip_of_saved_answer(stored: str) -> None:
    controls = web_controls(prefilled({"starts_at": stored, "meet_at": stored}))
    assert controls["starts_at"]["value"] == format_answer(STARTS, stored)
    result = validate_page(FORM, 0, web_post(controls, {}))
    assert result.values == {"starts_at": stored, "meet_at": stored}
