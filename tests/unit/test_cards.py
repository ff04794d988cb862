"""Adaptive Cards rendered from neutral replies keep to the 1.5 rules and carry the answers."""

from __future__ import annotations

import pytest

from bot.core.forms import FormDefinition
from bot.core.reply import (
    Button,
    Fact,
    Filter,
    FilterBar,
    FilterOption,
    FormView,
    Message,
    Notice,
    Section,
)
from bot.teams.cards import META, cards, form_card, submitted_values
from storage.forms import shipped_definitions
from tests.support.adaptive_cards import CardError, check_card


def profile() -> FormDefinition:
    return next(d for d in shipped_definitions() if d.key == "organisation_profile")


def view_of(defn: FormDefinition, page: int, values=None, errors=None) -> FormView:
    p = defn.pages[page]
    return FormView(
        form_key=defn.key,
        form_version=1,
        response_id=7,
        title=defn.title,
        intro=defn.intro,
        who_sees=defn.who_sees,
        page_index=page,
        page_count=len(defn.pages),
        page_title=p.title,
        page_intro=p.intro,
        fields=list(p.fields),
        values=values or {},
        errors=errors or {},
    )


@pytest.mark.parametrize("page", [0, 1, 2])
def test_every_profile_page_is_a_valid_card(page: int) -> None:
    card = form_card(view_of(profile(), page))
    check_card(card)
    ids = [e["id"] for e in card["body"] if e["type"].startswith("Input.")]
    assert ids == [f.id for f in profile().pages[page].fields]
    verbs = [a["verb"] for a in card["actions"]]
    assert verbs[0] == ("form.submit" if page == 2 else "form.next")
    assert ("form.back" in verbs) == (page > 0)
    assert all(a["data"][META]["response_id"] == 7 for a in card["actions"])


def test_errors_are_shown_and_answers_kept() -> None:
    card = form_card(
        view_of(
            profile(),
            1,
            values={"staff_count": "lots", "income_band": "10k_100k"},
            errors={"staff_count": "Enter paid staff as a whole number, like 12"},
        )
    )
    check_card(card)
    texts = [e.get("text", "") for e in card["body"]]
    assert "Error: Enter paid staff as a whole number, like 12" in texts
    staff = next(e for e in card["body"] if e.get("id") == "staff_count")
    assert staff["value"] == "lots"
    income = next(e for e in card["body"] if e.get("id") == "income_band")
    assert income["value"] == "10k_100k" and income["style"] == "expanded"


def test_many_choices_become_a_compact_multi_select() -> None:
    card = form_card(view_of(profile(), 2, values={"service_areas": ["food", "carers"]}))
    areas = next(e for e in card["body"] if e.get("id") == "service_areas")
    assert areas["isMultiSelect"] is True and areas["style"] == "compact"
    assert areas["value"] == "food,carers"


def test_messages_notices_and_filters_make_one_valid_card() -> None:
    replies = [
        Notice(text="Saved.", level="success"),
        Message(
            title="Provider directory",
            text="2 found",
            sections=[
                Section(
                    heading="Asha",
                    facts=[Fact(label="Kind", value="Charity")],
                    buttons=[Button(label="Open", action="cmd.profile")],
                )
            ],
            who_sees="Readiness answers are never shown here.",
        ),
        FilterBar(
            command="directory",
            filters=[
                Filter(
                    name="service",
                    label="Works on",
                    options=[FilterOption(value="food", label="Food")],
                )
            ],
        ),
    ]
    out = cards(replies)
    assert len(out) == 1
    check_card(out[0])


def test_the_checker_catches_broken_cards() -> None:
    with pytest.raises(CardError, match="unique"):
        check_card(
            {
                "type": "AdaptiveCard",
                "version": "1.5",
                "body": [
                    {"type": "Input.Text", "id": "a", "label": "A"},
                    {"type": "Input.Text", "id": "a", "label": "A"},
                ],
            }
        )
    with pytest.raises(CardError, match="unknown element"):
        check_card({"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "Banner"}]})
    with pytest.raises(CardError, match="errorMessage"):
        check_card(
            {
                "type": "AdaptiveCard",
                "version": "1.5",
                "body": [{"type": "Input.Text", "id": "a", "label": "A", "isRequired": True}],
            }
        )


def test_submitted_values_drop_our_metadata() -> None:
    data = {
        META: {"response_id": 1},
        "name": "Asha",
        "service_areas": "food,carers",
        "filter_service": "food",
    }
    assert submitted_values(data) == {"name": "Asha", "service_areas": "food,carers"}
