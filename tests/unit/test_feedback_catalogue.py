"""The feedback pages' translation catalogue is whole and current.

Every msgid the code and templates use is in `feedback.pot` (extracted the same way as
`pybabel extract -F babel.cfg`, so a new sentence without a catalogue update fails here),
every msgid has a non-empty Welsh msgstr with the same `%(name)s` gaps, and the Welsh `.po`
compiles into the translations the pages use.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.core.feedback import BANK
from bot.core.feedback.words import catalogue_path, translations

ROOT = Path(__file__).resolve().parents[2]
LOCALE = files("bot.core.feedback") / "locale"


def template() -> Catalog:
    with (LOCALE / "feedback.pot").open("rb") as source:
        return read_po(source)


def welsh() -> Catalog:
    with (files("bot.core.feedback") / catalogue_path("cy")).open("rb") as source:
        return read_po(source, locale="cy")


def ids(catalog: Catalog) -> set[str]:
    return {str(m.id) for m in catalog if m.id}


def test_the_template_holds_every_sentence_the_pages_use() -> None:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
        )
        if isinstance(message, str)
    }
    assert len(found) > 80
    assert found == ids(template()), "run the pybabel extract and update in the README"


def test_every_message_has_a_welsh_translation_with_the_same_gaps() -> None:
    pot, po = template(), welsh()
    assert ids(pot) == ids(po), "run `pybabel update` (README) and translate the new ones"
    for message in po:
        if not message.id:
            continue
        assert str(message.string).strip(), f"no Welsh for {message.id!r}"
    problems = [(str(message.id), errors) for message, errors in po.check() if errors]
    assert problems == []


def test_the_welsh_catalogue_compiles_into_the_pages_words() -> None:
    cy = translations("cy")
    assert cy.gettext("Send") == "Anfon"
    assert cy.gettext("If you are in danger now, call 999.").endswith("ffoniwch 999.")
    for question in BANK:
        for words in (question.text, question.hint, *question.easy):
            assert cy.gettext(words) != words, words
    assert translations("en").gettext("Send") == "Send"
    assert translations("fr").gettext("Send") == "Send"  # no catalogue: English as written


def test_every_question_has_an_easy_read_version_and_a_picture() -> None:
    pictures = (ROOT / "bot/web/templates/_feedback_pictures.html").read_text(encoding="utf-8")
    for question in BANK:
        assert question.easy, question.key
        assert question.picture == "speech" or f'name == "{question.picture}"' in pictures
