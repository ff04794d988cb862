"""Spreadsheet cells that are safe to open: no formulas, no characters XLSX refuses.

A cell starting with =, +, - or @ runs as a formula in Excel, LibreOffice and Google
Sheets, and a published file is opened by strangers. This is the same rule as the
readiness and directory exports (``handlers/export_files.py``), kept in the core so the
open data files, which the core writes, follow it too.
"""

from __future__ import annotations

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

#: Starts of a cell that Excel, LibreOffice or Google Sheets would run as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A text cell as it is safe to write: no formula start, no characters XLSX refuses."""
    cleaned = ILLEGAL_CHARACTERS_RE.sub("", text)
    return "'" + cleaned if cleaned.startswith(FORMULA_STARTS) else cleaned
