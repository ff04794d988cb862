"""Nothing tells people to "type <command>" except `command_ref`, which each door words its
own way: chat says "type engagements update 4"; the web, where there is nowhere to type,
links to the page that does it. A string written any other way is a dead end on the web."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.core.reply import Message, Notice, chat_words, command_ref, plain_text, split_refs
from handlers import features

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "handlers", ROOT / "bot" / "core"]


#: Free words after the command (a join code, an organisation's name): no link can carry
#: them, so the web needs a box to type them in (a join form, a search form), not a link.
#: Left for that work; each is still a dead end on the web until then.
NEEDS_A_TEXT_BOX = {
    "handlers/membership.py": 5,
    "handlers/organisations.py": 1,
}


def command_words() -> set[str]:
    return {c.name for c in features().commands()} | {"help"}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                ids.add(id(value))
    return ids


def _literal(node: ast.AST) -> str | None:
    """A string literal's words; an f-string's with each placeholder as written (`{n}`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(v.value) if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"  # type: ignore[attr-defined]
            for v in node.values
        )
    return None


def typed_commands(source: str) -> list[str]:
    """Every string in `source` that says "type <command>" itself."""
    pattern = re.compile(
        # A command word, or a constant or variable that holds one ({COMMAND}, {command}).
        r"\btype\s+`?("
        + "|".join(sorted(command_words(), key=len, reverse=True))
        + r"|\{[A-Z_]+\}|\{command\})(\W|$)",
        re.IGNORECASE,
    )
    tree = ast.parse(source)
    skip = _docstrings(tree)
    inner = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    found = []
    for node in ast.walk(tree):
        if id(node) in skip or id(node) in inner:
            continue
        words = _literal(node)
        if words is not None and pattern.search(words):
            found.append(words)
    return found


def test_the_check_finds_a_typed_command() -> None:
    assert typed_commands('x = "We could not find it. Type engagements to see them."')
    assert typed_commands('x = f"Publish an update: type engagements update {n}."')
    assert typed_commands('x = f"Which one? Type {COMMAND} edit and its number."')
    assert typed_commands('x = ("in your profile (type "\n "profile), then")')
    assert not typed_commands("x = f\"Publish one: {command_ref('engagements', 'x')}.\"")
    assert not typed_commands('x = "Type council names or postcodes."')


def test_no_handler_or_core_string_says_type_a_command() -> None:
    offenders = []
    for folder in SCANNED:
        for path in sorted(folder.rglob("*.py")):
            found = typed_commands(path.read_text(encoding="utf-8"))
            name = str(path.relative_to(ROOT))
            allowed = NEEDS_A_TEXT_BOX.get(name, 0)
            if len(found) > allowed:
                offenders.extend(f"{name}: {words!r}" for words in found)
    assert not offenders, "Use bot.core.reply.command_ref:\n" + "\n".join(offenders)


def test_chat_and_plain_text_say_type_and_the_words() -> None:
    text = f"{command_ref('engagements', 'the open engagements')} to see them. Or {command_ref('help', 'help')}."
    assert chat_words(text) == "Type engagements to see them. Or type help."
    assert (
        chat_words(text, code=lambda w: f"`{w}`")
        == "Type `engagements` to see them. Or type `help`."
    )
    assert plain_text([Notice(text=text)]) == "Type engagements to see them. Or type help."
    assert "type help" in Message(sections=[], text=text).plain_text()


def test_a_reference_keeps_its_place_and_label() -> None:
    pieces = split_refs(f"Done: {command_ref('engagements update 4', 'the update form')}.")
    assert pieces[0] == "Done: "
    assert pieces[1].words == "engagements update 4"  # type: ignore[union-attr]
    assert pieces[1].label == "the update form"  # type: ignore[union-attr]
    assert pieces[1].starts_sentence is False  # type: ignore[union-attr]
    assert pieces[2] == "."


@pytest.mark.parametrize("words,label", [("", "x"), ("help", ""), ("a\nb", "x")])
def test_a_reference_needs_words_and_a_label(words: str, label: str) -> None:
    with pytest.raises(ValueError):
        command_ref(words, label)
