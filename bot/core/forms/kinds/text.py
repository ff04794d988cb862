"""Typed words: a one-line answer and a longer one."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from bot.core.forms.kinds.base import CellKind, FieldKind, SummaryKind, register
from bot.core.forms.kinds.common import AnswerError, clean_label, label_in_sentence
from bot.core.forms.model import Field, FieldType, TextFormat
from bot.core.registers import REGISTERS, RegisterNumberError, read_number

_LINE_BREAKS = str.maketrans(dict.fromkeys("\r\x0b\x0c\x85\u2028\u2029", "\n"))


def _checked(field: Field, value: str, allowed: set[str]) -> str:
    """Refuse control characters (other than ``allowed``) and answers over the length limit."""
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value):
        raise AnswerError(
            f"Answer to '{clean_label(field)}' has a hidden character in it that we cannot "
            "save. Try typing the answer instead of pasting it.",
            field.id,
        )
    limit = field.effective_max_length
    if limit is not None and len(value) > limit:
        raise AnswerError(
            f"Answer to '{clean_label(field)}' must be {limit:,} characters or fewer. "
            f"You wrote {len(value):,}.",
            field.id,
        )
    return value


# An email address as people type one: something, an @, a domain with a dot. Anything
# stricter refuses real addresses; the point is to catch a phone number or a name typed
# in the wrong box.
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]{2,}")
# A phone number as people type one: digits, spaces, a leading +, brackets and dashes.
_PHONE = re.compile(r"\+?[\d\s()\-.]+")
_PHONE_DIGITS = range(10, 16)  # a UK number has 10 or 11 digits; a foreign one up to 15
# A host name: letters, digits, hyphens and dots, with at least one dot (or localhost is
# refused: a link people will follow must be on the internet).
_HOST = re.compile(
    r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+"
)

FORMAT_EXAMPLES: dict[TextFormat, str] = {
    TextFormat.EMAIL: "name@example.org.uk",
    TextFormat.PHONE: "0113 496 0000",
    TextFormat.LINK: "https://www.example.org.uk",
}


def _email(field: Field, value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise AnswerError(
            f"Enter {label_in_sentence(field)} as an email address, like "
            f"{FORMAT_EXAMPLES[TextFormat.EMAIL]}",
            field.id,
        )
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def _phone(field: Field, value: str) -> str:
    digits = sum(ch.isdigit() for ch in value)
    if not _PHONE.fullmatch(value) or digits not in _PHONE_DIGITS:
        raise AnswerError(
            f"Enter {label_in_sentence(field)} as a phone number, like "
            f"{FORMAT_EXAMPLES[TextFormat.PHONE]}",
            field.id,
        )
    return value


def _link(field: Field, value: str) -> str:
    """A web address people can safely follow: http or https, on a real host name.

    ``javascript:``, ``data:`` and every other scheme are refused, so a link shown on a
    page can never run code. "www.example.org" is read as https, as browsers do.
    """
    text = value
    if "://" not in text and ":" not in text.split("/", 1)[0]:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
    except ValueError:
        parts, host = None, ""
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not _HOST.fullmatch(host)
        or any(ch.isspace() for ch in text)
        or parts.username is not None
    ):
        raise AnswerError(
            f"Enter {label_in_sentence(field)} as a web address starting with https:// "
            f"or http://, like {FORMAT_EXAMPLES[TextFormat.LINK]}",
            field.id,
        )
    return text


_FORMAT_CHECKS = {TextFormat.EMAIL: _email, TextFormat.PHONE: _phone, TextFormat.LINK: _link}


def checked_format(field: Field, value: str) -> str:
    """The answer as stored, if it looks like what ``field.format`` asks for."""
    if field.format is None or not value:
        return value
    return _FORMAT_CHECKS[field.format](field, value)


@register
class ShortText(FieldKind):
    type = FieldType.SHORT_TEXT
    cell = CellKind.TEXT
    summary = SummaryKind.TEXT
    default_max_length = 200
    takes_formats = frozenset(TextFormat)

    def parse(self, field: Field, text: str) -> str:
        # A short answer is one line: fold pasted line breaks and tabs into spaces.
        value = _checked(field, " ".join(text.split()), set())
        # An email or a phone number is checked as typed; a link with no spaces in it.
        return checked_format(field, value)

    def example(self, field: Field) -> str | None:
        return FORMAT_EXAMPLES[field.format] if field.format is not None else None


@register
class LongText(FieldKind):
    type = FieldType.LONG_TEXT
    cell = CellKind.TEXT
    summary = SummaryKind.TEXT
    default_max_length = 5000
    takes_formats = frozenset({TextFormat.LINK})

    def parse(self, field: Field, text: str) -> str:
        # Word and some phones paste line breaks as odd characters; make them plain.
        value = text.replace("\r\n", "\n").translate(_LINE_BREAKS).strip()
        value = _checked(field, value, {"\n", "\t"})
        if field.format is TextFormat.LINK:
            # Links, one on each line: each is checked, blank lines are dropped.
            lines = [line.strip() for line in value.split("\n") if line.strip()]
            value = "\n".join(_link(field, line) for line in lines)
        return value

    def how_to_answer(self, field: Field) -> str:
        text = super().how_to_answer(field)
        limit = field.effective_max_length
        if limit:
            text += f" You can write up to {limit:,} characters."
        return text


@register
class RegisterNumber(FieldKind):
    """A number from a public register, stored the one way that register writes it.

    Checking the format here, once, means a mistyped company or charity number is caught on
    every door, in chat too, with the same plain message; and what is stored can be linked
    to the register's public entry without guessing.
    """

    type = FieldType.REGISTER_NUMBER
    cell = CellKind.TEXT
    summary = SummaryKind.TEXT
    # The longest stored register number (a PPON with its hyphens) is 14 characters;
    # the rest is room for the spaces people type.
    default_max_length = 30
    takes_register = True

    def check_field(self, field: Field) -> None:
        super().check_field(field)
        if field.public_register not in REGISTERS:
            raise ValueError(
                f"field {field.id!r}: a register_number question needs a public_register, "
                f"one of {sorted(REGISTERS)}"
            )

    def parse(self, field: Field, text: str) -> str:
        _checked(field, text, set())
        assert field.public_register is not None  # Field._check insists on one.
        try:
            return read_number(field.public_register, text)
        except RegisterNumberError as exc:
            raise AnswerError(exc.message, field.id) from exc

    def example(self, field: Field) -> str | None:
        return (
            REGISTERS[field.public_register].example if field.public_register in REGISTERS else None
        )
