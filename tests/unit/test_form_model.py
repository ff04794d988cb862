"""Form definitions: construction, defaults, loading and checksums."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.core.forms import (
    Choice,
    Field,
    FieldType,
    FormDefinition,
    Page,
    definition_checksum,
    load_definition,
    load_definition_file,
)

YAML_FORM = """
key: provider-profile
version: 2
title: Tell us about your organisation
intro: It takes about 10 minutes.
who_sees: Only you and the commissioning team see your answers.
pages:
  - id: about
    title: About you
    fields:
      - id: org_name
        type: short_text
        label: Organisation name
        required: true
      - id: income_band
        type: single_choice
        label: Income band
        choices:
          - {value: lt10k, label: "Under £10,000"}
          - {value: mid, label: "£10,000 to £100,000"}
          - {value: gt100k, label: "Over £100,000"}
  - id: staff
    title: Staff
    fields:
      - id: fte
        type: whole_number
        label: Staff (full-time equivalent)
        min_value: 0
      - id: tupe
        type: yes_no
        label: Would TUPE apply?
        help: TUPE is the law that protects staff when a service moves to a new provider.
"""


def page(*fields: dict[str, Any], page_id: str = "p1") -> dict[str, Any]:
    return {"id": page_id, "title": "Page", "fields": list(fields)}


def form(*pages: dict[str, Any]) -> dict[str, Any]:
    return {"key": "test", "title": "Test form", "pages": list(pages)}


def text_field(field_id: str = "name", **extra: Any) -> dict[str, Any]:
    return {"id": field_id, "type": "short_text", "label": "Name", **extra}


def test_field_type_values_are_the_agreed_strings() -> None:
    assert {t.value for t in FieldType} == {
        "short_text",
        "long_text",
        "register_number",
        "whole_number",
        "money",
        "percentage",
        "date",
        "date_time",
        "single_choice",
        "multiple_choice",
        "yes_no",
        "scale",
        "area",
        "cpv",
    }
    assert FieldType("money") is FieldType.MONEY


def test_load_yaml_definition() -> None:
    defn = load_definition(YAML_FORM)
    assert defn.key == "provider-profile"
    assert defn.version == 2
    assert defn.who_sees == "Only you and the commissioning team see your answers."
    assert [f.id for f in defn.all_fields()] == ["org_name", "income_band", "fte", "tupe"]
    assert defn.field("fte").type is FieldType.WHOLE_NUMBER
    assert defn.field("fte").min_value == 0
    assert defn.field("tupe").help is not None
    assert defn.field("income_band").choices[1] == Choice(value="mid", label="£10,000 to £100,000")


def test_field_lookup_and_page_of() -> None:
    defn = load_definition(YAML_FORM)
    assert defn.page_of("org_name") == 0
    assert defn.page_of("income_band") == 0
    assert defn.page_of("tupe") == 1
    with pytest.raises(KeyError):
        defn.field("nope")
    with pytest.raises(KeyError):
        defn.page_of("nope")


def test_json_and_yaml_give_the_same_definition() -> None:
    from_yaml = load_definition(YAML_FORM)
    as_json = json.dumps(from_yaml.model_dump(mode="json"), indent="\t")  # tabs: not YAML
    assert load_definition(as_json) == from_yaml


def test_load_definition_file(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(YAML_FORM, encoding="utf-8")
    assert load_definition_file(path) == load_definition(YAML_FORM)


@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "hello"])
def test_load_definition_rejects_non_mappings(text: str) -> None:
    with pytest.raises(ValueError, match="mapping"):
        load_definition(text)


def test_yes_no_gets_yes_and_no_choices_by_default() -> None:
    fld = Field(id="ok", type=FieldType.YES_NO, label="OK?")
    assert [(c.value, c.label) for c in fld.choices] == [("yes", "Yes"), ("no", "No")]


def test_scale_gets_one_to_five_by_default() -> None:
    fld = Field(id="score", type=FieldType.SCALE, label="Score")
    assert [c.value for c in fld.choices] == ["1", "2", "3", "4", "5"]


def test_custom_yes_no_labels_are_kept() -> None:
    fld = Field(
        id="ok",
        type="yes_no",
        label="Policy",
        choices=[{"value": "yes", "label": "Yes, we do"}, {"value": "no", "label": "Not yet"}],
    )
    assert [c.label for c in fld.choices] == ["Yes, we do", "Not yet"]


def test_effective_max_length() -> None:
    assert Field(id="a", type="short_text", label="A").effective_max_length == 200
    assert Field(id="a", type="long_text", label="A").effective_max_length == 5000
    assert Field(id="a", type="long_text", label="A", max_length=300).effective_max_length == 300
    assert Field(id="a", type="money", label="A").effective_max_length is None


def test_effective_example_defaults_and_override() -> None:
    assert Field(id="a", type="money", label="A").effective_example == "£12,500"
    assert Field(id="a", type="money", label="A", example="£900").effective_example == "£900"
    assert Field(id="a", type="date", label="A").effective_example == "31/03/2027"
    assert Field(id="a", type="percentage", label="A").effective_example == "15%"
    assert Field(id="a", type="whole_number", label="A").effective_example == "12"
    choice = Field(
        id="a",
        type="single_choice",
        label="A",
        choices=[{"value": "x", "label": "First"}, {"value": "y", "label": "Second"}],
    )
    assert choice.effective_example == "First"
    assert Field(id="a", type="short_text", label="A").effective_example is None


def test_definitions_are_frozen() -> None:
    defn = load_definition(YAML_FORM)
    with pytest.raises(ValidationError):
        defn.title = "Changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        defn.field("fte").required = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        (form(), "no pages"),
        (form({"id": "p1", "title": "Empty", "fields": []}), "no questions"),
        (
            form(page(text_field("name")), page(text_field("name"), page_id="p2")),
            "more than one field with id 'name'",
        ),
        (
            form(page(text_field("a")), page(text_field("b"), page_id="p1")),
            "more than one page",
        ),
        (
            form(page({"id": "pick", "type": "single_choice", "label": "Pick"})),
            "has no choices",
        ),
        (
            form(page({"id": "pick", "type": "multiple_choice", "label": "Pick", "choices": []})),
            "has no choices",
        ),
        (
            form(
                page(
                    {
                        "id": "pick",
                        "type": "single_choice",
                        "label": "Pick",
                        "choices": [{"value": "a", "label": "A"}, {"value": "a", "label": "B"}],
                    }
                )
            ),
            "duplicate choice values",
        ),
        (
            form(page(text_field(choices=[{"value": "a", "label": "A"}]))),
            "cannot have choices",
        ),
        (form(page(text_field("2fast"))), "must start with a letter"),
        (form(page(text_field("has space"))), "must start with a letter"),
        (form(page(text_field("name\n"))), "must start with a letter"),
        (form(page(text_field("x" * 65))), "at most 64"),
        (form(page(text_field(label="  "))), "needs a label"),
        (
            form(
                page(
                    {
                        "id": "n",
                        "type": "whole_number",
                        "label": "N",
                        "min_value": 5,
                        "max_value": 1,
                    }
                )
            ),
            "min_value is bigger",
        ),
        (
            form(
                page(
                    {
                        "id": "ok",
                        "type": "yes_no",
                        "label": "OK",
                        "choices": [{"value": "y", "label": "Yes"}, {"value": "n", "label": "No"}],
                    }
                )
            ),
            "'yes' and 'no'",
        ),
        (
            form(
                page(
                    {
                        "id": "s",
                        "type": "scale",
                        "label": "S",
                        "choices": [{"value": "0", "label": "Zero"}],
                    }
                )
            ),
            "numbers 1 to 5",
        ),
        (form(page(text_field(max_length=0))), "max_length"),
        (form(page(text_field(min_value=1))), "only apply to number"),
        (
            form(page({"id": "d", "type": "date", "label": "D", "max_value": 3})),
            "only apply to number",
        ),
        (
            form(page({"id": "n", "type": "money", "label": "N", "max_length": 3})),
            "only applies to text",
        ),
        (form(page(text_field(colour="red"))), "Extra inputs"),
        (form(page(text_field(type="essay"))), "short_text"),
        ({**form(page(text_field())), "key": "has space"}, "form key"),
        ({**form(page(text_field())), "version": 0}, "greater than or equal to 1"),
    ],
)
def test_invalid_definitions_are_rejected(data: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        FormDefinition.model_validate(data)


def test_choice_needs_value_and_label() -> None:
    with pytest.raises(ValidationError, match="blank"):
        Choice(value=" ", label="A")
    with pytest.raises(ValidationError, match="needs a label"):
        Choice(value="a", label="")


def test_page_and_form_can_be_built_from_objects() -> None:
    fld = Field(id="name", type=FieldType.SHORT_TEXT, label="Name", required=True)
    defn = FormDefinition(key="k", title="T", pages=[Page(id="p", title="P", fields=[fld])])
    assert defn.all_fields() == [fld]
    assert defn.version == 1


class TestChecksum:
    def test_is_hex_sha256_and_stable(self) -> None:
        first = definition_checksum(load_definition(YAML_FORM))
        assert len(first) == 64
        int(first, 16)
        assert definition_checksum(load_definition(YAML_FORM)) == first

    def test_ignores_version(self) -> None:
        defn = load_definition(YAML_FORM)
        bumped = defn.model_copy(update={"version": 99})
        assert bumped.version == 99
        assert definition_checksum(bumped) == definition_checksum(defn)

    def test_changes_when_content_changes(self) -> None:
        defn = load_definition(YAML_FORM)
        changed = load_definition(YAML_FORM.replace("Organisation name", "Charity name"))
        assert definition_checksum(changed) != definition_checksum(defn)

    def test_spelling_out_defaults_makes_no_difference(self) -> None:
        plain = load_definition(YAML_FORM)
        explicit = load_definition(
            YAML_FORM.replace(
                "        label: Staff (full-time equivalent)\n",
                "        label: Staff (full-time equivalent)\n        required: false\n"
                "        hint: null\n",
            )
        )
        assert explicit == plain
        assert definition_checksum(explicit) == definition_checksum(plain)


@pytest.mark.parametrize("text", ["key: [unclosed", "{not json: [", "a: b: c"])
def test_unreadable_text_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="not valid YAML or JSON"):
        load_definition(text)


def test_pages_are_short_enough_for_every_door() -> None:
    """A page of 31 questions would not fit a Slack modal; the definition is refused up front."""
    fields = [{"id": f"q{i}", "type": "short_text", "label": f"Question {i}"} for i in range(31)]
    with pytest.raises(ValueError, match="split it into pages"):
        FormDefinition.model_validate(
            {"key": "k", "title": "T", "pages": [{"id": "p", "title": "P", "fields": fields}]}
        )
    FormDefinition.model_validate(
        {"key": "k", "title": "T", "pages": [{"id": "p", "title": "P", "fields": fields[:30]}]}
    )


def test_choice_labels_fit_a_slack_option() -> None:
    field = {
        "id": "c",
        "type": "single_choice",
        "label": "Pick",
        "choices": [{"value": "a", "label": "x" * 76}],
    }
    with pytest.raises(ValueError, match="75 characters"):
        FormDefinition.model_validate(
            {"key": "k", "title": "T", "pages": [{"id": "p", "title": "P", "fields": [field]}]}
        )
