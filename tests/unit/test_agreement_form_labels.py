"""The agreements' form definitions leave "(optional)" to the doors: the web adds it to the
label of every field that is not required (and Slack marks it in its own way), so a label
that says it too reads "(optional) (optional)" on the page, as it did on the variation form."""

from __future__ import annotations

from storage.forms import shipped_definitions

AGREEMENT_FORMS = (
    "agreement",
    "agreement_ending",
    "agreement_variation",
    "checkin_call",
    "checkin_reply",
    "monitoring_plan",
)


def test_no_agreement_form_label_says_optional_itself() -> None:
    definitions = {d.key: d for d in shipped_definitions()}
    assert set(AGREEMENT_FORMS) <= set(definitions)
    saying_it = [
        f"{key}: {field.label}"
        for key in AGREEMENT_FORMS
        for page in definitions[key].pages
        for field in page.fields
        if "(optional)" in field.label.lower()
    ]
    assert saying_it == []
