"""The feedback pages' words in English or Welsh, from one translation catalogue.

Every sentence a person reads on a feedback point's page (the page itself, the questions,
the faces, the thank-you, the problems and the safeguarding help) is written in English in
the code and templates, marked for gettext, and extracted with Babel into
`locale/feedback.pot`. Each language has a `.po` beside it (`locale/cy/LC_MESSAGES/`). We
compile the `.po` in memory the first time a page needs it, so there is no compiled `.mo`
to forget to rebuild: the `.po` people edit is the one the pages use.

Welsh entries marked fuzzy (waiting for a Welsh speaker to check them) are used, not
dropped: a whole page in Welsh reads better than one that switches language mid-sentence.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib.resources import files
from io import BytesIO
from typing import Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "feedback"
Language = Literal["en", "cy"]
#: The languages with a catalogue, besides English as written.
TRANSLATED: tuple[Language, ...] = ("cy",)
#: What each language is called in itself, for the switch link, and its `lang` tag.
NAMES: dict[Language, str] = {"en": "English", "cy": "Cymraeg"}
TAGS: dict[Language, str] = {"en": "en-GB", "cy": "cy"}


def N_(message: str) -> str:
    """Mark words to translate where they are defined (the question bank) and translate
    them where they are shown: gettext's "no-op", which Babel extracts."""
    return message


def catalogue_path(language: str) -> str:
    """Where a language's `.po` lives, inside the package."""
    return f"locale/{language}/LC_MESSAGES/{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The words for `language`: its compiled catalogue, or English as written for English
    and anything we have no catalogue for."""
    if language not in TRANSLATED:
        return gettext.NullTranslations()
    source = files("bot.core.feedback").joinpath(catalogue_path(language)).read_bytes()
    catalog = read_po(BytesIO(source), locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=True)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
