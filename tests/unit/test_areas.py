"""Areas as ONS GSS codes: the data holds the whole UK, a name or a postcode finds one
place or says why not, and places that share ground match in both directions."""

from __future__ import annotations

import pytest

from bot.core.areas import (
    _data,
    all_areas,
    ancestors,
    area,
    attribution,
    descendants,
    find_areas,
    overlapping,
    typed_label,
    typed_text,
)
from bot.core.forms import (
    AnswerError,
    Field,
    FieldType,
    chat_answer,
    format_answer,
    load_definition,
    parse_answer,
    start_chat,
)
from storage.engagements import matching_area_codes
from tests.support.areas import codes

AREAS = Field(id="areas_served", type=FieldType.AREA, label="Which areas do you serve?")


def code(name: str) -> str:
    found = find_areas(name)
    assert len(found.areas) == 1, f"{name!r} should name one place: {found.areas}"
    return found.areas[0].code


# --------------------------------------------------------------------------
# The data
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entity", ["E06", "E07", "E08", "E09", "E10", "W06", "S12", "N09", "E92", "W92", "S92", "N92"]
)
def test_every_kind_of_uk_council_county_and_nation_is_there(entity: str) -> None:
    assert any(a.code.startswith(entity) for a in all_areas())


def test_every_place_leads_up_to_a_nation_of_its_own_country() -> None:
    for place in all_areas():
        chain = ancestors(place.code)
        if place.kind == "nation":
            assert chain == []
            continue
        assert chain, place
        nation = area(chain[-1])
        assert nation is not None and nation.kind == "nation"
        assert nation.code[0] == place.code[0], f"{place} is filed under {nation}"


def test_a_county_holds_its_councils_and_a_nation_holds_the_county() -> None:
    lancashire = code("Lancashire")
    inside = descendants(lancashire)
    assert code("Preston") in inside and code("Burnley") in inside
    assert code("Leeds") not in inside
    assert lancashire in descendants(code("England"))
    assert ancestors(code("Preston"))[0] == lancashire


def test_every_postcode_sector_names_known_councils() -> None:
    sectors = _data()["sectors"]
    assert len(sectors) > 10_000
    for in_sector in sectors.values():
        for found in in_sector.split():
            place = area(found)
            assert place is not None and place.kind == "council"


def test_the_data_carries_its_source_and_licence() -> None:
    text = attribution()
    assert "Open Government Licence v3.0" in text
    assert "Office for National Statistics" in text


# --------------------------------------------------------------------------
# Typing places
# --------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["LS6 1AA", "ls61aa", "LS6 1", " ls6  1aa "])
def test_a_postcode_finds_its_council(typed: str) -> None:
    assert parse_answer(AREAS, typed) == [code("Leeds")]


def test_names_in_any_case_and_with_odd_punctuation_find_the_same_place() -> None:
    assert parse_answer(AREAS, "st helens") == parse_answer(AREAS, "St. Helens")
    assert parse_answer(AREAS, "City of Bristol") == parse_answer(AREAS, "Bristol, City of")


def test_names_that_hold_commas_are_read_whole_in_a_list() -> None:
    assert parse_answer(AREAS, "Leeds, Bournemouth, Christchurch and Poole, York") == [
        code("Leeds"),
        code("Bournemouth Christchurch and Poole"),
        code("York"),
    ]


def test_every_place_reads_back_from_the_words_we_show_for_it() -> None:
    for place in all_areas():
        assert parse_answer(AREAS, typed_label(place.code)) == [place.code], place


def test_a_misspelt_place_is_an_error_naming_the_near_match() -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(AREAS, "Leeds, Bradfrod")
    assert "Bradfrod" in caught.value.message
    assert "Bradford" in caught.value.message
    assert caught.value.field_id == "areas_served"


def test_a_place_that_is_nowhere_says_how_to_answer() -> None:
    with pytest.raises(AnswerError, match="council name, like Leeds, or a postcode"):
        parse_answer(AREAS, "Narnia")


def test_a_postcode_sector_across_a_border_asks_which_council() -> None:
    sector, codes = next((s, c.split()) for s, c in _data()["sectors"].items() if " " in c)
    with pytest.raises(AnswerError) as caught:
        parse_answer(AREAS, f"{sector}AA")
    for found in codes:
        assert typed_label(found) in caught.value.message
    assert "Type the council's name" in caught.value.message


def test_ticked_codes_and_typed_words_from_the_web_form_are_read_together() -> None:
    assert parse_answer(AREAS, [code("Leeds"), "York, LS6 1AA"]) == [code("Leeds"), code("York")]


def test_answers_show_as_names() -> None:
    value = parse_answer(AREAS, "Leeds, Lancashire")
    assert format_answer(AREAS, value) == "Leeds, Lancashire"
    assert typed_text(value) == "Leeds, Lancashire"


def test_too_many_places_is_refused() -> None:
    names = ", ".join(typed_label(a.code) for a in all_areas()[:61])
    with pytest.raises(AnswerError, match="at most 60 places"):
        parse_answer(AREAS, names)


# --------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------


def test_a_county_wide_provider_matches_an_engagement_in_one_of_its_councils() -> None:
    assert code("Lancashire") in matching_area_codes([code("Preston")])


def test_a_council_provider_matches_an_engagement_across_its_county() -> None:
    assert code("Preston") in matching_area_codes([code("Lancashire")])


def test_neighbouring_councils_do_not_match() -> None:
    assert code("Burnley") not in matching_area_codes([code("Preston")])
    assert code("Leeds") not in overlapping([code("Lancashire")])


# --------------------------------------------------------------------------
# In chat
# --------------------------------------------------------------------------

CHAT_FORM = load_definition(
    """
key: where
title: Where you work
pages:
  - id: places
    title: Places
    fields:
      - id: areas_served
        type: area
        label: Which areas do you serve?
        required: true
"""
)


def test_in_chat_a_name_and_a_postcode_are_read_as_codes() -> None:
    started = start_chat(CHAT_FORM)
    assert started.prompt is not None and "council names or postcodes" in started.prompt
    outcome = chat_answer(CHAT_FORM, started.state, "Leeds, PR1 2AA")
    assert outcome.error is None
    assert outcome.state.answers == {"areas_served": codes("Leeds", "Preston")}


def test_in_chat_a_place_that_could_be_two_asks_which_one() -> None:
    sector, found = next((s, c.split()) for s, c in _data()["sectors"].items() if " " in c)
    outcome = chat_answer(CHAT_FORM, start_chat(CHAT_FORM).state, f"{sector}AA")
    assert outcome.error is not None and "Type the council's name" in outcome.error
    assert all(typed_label(c) in outcome.error for c in found)
    assert outcome.state.answers == {}


def test_every_council_has_a_name_and_scotland_and_northern_ireland_are_found_by_name() -> None:
    assert _data()["unnamed"] == []
    assert all(place.name for place in all_areas())
    # Names that used to come back only as "Council area S12..." now read both ways.
    for typed in ("Glasgow City", "City of Edinburgh", "Belfast", "Newry, Mourne and Down"):
        found = find_areas(typed).areas
        assert len(found) == 1 and found[0].label == typed, typed
        assert found[0].code[0] in "SN"
