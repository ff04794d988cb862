"""Parsing, displaying and pre-filling answers for every field type."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from bot.core.areas import find_areas
from bot.core.cpv import find_cpv
from bot.core.forms import AnswerError, Field, FieldType, format_answer, parse_answer, to_raw

AREAS = Field(id="areas_served", type=FieldType.AREA, label="Which areas do you serve?")
CPV = Field(id="cpv_codes", type=FieldType.CPV, label="What do you provide?")


def _codes(*names: str) -> list[str]:
    """Codes looked up by name in the area data, so no test types a code by hand."""
    return [find_areas(name).areas[0].code for name in names]


SHORT = Field(id="org_name", type=FieldType.SHORT_TEXT, label="Organisation name")
LONG = Field(id="about", type=FieldType.LONG_TEXT, label="About your work")
WHOLE = Field(id="volunteers", type=FieldType.WHOLE_NUMBER, label="Number of volunteers")
STAFF = Field(
    id="fte", type=FieldType.WHOLE_NUMBER, label="Staff (full-time equivalent)", min_value=0
)
MONEY = Field(id="annual_cost", type=FieldType.MONEY, label="Annual cost")
PERCENT = Field(id="overheads", type=FieldType.PERCENTAGE, label="Overheads")
DATE = Field(id="start", type=FieldType.DATE, label="Start date")
DATE_TIME = Field(id="starts_at", type=FieldType.DATE_TIME, label="Workshop start")
SINGLE = Field(
    id="income_band",
    type=FieldType.SINGLE_CHOICE,
    label="Income band",
    choices=[
        {"value": "lt10k", "label": "Under £10,000"},
        {"value": "mid", "label": "£10,000 to £100,000"},
        {"value": "gt100k", "label": "Over £100,000"},
    ],
)
MULTI = Field(
    id="services",
    type=FieldType.MULTIPLE_CHOICE,
    label="Services",
    choices=[
        {"value": "food", "label": "Food and drink"},
        {"value": "advice", "label": "Money advice"},
        {"value": "small", "label": "Under £10,000"},
        {"value": "housing", "label": "Housing"},
    ],
)
YES_NO = Field(id="policy", type=FieldType.YES_NO, label="Do you have a safeguarding policy?")
SCALE = Field(id="confidence", type=FieldType.SCALE, label="Confidence")
COMPANY = Field(
    id="company_number",
    type=FieldType.REGISTER_NUMBER,
    label="Company number",
    public_register="companies_house",
)


def error_for(field: Field, raw: Any) -> str:
    with pytest.raises(AnswerError) as info:
        parse_answer(field, raw)
    assert str(info.value) == info.value.message
    assert info.value.field_id == field.id
    return info.value.message


# --------------------------------------------------------------------------
# Blanks
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [SHORT, LONG, WHOLE, MONEY, PERCENT, DATE, DATE_TIME, SINGLE, MULTI, YES_NO, SCALE, AREAS, CPV],
)
@pytest.mark.parametrize("raw", [None, "", "   ", "\n", [], ["", "  "]])
def test_blank_is_none_for_every_type(field: Field, raw: Any) -> None:
    assert parse_answer(field, raw) is None


def test_answer_error_is_a_value_error() -> None:
    assert issubclass(AnswerError, ValueError)


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------


def test_short_text_is_stripped_and_kept_on_one_line() -> None:
    assert parse_answer(SHORT, "  Riverside Trust  ") == "Riverside Trust"
    assert parse_answer(SHORT, "Riverside\n  Trust\t") == "Riverside Trust"


def test_long_text_keeps_line_breaks_and_tabs() -> None:
    assert parse_answer(LONG, "  Line one\r\nLine two\n\tIndented  ") == (
        "Line one\nLine two\n\tIndented"
    )


def test_text_at_the_limit_is_fine_and_over_it_is_refused() -> None:
    assert parse_answer(SHORT, "a" * 200) == "a" * 200
    message = error_for(SHORT, "a" * 250)
    assert (
        message == "Answer to 'Organisation name' must be 200 characters or fewer. You wrote 250."
    )


def test_long_text_limit_and_custom_limit() -> None:
    assert parse_answer(LONG, "b" * 5000) == "b" * 5000
    assert "5,000 characters or fewer. You wrote 5,001." in error_for(LONG, "b" * 5001)
    tight = Field(id="motto", type=FieldType.SHORT_TEXT, label="Motto", max_length=10)
    assert error_for(tight, "x" * 11).endswith("10 characters or fewer. You wrote 11.")


def test_length_is_counted_after_stripping() -> None:
    assert parse_answer(SHORT, "  " + "a" * 200 + "  ") == "a" * 200


@pytest.mark.parametrize("raw", ["bad\x00byte", "bell\x07", "escape\x1b[0m"])
def test_control_characters_are_refused(raw: str) -> None:
    assert "hidden character" in error_for(LONG, raw)
    assert "hidden character" in error_for(SHORT, raw)


# --------------------------------------------------------------------------
# Whole numbers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        (" 12 ", 12),
        ("1,200", 1200),
        ("1,234,567", 1234567),
        ("0", 0),
        ("12.0", 12),
        ("twelve", 12),
        ("Three", 3),
        ("-4", -4),
        ("+7", 7),
    ],
)
def test_whole_number_accepts(raw: str, expected: int) -> None:
    value = parse_answer(WHOLE, raw)
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize(
    "raw", ["12.5", "twelve and a half", "1,2", "12,00", "abc", "£12", "1e3", "12 people"]
)
def test_whole_number_refuses(raw: str) -> None:
    assert error_for(WHOLE, raw) == "Enter number of volunteers as a whole number, like 12"


def test_numbers_stay_exact_in_javascript() -> None:
    assert parse_answer(WHOLE, "9" * 15) == 10**15 - 1
    assert error_for(WHOLE, "1" + "0" * 15).startswith("Enter number of volunteers")
    assert parse_answer(MONEY, "9999999999999.99") == 10**15 - 1
    assert error_for(MONEY, "£10,000,000,000,000").startswith("Enter annual cost")
    assert error_for(MONEY, "9" * 150).startswith("Enter annual cost")


def test_whole_number_limits() -> None:
    assert parse_answer(STAFF, "0") == 0
    assert error_for(STAFF, "-1") == "Staff (full-time equivalent) must be 0 or more"
    capped = Field(id="n", type=FieldType.WHOLE_NUMBER, label="Sites", max_value=1500)
    assert parse_answer(capped, "1,500") == 1500
    assert error_for(capped, "1501") == "Sites must be 1,500 or less"


# --------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "pence"),
    [
        ("£12,500", 1_250_000),
        ("12500", 1_250_000),
        ("12,500.50", 1_250_050),
        ("£12,500.5", 1_250_050),
        ("12.5k", 1_250_000),
        ("12.5K", 1_250_000),
        ("£1.2m", 120_000_000),
        ("£3 million", 300_000_000),
        ("2 thousand", 200_000),
        ("£ 99.99", 9_999),
        ("0.01", 1),
        ("£0", 0),
        (".5k", 50_000),
        ("500 pounds", 50_000),
        ("GBP 500", 50_000),
        ("50p", 50),
        ("£12,500.", 1_250_000),
        ("1.2345k", 123_450),
        ("1.23456789m", 123_456_789),
        ("0.333k", 33_300),
        ("1.0005k", 100_050),  # £1,000.50 exactly
        ("1.00005k", 100_005),  # £1,000.05 exactly
        ("1.000005k", 100_001),  # £1,000.005 rounds half up to £1,000.01
        ("1.0000049k", 100_000),  # £1,000.0049 rounds down
    ],
)
def test_money_accepts_and_stores_exact_pence(raw: str, pence: int) -> None:
    value = parse_answer(MONEY, raw)
    assert value == pence
    assert type(value) is int


@pytest.mark.parametrize(
    "raw", ["banana", "12,50", "1,2,3", "£", "k", "12..5", "£12£", "lots", "12.5.5"]
)
def test_money_refuses_nonsense(raw: str) -> None:
    assert error_for(MONEY, raw) == "Enter annual cost as an amount of money, like £12,500"


@pytest.mark.parametrize("raw", ["-500", "£-500", "-£500", "−£500", "minus 500", "(500)"])
def test_money_refuses_negatives(raw: str) -> None:
    assert error_for(MONEY, raw) == "Annual cost must be £0 or more"


def test_money_refuses_more_than_two_decimal_places_without_a_multiplier() -> None:
    # "12.500" means twelve thousand five hundred in much of Europe, so don't guess.
    assert "no more than 2 numbers after the point" in error_for(MONEY, "12.500")


@pytest.mark.parametrize("raw", ["$500", "€500", "500 euros", "500 USD"])
def test_money_asks_for_pounds(raw: str) -> None:
    assert error_for(MONEY, raw) == "Enter annual cost in pounds, like £12,500"


def test_money_limits_are_in_pounds() -> None:
    grant = Field(
        id="grant", type=FieldType.MONEY, label="Grant", min_value=1000, max_value=50000.5
    )
    assert parse_answer(grant, "£1,000") == 100_000
    assert parse_answer(grant, "£50,000.50") == 5_000_050
    assert error_for(grant, "£999.99") == "Grant must be £1,000 or more"
    assert error_for(grant, "£50,000.51") == "Grant must be £50,000.50 or less"


def test_money_uses_the_fields_own_example() -> None:
    fee = Field(id="fee", type=FieldType.MONEY, label="Fee", example="£250")
    assert error_for(fee, "lots") == "Enter fee as an amount of money, like £250"


# --------------------------------------------------------------------------
# Percentages
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15", 15.0),
        ("15%", 15.0),
        ("12.5 %", 12.5),
        ("0", 0.0),
        ("100", 100.0),
        (".5", 0.5),
        ("15 percent", 15.0),
        ("15 per cent", 15.0),
    ],
)
def test_percentage_accepts(raw: str, expected: float) -> None:
    value = parse_answer(PERCENT, raw)
    assert value == expected
    assert type(value) is float


@pytest.mark.parametrize("raw", ["abc", "15%%", "fifteen", "1/2", "15 % off"])
def test_percentage_refuses_nonsense(raw: str) -> None:
    assert error_for(PERCENT, raw) == "Enter overheads as a percentage, like 15%"


def test_percentage_is_zero_to_one_hundred_by_default() -> None:
    assert error_for(PERCENT, "100.1") == "Overheads must be 100% or less"
    assert error_for(PERCENT, "-1") == "Overheads must be 0% or more"


def test_percentage_limits_can_be_changed() -> None:
    growth = Field(
        id="growth", type=FieldType.PERCENTAGE, label="Growth", min_value=-50, max_value=300
    )
    assert parse_answer(growth, "-20%") == -20.0
    assert parse_answer(growth, "250") == 250.0
    assert error_for(growth, "301") == "Growth must be 300% or less"
    assert error_for(growth, "-51") == "Growth must be -50% or more"


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "31/03/2027",
        "31-03-2027",
        "31.03.2027",
        "31 3 2027",
        "31/3/27",
        "2027-03-31",
        "2027-3-31",
        "31 March 2027",
        "31 march 2027",
        "31 Mar 2027",
        "March 31 2027",
        "March 31, 2027",
        "31st March 2027",
        "the 31st of March 2027",
        "Wednesday 31 March 2027",
        " 31/03/2027 ",
    ],
)
def test_date_accepts_common_forms(raw: str) -> None:
    assert parse_answer(DATE, raw) == "2027-03-31"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03/04/2027", "2027-04-03"),  # 3 April, never 4 March
        ("04/03/2027", "2027-03-04"),
        ("1/2/2027", "2027-02-01"),
        ("12-11-2026", "2026-11-12"),
        ("01.02.03", "2003-02-01"),
    ],
)
def test_numeric_dates_are_always_day_first(raw: str, expected: str) -> None:
    assert parse_answer(DATE, raw) == expected


def test_two_digit_years() -> None:
    assert parse_answer(DATE, "31/03/27") == "2027-03-31"
    assert parse_answer(DATE, "1/1/00") == "2000-01-01"
    assert parse_answer(DATE, "1/1/69") == "2069-01-01"
    assert parse_answer(DATE, "1/1/70") == "1970-01-01"
    assert parse_answer(DATE, "1/1/95") == "1995-01-01"


def test_month_words_and_leap_years() -> None:
    assert parse_answer(DATE, "1st Sept 2026") == "2026-09-01"
    assert parse_answer(DATE, "29 February 2028") == "2028-02-29"


@pytest.mark.parametrize("raw", ["31-Mar-2027", "Mar. 31, 2027", "31 of March, 2027"])
def test_other_worded_forms(raw: str) -> None:
    assert parse_answer(DATE, raw) == "2027-03-31"


@pytest.mark.parametrize(
    ("raw", "days"),
    [
        ("today", 0),
        ("Tomorrow.", 1),
        ("yesterday", -1),
        ("the day after tomorrow", 2),
        ("in 2 weeks", 14),
        ("in three days", 3),
        ("in a fortnight", 14),
        ("2 weeks ago", -14),
    ],
)
def test_relative_dates_go_to_dateparser(raw: str, days: int) -> None:
    before = date.today()
    value = parse_answer(DATE, raw)
    after = date.today()  # in case the test runs across midnight
    assert value in {
        (before + timedelta(days=days)).isoformat(),
        (after + timedelta(days=days)).isoformat(),
    }


@pytest.mark.parametrize(
    "raw",
    # dateparser on its own accepts all of these, some as wildly wrong dates
    [", 1 3 31", "2027 week ago", "in 2 months", "next month", "next year", "friday", "31 today"],
)
def test_vague_or_risky_wordings_are_refused(raw: str) -> None:
    assert error_for(DATE, raw) == "Enter start date as a date, like 31/03/2027"


@pytest.mark.parametrize("raw", ["soon", "banana", "next year sometime", "12", "2027", "31/03"])
def test_date_refuses_garbage(raw: str) -> None:
    assert error_for(DATE, raw) == "Enter start date as a date, like 31/03/2027"


@pytest.mark.parametrize(
    "raw", ["31/02/2027", "29/02/2027", "12/13/2027", "32 March 2027", "0/1/2027"]
)
def test_date_must_be_real(raw: str) -> None:
    assert error_for(DATE, raw) == "Start date must be a real date, like 31/03/2027"


def test_date_without_a_year_asks_for_one() -> None:
    assert error_for(DATE, "3 April") == (
        "Enter start date with the day, month and year, like 31/03/2027"
    )


def test_date_with_the_wrong_weekday_is_queried() -> None:
    assert error_for(DATE, "Monday 31 March 2027") == (
        "Wednesday 31 March 2027 is not a Monday. Check start date and try again."
    )


# --------------------------------------------------------------------------
# Single choice
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("lt10k", "lt10k"),
        ("mid", "mid"),
        ("Under £10,000", "lt10k"),
        ("  under £10,000 ", "lt10k"),
        ("OVER £100,000", "gt100k"),
        ("1", "lt10k"),
        ("2", "mid"),
        ("3.", "gt100k"),
        ("option 2", "mid"),
        ("2. £10,000 to £100,000", "mid"),
        (["mid"], "mid"),
    ],
)
def test_single_choice_by_value_label_or_number(raw: Any, expected: str) -> None:
    assert parse_answer(SINGLE, raw) == expected


def test_single_choice_unknown_answer() -> None:
    assert error_for(SINGLE, "Lots") == (
        "'Lots' is not one of the options for income band. Choose from the list, like Under £10,000"
    )


@pytest.mark.parametrize("raw", ["0", "4", "17"])
def test_single_choice_number_out_of_range(raw: str) -> None:
    assert error_for(SINGLE, raw) == (
        f"There is no option {raw} for income band. Choose a number from 1 to 3."
    )


def test_single_choice_refuses_two_answers() -> None:
    assert error_for(SINGLE, ["lt10k", "mid"]) == "Choose only one answer for income band"


def test_value_match_wins_over_position_for_numeric_values() -> None:
    hours = Field(
        id="hours",
        type=FieldType.SINGLE_CHOICE,
        label="Hours",
        choices=[{"value": "5", "label": "Five"}, {"value": "10", "label": "Ten"}],
    )
    assert parse_answer(hours, "5") == "5"  # the value a web form sends
    assert parse_answer(hours, "2") == "10"  # the number shown in chat


# --------------------------------------------------------------------------
# Multiple choice
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["food", "housing"], ["food", "housing"]),
        (["housing", "food"], ["housing", "food"]),
        (["Food and drink", "2", ""], ["food", "advice"]),
        ("1, 3", ["food", "small"]),
        ("1,3", ["food", "small"]),
        ("1 3 4", ["food", "small", "housing"]),
        ("2 and 4", ["advice", "housing"]),
        ("Food and drink", ["food"]),
        ("food and drink and housing", ["food", "housing"]),
        ("Money advice, Food and drink", ["advice", "food"]),
        ("Under £10,000, money advice", ["small", "advice"]),
        ("Under £10,000", ["small"]),
        ("Housing\nMoney advice", ["housing", "advice"]),
        ("1; 2; 1", ["food", "advice"]),
        ("4, housing, 4", ["housing"]),
        ("1, 2,", ["food", "advice"]),
        ("food", ["food"]),
    ],
)
def test_multiple_choice_accepts(raw: Any, expected: list[str]) -> None:
    assert parse_answer(MULTI, raw) == expected


def test_multiple_choice_unknown_item_is_named() -> None:
    assert error_for(MULTI, "1, banana") == (
        "'banana' is not one of the options for services. Choose from the list, like Food and drink"
    )
    assert "'Gardening'" in error_for(MULTI, ["food", "Gardening"])


def test_multiple_choice_number_out_of_range() -> None:
    assert error_for(MULTI, "1, 9") == (
        "There is no option 9 for services. Choose a number from 1 to 4."
    )


# --------------------------------------------------------------------------
# Yes / no
# --------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["yes", "Yes", "YES", "y", "true", "1", "yeah", "Yes."])
def test_yes(raw: str) -> None:
    assert parse_answer(YES_NO, raw) is True


@pytest.mark.parametrize("raw", ["no", "No", "n", "false", "0", "2", "nope"])
def test_no(raw: str) -> None:
    assert parse_answer(YES_NO, raw) is False


@pytest.mark.parametrize("raw", ["maybe", "3", "yes and no"])
def test_yes_no_refuses_others(raw: str) -> None:
    assert error_for(YES_NO, raw) == "Answer yes or no to 'Do you have a safeguarding policy?'"


def test_yes_no_accepts_custom_labels() -> None:
    fld = Field(
        id="plan",
        type=FieldType.YES_NO,
        label="Business plan",
        choices=[{"value": "yes", "label": "We have one"}, {"value": "no", "label": "Not yet"}],
    )
    assert parse_answer(fld, "we have one") is True
    assert parse_answer(fld, "Not yet") is False
    assert error_for(fld, "perhaps") == "Answer yes or no for business plan"


# --------------------------------------------------------------------------
# Scale
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", 1), ("3", 3), ("5", 5), ("4/5", 4), ("2 out of 5", 2)]
)
def test_scale_accepts(raw: str, expected: int) -> None:
    value = parse_answer(SCALE, raw)
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize("raw", ["0", "6", "3.5", "good", "-1"])
def test_scale_refuses(raw: str) -> None:
    assert error_for(SCALE, raw) == "Choose a number from 1 to 5 for confidence, like 3"


def test_scale_with_worded_labels() -> None:
    fld = Field(
        id="fit",
        type=FieldType.SCALE,
        label="Fit",
        choices=[
            {"value": str(n), "label": w}
            for n, w in enumerate(["Poor", "Fair", "OK", "Good", "Great"], 1)
        ],
    )
    assert parse_answer(fld, "good") == 4
    assert parse_answer(fld, "2") == 2
    assert format_answer(fld, 5) == "Great"


# --------------------------------------------------------------------------
# Messages name the question sensibly
# --------------------------------------------------------------------------


def test_acronym_labels_keep_their_capitals_mid_sentence() -> None:
    fld = Field(id="tupe_cost", type=FieldType.MONEY, label="TUPE costs")
    assert error_for(fld, "x") == "Enter TUPE costs as an amount of money, like £12,500"


def test_question_labels_are_quoted_mid_sentence() -> None:
    fld = Field(id="staff", type=FieldType.WHOLE_NUMBER, label="How many staff?", min_value=0)
    assert error_for(fld, "x") == "Enter the answer to 'How many staff?' as a whole number, like 12"
    assert error_for(fld, "-2") == "The answer to 'How many staff?' must be 0 or more"


# --------------------------------------------------------------------------
# Display
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        (MONEY, 1_250_000, "£12,500"),
        (MONEY, 1_250_050, "£12,500.50"),
        (MONEY, 5, "£0.05"),
        (MONEY, 0, "£0"),
        (MONEY, 123_456_789, "£1,234,567.89"),
        (DATE, "2027-03-31", "Wednesday 31 March 2027"),
        (DATE, "2026-09-01", "Tuesday 1 September 2026"),
        (DATE_TIME, "2027-03-02T14:00:00+00:00", "Tuesday 2 March 2027, 2pm"),
        (PERCENT, 12.5, "12.5%"),
        (PERCENT, 15.0, "15%"),
        (PERCENT, 33.3333, "33.33%"),
        (YES_NO, True, "Yes"),
        (YES_NO, False, "No"),
        (SINGLE, "mid", "£10,000 to £100,000"),
        (MULTI, ["housing", "food"], "Housing, Food and drink"),
        (WHOLE, 1200, "1,200"),
        (SCALE, 4, "4 out of 5"),
        (SHORT, "Riverside Trust", "Riverside Trust"),
        (SHORT, None, "Not answered"),
        (MULTI, None, "Not answered"),
        (MULTI, [], "Not answered"),
        (MONEY, None, "Not answered"),
    ],
)
def test_format_answer(field: Field, value: Any, shown: str) -> None:
    assert format_answer(field, value) == shown


def test_format_answer_survives_stale_values() -> None:
    assert format_answer(SINGLE, "removed_option") == "removed_option"
    assert format_answer(DATE, "not a date") == "not a date"
    assert format_answer(MONEY, "oops") == "oops"


# --------------------------------------------------------------------------
# Pre-filling and round trips
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "raw"),
    [
        (MONEY, 1_250_000, "12500"),
        (MONEY, 1_250_050, "12500.50"),
        (MONEY, 5, "0.05"),
        (DATE, "2027-03-31", "2027-03-31"),
        (DATE_TIME, "2027-03-02T14:00:00+00:00", "Tuesday 2 March 2027, 2pm"),
        (PERCENT, 15.0, "15"),
        (PERCENT, 12.5, "12.5"),
        (YES_NO, True, "yes"),
        (YES_NO, False, "no"),
        (SINGLE, "mid", "mid"),
        (MULTI, ["food", "housing"], ["food", "housing"]),
        (WHOLE, 1200, "1200"),
        (SCALE, 3, "3"),
        (SHORT, "Riverside", "Riverside"),
        (MONEY, None, ""),
        (MULTI, None, ""),
    ],
)
def test_to_raw(field: Field, value: Any, raw: Any) -> None:
    assert to_raw(field, value) == raw


ROUND_TRIPS: list[tuple[Field, Any]] = [
    (AREAS, _codes("Leeds")),
    (AREAS, _codes("Lancashire", "Preston", "Bournemouth, Christchurch and Poole")),
    (CPV, [c.code for c in find_cpv("meals on wheels").codes]),
    (CPV, [find_cpv(code).codes[0].code for code in ("85", "853", "85311000-2")]),
    (SHORT, "Riverside Community Trust"),
    (COMPANY, "01234567"),
    (COMPANY, "SC012345"),
    (LONG, "Line one\nLine two\n\tIndented"),
    (WHOLE, 0),
    (WHOLE, 1_234_567),
    (WHOLE, -3),
    (STAFF, 40),
    (MONEY, 0),
    (MONEY, 1),
    (MONEY, 99),
    (MONEY, 1_250_000),
    (MONEY, 1_250_050),
    (MONEY, 123_456_789_012),
    (PERCENT, 0.0),
    (PERCENT, 15.0),
    (PERCENT, 12.5),
    (PERCENT, 33.333333333333336),
    (PERCENT, 1e-05),
    (PERCENT, 100.0),
    (DATE, "2027-03-31"),
    (DATE, "2028-02-29"),
    (DATE, "2026-01-01"),
    (DATE_TIME, "2027-03-02T14:00:00+00:00"),
    (DATE_TIME, "2027-07-02T13:30:00+00:00"),
    (DATE_TIME, "2026-10-25T01:30:00+00:00"),
    (SINGLE, "lt10k"),
    (SINGLE, "gt100k"),
    (MULTI, ["food"]),
    (MULTI, ["housing", "small", "food"]),
    (YES_NO, True),
    (YES_NO, False),
    (SCALE, 1),
    (SCALE, 5),
]


@pytest.mark.parametrize(("field", "value"), ROUND_TRIPS)
def test_round_trip(field: Field, value: Any) -> None:
    back = parse_answer(field, to_raw(field, value))
    assert back == value
    assert type(back) is type(value)


@pytest.mark.parametrize(
    "field",
    [SHORT, LONG, WHOLE, MONEY, PERCENT, DATE, DATE_TIME, SINGLE, MULTI, YES_NO, SCALE, AREAS, CPV],
)
def test_round_trip_of_none(field: Field) -> None:
    assert parse_answer(field, to_raw(field, None)) is None


def test_every_type_has_a_round_trip_case() -> None:
    assert {f.type for f, _ in ROUND_TRIPS} == set(FieldType)
