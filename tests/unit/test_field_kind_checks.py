"""Author checks live on each field kind: what `Field` refuses is what its kind says.

Each test walks the whole registry, so a new kind is checked as soon as it is
registered, through the same `Field` validation a form's YAML goes through.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot.core.forms import Field, FieldType
from bot.core.forms.kinds import KINDS, kind_of

TWO_CHOICES = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]


def field(field_type: FieldType, **extra: Any) -> Field:
    data: dict[str, Any] = {"id": "q", "type": field_type, "label": "Question"}
    if kind_of(field_type).takes_register and "public_register" not in extra:
        data["public_register"] = "companies_house"
    if kind_of(field_type).has_choices and "choices" not in extra:
        data["choices"] = kind_of(field_type).default_choices() or TWO_CHOICES
    return Field.model_validate({**data, **extra})


@pytest.mark.parametrize("field_type", list(FieldType), ids=str)
def test_only_a_kind_with_choices_takes_them(field_type: FieldType) -> None:
    if kind_of(field_type).has_choices:
        assert field(field_type).choices
    else:
        with pytest.raises(ValidationError, match="cannot have choices"):
            field(field_type, choices=TWO_CHOICES)


@pytest.mark.parametrize("field_type", list(FieldType), ids=str)
def test_only_a_kind_with_limits_takes_min_and_max(field_type: FieldType) -> None:
    if kind_of(field_type).takes_limits:
        made = field(field_type, min_value=0, max_value=10)
        assert (made.min_value, made.max_value) == (0, 10)
    else:
        with pytest.raises(ValidationError, match="only apply to number"):
            field(field_type, max_value=10)


@pytest.mark.parametrize("field_type", list(FieldType), ids=str)
def test_the_longest_answer_is_the_kinds_unless_the_author_sets_one(
    field_type: FieldType,
) -> None:
    default = kind_of(field_type).default_max_length
    assert field(field_type).effective_max_length == default
    if default is None:
        with pytest.raises(ValidationError, match="only applies to text"):
            field(field_type, max_length=20)
    else:
        assert field(field_type, max_length=20).effective_max_length == 20


@pytest.mark.parametrize(
    "field_type", [t for t, k in KINDS.items() if k.default_choices()], ids=str
)
def test_left_out_options_come_from_the_kind(field_type: FieldType) -> None:
    made = Field.model_validate({"id": "q", "type": field_type, "label": "Q"})
    options = [c.model_dump(exclude_none=True) for c in made.choices]
    assert options == kind_of(field_type).default_choices()


def test_a_choice_kind_without_defaults_needs_the_author_to_list_them() -> None:
    needing = [t for t, k in KINDS.items() if k.has_choices and not k.default_choices()]
    assert needing, "single and multiple choice have no default options"
    for field_type in needing:
        with pytest.raises(ValidationError, match="has no choices"):
            Field.model_validate({"id": "q", "type": field_type, "label": "Q"})


@pytest.mark.parametrize("field_type", list(FieldType), ids=str)
def test_only_a_kind_that_checks_a_register_names_one(field_type: FieldType) -> None:
    if kind_of(field_type).takes_register:
        assert field(field_type).public_register == "companies_house"
        with pytest.raises(ValidationError, match="needs a public_register"):
            field(field_type, public_register="no_such_register")
    else:
        with pytest.raises(ValidationError, match="only register_number questions"):
            field(field_type, public_register="companies_house")
