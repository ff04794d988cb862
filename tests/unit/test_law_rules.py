"""The legal rules file: every rule holds the Act's figure, dated and cited; lookups by the
procurement's start date; the source documents' slips are nowhere in Convene."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from datetime import date, datetime
from pathlib import Path

import pytest

from bot.core import law
from bot.core.law import NoRuleOnDate, UnknownRule, parse_rules, rule, rules_in_force

ROOT = Path(__file__).resolve().parents[2]
RULES_FILE = ROOT / "bot" / "core" / "law" / "rules.toml"
ACT_STARTS = date(2025, 2, 24)
NEW_THRESHOLDS = date(2026, 1, 1)

#: What the Act (and the instruments that set its figures) say, rule by rule:
#: name -> [(starts, ends, value, a words the citation must contain)].
EXPECTED: dict[str, list[tuple[date, date | None, int | bool | str, str]]] = {
    "threshold.light_touch": [(ACT_STARTS, None, 663_540, "Sch. 1")],
    "threshold.sub_central_goods_services": [
        (ACT_STARTS, date(2025, 12, 31), 214_904, "Sch. 1"),
        (NEW_THRESHOLDS, None, 207_720, "as revised from 1 January 2026"),
    ],
    "threshold.works": [
        (ACT_STARTS, date(2025, 12, 31), 5_372_609, "Sch. 1"),
        (NEW_THRESHOLDS, None, 5_193_000, "as revised from 1 January 2026"),
    ],
    "below_threshold.council": [(ACT_STARTS, None, 30_000, "s.84")],
    "below_threshold.central_government": [(ACT_STARTS, None, 12_000, "s.84")],
    "route.grants_outside_the_act": [(ACT_STARTS, None, True, "Subsidy Control Act 2022")],
    "route.health_care_provider_selection_regime": [(ACT_STARTS, None, True, "S.I. 2023/1348")],
    "notices.find_a_tender": [(ACT_STARTS, None, True, "s.95")],
    "reserved.supported_employment_min_percent": [(ACT_STARTS, None, 30, "s.32")],
    "reserved.mutual_light_touch_only": [(ACT_STARTS, None, True, "s.33")],
    "reserved.mutual_max_term_years": [(ACT_STARTS, None, 5, "s.33")],
    "reserved.mutual_no_repeat_years": [(ACT_STARTS, None, 3, "s.33")],
    "notice.preliminary_market_engagement": [(ACT_STARTS, None, "UK2", "ss.16-17")],
    "notice.tender": [(ACT_STARTS, None, "UK4", "s.21")],
    "notice.transparency": [(ACT_STARTS, None, "UK5", "s.44")],
    "notice.contract_award": [(ACT_STARTS, None, "UK6", "s.50")],
    "notice.contract_details": [(ACT_STARTS, None, "UK7", "s.53")],
    "notice.contract_performance": [(ACT_STARTS, None, "UK9", "s.71")],
    "notice.contract_change": [(ACT_STARTS, None, "UK10", "s.75")],
    "notice.contract_termination": [(ACT_STARTS, None, "UK11", "s.80")],
    "pipeline.spend_over": [(ACT_STARTS, None, 100_000_000, "s.93")],
    "pipeline.contracts_over": [(ACT_STARTS, None, 2_000_000, "s.93")],
    "pipeline.months_ahead": [(ACT_STARTS, None, 18, "s.93")],
    "pipeline.days_after_year_start": [(ACT_STARTS, None, 56, "s.93")],
    "standstill.working_days": [(ACT_STARTS, None, 8, "s.51")],
    "standstill.light_touch_mandatory": [(ACT_STARTS, None, False, "s.51")],
    "contract_details.days": [(ACT_STARTS, None, 30, "s.53")],
    "contract_details.light_touch_days": [(ACT_STARTS, None, 120, "s.53")],
    "tender_period.light_touch_statutory_minimum": [(ACT_STARTS, None, False, "s.54(3)")],
    "tender_period.minimum_days": [(ACT_STARTS, None, 25, "s.54")],
    "tender_period.reduced_minimum_days": [(ACT_STARTS, None, 10, "s.54")],
    "tender_period.good_practice_days": [(ACT_STARTS, None, 42, "Seed 004")],
    "termination.notice_days": [(ACT_STARTS, None, 30, "s.80")],
    "payment.days": [(ACT_STARTS, None, 30, "s.68")],
    "payment.subcontract_days": [(ACT_STARTS, None, 30, "s.73")],
    "kpis.contract_value_over": [(ACT_STARTS, None, 5_000_000, "s.52")],
    "kpis.minimum": [(ACT_STARTS, None, 3, "s.52")],
    "performance.assessment_months": [(ACT_STARTS, None, 12, "s.71")],
    "performance.notice_days": [(ACT_STARTS, None, 30, "s.71(2)")],
    "performance.provider_response_working_days": [(ACT_STARTS, None, 5, "Good practice")],
    "modification.goods_services_percent": [(ACT_STARTS, None, 10, "s.75(2)(a)(i)")],
    "modification.works_percent": [(ACT_STARTS, None, 15, "s.75(2)(a)(ii)")],
    "modification.term_percent": [(ACT_STARTS, None, 10, "s.75(2)(b)")],
    "modification.aggregate_linked_changes": [(ACT_STARTS, None, True, "s.75(4)-(5)")],
    "modification.restructuring_always_notified": [(ACT_STARTS, None, True, "Sch. 8 para 9")],
    "modification.light_touch_free": [(ACT_STARTS, None, True, "s.74")],
    "modification.light_touch_change_notice": [(ACT_STARTS, None, False, "s.75(6)(b)")],
    "modification.voluntary_standstill_working_days": [(ACT_STARTS, None, 8, "s.76")],
    "modification.publish_contract_over": [(ACT_STARTS, None, 5_000_000, "s.77")],
    "standstill.framework_call_off_mandatory": [(ACT_STARTS, None, False, "s.51(3)")],
    "standstill.urgent_direct_award_mandatory": [(ACT_STARTS, None, False, "s.51(3)")],
    "below_threshold.tender_notice": [(ACT_STARTS, None, "UK4", "s.86")],
    "below_threshold.contract_details": [(ACT_STARTS, None, "UK7", "s.87")],
    "key_dates.end_of_term_first_months": [(ACT_STARTS, None, 6, "good practice, not law")],
    "key_dates.end_of_term_second_months": [(ACT_STARTS, None, 3, "good practice, not law")],
    "key_dates.payment_reminder_working_days": [(ACT_STARTS, None, 5, "good practice, not law")],
    "tupe.employee_liability_information_days": [(ACT_STARTS, None, 28, "reg. 11(6)")],
}


def test_every_rule_in_the_file_is_checked_here_and_every_checked_rule_is_in_the_file() -> None:
    assert set(law.rule_names()) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_rule_holds_the_acts_figure_and_citation(name: str) -> None:
    entries = sorted((r for r in law.all_rules() if r.name == name), key=lambda r: r.starts)
    assert len(entries) == len(EXPECTED[name])
    for entry, (starts, ends, value, cited) in zip(entries, EXPECTED[name], strict=True):
        assert (entry.starts, entry.ends) == (starts, ends)
        assert entry.value == value and type(entry.value) is type(value)
        assert cited in entry.citation
        # Looked up on its first day and (if it ends) its last, this entry is the answer.
        assert rule(name, starts) == entry
        if ends is not None:
            assert rule(name, ends) == entry


@pytest.mark.parametrize(
    ("name", "before", "after"),
    [
        ("threshold.sub_central_goods_services", 214_904, 207_720),
        ("threshold.works", 5_372_609, 5_193_000),
    ],
)
def test_a_procurement_started_the_day_before_a_change_keeps_the_old_figure(
    name: str, before: int, after: int
) -> None:
    assert rule(name, date(2025, 12, 31)).value == before
    assert rule(name, NEW_THRESHOLDS).value == after
    kind = "works" if name == "threshold.works" else "goods_services"
    assert law.threshold_for(kind, date(2025, 12, 31)) == before
    assert law.threshold_for(kind, NEW_THRESHOLDS) == after


def test_every_rule_has_a_citation_a_start_date_a_description_and_a_unit() -> None:
    for entry in law.all_rules():
        assert entry.citation.strip() and entry.description.strip(), entry.name
        assert isinstance(entry.starts, date) and entry.starts >= ACT_STARTS, entry.name
        assert entry.unit in law.rules.UNITS, entry.name
        if entry.unit == "pounds":
            assert entry.vat == "including VAT", entry.name


def test_no_two_entries_for_one_rule_overlap_in_the_shipped_file() -> None:
    by_name: dict[str, list[law.Rule]] = {}
    for entry in law.all_rules():
        by_name.setdefault(entry.name, []).append(entry)
    for name, entries in by_name.items():
        for a in entries:
            for b in entries:
                if a is b:
                    continue
                a_end = a.ends or date.max
                b_end = b.ends or date.max
                assert a_end < b.starts or b_end < a.starts, name


OVERLAPPING = """
[[rule]]
name = "x.days"
value = 30
unit = "days"
starts = 2025-02-24
citation = "s.1"
description = "one"

[[rule]]
name = "x.days"
value = 20
unit = "days"
starts = 2025-12-01
citation = "s.1"
description = "two"
"""


def test_the_loader_refuses_overlapping_entries() -> None:
    with pytest.raises(ValueError, match="overlaps"):
        parse_rules(OVERLAPPING)
    closed = OVERLAPPING.replace('description = "one"', 'description = "one"\nends = 2025-11-30')
    assert [r.value for r in parse_rules(closed)] == [30, 20]


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ('citation = "s.1"\ndescription = "one"', "citation must not be empty"),
        ('unit = "days"', "unknown unit"),
        ("starts = 2025-02-24", "'starts' is missing"),
        ("value = 30", "must be a whole number"),
    ],
)
def test_the_loader_refuses_an_incomplete_entry(change: str, complaint: str) -> None:
    one = OVERLAPPING.split("[[rule]]")[1]
    broken = {
        'citation = "s.1"\ndescription = "one"': one.replace('citation = "s.1"', 'citation = " "'),
        'unit = "days"': one.replace('unit = "days"', 'unit = "fortnights"'),
        "starts = 2025-02-24": one.replace("starts = 2025-02-24\n", ""),
        "value = 30": one.replace("value = 30", "value = 30.5"),
    }[change]
    with pytest.raises(ValueError, match=re.escape(complaint)):
        parse_rules("[[rule]]" + broken)


def test_an_unknown_rule_and_an_uncovered_date_are_clear_errors() -> None:
    with pytest.raises(UnknownRule, match=re.escape("no legal rule called 'threshold.nonsense'")):
        rule("threshold.nonsense", date(2026, 3, 6))
    with pytest.raises(NoRuleOnDate, match="started on Sunday 23 February 2025") as raised:
        rule("threshold.light_touch", date(2025, 2, 23))
    assert "Monday 24 February 2025" in str(raised.value)
    with pytest.raises(TypeError, match="date, not a time"):
        rule("threshold.light_touch", datetime(2026, 3, 6, 17))  # type: ignore[arg-type]


def test_rules_in_force_change_with_the_date() -> None:
    before = {r.name: r.value for r in rules_in_force(date(2025, 12, 31))}
    after = {r.name: r.value for r in rules_in_force(NEW_THRESHOLDS)}
    assert set(before) == set(after) == set(EXPECTED)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"threshold.sub_central_goods_services", "threshold.works"}
    assert rules_in_force(date(2025, 2, 23)) == []


# The source documents' slips (DOMAIN.md, "Procurement Act 2023"), never to be coded.
WRONG = [
    ("663,450", re.compile(r"663[,.\s]?450")),
    ("139,688", re.compile(r"139[,.\s]?688")),
    ("a 15-day standstill", re.compile(r"15[- ]day standstill|fifteen[- ]day standstill", re.I)),
    ("reserved contracts as ss.22-23", re.compile(r"\bss?\.\s?22\s?(-|–|and)\s?23\b")),
]
SEARCHED = ["bot", "handlers", "storage", "manifest", "README.md"]


def _our_text_files() -> list[Path]:
    found: list[Path] = []
    for name in SEARCHED:
        path = ROOT / name
        candidates = [path] if path.is_file() else path.rglob("*")
        for file in candidates:
            if file.is_file() and file.suffix in {".py", ".toml", ".html", ".md", ".yaml", ".json"}:
                found.append(file)
    return found


@pytest.mark.parametrize(("slip", "pattern"), WRONG, ids=[w[0] for w in WRONG])
def test_the_source_documents_slips_are_nowhere_in_convene(
    slip: str, pattern: re.Pattern[str]
) -> None:
    hits = [str(f.relative_to(ROOT)) for f in _our_text_files() if pattern.search(f.read_text())]
    assert hits == [], f"{slip} in {hits}"


def test_contracts_finder_is_never_where_new_notices_go() -> None:
    """Contracts Finder serves only procurements begun under the 2015 Regulations: it may be
    named only to say so."""
    for file in _our_text_files():
        for line in file.read_text().splitlines():
            if "contracts finder" in line.lower():
                assert "2015 Regulations" in line, f"{file.relative_to(ROOT)}: {line.strip()}"


def test_the_rules_file_is_package_data() -> None:
    """The wheel carries it (tests/test_packaging.py installs one and reads the rules)."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    patterns = package_data.get("*", []) + package_data.get("bot.core.law", [])
    assert any(fnmatch.fnmatch(RULES_FILE.name, p) for p in patterns)


def test_every_rule_is_in_the_readme_table() -> None:
    """The README's table is written by hand; this keeps it from drifting from the data."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## The legal rules Convene uses")
    section = readme[start : readme.find("\n## ", start + 1)]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    for name in law.rule_names():
        row = next((r for r in rows if r.startswith(f"| `{name}`")), None)
        assert row is not None, f"{name} is not in the README table"
    for entry in law.all_rules():
        cells = [r for r in rows if r.startswith(f"| `{entry.name}`")]
        day = f"{entry.starts.day} {entry.starts:%B %Y}"
        assert any(day in r for r in cells), f"{entry.name}: no row dated {day}"
        if isinstance(entry.value, int) and not isinstance(entry.value, bool):
            figure = f"{entry.value:,}"
            assert any(figure in r for r in cells), f"{entry.name}: {figure} not in the table"
