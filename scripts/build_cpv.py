"""Build bot/core/cpv/cpv.json, the CPV 2008 list, from a published copy of it.

The Common Procurement Vocabulary (CPV 2008, Commission Regulation (EC) No 213/2008) is
the list of codes every UK and EU notice uses to say what is being bought ("85311000-2
Social work services with accommodation"). Convene ships the English labels of all 9,454
codes, with their check digits, so people can pick codes by typing words and matching can
compare codes, never words. The list is built, never typed by hand.

It reads either of two sources, offline, from a file you already have:

- the EU Publications Office's own file: ``cpv_2008.xml`` (inside the "CPV 2008 XML" zip),
  one ``<CPV CODE="03000000-1">`` element per code holding a ``<TEXT LANG="EN">`` label;
- a JSON object of code to English label, as openprocurement/standards publishes it
  (``classifiers/cpv/en.json``, Apache-2.0), which the shipped file was built from:

      git clone --depth 1 https://github.com/openprocurement/standards /tmp/standards
      python scripts/build_cpv.py /tmp/standards/classifiers/cpv/en.json \
          "last changed in commit 60c887b, 11 January 2016"

The optional second argument says which copy (a commit, an edition and its date); it is
written into the file after the source.

The source, its date and the licence are written into the file; the README says the same.
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ElementTree
from datetime import date
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "bot" / "core" / "cpv" / "cpv.json"

CODE = re.compile(r"^\d{8}-\d$")
#: The published CPV 2008 list has exactly this many codes; a source with another count is
#: a different list (an old CPV 2003 file, a national variant) and is refused.
EXPECTED_CODES = 9454

SOURCES = {
    "json": (
        "Common Procurement Vocabulary (CPV 2008), Commission Regulation (EC) No 213/2008, "
        "English labels, as redistributed in openprocurement/standards "
        "classifiers/cpv/en.json (Apache License 2.0)"
    ),
    "xml": (
        "Common Procurement Vocabulary (CPV 2008), Commission Regulation (EC) No 213/2008, "
        "English labels, from the EU Publications Office's cpv_2008.xml"
    ),
}
LICENCE = (
    "CPV 2008 is published by the European Union (Publications Office of the European Union); "
    "reuse is authorised provided the source is acknowledged (Commission Decision "
    "2011/833/EU on the reuse of Commission documents)."
)


def read_json(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: expected a JSON object of code to label")
    return {str(code).strip(): " ".join(str(label).split()) for code, label in data.items()}


def read_xml(path: Path) -> dict[str, str]:
    """The official file: <CPV CODE="..."><TEXT LANG="EN">label</TEXT>...</CPV>."""
    codes: dict[str, str] = {}
    for element in ElementTree.parse(path).getroot().iter("CPV"):
        code = (element.get("CODE") or "").strip()
        for text in element.iter("TEXT"):
            if (text.get("LANG") or "").upper() == "EN":
                codes[code] = " ".join((text.text or "").split())
    return codes


def check(codes: dict[str, str]) -> None:
    """Refuse a source that is not the CPV 2008 list, before anything is written."""
    bad = [code for code in codes if not CODE.match(code)]
    if bad:
        raise SystemExit(f"not CPV codes (want 12345678-9): {bad[:5]}")
    blank = [code for code, label in codes.items() if not label]
    if blank:
        raise SystemExit(f"codes without an English label: {blank[:5]}")
    eights = [code[:8] for code in codes]
    if len(set(eights)) != len(eights):
        raise SystemExit("the same code appears twice with different check digits")
    divisions = {code[:2] for code in codes if code[2:8] == "000000"}
    orphans = [code for code in codes if code[:2] not in divisions]
    if orphans:
        raise SystemExit(f"codes outside any division: {orphans[:5]}")
    if len(codes) != EXPECTED_CODES:
        raise SystemExit(f"{len(codes)} codes; CPV 2008 has {EXPECTED_CODES}")


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    source = Path(argv[1])
    kind = "xml" if source.suffix.lower() == ".xml" else "json"
    codes = read_xml(source) if kind == "xml" else read_json(source)
    check(codes)
    built = {
        "source": SOURCES[kind] + (f", {argv[2]}" if len(argv) == 3 else ""),
        "licence": LICENCE,
        "built": date.today().isoformat(),
        # "85311000-2": "Social work services with accommodation", in code order.
        "codes": dict(sorted(codes.items())),
    }
    OUT.write_text(
        json.dumps(built, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    print(f"{len(codes)} codes -> {OUT} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main(sys.argv)
