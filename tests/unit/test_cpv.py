"""The CPV 2008 list and its lookups: codes with or without check digits, words, the
hierarchy, and which codes share ground (what matching providers to opportunities uses)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from bot.core.cpv import (
    COMMUNITY_DIVISIONS,
    attribution,
    broader,
    children,
    community_suggestions,
    cpv,
    cpv_label,
    find_cpv,
    narrower,
    overlapping,
    overlaps,
    parent,
    search_cpv,
    split_chosen,
    stem,
    typed_text,
    widget_state,
)

ROOT = Path(__file__).resolve().parents[2]


def _shipped() -> dict[str, str]:
    raw = resources.files("bot.core.cpv").joinpath("cpv.json").read_text(encoding="utf-8")
    codes: dict[str, str] = json.loads(raw)["codes"]
    return codes


# --------------------------------------------------------------------------
# The shipped list
# --------------------------------------------------------------------------


def test_the_whole_cpv_2008_list_is_shipped_with_check_digits() -> None:
    codes = _shipped()
    assert len(codes) == 9454
    assert all(re.fullmatch(r"\d{8}-\d", code) for code in codes)
    assert all(label.strip() for label in codes.values())
    assert codes["85311000-2"] == "Social work services with accommodation"


def test_the_data_carries_its_source_date_and_licence() -> None:
    text = attribution()
    assert "Regulation (EC) No 213/2008" in text
    assert "European Union" in text and "source is acknowledged" in text
    assert re.search(r"built \d{4}-\d\d-\d\d", text)


def test_every_code_but_a_division_has_a_broader_code_in_the_list() -> None:
    for full in _shipped():
        code = full[:8]
        if len(stem(code)) == 2:
            assert code.endswith("000000") and parent(code) is None
        else:
            above = parent(code)
            assert above is not None, code
            assert code.startswith(stem(above)) and len(stem(above)) < len(stem(code))


def test_the_build_script_refuses_a_list_that_is_not_cpv_2008(tmp_path: Path) -> None:
    source = tmp_path / "en.json"
    source.write_text(
        json.dumps(
            {
                "85000000-9": "Health and social work services",
                "85311000-2": "Social work services with accommodation",
            }
        )
    )
    built = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_cpv.py"), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode != 0
    assert "9454" in built.stderr


def test_the_build_script_reads_the_eu_xml_file(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_cpv
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    source = tmp_path / "cpv_2008.xml"
    source.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><CPV_CODE>'
        '<CPV CODE="85311000-2"><TEXT LANG="DE">Dienstleistungen</TEXT>'
        '<TEXT LANG="EN">Social work services with  accommodation</TEXT></CPV>'
        "</CPV_CODE>",
        encoding="utf-8",
    )
    assert build_cpv.read_xml(source) == {"85311000-2": "Social work services with accommodation"}


# --------------------------------------------------------------------------
# Codes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["85311000", "85311000-2", " 85311000 - 2 ", "8531 1000"])
def test_a_code_with_or_without_its_check_digit_finds_itself(typed: str) -> None:
    found = find_cpv(typed)
    assert [c.code for c in found.codes] == ["85311000"]
    assert found.by_code and not found.wrong_check
    assert cpv(typed.replace(" ", "")) is not None


def test_a_wrong_check_digit_is_told_apart_from_a_right_one() -> None:
    found = find_cpv("85311000-3")
    assert found.wrong_check
    assert cpv("85311000-3") is None
    assert cpv("85311000-2") is not None


def test_a_short_code_means_its_division_or_group() -> None:
    assert find_cpv("85").codes[0].label == "Health and social work services"
    assert find_cpv("853").codes[0].label == "Social work and related services"


def test_a_code_copied_with_its_label_is_the_code() -> None:
    assert [c.code for c in find_cpv(cpv_label("85311000")).codes] == ["85311000"]


def test_labels_show_the_check_digit_and_an_unknown_code_is_shown_as_it_is() -> None:
    assert cpv_label("85311000") == "85311000-2 Social work services with accommodation"
    assert cpv_label("99999999") == "99999999"


# --------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------


def test_meals_on_wheels_finds_its_one_code() -> None:
    found = find_cpv("Meals on wheels")
    assert [c.label for c in found.codes] == ["Meals-on-wheels services"]


def test_an_exact_label_wins_over_labels_that_start_with_it() -> None:
    assert [c.label for c in find_cpv("social work services").codes] == ["Social work services"]
    assert [c.label for c in find_cpv("catering").codes] == ["Catering services"]


def test_words_that_many_labels_hold_are_a_choice_not_a_guess() -> None:
    found = find_cpv("welfare services")
    assert len(found.codes) > 1
    assert all("welfare services" in c.label.lower() for c in found.codes)


def test_youth_work_suggests_youth_codes_first() -> None:
    assert find_cpv("youth work").codes == ()
    # 'work' is in hundreds of labels: it does not bring in 'construction work'.
    top = search_cpv("youth work")
    assert top and all("youth" in c.label.lower() for c in top)


def test_a_word_most_labels_hold_suggests_nothing_on_its_own() -> None:
    assert search_cpv("zzzz services") == []


def test_search_ranks_exact_then_prefix_then_phrase() -> None:
    labels = [c.label.lower() for c in search_cpv("social work", limit=6)]
    starts = [label.startswith("social work") for label in labels]
    # Every label that starts with the words comes before any that only holds them.
    assert starts == sorted(starts, reverse=True)
    assert labels[0].startswith("social work")


def test_a_typing_slip_and_a_joined_word_still_find_the_code() -> None:
    assert any(c.label == "Counselling services" for c in search_cpv("counseling"))
    assert [c.label for c in find_cpv("day care").codes] == ["Daycare services"]


def test_words_in_no_label_find_nothing() -> None:
    assert search_cpv("zzzz qqqq") == []
    assert find_cpv("zzzz qqqq").codes == ()


# --------------------------------------------------------------------------
# The hierarchy and overlaps
# --------------------------------------------------------------------------


def test_broader_is_nearest_first_up_to_the_division() -> None:
    assert broader("85311000") == ["85310000", "85300000", "85000000"]
    assert broader("85000000") == []


def test_narrower_is_everything_the_code_covers() -> None:
    below = narrower("85300000")
    assert "85311000" in below and "85312000" in below
    assert all(code.startswith("853") for code in below)
    assert "85300000" not in below
    assert narrower("55521100") == []
    assert children("85300000") == ["85310000", "85320000"]


def test_a_broad_code_and_a_narrow_one_overlap_either_way_round() -> None:
    assert overlaps("85300000", "85311000")
    assert overlaps("85311000", "85300000")
    assert overlaps("85311000", "85311000")


def test_codes_side_by_side_do_not_overlap() -> None:
    assert not overlaps("85311000", "85312000")
    assert not overlaps("85000000", "80000000")


def test_overlapping_holds_the_code_what_covers_it_and_what_it_covers() -> None:
    found = overlapping(["85310000"])
    assert {"85310000", "85300000", "85000000", "85311000"} <= found
    assert "85320000" not in found
    assert all(overlaps(code, "85310000") for code in found)


# --------------------------------------------------------------------------
# Suggestions and what widgets read
# --------------------------------------------------------------------------


def test_suggestions_are_the_community_divisions_and_their_groups_from_the_data() -> None:
    suggested = community_suggestions()
    codes = {c.code for c in suggested}
    shipped = {full[:8] for full in _shipped()}
    for division in COMMUNITY_DIVISIONS:
        groups = {c for c in shipped if c.startswith(division) and len(stem(c)) == 3}
        assert division.ljust(8, "0") in codes
        assert groups <= codes
    assert all(c.code[:2] in COMMUNITY_DIVISIONS for c in suggested)


def test_ticked_codes_and_typed_words_are_read_apart() -> None:
    assert split_chosen(["85311000", "meals on wheels", ""]) == (["85311000"], "meals on wheels")
    assert "85311000-2 Social work services with accommodation" in typed_text(["85311000"])


def test_the_web_search_chooses_clear_words_and_offers_the_rest() -> None:
    state = widget_state(["85311000", "meals on wheels, welfare services, zzzz qqqq"])
    meals = find_cpv("meals on wheels").codes[0].code
    assert [c.code for c in state.chosen] == ["85311000", meals]
    assert state.offered and all("welfare services" in c.label.lower() for c in state.offered)
    assert "85311000" not in {c.code for c in state.offered}
    assert state.typed == "zzzz qqqq"


def test_a_long_list_is_pre_filled_as_bare_codes_that_read_back_the_same() -> None:
    many = [full[:8] for full in list(_shipped())[:40]]
    text = typed_text(many, limit=1000)
    assert len(text) <= 1000
    assert split_chosen(text.split("\n")) == (many, "")
