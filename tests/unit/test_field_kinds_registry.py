"""Every kind of question is complete: a kind object, an export cell, a summary, and a
widget on each door. A new ``FieldType`` that misses one fails here, naming what is missing,
instead of failing on a door in front of a charity."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bot.core.forms import FieldType
from bot.core.forms.kinds import KINDS, CellKind, FieldKind, SummaryKind


def _missing(where: Mapping[FieldType, object]) -> list[str]:
    return sorted(str(t) for t in FieldType if t not in where)


def test_every_field_type_has_a_kind() -> None:
    assert not _missing(KINDS), f"no field kind registered for: {_missing(KINDS)}"


@pytest.mark.parametrize("field_type", list(FieldType), ids=str)
def test_each_kind_is_registered_under_its_own_type(field_type: FieldType) -> None:
    kind = KINDS[field_type]
    assert isinstance(kind, FieldKind)
    assert kind.type is field_type, f"{field_type}: registered under the wrong type"


@pytest.mark.parametrize("field_type", list(FieldType), ids=str)
def test_each_kind_can_parse(field_type: FieldType) -> None:
    assert type(KINDS[field_type]).parse is not FieldKind.parse, (
        f"{field_type}: the kind does not say how to parse an answer"
    )


@pytest.mark.parametrize("field_type", list(FieldType), ids=str)
def test_each_kind_has_an_export_cell_kind(field_type: FieldType) -> None:
    cell = getattr(KINDS[field_type], "cell", None)
    assert isinstance(cell, CellKind), f"{field_type}: no export cell kind (FieldKind.cell)"


@pytest.mark.parametrize("field_type", list(FieldType), ids=str)
def test_each_kind_has_a_summary_kind(field_type: FieldType) -> None:
    summary = getattr(KINDS[field_type], "summary", None)
    assert isinstance(summary, SummaryKind), f"{field_type}: no summary kind (FieldKind.summary)"


def test_the_export_and_summary_layers_read_the_registry() -> None:
    from handlers.export_files import CellKind as ExportCellKind
    from handlers.readiness_statistics import Kind, kind_of

    assert ExportCellKind is CellKind
    for field_type in FieldType:
        assert kind_of(field_type) in set(Kind), f"{field_type}: no summary kind in storage"


def test_every_field_type_has_a_slack_widget() -> None:
    from bot.slack.blocks import WIDGETS

    assert not _missing(WIDGETS), f"no Slack widget (bot/slack/blocks.py) for: {_missing(WIDGETS)}"


def test_every_field_type_has_a_teams_widget() -> None:
    from bot.teams.cards import WIDGETS

    assert not _missing(WIDGETS), f"no Teams widget (bot/teams/cards.py) for: {_missing(WIDGETS)}"


def test_every_field_type_has_a_web_widget() -> None:
    from bot.web.render import environment

    widgets = environment.get_template("widgets.html").module.WIDGETS  # type: ignore[attr-defined]
    missing = sorted(str(t) for t in FieldType if t.value not in widgets)
    assert not missing, f"no web widget (bot/web/templates/widgets.html WIDGETS) for: {missing}"
