"""One-question-at-a-time chat over a form definition."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.core.forms import (
    ChatOutcome,
    ChatState,
    chat_answer,
    chat_prompt,
    load_definition,
    start_chat,
    validate_all,
)

FORM = load_definition(
    """
key: lunch-club
title: Lunch club bid
pages:
  - id: about
    title: About you
    fields:
      - id: org_name
        type: short_text
        label: Organisation name
        required: true
        hint: As it appears on the Charity Commission register
      - id: income_band
        type: single_choice
        label: Income band
        required: true
        choices:
          - {value: small, label: "Under £10,000"}
          - {value: medium, label: "£10,000 to £100,000", hint: "most groups"}
          - {value: large, label: "Over £100,000"}
  - id: detail
    title: Detail
    fields:
      - id: annual_cost
        type: money
        label: Annual cost
      - id: tupe
        type: yes_no
        label: "Would TUPE apply?"
        help: TUPE is the law that protects staff when a service moves to a new provider.
      - id: groups
        type: multiple_choice
        label: Groups you work with
        choices:
          - {value: older, label: Older people}
          - {value: carers, label: Carers}
          - {value: young, label: Young people}
"""
)
FIELD_IDS = [f.id for f in FORM.all_fields()]
#: Every question of FORM answered, as a sent form would be.
ALL_ANSWERED: dict[str, Any] = {
    "org_name": "R",
    "income_band": "small",
    "annual_cost": 100,
    "tupe": False,
    "groups": ["older"],
}


def say(state: ChatState, *replies: str) -> ChatOutcome:
    """Send several replies in a row, returning the last outcome."""
    outcome: ChatOutcome | None = None
    for reply in replies:
        outcome = chat_answer(FORM, state, reply)
        state = outcome.state
    assert outcome is not None
    return outcome


class TestStart:
    def test_starts_at_the_first_question(self) -> None:
        outcome = start_chat(FORM)
        assert outcome.state == ChatState(position=0, answers={})
        assert outcome.prompt == chat_prompt(FORM, 0, {})
        assert outcome.prompt is not None
        assert outcome.prompt.startswith("Question 1 of 5 — Organisation name")
        assert (outcome.error, outcome.done, outcome.stopped, outcome.saved_field) == (
            None,
            False,
            False,
            None,
        )

    def test_resumes_at_the_first_unanswered_question(self) -> None:
        answers = {"org_name": "Riverside", "income_band": "small", "tupe": True}
        outcome = start_chat(FORM, answers)
        assert outcome.state.position == FIELD_IDS.index("annual_cost")
        assert outcome.state.answers == answers
        assert outcome.prompt is not None
        assert outcome.prompt.startswith("Question 3 of 5 — Annual cost")

    def test_blank_saved_answers_count_as_unanswered(self) -> None:
        outcome = start_chat(FORM, {"org_name": "Riverside", "income_band": None})
        assert outcome.state.position == 1

    def test_does_not_keep_a_reference_to_the_callers_answers(self) -> None:
        answers: dict[str, Any] = {"org_name": "Riverside"}
        outcome = start_chat(FORM, answers)
        chat_answer(FORM, outcome.state, "1")
        answers["org_name"] = "Changed"
        assert outcome.state.answers == {"org_name": "Riverside"}

    def test_everything_answered_is_already_done(self) -> None:
        answers = dict(ALL_ANSWERED)
        outcome = start_chat(FORM, answers)
        assert outcome.done
        assert outcome.prompt is None
        assert outcome.state.position == len(FIELD_IDS)

    def test_review_goes_through_every_answer_already_given(self) -> None:
        """Changing answers sent before: every question in turn, "keep" or a new answer."""
        answers = dict(ALL_ANSWERED)
        outcome = start_chat(FORM, answers, review=True)
        assert not outcome.done and outcome.state.position == 0 and outcome.state.review
        assert outcome.prompt is not None and "R" in outcome.prompt
        outcome = say(outcome.state, "keep", "keep", "£250", "keep")
        assert outcome.state.position == FIELD_IDS.index("groups"), "one at a time, in order"
        assert outcome.state.answers["annual_cost"] == 25000
        restored = ChatState.from_json(json.loads(json.dumps(outcome.state.to_json())))
        assert restored.review, "the review survives being stored between messages"
        outcome = say(restored, "keep")
        assert outcome.done and outcome.state.answers["groups"] == ["older"]

    def test_review_of_an_unfinished_form_resumes_as_usual(self) -> None:
        outcome = start_chat(FORM, {"org_name": "R"}, review=True)
        assert outcome.state.position == 1 and not outcome.state.review


class TestPrompt:
    def test_required_text_question(self) -> None:
        assert chat_prompt(FORM, 0, {}) == (
            "Question 1 of 5 — Organisation name (required)\n"
            "As it appears on the Charity Commission register\n"
            "Reply with your answer. Type stop to save and finish later."
        )

    def test_choices_are_numbered_and_skip_is_not_offered_when_required(self) -> None:
        assert chat_prompt(FORM, 1, {}) == (
            "Question 2 of 5 — Income band (required)\n"
            "1. Under £10,000\n"
            "2. £10,000 to £100,000 — most groups\n"
            "3. Over £100,000\n"
            "Reply with a number or the words. "
            "Type back to go back, or stop to save and finish later."
        )

    def test_optional_question_offers_skip(self) -> None:
        prompt = chat_prompt(FORM, 2, {})
        assert prompt == (
            "Question 3 of 5 — Annual cost\n"
            "Reply with an amount in pounds, like £12,500. "
            "Type skip to leave it, back to go back, or stop to save and finish later."
        )
        assert "(required)" not in prompt

    def test_help_and_yes_no(self) -> None:
        prompt = chat_prompt(FORM, 3, {})
        lines = prompt.splitlines()
        assert lines[0] == "Question 4 of 5 — Would TUPE apply?"
        assert lines[1].startswith("TUPE is the law")
        assert lines[2].startswith("Reply yes or no.")

    def test_multiple_choice(self) -> None:
        prompt = chat_prompt(FORM, 4, {})
        assert "1. Older people\n2. Carers\n3. Young people\n" in prompt
        assert "Reply with one or more numbers or words, like 1, 3." in prompt

    def test_current_answer_is_shown_nicely(self) -> None:
        assert "Your answer now: £12,500.50. Type keep to keep it." in chat_prompt(
            FORM, 2, {"annual_cost": 1_250_050}
        )
        assert "Your answer now: Older people, Carers. Type keep to keep it." in chat_prompt(
            FORM, 4, {"groups": ["older", "carers"]}
        )
        assert "Your answer now: No. Type keep" in chat_prompt(FORM, 3, {"tupe": False})

    def test_no_current_answer_line_when_blank(self) -> None:
        assert "Your answer now" not in chat_prompt(FORM, 2, {"annual_cost": None})

    @pytest.mark.parametrize("position", [-1, 5])
    def test_position_must_be_a_question(self, position: int) -> None:
        with pytest.raises(IndexError):
            chat_prompt(FORM, position, {})


class TestAnswering:
    def test_full_run_through(self) -> None:
        state = start_chat(FORM).state
        outcome = chat_answer(FORM, state, "  Riverside Trust ")
        assert outcome.saved_field == "org_name"
        assert outcome.state.answers == {"org_name": "Riverside Trust"}
        assert outcome.state.position == 1
        assert outcome.prompt == chat_prompt(FORM, 1, outcome.state.answers)

        outcome = say(outcome.state, "2", "£12.5k", "no", "1, 3")
        assert outcome.done
        assert not outcome.stopped
        assert outcome.prompt is None
        assert outcome.saved_field == "groups"
        assert outcome.state.position == 5
        assert outcome.state.answers == {
            "org_name": "Riverside Trust",
            "income_band": "medium",
            "annual_cost": 1_250_000,
            "tupe": False,
            "groups": ["older", "young"],
        }
        assert validate_all(FORM, outcome.state.answers) == {}

    def test_choice_by_words(self) -> None:
        outcome = say(ChatState(position=1), "over £100,000")
        assert outcome.state.answers["income_band"] == "large"

    def test_bad_answer_repeats_the_question_and_changes_nothing(self) -> None:
        state = ChatState(position=2, answers={"org_name": "R", "income_band": "small"})
        before = state.to_json()
        outcome = chat_answer(FORM, state, "lots")
        assert outcome.error == "Enter annual cost as an amount of money, like £12,500"
        assert outcome.prompt == chat_prompt(FORM, 2, state.answers)
        assert outcome.state == state
        assert outcome.saved_field is None
        assert not outcome.done and not outcome.stopped
        assert state.to_json() == before  # the caller's state is not mutated

    def test_choice_number_out_of_range(self) -> None:
        outcome = chat_answer(FORM, ChatState(position=1), "4")
        assert outcome.error == "There is no option 4 for income band. Choose a number from 1 to 3."
        assert outcome.state.position == 1

    def test_empty_reply(self) -> None:
        required = chat_answer(FORM, ChatState(position=0), "   ")
        assert required.error == "Enter organisation name"
        optional = chat_answer(FORM, ChatState(position=2), "")
        assert optional.error == "Type your answer, or type skip to leave it."
        assert optional.state.position == 2

    def test_answering_after_done_stays_done(self) -> None:
        outcome = chat_answer(FORM, ChatState(position=5), "hello")
        assert outcome.done
        assert outcome.state.position == 5
        assert outcome.saved_field is None

    def test_negative_position_is_treated_as_the_start(self) -> None:
        outcome = chat_answer(FORM, ChatState(position=-2), "Riverside")
        assert outcome.saved_field == "org_name"
        assert outcome.state.position == 1

    def test_moving_on_skips_questions_answered_elsewhere(self) -> None:
        # tupe was answered on the web; after annual cost we go straight to groups.
        state = ChatState(position=2, answers={"tupe": True})
        outcome = chat_answer(FORM, state, "500")
        assert outcome.state.position == FIELD_IDS.index("groups")


class TestCommands:
    def test_skip_optional(self) -> None:
        outcome = chat_answer(FORM, ChatState(position=2), "skip")
        assert outcome.error is None
        assert outcome.state.position == 3
        assert "annual_cost" not in outcome.state.answers
        assert outcome.saved_field is None

    @pytest.mark.parametrize("reply", ["SKIP", " Skip ", "skip."])
    def test_commands_are_case_and_space_insensitive(self, reply: str) -> None:
        assert chat_answer(FORM, ChatState(position=2), reply).state.position == 3

    def test_skip_keeps_an_earlier_answer(self) -> None:
        state = ChatState(position=2, answers={"annual_cost": 500})
        outcome = chat_answer(FORM, state, "skip")
        assert outcome.state.answers == {"annual_cost": 500}
        assert outcome.state.position == 3

    def test_skip_refused_for_required(self) -> None:
        state = ChatState(position=1, answers={"org_name": "R"})
        outcome = chat_answer(FORM, state, "skip")
        assert outcome.error is not None
        assert "cannot skip" in outcome.error
        assert outcome.state == state
        assert outcome.prompt == chat_prompt(FORM, 1, state.answers)
        assert not outcome.done

    def test_skipping_the_last_question_finishes(self) -> None:
        outcome = chat_answer(FORM, ChatState(position=4), "skip")
        assert outcome.done
        assert outcome.prompt is None

    def test_back(self) -> None:
        state = ChatState(position=3, answers={"org_name": "R", "income_band": "small"})
        outcome = chat_answer(FORM, state, "back")
        assert outcome.state.position == 2
        assert outcome.error is None
        assert outcome.prompt == chat_prompt(FORM, 2, state.answers)
        outcome = chat_answer(FORM, outcome.state, "Back")
        assert outcome.state.position == 1
        assert outcome.prompt is not None
        assert "Your answer now: Under £10,000." in outcome.prompt

    def test_back_at_the_first_question_is_gentle(self) -> None:
        outcome = chat_answer(FORM, ChatState(position=0), "back")
        assert outcome.state.position == 0
        assert outcome.error == "This is the first question, so there is nothing to go back to."
        assert outcome.prompt == chat_prompt(FORM, 0, {})

    def test_back_after_finishing_reopens_the_last_question(self) -> None:
        outcome = chat_answer(FORM, ChatState(position=5, answers={"groups": ["older"]}), "back")
        assert outcome.state.position == 4
        assert not outcome.done

    def test_back_then_change_an_answer(self) -> None:
        state = ChatState(position=2, answers={"org_name": "R", "income_band": "small"})
        outcome = say(state, "back", "3")
        assert outcome.state.answers["income_band"] == "large"
        assert outcome.saved_field == "income_band"
        assert outcome.state.position == 2

    @pytest.mark.parametrize("reply", ["stop", "STOP", "save", "later", "Save and finish later"])
    def test_stop_keeps_answers(self, reply: str) -> None:
        state = ChatState(position=2, answers={"org_name": "R", "income_band": "small"})
        outcome = chat_answer(FORM, state, reply)
        assert outcome.stopped
        assert not outcome.done
        assert outcome.prompt is None
        assert outcome.error is None
        assert outcome.state == state

    def test_stop_then_resume(self) -> None:
        outcome = say(start_chat(FORM).state, "Riverside", "1", "stop")
        assert outcome.stopped
        resumed = start_chat(FORM, outcome.state.answers)
        assert resumed.state.position == 2
        assert resumed.state.answers == {"org_name": "Riverside", "income_band": "small"}

    def test_keep(self) -> None:
        state = ChatState(position=1, answers={"org_name": "R", "income_band": "medium"})
        outcome = chat_answer(FORM, state, "keep")
        assert outcome.error is None
        assert outcome.state.position == 2
        assert outcome.state.answers == state.answers
        assert outcome.saved_field is None

    def test_keep_with_nothing_to_keep(self) -> None:
        outcome = chat_answer(FORM, ChatState(position=1), "keep")
        assert (
            outcome.error == "You have not answered this question yet, so there is nothing to keep."
        )
        assert outcome.state.position == 1


class TestState:
    def test_json_round_trip(self) -> None:
        state = ChatState(
            position=3,
            answers={"org_name": "R", "annual_cost": 1250, "tupe": True, "groups": ["older"]},
        )
        data = state.to_json()
        assert data == {"position": 3, "answers": state.answers, "review": False}
        stored = json.loads(json.dumps(data))
        assert ChatState.from_json(stored) == state
        assert ChatState.from_json(json.dumps(data)) == state

    def test_defaults(self) -> None:
        assert ChatState() == ChatState(position=0, answers={})
        assert ChatState.from_json({}) == ChatState()

    @pytest.mark.parametrize(
        "data", [{"position": -1}, {"position": "2"}, {"answers": [1]}, "[]", {"position": True}]
    )
    def test_bad_json(self, data: Any) -> None:
        with pytest.raises(ValueError):
            ChatState.from_json(data)

    def test_state_through_json_between_every_step(self) -> None:
        outcome = start_chat(FORM)
        for reply in ["Riverside", "2", "skip", "yes", "Carers"]:
            stored = json.dumps(outcome.state.to_json())
            outcome = chat_answer(FORM, ChatState.from_json(json.loads(stored)), reply)
        assert outcome.done
        assert outcome.state.answers == {
            "org_name": "Riverside",
            "income_band": "medium",
            "tupe": True,
            "groups": ["carers"],
        }
