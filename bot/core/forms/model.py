"""Declarative form definitions.

A form is written once (usually as YAML in ``bot/core/forms/definitions``) and
then shown on whichever "door" a charity uses: a web page, a Slack modal, a
Teams card, or one question at a time in a chat thread. Keeping the definition
free of any platform detail is what lets a charity start a form in Slack and
finish it on the web.

The models are frozen so that one parsed definition can be shared safely
between requests, and strict (unknown keys are rejected) so that a typo in a
YAML file fails loudly at start-up instead of silently dropping a question.
"""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic import Field as PydanticField

if TYPE_CHECKING:
    from bot.core.forms.kinds.base import FieldKind

__all__ = [
    "CHOICE_TYPES",
    "Choice",
    "Field",
    "FieldType",
    "FormDefinition",
    "Page",
    "TextFormat",
    "definition_checksum",
    "load_definition",
    "load_definition_file",
]


#: Every door must show a page whole: Slack allows 100 blocks a view and 75 characters an
#: option, Teams cards have similar limits. Short pages are kinder anyway.
MAX_FIELDS_PER_PAGE = 30
MAX_CHOICE_LABEL = 75


class FieldType(StrEnum):
    """The kinds of question a form can ask.

    The set is deliberately small: every door has to be able to render and
    parse each of them, and a short list keeps that promise cheap to keep.
    """

    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    #: A number from a public register (Companies House, a charity regulator ...), checked
    #: against that register's format; the field's ``public_register`` names which.
    REGISTER_NUMBER = "register_number"
    WHOLE_NUMBER = "whole_number"
    MONEY = "money"
    PERCENTAGE = "percentage"
    DATE = "date"
    DATE_TIME = "date_time"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    YES_NO = "yes_no"
    SCALE = "scale"
    AREA = "area"
    #: CPV 2008 codes (what is bought or provided), picked by words or code; stored as
    #: 8-digit codes (``bot/core/cpv``).
    CPV = "cpv"


class TextFormat(StrEnum):
    """What a typed answer must look like, beyond being words.

    Set as ``format`` on a text question. The engine checks the answer (so every door and
    chat refuse the same things with the same words) and the web door picks the matching
    input (``type=email``, ``type=tel``, ``type=url``) so phones show the right keyboard.
    """

    EMAIL = "email"
    PHONE = "phone"
    #: A web address; only http and https are accepted (never ``javascript:`` or ``data:``).
    LINK = "link"


#: Types whose answers are picked from ``Field.choices`` (each kind also says so itself,
#: as ``FieldKind.has_choices``; kept for callers that only need the set).
CHOICE_TYPES: frozenset[FieldType] = frozenset(
    {FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE, FieldType.YES_NO, FieldType.SCALE}
)

SCALE_MIN = 1
SCALE_MAX = 5

# Field and page ids become HTML names, Slack block ids and database JSON keys,
# so keep them to plain ASCII identifiers.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# Form keys appear in URLs and Slack callback ids.
_FORM_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def _check_identifier(kind: str, value: str) -> None:
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(
            f"{kind} id {value!r} must start with a letter or underscore and contain only "
            "letters, digits and underscores (at most 64 characters)"
        )


def _kind(field_type: FieldType) -> FieldKind:
    """The kind of a question type. Imported when first asked: the kinds are built on this
    model, so it cannot import them first."""
    from bot.core.forms.kinds import kind_of

    return kind_of(field_type)


class Choice(BaseModel):
    """One option in a choice question.

    ``value`` is what gets stored; ``label`` is what people read. Keeping them
    apart means wording can be improved later without breaking saved answers.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: str
    label: str
    hint: str | None = None

    @model_validator(mode="after")
    def _not_blank(self) -> Choice:
        if not self.value.strip():
            raise ValueError("choice value must not be blank")
        if not self.label.strip():
            raise ValueError(f"choice {self.value!r} needs a label")
        return self


#: Field settings left out of a saved definition when they hold these values.
_UNUSED_SETTINGS: dict[str, Any] = {"public_register": None, "future_only": False, "format": None}


class Field(BaseModel):
    """One question.

    ``hint`` sits under the label ("Include part-time staff"); ``help`` is a
    one-line explanation of a term that a small charity may not know, such as
    TUPE. ``min_value``/``max_value`` are hard limits: for money they are in
    pounds, for percentages in percent, for whole numbers in units.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    type: FieldType
    label: str
    hint: str | None = None
    help: str | None = None
    required: bool = False
    choices: list[Choice] = PydanticField(default_factory=list)
    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None
    example: str | None = None
    #: For a ``register_number`` question: which public register (a key of
    #: ``bot.core.registers.REGISTERS``).
    public_register: str | None = None
    #: For a date or date-and-time question: refuse a day before today (a closing date, an
    #: event, a deadline). A weekend or bank holiday is allowed, with a warning.
    future_only: bool = False
    #: For a text question: what the answer must look like (an email, a phone number, a link).
    format: TextFormat | None = None

    @model_serializer(mode="wrap")
    def _without_unused_settings(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Leave out settings most questions do not use, so forms without them keep their checksum.

        Most questions have no register, no format and no "future only"; writing
        ``public_register: null`` (and the rest) into each would change every form's checksum
        and make each look like a new version.
        """
        data = handler(self)
        if isinstance(data, dict):
            for key, unset in _UNUSED_SETTINGS.items():
                if key in data and data[key] == unset:
                    data.pop(key)
        return data

    @model_validator(mode="before")
    @classmethod
    def _default_choices(cls, data: Any) -> Any:
        """Give yes/no and 1-5 scale questions their obvious options.

        Authors should not have to spell out "Yes" and "No" every time, and a
        definition that does so must still use the stored values the parser
        relies on (checked by its kind).
        """
        if not isinstance(data, dict) or data.get("choices"):
            return data
        try:
            field_type = FieldType(str(data.get("type")))
        except ValueError:
            return data  # pydantic names the unknown type
        defaults = _kind(field_type).default_choices()
        return {**data, "choices": defaults} if defaults else data

    @model_validator(mode="after")
    def _check(self) -> Field:
        _check_identifier("field", self.id)
        if not self.label.strip():
            raise ValueError(f"field {self.id!r} needs a label")
        values = [c.value for c in self.choices]
        too_long = [c.label for c in self.choices if len(c.label) > MAX_CHOICE_LABEL]
        if too_long:
            raise ValueError(
                f"field {self.id!r}: choice labels must be {MAX_CHOICE_LABEL} characters or "
                f"fewer: {too_long[0]!r}"
            )
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise ValueError(f"field {self.id!r} has duplicate choice values: {duplicates}")
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            raise ValueError(f"field {self.id!r}: min_value is bigger than max_value")
        if self.max_length is not None and self.max_length < 1:
            raise ValueError(f"field {self.id!r}: max_length must be at least 1")
        # What each type of question allows (choices, limits, length) its kind checks.
        _kind(self.type).check_field(self)
        return self

    @property
    def effective_max_length(self) -> int | None:
        """Longest answer allowed for text questions (None for other types).

        The defaults stop a pasted document from filling the database while
        leaving plenty of room for a real answer.
        """
        if self.max_length is not None:
            return self.max_length
        return _kind(self.type).default_max_length

    @property
    def effective_example(self) -> str | None:
        """An example answer to quote in error messages and chat prompts.

        People fix a mistake faster when shown what a good answer looks like.
        Free-text questions have no useful generic example, so they return
        None unless the author set one.
        """
        if self.example:
            return self.example
        return _kind(self.type).example(self)


class Page(BaseModel):
    """A group of questions shown together on the web (and in one Slack modal)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    intro: str | None = None
    fields: list[Field]

    @model_validator(mode="after")
    def _check(self) -> Page:
        _check_identifier("page", self.id)
        if not self.fields:
            raise ValueError(f"page {self.id!r} has no questions")
        if len(self.fields) > MAX_FIELDS_PER_PAGE:
            raise ValueError(
                f"page {self.id!r} has {len(self.fields)} questions; split it into pages of "
                f"{MAX_FIELDS_PER_PAGE} or fewer"
            )
        return self


class FormDefinition(BaseModel):
    """A whole questionnaire.

    ``who_sees`` tells a wary charity, up front, who can read their answers.
    ``version`` is bumped by authors when they change a published form; it is
    left out of :func:`definition_checksum` so the checksum tracks content.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    version: int = PydanticField(default=1, ge=1)
    title: str
    intro: str | None = None
    who_sees: str | None = None
    pages: list[Page]

    @model_validator(mode="after")
    def _check(self) -> FormDefinition:
        if not _FORM_KEY.fullmatch(self.key):
            raise ValueError(
                f"form key {self.key!r} must contain only letters, digits, '_', '.' and '-'"
            )
        if not self.pages:
            raise ValueError(f"form {self.key!r} has no pages")
        seen_pages: set[str] = set()
        seen_fields: set[str] = set()
        for page in self.pages:
            if page.id in seen_pages:
                raise ValueError(f"form {self.key!r} has more than one page with id {page.id!r}")
            seen_pages.add(page.id)
            for fld in page.fields:
                if fld.id in seen_fields:
                    raise ValueError(
                        f"form {self.key!r} has more than one field with id {fld.id!r}"
                    )
                seen_fields.add(fld.id)
        return self

    def all_fields(self) -> list[Field]:
        """Every field, in the order people meet them."""
        return [fld for page in self.pages for fld in page.fields]

    def field(self, field_id: str) -> Field:
        """The field with this id; KeyError if the form has none."""
        for fld in self.all_fields():
            if fld.id == field_id:
                return fld
        raise KeyError(field_id)

    def page_of(self, field_id: str) -> int:
        """Index (0-based) of the page holding this field; KeyError if unknown.

        Used to send someone straight to the page with a problem on it.
        """
        for index, page in enumerate(self.pages):
            if any(fld.id == field_id for fld in page.fields):
                return index
        raise KeyError(field_id)


# libyaml's safe loader when PyYAML was built with it (ten times faster), else the Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_definition(text: str) -> FormDefinition:
    """Build a definition from YAML or JSON text.

    JSON is tried first because some valid JSON (for example with tab
    indentation) is not valid YAML; anything else is read as YAML.
    Raises ValueError (pydantic's ValidationError is one) for unreadable text
    or a bad definition, so callers need to catch only one thing.
    """
    data: Any
    stripped = text.lstrip()
    try:
        data = json.loads(stripped) if stripped.startswith("{") else None
    except json.JSONDecodeError:
        data = None
    if data is None:
        try:
            data = yaml.load(text, Loader=_YAML_LOADER)  # a safe loader (above)
        except yaml.YAMLError as exc:
            raise ValueError(f"form definition is not valid YAML or JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("a form definition must be a mapping with key, title and pages")
    return FormDefinition.model_validate(data)


def load_definition_file(path: Path) -> FormDefinition:
    """Read a definition from a ``.yaml``, ``.yml`` or ``.json`` file."""
    return load_definition(Path(path).read_text(encoding="utf-8"))


def definition_checksum(defn: FormDefinition) -> str:
    """SHA-256 of the definition's content, ignoring ``version``.

    Stored alongside saved answers so we can tell when a form has changed
    underneath a half-finished draft, even if someone forgot to bump the
    version. Defaults are included, so writing ``required: false`` out in
    full does not change the checksum.
    """
    payload = defn.model_dump(mode="json", exclude={"version"})
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
