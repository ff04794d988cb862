"""Readiness areas as ONS codes: the `areas_covered` answers become lists of GSS codes.

The readiness question "Which areas could you cover?" was free text; it is now the
`area` question kind, like the profile's areas served (0008), so the commissioners'
summary can filter by place with a county covering its councils. Answers already
saved, in every state and to every version of the form, are converted here:

- each comma-separated piece is read with `bot.core.areas.code_for_words`, which never
  guesses; the pieces that name exactly one place become the answer, a list of codes;
- a piece that names no place, or two, goes to the same `area_migration_notes` report
  0008 made (`convene areas-report`), with the response's id, so the team can read what
  was typed and ask the provider; if no piece maps, the answer keeps its words as they
  were typed (it still reads, and counts as answered, but matches no area filter);
- each converted answer's summary facts get one row per place (`choice` = the code),
  as `storage.readiness.answer_facts` now writes them, so the area filter sees them
  without a rebuild.

The form's versions are left alone: answers keep the version they were given against,
and the app tells a list of codes from text by its value (see `answer_facts`).

It reads the area data as shipped when it runs; a later refresh of that data does not
change a database this migration has already converted.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 05:30:00.000000
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types
from bot.core.areas import code_for_words, typed_label

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

FORM_KEY = "readiness"
FIELD = "areas_covered"
TABLE = "form_responses"

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_RESPONSES = sa.table(
    "form_responses",
    sa.column("id", sa.Integer),
    sa.column("form_key", sa.String),
    sa.column("answers", _JSON),
)
_FACTS = sa.table(
    "readiness_answers",
    sa.column("organisation_id", sa.Integer),
    sa.column("authority_id", sa.Integer),
    sa.column("response_id", sa.Integer),
    sa.column("question", sa.String),
    sa.column("choice", sa.String),
    sa.column("number", sa.Float),
)
_NOTES = sa.table(
    "area_migration_notes",
    sa.column("table_name", sa.String),
    sa.column("row_id", sa.Integer),
    sa.column("original", sa.String),
    sa.column("reason", sa.String),
    sa.column("created_at", storage.types.UTCDateTime(timezone=True)),
)


def _codes_for(bind: sa.Connection, response_id: int, text: str) -> list[str]:
    """The codes of the pieces that name one place each; a note for every other piece."""
    codes: list[str] = []
    for piece in re.split(r"[,;\n]+", text):
        piece = " ".join(piece.split())
        if not piece:
            continue
        code, reason = code_for_words(piece)
        if code is None:
            log.warning("area not converted: %s %s %r: %s", TABLE, response_id, piece, reason)
            bind.execute(
                _NOTES.insert().values(
                    table_name=TABLE,
                    row_id=response_id,
                    original=piece[:500],
                    reason=reason[:500],
                    created_at=datetime.now(UTC),
                )
            )
        elif code not in codes:
            codes.append(code)
    return codes


def _readiness_answers(bind: sa.Connection) -> list[tuple[int, dict[str, Any]]]:
    rows = bind.execute(
        sa.select(_RESPONSES.c.id, _RESPONSES.c.answers)
        .where(_RESPONSES.c.form_key == FORM_KEY)
        .order_by(_RESPONSES.c.id)
    ).all()
    return [(row_id, answers) for row_id, answers in rows if isinstance(answers, dict)]


def upgrade() -> None:
    bind = op.get_bind()
    # The responses whose facts say "areas answered": the latest of each organisation's.
    counted = {
        response_id: (organisation_id, authority_id)
        for response_id, organisation_id, authority_id in bind.execute(
            sa.select(_FACTS.c.response_id, _FACTS.c.organisation_id, _FACTS.c.authority_id)
            .where(_FACTS.c.question == FIELD, _FACTS.c.choice.is_(None))
            .distinct()
        ).all()
    }
    for response_id, answers in _readiness_answers(bind):
        text = answers.get(FIELD)
        if not isinstance(text, str) or not text.strip():
            continue
        codes = _codes_for(bind, response_id, text)
        if not codes:
            continue  # nothing named a place: the words stay, and the notes say why
        bind.execute(
            _RESPONSES.update()
            .where(_RESPONSES.c.id == response_id)
            .values(answers={**answers, FIELD: codes})
        )
        if response_id in counted:
            organisation_id, authority_id = counted[response_id]
            bind.execute(
                _FACTS.insert(),
                [
                    {
                        "organisation_id": organisation_id,
                        "authority_id": authority_id,
                        "response_id": response_id,
                        "question": FIELD,
                        "choice": code,
                        "number": None,
                    }
                    for code in codes
                ],
            )


def downgrade() -> None:
    """Codes back to names, as text; the places' facts and this migration's notes go."""
    bind = op.get_bind()
    for response_id, answers in _readiness_answers(bind):
        value = answers.get(FIELD)
        if not isinstance(value, list):
            continue
        # Names without their own commas ("City of Bristol"), so upgrading again reads
        # each place back.
        text = ", ".join(typed_label(str(code)) for code in value)
        bind.execute(
            _RESPONSES.update()
            .where(_RESPONSES.c.id == response_id)
            .values(answers={**answers, FIELD: text[:500]})
        )
    bind.execute(_FACTS.delete().where(_FACTS.c.question == FIELD, _FACTS.c.choice.is_not(None)))
    bind.execute(_NOTES.delete().where(_NOTES.c.table_name == TABLE))
