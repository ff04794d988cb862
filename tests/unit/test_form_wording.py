"""Wording slips in the forms Convene ships, caught before anyone reads them.

Each check here is a slip that has been found by a person in a shipped form: an intro
saying every question can be left blank on a form with a required question, "not sure"
offered as an answer to a question that refuses it, a double full stop, a title starting
in lower case, "(optional)" written into a label (every door adds it once already).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bot.core.forms import AnswerError, Field, FormDefinition, parse_answer
from tests.unit.test_plain_words import shipped_definitions

FORMS = shipped_definitions()
BLANK_CLAIM = re.compile(r"\b(?:every|all|any)\b[^.]*\bcan be left blank\b", re.IGNORECASE)
#: "Not sure" offered as an answer to every question it covers ("'not sure' is a fine
#: answer", "you can say 'not sure'"), not one option among others ("choose 'Not sure'
#: where it is offered").
NOT_SURE_OFFERED = re.compile(
    r"[\"'“‘]not sure[\"'”’] is (?:a |an |always )|(?:say|answer|write|type) [\"'“‘]not sure",
    re.IGNORECASE,
)
DOUBLE_STOP = re.compile(r"(?<!\.)\.\s*\.(?!\.)")


def texts(form: FormDefinition) -> Iterator[tuple[str, str]]:
    """(where, text) for every piece of wording in a form."""
    yield "title", form.title
    for name in ("intro", "who_sees"):
        if getattr(form, name):
            yield name, getattr(form, name)
    for page in form.pages:
        yield f"page {page.id} title", page.title
        if page.intro:
            yield f"page {page.id} intro", page.intro
        for fld in page.fields:
            for name in ("label", "hint", "help", "example"):
                if getattr(fld, name):
                    yield f"{fld.id} {name}", getattr(fld, name)
            for choice in fld.choices:
                yield f"{fld.id} choice {choice.value}", choice.label
                if choice.hint:
                    yield f"{fld.id} choice {choice.value} hint", choice.hint


def takes_not_sure(fld: Field) -> bool:
    try:
        parse_answer(fld, "not sure")
    except AnswerError:
        return False
    return True


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.key)
def test_no_blank_claim_on_a_form_with_a_required_question(form: FormDefinition) -> None:
    required = [fld.id for fld in form.all_fields() if fld.required]
    if not required:
        return
    claims = [where for where, text in texts(form) if BLANK_CLAIM.search(text)]
    assert not claims, (
        f"{form.key}: {claims} say every question can be left blank; {required} are required"
    )


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.key)
def test_not_sure_is_offered_only_where_it_is_an_answer(form: FormDefinition) -> None:
    problems: list[str] = []
    form_wide = bool(NOT_SURE_OFFERED.search(form.intro or ""))
    for page in form.pages:
        page_wide = form_wide or bool(NOT_SURE_OFFERED.search(page.intro or ""))
        for fld in page.fields:
            offered = page_wide or any(
                NOT_SURE_OFFERED.search(text or "") for text in (fld.hint, fld.help)
            )
            if offered and not takes_not_sure(fld):
                problems.append(fld.id)
    assert not problems, f"{form.key}: 'not sure' is offered but refused by {problems}"


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.key)
def test_no_double_full_stops(form: FormDefinition) -> None:
    slips = [f"{where}: {text!r}" for where, text in texts(form) if DOUBLE_STOP.search(text)]
    assert not slips, f"{form.key}: {slips}"


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.key)
def test_titles_start_with_a_capital(form: FormDefinition) -> None:
    titles = [form.title, *(page.title for page in form.pages)]
    lower = [title for title in titles if title[:1].islower()]
    assert not lower, f"{form.key}: {lower}"


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.key)
def test_optional_is_not_written_into_labels(form: FormDefinition) -> None:
    """Every door says "(optional)" once for a question that is not required."""
    written = [fld.id for fld in form.all_fields() if "(optional)" in fld.label.lower()]
    assert not written, f"{form.key}: {written}"


def test_the_checks_catch_the_slips_they_are_for() -> None:
    """Each pattern finds the slip it names (so a check that can never fail is caught)."""
    assert BLANK_CLAIM.search("Every question can be left blank, and more.")
    assert not BLANK_CLAIM.search("Leave this blank if you are not sure yet.")
    assert NOT_SURE_OFFERED.search('"not sure" is a fine answer')
    assert NOT_SURE_OFFERED.search("You can say 'not sure'.")
    assert not NOT_SURE_OFFERED.search('Choose "Not sure" where it is offered.')
    assert DOUBLE_STOP.search("We told them.. Then") and DOUBLE_STOP.search("Done. .")
    assert not DOUBLE_STOP.search("Wait... then") and not DOUBLE_STOP.search("Done. Next.")
    money = Field(id="cost", type="money", label="Cost")
    assert not takes_not_sure(money)
    choice = Field(
        id="c",
        type="single_choice",
        label="C",
        choices=[{"value": "not_sure", "label": "Not sure"}],
    )
    assert takes_not_sure(choice)
