"""Reading a typed command: words and key=value arguments, with or without quotes."""

from __future__ import annotations

import random
import shlex
import string

from bot.core.turn import parse_command


def test_words_are_lower_case_and_arguments_keep_their_case() -> None:
    assert parse_command("Engagements Show 4 Area=North") == (
        ["engagements", "show", "4"],
        {"area": "North"},
    )


def test_quoted_values_keep_their_spaces() -> None:
    assert parse_command('directory service=youth area="North Ward"') == (
        ["directory"],
        {"service": "youth", "area": "North Ward"},
    )


def test_unbalanced_quotes_fall_back_to_spaces() -> None:
    assert parse_command('ask 4 "what about') == (["ask", "4", '"what', "about"], {})


def test_plain_text_splits_exactly_as_shell_quoting_would() -> None:
    """Text without quotes or backslashes skips shlex; the result must be the same."""
    alphabet = string.ascii_letters + string.digits + " \t\n=-_.,:;!?#@&()[]£"
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        words, args = [], {}
        for part in shlex.split(text):
            if "=" in part and not part.startswith("="):
                key, _, value = part.partition("=")
                args[key.strip().lower()] = value.strip()
            else:
                words.append(part.lower())
        assert parse_command(text) == (words, args), text
