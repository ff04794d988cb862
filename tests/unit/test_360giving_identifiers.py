"""Organisation identifiers for open data: a register number as its org-id.guide identifier,
read through the register's own rules first so the same organisation always gets one id."""

from __future__ import annotations

import pytest

from bot.core.opendata import ORG_ID_PREFIXES, OpenDataRefused, looks_like_org_id, org_id
from bot.core.registers import REGISTERS


@pytest.mark.parametrize(
    ("register", "typed", "identifier"),
    [
        ("companies_house", "1234567", "GB-COH-01234567"),
        ("companies_house", "sc 12345", "GB-COH-SC012345"),
        ("charity_commission", "1123456", "GB-CHC-1123456"),
        ("charity_commission", "1123456-1", "GB-CHC-1123456-1"),
        ("oscr", "sc 012345", "GB-SC-SC012345"),
        ("ccni", "NIC100123", "GB-NIC-100123"),
        ("ccni", "nic-100123", "GB-NIC-100123"),
        ("fca_mutuals", "12345r", "GB-MPR-12345R"),
        ("fca_mutuals", "RS007123", "GB-MPR-RS007123"),
        ("ppon", "pbdg 4821 lmnq", "GB-PPON-PBDG-4821-LMNQ"),
    ],
)
def test_each_register_has_its_org_id_prefix(register: str, typed: str, identifier: str) -> None:
    assert org_id(register, typed) == identifier
    assert looks_like_org_id(identifier)


def test_every_register_we_know_has_a_prefix() -> None:
    assert set(ORG_ID_PREFIXES) == set(REGISTERS)


def test_a_wrong_number_is_refused_in_the_registers_words() -> None:
    with pytest.raises(OpenDataRefused) as refused:
        org_id("oscr", "12345")
    assert refused.value.message.startswith("Scottish Charity Regulator (OSCR) numbers are SC")


def test_an_unknown_register_is_refused() -> None:
    with pytest.raises(OpenDataRefused, match="no identifier for numbers from land_registry"):
        org_id("land_registry", "1")


@pytest.mark.parametrize(
    "text", ["1123456", "GB-CHC", "gb-chc-1123456", "GB-CHC-", "Leeds City Council"]
)
def test_things_that_are_not_org_ids(text: str) -> None:
    assert not looks_like_org_id(text)
