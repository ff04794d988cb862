"""Row ids from buttons and forms: whole numbers that fit the database, nothing else."""

from __future__ import annotations

import pytest

from bot.core.turn import MAX_ROW_ID, Action, row_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        (" 42 ", 42),
        (str(MAX_ROW_ID), MAX_ROW_ID),
        (str(MAX_ROW_ID + 1), None),
        (str(2**64), None),
        ("9" * 4000, None),
        ("0", None),
        ("-3", None),
        ("+3", None),
        ("3.0", None),
        ("٣", None),  # an Arabic-Indic three: a digit to Python, not an id to us
        ("", None),
        (None, None),
    ],
)
def test_row_id(text: str | None, expected: int | None) -> None:
    assert row_id(text) == expected


def test_a_forged_button_past_64_bits_is_no_id() -> None:
    """Before, `Action.number` gave 2**70 to the handler, and the database failed on it."""
    assert Action(id="deliveries.retry", value=str(2**70)).number is None
    assert Action(id="deliveries.retry", value="17").number == 17
