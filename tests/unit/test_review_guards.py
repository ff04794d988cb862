"""Guards found in review: register numbers take only ASCII digits, and a pasted wall of
words is searched by its first words only (so one answer can't hold up every turn)."""

from __future__ import annotations

import pytest

from bot.core.cpv import MAX_SEARCH_WORDS, search_cpv
from bot.core.registers import RegisterNumberError, read_number


@pytest.mark.parametrize("register", ["companies_house", "charity_commission", "oscr"])
def test_digits_from_other_scripts_are_not_register_numbers(register: str) -> None:
    arabic_indic = "١٢٣٤٥٦٧"  # seven digits, but not 0-9
    with pytest.raises(RegisterNumberError):
        read_number(register, arabic_indic)


def test_a_long_piece_is_searched_by_its_first_words_only() -> None:
    filler = " ".join(f"zq{i}x" for i in range(MAX_SEARCH_WORDS))
    assert search_cpv("youth work")  # the words alone find codes
    assert search_cpv(f"{filler} youth work") == []  # past the limit they are not weighed
