"""Public registers that give an organisation a number, and how to read and check each number.

A provider's registration numbers let a commissioner check, in one click, that it is what it
says it is. A number typed wrong is worse than none: it points at somebody else. So each
register says here, once, what its numbers look like, how people usually type them (spaces,
lower case, missing leading zeros), the one way we store them, and where the public entry is.
The form's ``register_number`` field kind reads answers through :func:`read_number`; the
directory and the organisation page link with :func:`register_url`.

Formats, from each register's own numbering:

* Companies House: 8 characters, either 8 digits (England and Wales companies; shorter
  numbers are the same with leading zeros) or 2 letters and 6 digits (SC Scotland,
  NI Northern Ireland, OC/SO/NC limited liability partnerships, CE/CS charitable
  incorporated organisations, and so on); also ``R`` and 7 digits for old Northern Ireland
  companies and ``IP`` + 5 digits + ``R`` for the societies Companies House mirrors.
  CICs are companies: they have a Companies House number and no other.
* Charity Commission for England and Wales: 6 to 8 digits, with ``-1``, ``-2`` ... for a
  linked charity (a charity's own subsidiary entry).
* OSCR (Scottish Charity Regulator): ``SC`` and 6 digits.
* Charity Commission for Northern Ireland: ``NIC`` and 6 digits.
* FCA Mutuals Public Register (co-operatives, community benefit societies, credit unions):
  up to 6 digits with a letter suffix for the kind of registration (``R`` registered
  society, ``RS`` Scottish society, ``C`` credit union, ``F``/``FS`` friendly society), or,
  for societies registered since 2014, ``RS`` and 6 digits.
* Public Procurement Organisation Number (PPON), given by the Central Digital Platform
  (Find a Tender) when an organisation registers: ``P`` and 3 letters, 4 digits, 4 letters,
  in groups of four (``PBDG-4821-LMNQ``). That is the pattern the platform's own open-source
  code (cabinetoffice/GCGS-Central-Digital-Platform, ``PponService``) generates and tests
  for; it publishes no other specification, so this is the one place to change if it does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["REGISTERS", "Register", "RegisterNumberError", "read_number", "register_url"]


class RegisterNumberError(ValueError):
    """A number that does not look like one from its register. ``message`` says what would."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Register:
    """One public register: its name, what its numbers look like, and its public entry."""

    key: str
    #: The register's name as people know it.
    name: str
    #: One right answer, quoted in prompts and errors.
    example: str
    #: What a number looks like, in a sentence, for when one is wrong.
    looks_like: str
    #: Typed text (upper case, spaces removed) -> the stored number, or None if it is not one.
    canonical: Callable[[str], str | None]
    #: The stored number -> the address of its public entry (None where there is none).
    url: Callable[[str], str | None]


def _fold(text: str) -> str:
    """What people type, as we compare it: NFKC, upper case, no spaces, plain hyphens."""
    text = unicodedata.normalize("NFKC", text).upper()
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    return "".join(text.split())


def _companies_house(text: str) -> str | None:
    text = text.replace("-", "")
    if re.fullmatch(r"[0-9]{1,8}", text):
        return text.zfill(8)
    if re.fullmatch(r"R[0-9]{7}|IP[0-9]{5}R", text):
        return text
    found = re.fullmatch(r"([A-Z]{2})([0-9]{1,6})", text)
    return found.group(1) + found.group(2).zfill(6) if found else None


def _charity_england_wales(text: str) -> str | None:
    found = re.fullmatch(r"([0-9]{6,8})(?:-([0-9]{1,2}))?", text)
    if not found:
        return None
    main, linked = found.groups()
    return main if not linked or int(linked) == 0 else f"{main}-{int(linked)}"


def _oscr(text: str) -> str | None:
    return text if re.fullmatch(r"SC[0-9]{6}", text) else None


def _ccni(text: str) -> str | None:
    found = re.fullmatch(r"NIC-?([0-9]{6})", text)
    return f"NIC{found.group(1)}" if found else None


def _fca_mutual(text: str) -> str | None:
    text = text.replace("-", "")
    if re.fullmatch(r"RS[0-9]{6}", text):
        return text
    return text if re.fullmatch(r"[0-9]{1,6}(?:R|RS|C|CU|F|FS)?", text) else None


def _ppon(text: str) -> str | None:
    text = text.replace("-", "")
    if not re.fullmatch(r"P[A-Z]{3}[0-9]{4}[A-Z]{4}", text):
        return None
    return f"{text[:4]}-{text[4:8]}-{text[8:]}"


def _ccew_url(number: str) -> str:
    main, _, linked = number.partition("-")
    return (
        "https://register-of-charities.charitycommission.gov.uk/charity-details/"
        f"?regid={main}&subid={linked or 0}"
    )


REGISTERS: dict[str, Register] = {
    register.key: register
    for register in (
        Register(
            key="companies_house",
            name="Companies House",
            example="01234567",
            looks_like="8 characters: 8 numbers, or 2 letters and 6 numbers, like SC123456",
            canonical=_companies_house,
            url=lambda n: f"https://find-and-update.company-information.service.gov.uk/company/{n}",
        ),
        Register(
            key="charity_commission",
            name="Charity Commission for England and Wales",
            example="1123456",
            looks_like="6 to 8 numbers, like 1123456 (a linked charity adds -1, -2 and so on)",
            canonical=_charity_england_wales,
            url=_ccew_url,
        ),
        Register(
            key="oscr",
            name="Scottish Charity Regulator (OSCR)",
            example="SC012345",
            looks_like="SC and then 6 numbers, like SC012345",
            canonical=_oscr,
            url=lambda n: (
                "https://www.oscr.org.uk/about-charities/search-the-register/charity-details"
                f"?number={n}"
            ),
        ),
        Register(
            key="ccni",
            name="Charity Commission for Northern Ireland",
            example="NIC100123",
            looks_like="NIC and then 6 numbers, like NIC100123",
            canonical=_ccni,
            url=lambda n: (
                f"https://www.charitycommissionni.org.uk/charity-details/?regId={n[3:]}&subId=0"
            ),
        ),
        Register(
            key="fca_mutuals",
            name="FCA Mutuals Public Register",
            example="12345R",
            looks_like="up to 6 numbers and sometimes letters after them, like 12345R, "
            "or RS and 6 numbers, like RS007123",
            canonical=_fca_mutual,
            # The register's pages are addressed by its own internal ids, not by the
            # registration number, so the link searches the register for the number.
            url=lambda n: f"https://mutuals.fca.org.uk/Search/Search?SearchTerm={n}",
        ),
        Register(
            key="ppon",
            name="Central Digital Platform (Find a Tender)",
            example="PBDG-4821-LMNQ",
            looks_like="P and 3 letters, then 4 numbers, then 4 letters, like PBDG-4821-LMNQ",
            canonical=_ppon,
            # Supplier records on the platform are shared only with the councils a supplier
            # chooses; there is no public page to link to.
            url=lambda n: None,
        ),
    )
}


def read_number(register_key: str, text: str) -> str:
    """A typed number as stored for ``register_key``; RegisterNumberError if it is not one.

    KeyError for a register we do not know (a form author's mistake, caught when the form
    is loaded).
    """
    register = REGISTERS[register_key]
    number = register.canonical(_fold(text))
    if number is None:
        raise RegisterNumberError(
            f"{register.name} numbers are {register.looks_like}. Check it and try again."
        )
    return number


def register_url(register_key: str, number: str) -> str | None:
    """The address of this number's public entry, or None where its register has none."""
    return REGISTERS[register_key].url(number)
