"""The ``cpv`` question: words or codes in, 8-digit codes stored, on every door.

Chat, Slack and Teams read typed text; the web page shows chosen codes as ticked boxes and
answers a search with the codes to tick (the server's search, no JavaScript). Every door
posts back through the same parser, so each round trip below ends in the same codes."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from bot.core.cpv import community_suggestions, find_cpv, narrower
from bot.core.forms import (
    AnswerError,
    Field,
    FieldType,
    FormDefinition,
    chat_answer,
    format_answer,
    parse_answer,
    start_chat,
    to_raw,
    validate_page,
)
from bot.core.forms.kinds.cpv import MAX_CODES
from bot.core.reply import FormView
from bot.slack import blocks as slack_kit
from bot.teams import cards as teams_kit
from bot.web.render import environment
from tests.slack.conftest import BlockKitLog, block_kit_problems
from tests.slack.helpers import fill_in, input_elements
from tests.support.adaptive_cards import check_card
from tests.teams.helpers import inputs, press

CODES = Field(id="cpv_codes", type=FieldType.CPV, label="What do you provide?", required=True)
FORM = FormDefinition.model_validate(
    {
        "key": "test-cpv",
        "version": 1,
        "title": "Test form with CPV codes",
        "pages": [{"id": "p1", "title": "What you do", "fields": [CODES.model_dump()]}],
    }
)
MEALS = find_cpv("meals on wheels").codes[0].code


def error_for(raw: Any) -> str:
    with pytest.raises(AnswerError) as info:
        parse_answer(CODES, raw)
    assert info.value.field_id == CODES.id
    return info.value.message


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


def test_words_and_codes_become_codes_in_order_each_once() -> None:
    assert parse_answer(CODES, "meals on wheels, 85311000-2; 85311000\n853") == [
        MEALS,
        "85311000",
        "85300000",
    ]


def test_a_label_with_commas_copied_whole_reads_as_its_code() -> None:
    shown = format_answer(CODES, ["79000000"])
    assert "," in shown  # "Business services: law, marketing, ..."
    assert parse_answer(CODES, to_raw(CODES, ["79000000"])) == ["79000000"]


def test_words_that_could_mean_several_codes_name_them() -> None:
    message = error_for("welfare services")
    assert message.startswith("'welfare services' could be ")
    assert "85311100-3 Welfare services for the elderly" in message
    assert "Type the code of the one you mean" in message


def test_unknown_words_name_the_near_matches() -> None:
    message = error_for("youth work")
    assert message.startswith("We could not find 'youth work'. Did you mean ")
    assert "Youth education services" in message


def test_words_that_match_nothing_say_how_to_answer() -> None:
    assert error_for("zzzz qqqq") == (
        "We could not find 'zzzz qqqq'. Type words, like meals on wheels, or a code, like 85311000."
    )


def test_a_code_that_is_not_in_the_list_is_an_error() -> None:
    assert error_for("99999999").startswith("There is no CPV code 99999999.")


def test_a_wrong_check_digit_names_the_right_code() -> None:
    message = error_for("85311000-3")
    assert "85311000-2 Social work services with accommodation" in message


def test_too_many_codes_is_refused() -> None:
    message = error_for(", ".join(["85311000"] * (MAX_CODES + 1)))
    assert f"at most {MAX_CODES} codes" in message


def test_answers_show_and_export_with_check_digits_and_labels() -> None:
    assert format_answer(CODES, ["85311000", MEALS]) == (
        "85311000-2 Social work services with accommodation; 55521100-9 Meals-on-wheels services"
    )


def test_a_required_question_left_blank_asks_to_choose() -> None:
    result = validate_page(FORM, 0, {"cpv_codes": ""})
    assert result.errors["cpv_codes"].startswith("Choose")


# --------------------------------------------------------------------------
# Chat
# --------------------------------------------------------------------------


def test_in_chat_words_are_read_as_codes_and_a_miss_asks_again() -> None:
    outcome = start_chat(FORM)
    assert outcome.prompt is not None and "meals on wheels, 85311000" in outcome.prompt
    outcome = chat_answer(FORM, outcome.state, "youth work")
    assert outcome.error is not None and "Did you mean" in outcome.error
    assert not outcome.done and outcome.saved_field is None
    outcome = chat_answer(FORM, outcome.state, "meals on wheels, 85311000")
    assert outcome.error is None
    assert outcome.state.answers["cpv_codes"] == [MEALS, "85311000"]


# --------------------------------------------------------------------------
# Doors
# --------------------------------------------------------------------------


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


def prefilled(codes: list[str] | None) -> FormView:
    return view_with({"cpv_codes": to_raw(CODES, codes)})


def test_slack_round_trip_of_typed_words_and_of_saved_codes() -> None:
    modal = slack_kit.form_modal(prefilled(None))
    assert block_kit_problems(BlockKitLog(views=[("form modal", modal)])) == []
    typed = fill_in(modal, {"cpv_codes": "meals on wheels, 85311000"})
    assert validate_page(FORM, 0, slack_kit.submitted_values(typed)).values == {
        "cpv_codes": [MEALS, "85311000"]
    }
    saved = slack_kit.form_modal(prefilled(["79000000", "85311000"]))
    shown = input_elements(saved)["cpv_codes"]["initial_value"]
    assert "79000000-4 Business services" in shown
    result = validate_page(FORM, 0, slack_kit.submitted_values(fill_in(saved)))
    assert result.values == {"cpv_codes": ["79000000", "85311000"]}


def test_teams_round_trip_of_typed_words_and_of_saved_codes() -> None:
    card = teams_kit.form_card(prefilled(None))
    check_card(card)
    data = press(card, "form.submit", {"cpv_codes": "meals on wheels, 85311000"})
    result = validate_page(FORM, 0, teams_kit.submitted_values(data))
    assert result.values == {"cpv_codes": [MEALS, "85311000"]}
    saved = teams_kit.form_card(prefilled(["79000000"]))
    assert inputs(saved)["cpv_codes"]["value"].startswith("79000000-4 Business services")
    again = validate_page(FORM, 0, teams_kit.submitted_values(press(saved, "form.save")))
    assert again.values == {"cpv_codes": ["79000000"]}


class _Controls(HTMLParser):
    """Every named input on the page, as a browser would send it (boxes only if ticked)."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "input" and found.get("name") == "cpv_codes":
            self.inputs.append(found)


def web_inputs(view: FormView) -> list[dict[str, str]]:
    template = environment.from_string('{% import "widgets.html" as w %}{{ w.form(f, "t") }}')
    parser = _Controls()
    parser.feed(template.render(f=view))
    return parser.inputs


def web_post(controls: list[dict[str, str]], tick: set[str], typed: str) -> dict[str, Any]:
    """What `bot.web.routes.send_form_page` builds: ticked boxes and the text box."""
    sent = [
        c["value"]
        for c in controls
        if c.get("type") == "checkbox" and ("checked" in c or c["value"] in tick)
    ]
    sent += [typed if c.get("type") == "text" else "" for c in controls if c.get("type") == "text"]
    return {"cpv_codes": sent if len(sent) > 1 else sent[0]}


def test_web_page_offers_community_codes_and_a_search_box_when_empty() -> None:
    controls = web_inputs(prefilled(None))
    boxes = [c for c in controls if c["type"] == "checkbox"]
    assert boxes and not any("checked" in c for c in boxes)
    assert "85000000" in {c["value"] for c in boxes}
    assert [c["type"] for c in controls].count("text") == 1


def test_web_search_offers_codes_to_tick_then_saves_the_ticked_ones() -> None:
    first = web_post(web_inputs(prefilled(None)), set(), "welfare services")
    result = validate_page(FORM, 0, first)
    assert "could be" in result.errors["cpv_codes"]
    # The page comes back with what was posted: the matches as boxes to tick.
    page = web_inputs(view_with(first, result.errors))
    offered = [c["value"] for c in page if c["type"] == "checkbox" and "checked" not in c]
    assert "85311100" in offered
    text = next(c for c in page if c["type"] == "text")
    assert text["value"] == ""
    second = web_post(page, {"85311100"}, "")
    assert validate_page(FORM, 0, second).values == {"cpv_codes": ["85311100"]}


def test_web_keeps_chosen_codes_ticked_and_adds_typed_ones() -> None:
    page = web_inputs(prefilled(["85311000"]))
    ticked = [c["value"] for c in page if "checked" in c]
    assert ticked == ["85311000"]
    values = web_post(page, set(), "meals on wheels")
    assert validate_page(FORM, 0, values).values == {"cpv_codes": ["85311000", MEALS]}


def test_slack_holds_the_most_codes_an_answer_may_have() -> None:
    many = [c.code for c in community_suggestions()][:MAX_CODES]
    many += [code for code in narrower("85000000") if code not in many][: MAX_CODES - len(many)]
    assert len(many) == MAX_CODES
    modal = slack_kit.form_modal(prefilled(many))
    assert block_kit_problems(BlockKitLog(views=[("form modal", modal)])) == []
    result = validate_page(FORM, 0, slack_kit.submitted_values(fill_in(modal)))
    assert result.values == {"cpv_codes": many}
