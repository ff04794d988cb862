"""Place codes for tests, looked up by name in the shipped area data (never typed by hand).

The demo's made-up wards became real places when areas became ONS codes: North Ward is
now Preston, Riverside is Lancaster and Eastgate is Burnley, all in Lancashire.
"""

from __future__ import annotations

from bot.core.areas import find_areas


def code(name: str) -> str:
    """The GSS code of the one place with this name; fails loudly if it names none or two."""
    found = find_areas(name)
    assert len(found.areas) == 1, f"{name!r} names {len(found.areas)} places"
    return found.areas[0].code


def codes(*names: str) -> list[str]:
    return [code(name) for name in names]
