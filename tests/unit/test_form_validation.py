"""Checking pages (submit and save-for-later) and whole forms."""

from __future__ import annotations

import pytest

from bot.core.forms import (
    Field,
    FieldType,
    FormDefinition,
    PageResult,
    error_summary,
    load_definition,
    required_message,
    validate_all,
    validate_page,
)

FORM = load_definition(
    """
key: bid
title: Bid for the lunch club contract
pages:
  - id: about
    title: About you
    fields:
      - {id: org_name, type: short_text, label: Organisation name, required: true}
      - {id: website, type: short_text, label: Website}
      - id: income_band
        type: single_choice
        label: Income band
        required: true
        choices:
          - {value: small, label: "Under £10,000"}
          - {value: large, label: "£10,000 or more"}
  - id: money
    title: Money
    fields:
      - {id: annual_cost, type: money, label: Annual cost, required: true}
      - {id: overheads, type: percentage, label: Overheads}
      - {id: start, type: date, label: Start date, required: true}
  - id: people
    title: People
    fields:
      - {id: fte, type: whole_number, label: Staff (full-time equivalent), min_value: 0}
      - {id: tupe, type: yes_no, label: "Would TUPE apply?", required: true}
      - id: groups
        type: multiple_choice
        label: Groups you work with
        required: true
        choices:
          - {value: older, label: Older people}
          - {value: carers, label: Carers}
      - {id: confidence, type: scale, label: Confidence}
"""
)

COMPLETE = {
    "org_name": "Riverside Trust",
    "website": None,
    "income_band": "small",
    "annual_cost": 1_250_000,
    "overheads": 12.5,
    "start": "2027-03-31",
    "fte": 4,
    "tupe": False,
    "groups": ["older"],
    "confidence": None,
}


class TestValidatePage:
    def test_good_page(self) -> None:
        result = validate_page(
            FORM, 0, {"org_name": " Riverside Trust ", "website": "", "income_band": "1"}
        )
        assert result.ok
        assert result.errors == {}
        assert result.values == {
            "org_name": "Riverside Trust",
            "website": None,
            "income_band": "small",
        }

    def test_only_the_requested_page_is_checked(self) -> None:
        result = validate_page(
            FORM, 1, {"annual_cost": "£12.5k", "overheads": "15%", "start": "03/04/2027"}
        )
        assert result.ok
        assert result.values == {
            "annual_cost": 1_250_000,
            "overheads": 15.0,
            "start": "2027-04-03",
        }

    def test_missing_required_answers(self) -> None:
        result = validate_page(FORM, 0, {})
        assert not result.ok
        assert result.errors == {
            "org_name": "Enter organisation name",
            "income_band": "Choose income band",
        }
        # The optional field is fine, and blank.
        assert result.values == {"website": None}

    def test_required_verbs_match_the_kind_of_question(self) -> None:
        result = validate_page(FORM, 2, {"fte": "", "tupe": " ", "groups": []})
        assert result.errors == {
            "tupe": "Choose yes or no for 'Would TUPE apply?'",
            "groups": "Choose groups you work with",
        }

    def test_bad_values_are_reported_and_left_out_of_values(self) -> None:
        result = validate_page(
            FORM, 1, {"annual_cost": "lots", "overheads": "150", "start": "31/02/2027"}
        )
        assert result.errors == {
            "annual_cost": "Enter annual cost as an amount of money, like £12,500",
            "overheads": "Overheads must be 100% or less",
            "start": "Start date must be a real date, like 31/03/2027",
        }
        assert result.values == {}

    def test_mix_of_good_and_bad(self) -> None:
        result = validate_page(FORM, 2, {"fte": "-1", "tupe": "no", "groups": ["carers", "older"]})
        assert result.errors == {"fte": "Staff (full-time equivalent) must be 0 or more"}
        assert result.values == {"tupe": False, "groups": ["carers", "older"], "confidence": None}

    def test_save_for_later_allows_blank_required_answers(self) -> None:
        result = validate_page(FORM, 0, {"website": "example.org"}, enforce_required=False)
        assert result.ok
        assert result.values == {"org_name": None, "website": "example.org", "income_band": None}

    def test_save_for_later_still_refuses_bad_values(self) -> None:
        result = validate_page(
            FORM, 1, {"annual_cost": "banana", "start": ""}, enforce_required=False
        )
        assert result.errors == {
            "annual_cost": "Enter annual cost as an amount of money, like £12,500"
        }
        assert result.values == {"overheads": None, "start": None}

    def test_unknown_keys_are_ignored(self) -> None:
        result = validate_page(
            FORM,
            0,
            {
                "org_name": "Riverside",
                "income_band": "large",
                "csrf_token": "abc",
                "annual_cost": "not on this page",
                "action": ["save"],
            },
        )
        assert result.ok
        assert set(result.values) == {"org_name", "website", "income_band"}

    @pytest.mark.parametrize("index", [-1, 3, 10])
    def test_page_must_exist(self, index: int) -> None:
        with pytest.raises(IndexError):
            validate_page(FORM, index, {})

    def test_page_result_ok_property(self) -> None:
        assert PageResult(values={}, errors={}).ok
        assert not PageResult(values={}, errors={"a": "Enter a"}).ok


class TestRequiredMessage:
    @pytest.mark.parametrize(
        ("field_type", "expected"),
        [
            (FieldType.SHORT_TEXT, "Enter contact name"),
            (FieldType.LONG_TEXT, "Enter contact name"),
            (FieldType.WHOLE_NUMBER, "Enter contact name"),
            (FieldType.MONEY, "Enter contact name"),
            (FieldType.PERCENTAGE, "Enter contact name"),
            (FieldType.DATE, "Enter contact name"),
            (FieldType.SCALE, "Choose contact name"),
            (FieldType.YES_NO, "Choose yes or no for contact name"),
        ],
    )
    def test_verb_by_type(self, field_type: FieldType, expected: str) -> None:
        fld = Field(id="x", type=field_type, label="Contact name", required=True)
        assert required_message(fld) == expected

    def test_question_labels(self) -> None:
        money = Field(id="x", type=FieldType.MONEY, label="How much do you need?")
        assert required_message(money) == "Enter an answer to 'How much do you need?'"
        pick = Field(
            id="y",
            type=FieldType.SINGLE_CHOICE,
            label="Which area?",
            choices=[{"value": "n", "label": "North"}],
        )
        assert required_message(pick) == "Choose an answer to 'Which area?'"


class TestValidateAll:
    def test_complete_answers_pass(self) -> None:
        assert validate_all(FORM, COMPLETE) == {}

    def test_missing_required_across_pages(self) -> None:
        answers = {k: v for k, v in COMPLETE.items() if k not in ("org_name", "tupe")}
        answers["groups"] = []
        answers["start"] = None
        assert validate_all(FORM, answers) == {
            "org_name": "Enter organisation name",
            "start": "Enter start date",
            "tupe": "Choose yes or no for 'Would TUPE apply?'",
            "groups": "Choose groups you work with",
        }

    def test_false_is_an_answer(self) -> None:
        assert validate_all(FORM, {**COMPLETE, "tupe": False, "fte": 0, "annual_cost": 0}) == {}

    def test_nothing_answered(self) -> None:
        errors = validate_all(FORM, {})
        assert list(errors) == ["org_name", "income_band", "annual_cost", "start", "tupe", "groups"]

    def test_answers_that_no_longer_fit_the_form(self) -> None:
        # e.g. saved before an option was removed, or a limit tightened
        errors = validate_all(
            FORM, {**COMPLETE, "income_band": "medium", "fte": -2, "groups": ["older", "gone"]}
        )
        assert set(errors) == {"income_band", "fte", "groups"}
        assert errors["fte"] == "Staff (full-time equivalent) must be 0 or more"
        assert "'medium' is not one of the options" in errors["income_band"]

    def test_wrongly_typed_stored_value(self) -> None:
        errors = validate_all(FORM, {**COMPLETE, "annual_cost": "twelve pounds"})
        assert set(errors) == {"annual_cost"}
        assert "Check annual cost" in errors["annual_cost"]

    def test_unknown_answers_are_ignored(self) -> None:
        assert validate_all(FORM, {**COMPLETE, "old_question": "whatever"}) == {}


class TestErrorSummary:
    def test_ordered_as_the_form(self) -> None:
        errors = {"groups": "G", "org_name": "O", "start": "S", "income_band": "I"}
        assert error_summary(FORM, errors) == [
            ("org_name", "O"),
            ("income_band", "I"),
            ("start", "S"),
            ("groups", "G"),
        ]

    def test_non_field_errors_come_last(self) -> None:
        errors = {"form": "Something else", "tupe": "T"}
        assert error_summary(FORM, errors) == [("tupe", "T"), ("form", "Something else")]

    def test_empty(self) -> None:
        assert error_summary(FORM, {}) == []


def test_validate_page_and_validate_all_agree_on_a_full_submission() -> None:
    raw_pages = [
        {"org_name": "Riverside", "income_band": "Under £10,000"},
        {"annual_cost": "12,500", "start": "31 March 2027"},
        {"fte": "3", "tupe": "yes", "groups": "1, 2"},
    ]
    answers: dict[str, object] = {}
    for index, raw in enumerate(raw_pages):
        result = validate_page(FORM, index, raw)
        assert result.ok, result.errors
        answers.update(result.values)
    assert validate_all(FORM, answers) == {}
    assert answers["groups"] == ["older", "carers"]
    assert isinstance(FORM, FormDefinition)
