"""What every kind of question must say about itself, and the registry of kinds.

A question type used to be a case in a dozen ``match`` statements spread over
parsing, chat, exports and summaries, and nothing failed when one was missed.
Now each kind is one object that answers every question those layers ask
(how to read an answer, how to show it, how to put it in a spreadsheet, how to
summarise it), and the layers ask the registry instead of switching on the type.
The doors keep their own widget maps keyed by the same ``FieldType``;
``tests/unit/test_field_kinds_registry.py`` fails, naming the gap, when a type
lacks any of them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from bot.core.forms.kinds.common import label_in_sentence, single_raw
from bot.core.forms.model import Field, FieldType, TextFormat

__all__ = ["KINDS", "CellKind", "FieldKind", "SummaryKind", "kind_of", "register"]


class CellKind(StrEnum):
    """How a column's values are written, so numbers stay numbers in a spreadsheet."""

    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    PERCENT = "percent"
    DATE = "date"


class SummaryKind(StrEnum):
    """How a question is summarised."""

    CHOICE = "choice"  # single choice and yes/no: one answer each, counts per option
    MULTIPLE = "multiple"  # several answers each, counts per option
    NUMBER = "number"  # money, whole number, percentage: median and quartiles
    TEXT = "text"  # free text: only how many answered; the words are never summarised


class FieldKind:
    """One kind of question. Subclasses override what differs from a typed text answer.

    The defaults are those of free text on purpose: a value saved under an
    older form version, or a kind that has nothing special to say, is shown
    and exported as the text it is.
    """

    type: ClassVar[FieldType]
    #: How its answers are written in a spreadsheet column. Every kind says so itself
    #: (no default), so a new kind cannot reach the exports unconsidered.
    cell: ClassVar[CellKind]
    #: How its answers are summarised across organisations (no default, likewise).
    summary: ClassVar[SummaryKind]
    #: The verb for "... only one answer" when a door sends several.
    one_answer_verb: ClassVar[str] = "Enter"
    #: Whether a blank required answer is "Choose ..." (picked) or "Enter ..." (typed).
    picked: ClassVar[bool] = False
    #: Whether answers are picked from ``field.choices`` (any other kind refuses choices).
    has_choices: ClassVar[bool] = False
    #: Whether ``min_value``/``max_value`` apply (any other kind refuses them).
    takes_limits: ClassVar[bool] = False
    #: The longest answer when the author sets no ``max_length``; None means the kind
    #: takes no ``max_length`` at all.
    default_max_length: ClassVar[int | None] = None
    #: Whether the field names a public register (``public_register``) to check against.
    takes_register: ClassVar[bool] = False
    #: Whether the field may be ``future_only`` (dates refuse a day before today).
    takes_future: ClassVar[bool] = False
    #: Which ``format`` settings the kind honours (text questions: email, phone, link).
    takes_formats: ClassVar[frozenset[TextFormat]] = frozenset()

    def default_choices(self) -> list[dict[str, str]]:
        """The options an author may leave out (yes/no, a 1-5 scale); none by default."""
        return []

    def check_field(self, field: Field) -> None:
        """Refuse, with ValueError, an author's setting this kind can't honour.

        Called when a definition is loaded, so a typo in a form's YAML fails at
        start-up instead of silently dropping a rule. A kind with more to check
        (choices that must be there, fixed option values) extends this.
        """
        if field.choices and not self.has_choices:
            raise ValueError(
                f"field {field.id!r} is a {field.type} question and cannot have choices"
            )
        if (field.min_value is not None or field.max_value is not None) and not self.takes_limits:
            raise ValueError(
                f"field {field.id!r}: min_value and max_value only apply to number, money "
                "and percentage questions"
            )
        if field.max_length is not None and self.default_max_length is None:
            raise ValueError(f"field {field.id!r}: max_length only applies to text questions")
        if field.public_register is not None and not self.takes_register:
            raise ValueError(
                f"field {field.id!r}: only register_number questions have a public_register"
            )
        if field.future_only and not self.takes_future:
            raise ValueError(
                f"field {field.id!r}: future_only only applies to date and date_time questions"
            )
        if field.format is not None and field.format not in self.takes_formats:
            raise ValueError(
                f"field {field.id!r}: a {field.type} question cannot have format {field.format}"
            )

    def parse_raw(self, field: Field, raw: str | list[str] | None) -> Any:
        """Raw input from any door -> stored value, or None when blank."""
        text = single_raw(field, raw, self.one_answer_verb)
        if text is None:
            return None
        return self.parse(field, text)

    def parse(self, field: Field, text: str) -> Any:
        """One non-blank answer as typed -> the stored value; AnswerError if unreadable."""
        raise NotImplementedError

    def format(self, field: Field, value: Any) -> str:
        """A stored, non-blank answer as people read it. May raise; the caller falls back."""
        return str(value)

    def raw(self, field: Field, value: Any) -> str | list[str]:
        """The text to pre-fill an input with, so that parsing it gives ``value`` back."""
        return str(value)

    def example(self, field: Field) -> str | None:
        """A generic example answer, quoted in error messages and chat prompts.

        Free text has no useful generic example, so the default is None.
        """
        return None

    def required_message(self, field: Field) -> str:
        """The message for this question left blank when it must be answered."""
        label = field.label.strip().rstrip(":").strip()
        question = label.endswith("?")
        if self.picked:
            if question:
                return f"Choose an answer to '{label}'"
            return f"Choose {label_in_sentence(field)}"
        return f"Enter an answer to '{label}'" if question else f"Enter {label_in_sentence(field)}"

    def how_to_answer(self, field: Field) -> str:
        """The chat prompt's last line: how to reply to this question."""
        text = "Reply with your answer"
        if field.effective_example:
            text += f", like {field.effective_example}"
        return text + "."

    def lists_options(self, field: Field) -> bool:
        """Whether the chat prompt numbers the options (people may reply "2")."""
        return False

    def export_value(self, field: Field, value: Any) -> Any:
        """A stored, non-blank answer as a spreadsheet value; a tuple is a list of labels.

        May raise; the caller writes the answer as saved instead.
        """
        return str(value)

    def summary_option(self, value: Any) -> str | None:
        """For a question summarised by option: the option this stored answer counts for."""
        return value if isinstance(value, str) else None

    def statistic_value(self, value: float) -> Any:
        """A median or quartile as the stored value to show, rounded as people write it.

        None means "show it as a number with one decimal place": a count that
        falls between two has no stored form.
        """
        return int(value) if float(value).is_integer() else None


#: Every kind of question, keyed by its type. Filled by :func:`register`.
KINDS: dict[FieldType, FieldKind] = {}


def register(kind: type[FieldKind]) -> type[FieldKind]:
    """Class decorator: add one instance of ``kind`` to :data:`KINDS` (once per type)."""
    if kind.type in KINDS:
        raise ValueError(f"field type {kind.type} is registered twice")
    KINDS[kind.type] = kind()
    return kind


def kind_of(field_type: FieldType) -> FieldKind:
    """The kind object for a field type; KeyError if none is registered."""
    return KINDS[field_type]
