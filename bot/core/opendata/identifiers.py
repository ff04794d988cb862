"""Organisation identifiers for open data: a register number as an org-id.guide identifier.

Open data joins up only when every publisher names an organisation the same way. The
org-id.guide scheme does that with a prefix for the register and the number in it:
``GB-CHC-1123456`` is charity 1123456 in England and Wales, wherever it is published.
Numbers are read through :mod:`bot.core.registers` first, so ``sc 12345`` and ``SC012345``
make the same identifier.

Prefixes, from org-id.guide:

* ``GB-COH`` Companies House (companies, CICs, LLPs, CIOs mirrored there);
* ``GB-CHC`` Charity Commission for England and Wales;
* ``GB-SC`` Scottish Charity Regulator (OSCR);
* ``GB-NIC`` Charity Commission for Northern Ireland (the number without its ``NIC``);
* ``GB-MPR`` FCA Mutuals Public Register;
* ``GB-PPON`` Public Procurement Organisation Number, Central Digital Platform.
"""

from __future__ import annotations

import re

from bot.core.opendata.model import OpenDataRefused
from bot.core.registers import REGISTERS, RegisterNumberError, read_number

__all__ = ["ORG_ID_PREFIXES", "looks_like_org_id", "org_id"]

#: Our register key (``bot.core.registers``) -> its org-id.guide prefix.
ORG_ID_PREFIXES: dict[str, str] = {
    "companies_house": "GB-COH",
    "charity_commission": "GB-CHC",
    "oscr": "GB-SC",
    "ccni": "GB-NIC",
    "fca_mutuals": "GB-MPR",
    "ppon": "GB-PPON",
}

#: A prefix (country code, a hyphen, the list's letters) then the organisation's own part.
_ORG_ID = re.compile(r"^[A-Z]{2}-[A-Z0-9]+-\S+$")


def org_id(register: str, number: str) -> str:
    """``number`` in ``register`` (a key of :data:`bot.core.registers.REGISTERS`) as an org-id.

    Raises OpenDataRefused, with the register's own explanation, for a number that is
    not one of that register's, and for a register org-id.guide has no list for.
    """
    prefix = ORG_ID_PREFIXES.get(register)
    if prefix is None:
        known = REGISTERS.get(register)
        name = known.name if known else register
        raise OpenDataRefused(f"Open data has no identifier for numbers from {name}.")
    try:
        stored = read_number(register, number)
    except RegisterNumberError as wrong:
        raise OpenDataRefused(wrong.message) from None
    if register == "ccni":
        # org-id.guide's GB-NIC list uses the bare number: GB-NIC-100123.
        stored = stored.removeprefix("NIC")
    return f"{prefix}-{stored}"


def looks_like_org_id(text: str) -> bool:
    """Whether ``text`` has the shape of an org-id (``GB-CHC-1123456``, ``GB-LAE-LDS``)."""
    return bool(_ORG_ID.match(text))
