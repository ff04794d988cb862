"""Field kinds: one object per kind of question, in a registry keyed by ``FieldType``.

To add a question type: add the ``FieldType`` member, a kind class here (in the
module of its family, decorated with ``@register``), and one widget in each
door's widget map (Slack ``bot/slack/blocks.py``, Teams ``bot/teams/cards.py``,
web ``bot/web/templates/widgets.html``). ``tests/unit/test_field_kinds_registry.py``
names whatever is missing.
"""

# Importing the family modules registers their kinds.
from bot.core.forms.kinds import areas, choices, cpv, dates, numbers, text  # noqa: F401
from bot.core.forms.kinds.base import KINDS, CellKind, FieldKind, SummaryKind, kind_of

__all__ = ["KINDS", "CellKind", "FieldKind", "SummaryKind", "kind_of"]
