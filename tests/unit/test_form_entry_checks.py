"""Checks made as an answer is entered, in the neutral form engine (so every door and chat
share them): future-only dates, a warning for weekends and bank holidays, and emails, phone
numbers and links that must look like one."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.forms import (
    AnswerError,
    ChatState,
    Field,
    FieldType,
    FormDefinition,
    Page,
    TextFormat,
    chat_answer,
    definition_checksum,
    parse_answer,
    validate_all,
    validate_page,
)

#: A Wednesday with no bank holiday near it.
TODAY = date(2027, 3, 10)


def one_field_form(**field: object) -> FormDefinition:
    return FormDefinition.model_validate(
        {
            "key": "checks",
            "title": "Checks",
            "pages": [
                {
                    "id": "p",
                    "title": "Page",
                    "fields": [{"id": "f", "label": "Closing date", **field}],
                }
            ],
        }
    )


# --- Future-only dates -------------------------------------------------------------------


def test_a_future_only_date_before_today_is_refused_with_the_day_named() -> None:
    form = one_field_form(type="date", future_only=True)
    result = validate_page(form, 0, {"f": "9/3/2027"}, today=TODAY)
    assert result.errors["f"] == (
        "Closing date must be today or later. Tuesday 9 March 2027 has passed. "
        "Today is Wednesday 10 March 2027."
    )
    assert "f" not in result.values


def test_today_and_later_are_accepted() -> None:
    form = one_field_form(type="date", future_only=True)
    assert validate_page(form, 0, {"f": "10/3/2027"}, today=TODAY).values == {"f": "2027-03-10"}
    assert validate_page(form, 0, {"f": "11/3/2027"}, today=TODAY).ok


def test_a_date_without_future_only_may_be_in_the_past() -> None:
    form = one_field_form(type="date")
    assert validate_page(form, 0, {"f": "1/1/2020"}, today=TODAY).ok


def test_a_date_and_time_counts_by_its_uk_day() -> None:
    form = one_field_form(type="date_time", future_only=True)
    assert not validate_page(form, 0, {"f": "9 March 2027, 11pm"}, today=TODAY).ok
    # Earlier today is still today: the event may be this evening.
    assert validate_page(form, 0, {"f": "10 March 2027, 12:30am"}, today=TODAY).ok


def test_sending_refuses_a_saved_date_that_has_since_gone() -> None:
    form = one_field_form(type="date", future_only=True)
    assert validate_all(form, {"f": "2027-03-11"}, today=TODAY) == {}
    later = date(2027, 3, 12)
    assert "has passed" in validate_all(form, {"f": "2027-03-11"}, today=later)["f"]


def test_chat_refuses_a_past_date_and_asks_again() -> None:
    form = one_field_form(type="date", future_only=True)
    outcome = chat_answer(form, ChatState(), "1/3/2027", today=TODAY)
    assert outcome.error is not None and "has passed" in outcome.error
    assert outcome.state.answers == {}
    assert chat_answer(form, ChatState(), "12/3/2027", today=TODAY).state.answers == {
        "f": "2027-03-12"
    }


@pytest.mark.parametrize(
    ("typed", "what"),
    [("13/3/2027", "a weekend"), ("26/3/2027", "a bank holiday"), ("29/3/2027", "a bank holiday")],
)
def test_a_weekend_or_bank_holiday_is_kept_with_a_warning(typed: str, what: str) -> None:
    form = one_field_form(type="date", future_only=True)
    result = validate_page(form, 0, {"f": typed}, today=TODAY)
    assert result.ok and result.values["f"]
    assert f"is {what}" in result.warnings["f"]
    assert "you do not need to change it" in result.warnings["f"]


def test_bank_holidays_follow_the_councils_region() -> None:
    # St Andrew's Day (Tuesday 30 November 2027) is a bank holiday in Scotland only.
    form = one_field_form(type="date", future_only=True)
    raw = {"f": "30/11/2027"}
    assert validate_page(form, 0, raw, today=TODAY).warnings == {}
    assert "bank holiday" in validate_page(form, 0, raw, today=TODAY, region="SCT").warnings["f"]


def test_a_working_day_has_no_warning() -> None:
    form = one_field_form(type="date", future_only=True)
    assert validate_page(form, 0, {"f": "11/3/2027"}, today=TODAY).warnings == {}


def test_future_only_is_refused_on_a_question_that_is_not_a_date() -> None:
    with pytest.raises(ValueError, match="future_only only applies to date"):
        one_field_form(type="short_text", future_only=True)


# --- Emails, phone numbers and links ------------------------------------------------------


def text_field(fmt: TextFormat, field_type: FieldType = FieldType.SHORT_TEXT) -> Field:
    return Field(id="f", type=field_type, label="Contact", format=fmt)


@pytest.mark.parametrize("typed", ["hello@example.org", "Jo.Bloggs+work@Charity.ORG.uk"])
def test_an_email_is_accepted_and_its_domain_lower_cased(typed: str) -> None:
    stored = parse_answer(text_field(TextFormat.EMAIL), f"  {typed} ")
    local, domain = typed.rsplit("@", 1)
    assert stored == f"{local}@{domain.lower()}"


@pytest.mark.parametrize(
    "typed", ["07700 900000", "hello@", "hello at example.org", "a@b", "@x.org"]
)
def test_something_that_is_not_an_email_is_refused(typed: str) -> None:
    with pytest.raises(AnswerError, match=r"as an email address, like name@example\.org\.uk"):
        parse_answer(text_field(TextFormat.EMAIL), typed)


@pytest.mark.parametrize("typed", ["0113 496 0000", "+44 (0)113 496-0000", "07700900000"])
def test_a_phone_number_is_accepted(typed: str) -> None:
    assert parse_answer(text_field(TextFormat.PHONE), typed) == typed


@pytest.mark.parametrize("typed", ["call me", "0113", "hello@example.org", "0113 496 0000 ext 4"])
def test_something_that_is_not_a_phone_number_is_refused(typed: str) -> None:
    with pytest.raises(AnswerError, match="as a phone number"):
        parse_answer(text_field(TextFormat.PHONE), typed)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://example.org/join?id=4", "https://example.org/join?id=4"),
        ("http://meet.example.org.uk", "http://meet.example.org.uk"),
        ("www.example.org", "https://www.example.org"),
    ],
)
def test_http_and_https_links_are_accepted(typed: str, stored: str) -> None:
    assert parse_answer(text_field(TextFormat.LINK), typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.org/file",
        "file:///etc/passwd",
        "vbscript:msgbox",
        "https://",
        "https://user:secret@example.org",
        "https://exa mple.org",
        "not a link",
    ],
)
def test_other_schemes_and_broken_links_are_refused(typed: str) -> None:
    with pytest.raises(AnswerError, match="starting with https:// or http://"):
        parse_answer(text_field(TextFormat.LINK), typed)


def test_links_one_on_each_line_are_each_checked() -> None:
    fld = text_field(TextFormat.LINK, FieldType.LONG_TEXT)
    assert parse_answer(fld, "https://a.example.org\n\nwww.b.example.org\n") == (
        "https://a.example.org\nhttps://www.b.example.org"
    )
    with pytest.raises(AnswerError):
        parse_answer(fld, "https://a.example.org\njavascript:alert(1)")


def test_a_format_that_does_not_fit_the_question_is_refused_at_load() -> None:
    with pytest.raises(ValueError, match="cannot have format"):
        one_field_form(type="long_text", format="email")
    with pytest.raises(ValueError, match="cannot have format"):
        one_field_form(type="money", format="link")


def test_unused_settings_leave_a_forms_checksum_alone() -> None:
    plain = one_field_form(type="short_text")
    spelled_out = one_field_form(type="short_text", future_only=False, format=None)
    assert definition_checksum(plain) == definition_checksum(spelled_out)
    assert definition_checksum(one_field_form(type="short_text", format="email")) != (
        definition_checksum(plain)
    )


def test_the_example_for_a_formatted_question_shows_its_format() -> None:
    assert text_field(TextFormat.PHONE).effective_example == "0113 496 0000"
    assert Page(id="p", title="P", fields=[text_field(TextFormat.LINK)]).fields[0].format == "link"
