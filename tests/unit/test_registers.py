"""Registration numbers: each register's format, read the way people type them, stored one
way, with a plain message when a number cannot be one of that register's."""

from __future__ import annotations

import pytest

from bot.core.forms import Field, FieldType, load_definition, parse_answer
from bot.core.forms.kinds.common import AnswerError
from bot.core.registers import REGISTERS, RegisterNumberError, read_number, register_url


@pytest.mark.parametrize(
    ("register", "typed", "stored"),
    [
        # Companies House: 8 digits, or 2 letters and 6 digits; leading zeros are optional
        # when typed, as on Companies House's own search.
        ("companies_house", "01234567", "01234567"),
        ("companies_house", "1234567", "01234567"),
        ("companies_house", " 0123 4567 ", "01234567"),
        ("companies_house", "sc123456", "SC123456"),
        ("companies_house", "SC 12345", "SC012345"),
        ("companies_house", "NI012345", "NI012345"),
        ("companies_house", "OC301234", "OC301234"),
        ("companies_house", "CE001234", "CE001234"),
        ("companies_house", "R0000123", "R0000123"),
        ("companies_house", "IP28686R", "IP28686R"),
        # Charity Commission for England and Wales: 6 to 8 digits, -N for a linked charity.
        ("charity_commission", "202918", "202918"),
        ("charity_commission", "1123456", "1123456"),
        ("charity_commission", "1123456-1", "1123456-1"),
        ("charity_commission", "1123456 – 2", "1123456-2"),
        ("charity_commission", "1123456-0", "1123456"),
        # OSCR: SC and 6 digits.
        ("oscr", "SC012345", "SC012345"),
        ("oscr", "sc 012345", "SC012345"),
        # CCNI: NIC and 6 digits.
        ("ccni", "NIC100123", "NIC100123"),
        ("ccni", "nic 100123", "NIC100123"),
        ("ccni", "NIC-100123", "NIC100123"),
        # FCA Mutuals Public Register: digits with a suffix, or RS and 6 digits.
        ("fca_mutuals", "12345R", "12345R"),
        ("fca_mutuals", "2386rs", "2386RS"),
        ("fca_mutuals", "RS007123", "RS007123"),
        ("fca_mutuals", "525", "525"),
        # PPON: P and 11 letters or digits, stored in groups of four.
        ("ppon", "PABC-1234-DEFG", "PABC-1234-DEFG"),
        ("ppon", "pabc1234defg", "PABC-1234-DEFG"),
        ("ppon", "PABC 1234 DEFG", "PABC-1234-DEFG"),
    ],
)
def test_numbers_are_read_as_people_type_them(register: str, typed: str, stored: str) -> None:
    assert read_number(register, typed) == stored


@pytest.mark.parametrize(
    ("register", "typed"),
    [
        ("companies_house", "123456789"),  # 9 digits
        ("companies_house", "SC1234567"),  # 7 after the letters
        ("companies_house", "C123"),  # what people typed as a "CIC number"
        ("companies_house", "DRAFT-77"),
        ("companies_house", "S1234567"),
        ("charity_commission", "12345"),  # too short
        ("charity_commission", "123456789"),  # too long
        ("charity_commission", "SC012345"),  # a Scottish number in the wrong box
        ("charity_commission", "1123456-"),
        ("oscr", "012345"),  # SC missing
        ("oscr", "SC12345"),
        ("oscr", "SO012345"),
        ("ccni", "100123"),  # NIC missing: could be an England and Wales number
        ("ccni", "NIC12345"),
        ("ccni", "XN12345"),  # an HMRC reference, not a charity number
        ("fca_mutuals", "1234567R"),
        ("fca_mutuals", "R12345"),
        ("fca_mutuals", "12345X"),
        ("ppon", "ABCD-1234-EFGH"),  # does not start with P
        ("ppon", "PABC-1234-DEF"),  # one short
        ("ppon", "PABC-1234-DEFGH"),
        ("ppon", "P123-ABCD-1234"),  # letters and numbers the wrong way round
        ("ppon", "PAB1-1234-DEFG"),
        ("ppon", "PAB!-1234-DEFG"),
    ],
)
def test_numbers_that_cannot_be_from_the_register_are_refused(register: str, typed: str) -> None:
    with pytest.raises(RegisterNumberError) as caught:
        read_number(register, typed)
    message = caught.value.message
    assert REGISTERS[register].name in message
    assert REGISTERS[register].example in message or "like" in message


def test_each_example_is_a_number_its_register_accepts() -> None:
    for key, register in REGISTERS.items():
        assert read_number(key, register.example), key


def test_links_go_to_each_registers_public_entry() -> None:
    assert register_url("companies_house", "SC012345") == (
        "https://find-and-update.company-information.service.gov.uk/company/SC012345"
    )
    assert register_url("charity_commission", "1123456-2") == (
        "https://register-of-charities.charitycommission.gov.uk/charity-details/"
        "?regid=1123456&subid=2"
    )
    assert register_url("charity_commission", "1123456").endswith("regid=1123456&subid=0")
    assert register_url("oscr", "SC012345").endswith("?number=SC012345")
    assert register_url("ccni", "NIC100123").endswith("regId=100123&subId=0")
    assert register_url("fca_mutuals", "12345R") == (
        "https://mutuals.fca.org.uk/Search/Search?SearchTerm=12345R"
    )
    assert register_url("ppon", "PABC-1234-DEFG") is None


def _company_field() -> Field:
    return Field(
        id="company_number",
        type=FieldType.REGISTER_NUMBER,
        label="Company number",
        public_register="companies_house",
    )


def test_the_field_kind_gives_the_registers_message_for_the_question() -> None:
    field = _company_field()
    assert parse_answer(field, "sc 12345") == "SC012345"
    assert parse_answer(field, "  ") is None
    with pytest.raises(AnswerError) as caught:
        parse_answer(field, "C123")
    assert caught.value.field_id == "company_number"
    assert caught.value.message == (
        "Companies House numbers are 8 characters: 8 numbers, or 2 letters and 6 numbers, "
        "like SC123456. Check it and try again."
    )
    assert field.effective_example == "01234567"


def test_a_register_number_question_must_name_a_known_register() -> None:
    with pytest.raises(ValueError, match="needs a public_register"):
        Field(id="n", type=FieldType.REGISTER_NUMBER, label="Number")
    with pytest.raises(ValueError, match="needs a public_register"):
        Field(id="n", type=FieldType.REGISTER_NUMBER, label="Number", public_register="dvla")
    with pytest.raises(ValueError, match="only register_number questions"):
        Field(id="n", type=FieldType.SHORT_TEXT, label="Name", public_register="oscr")


def test_other_questions_keep_their_checksum() -> None:
    """Adding public_register must not make every existing form look changed."""
    dumped = Field(id="n", type=FieldType.SHORT_TEXT, label="Name").model_dump()
    assert "public_register" not in dumped
    assert _company_field().model_dump()["public_register"] == "companies_house"
    # And a definition written out and read back is the same definition.
    text = """
key: t
title: T
pages:
  - id: p
    title: P
    fields:
      - {id: company_number, type: register_number, public_register: companies_house,
         label: Company number}
"""
    definition = load_definition(text)
    again = load_definition(definition.model_dump_json())
    assert again == definition
