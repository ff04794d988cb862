"""Form definitions (versioned) and form responses (drafts and submissions).

Shipped definitions are YAML files in `bot/core/forms/definitions`; on start they
are copied into the database as version 1, and a changed file becomes the next
version. Answers always keep the version they were given against, so changing a
question set never rewrites what somebody already said.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.forms import FormDefinition, definition_checksum, load_definition_file
from storage.db import now_for
from storage.models import FormDefinitionRow, FormResponse, ResponseState

SHIPPED = Path(__file__).resolve().parent.parent / "bot" / "core" / "forms" / "definitions"

_cache: dict[tuple[str, int], FormDefinition] = {}


_shipped: dict[tuple[Path, tuple[tuple[str, int, int], ...]], tuple[FormDefinition, ...]] = {}


def shipped_definitions(folder: Path = SHIPPED) -> list[FormDefinition]:
    """The definitions in `folder`, parsed once per process while the files are unchanged.

    Every start (and every replica, and every test's app) syncs them; parsing 40 YAML files
    each time was most of a start's cost. The definitions are frozen, so sharing is safe.
    """
    paths = sorted(folder.glob("*.yaml"))
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    key = (folder, stamp)
    if key not in _shipped:
        _shipped[key] = tuple(load_definition_file(path) for path in paths)
    return list(_shipped[key])


async def sync_shipped_definitions(session: AsyncSession, folder: Path = SHIPPED) -> list[str]:
    """Store each shipped definition that the database does not have yet. Returns what changed."""
    changed: list[str] = []
    stored = await _latest_shipped_checksums(session)
    for definition in shipped_definitions(folder):
        if stored.get(definition.key) == definition_checksum(definition):
            continue
        newest = await session.scalar(
            select(func.max(FormDefinitionRow.version)).where(
                FormDefinitionRow.key == definition.key
            )
        )
        await save_definition(session, definition, version=(newest or 0) + 1, source="shipped")
        changed.append(definition.key)
    return changed


async def _latest_shipped_checksums(session: AsyncSession) -> dict[str, str]:
    """Each shipped key's newest stored checksum, in one query (a start reads them all)."""
    newest = (
        select(FormDefinitionRow.key, func.max(FormDefinitionRow.version).label("version"))
        .where(FormDefinitionRow.source == "shipped")
        .group_by(FormDefinitionRow.key)
        .subquery()
    )
    rows = await session.execute(
        select(FormDefinitionRow.key, FormDefinitionRow.checksum).join(
            newest,
            (FormDefinitionRow.key == newest.c.key)
            & (FormDefinitionRow.version == newest.c.version),
        )
    )
    return {key: checksum for key, checksum in rows.all()}


async def save_definition(
    session: AsyncSession, definition: FormDefinition, *, version: int, source: str
) -> FormDefinitionRow:
    stamped = definition.model_copy(update={"version": version})
    row = FormDefinitionRow(
        key=definition.key,
        version=version,
        title=definition.title,
        definition=stamped.model_dump(mode="json"),
        checksum=definition_checksum(definition),
        source=source,
    )
    session.add(row)
    await session.flush()
    return row


async def latest_definition(session: AsyncSession, key: str) -> FormDefinition | None:
    row = await session.scalar(
        select(FormDefinitionRow)
        .where(FormDefinitionRow.key == key)
        .order_by(FormDefinitionRow.version.desc())
        .limit(1)
    )
    if row is None:
        return None
    return _parse(row)


async def definition_at(session: AsyncSession, key: str, version: int) -> FormDefinition | None:
    """A definition at a given version; versions never change, so they are cached."""
    cached = _cache.get((key, version))
    if cached is not None:
        return cached
    row = await session.scalar(
        select(FormDefinitionRow).where(
            FormDefinitionRow.key == key, FormDefinitionRow.version == version
        )
    )
    return None if row is None else _parse(row)


def _parse(row: FormDefinitionRow) -> FormDefinition:
    definition = FormDefinition.model_validate(row.definition)
    _cache[(row.key, row.version)] = definition
    return definition


async def open_draft(
    session: AsyncSession,
    *,
    form_key: str,
    organisation_id: int | None,
    authority_id: int | None,
    respondent_id: int | None,
    engagement_id: int | None = None,
    topic: str | None = None,
) -> FormResponse | None:
    """The draft this subject already has for this form, if any (from any door)."""
    query = select(FormResponse).where(
        FormResponse.form_key == form_key,
        FormResponse.state == ResponseState.DRAFT,
        FormResponse.engagement_id.is_(None)
        if engagement_id is None
        else FormResponse.engagement_id == engagement_id,
        FormResponse.topic.is_(None) if topic is None else FormResponse.topic == topic,
    )
    if organisation_id is not None:
        query = query.where(FormResponse.organisation_id == organisation_id)
    else:
        query = query.where(
            FormResponse.organisation_id.is_(None), FormResponse.respondent_id == respondent_id
        )
    if authority_id is not None:
        query = query.where(FormResponse.authority_id == authority_id)
    else:
        query = query.where(FormResponse.authority_id.is_(None))
    return await session.scalar(query.order_by(FormResponse.updated_at.desc()).limit(1))


async def latest_submission(
    session: AsyncSession,
    *,
    form_key: str,
    organisation_id: int | None,
    authority_id: int | None = None,
) -> FormResponse | None:
    query = select(FormResponse).where(
        FormResponse.form_key == form_key,
        FormResponse.state == ResponseState.SUBMITTED,
        FormResponse.organisation_id == organisation_id,
    )
    if authority_id is not None:
        query = query.where(FormResponse.authority_id == authority_id)
    return await session.scalar(query.order_by(FormResponse.submitted_at.desc()).limit(1))


async def start_draft(
    session: AsyncSession,
    definition: FormDefinition,
    *,
    organisation_id: int | None,
    authority_id: int | None,
    respondent_id: int | None,
    answers: dict[str, Any] | None = None,
    now: datetime | None = None,
    engagement_id: int | None = None,
    topic: str | None = None,
) -> FormResponse:
    moment = now or now_for(session)
    response = FormResponse(
        form_key=definition.key,
        form_version=definition.version,
        organisation_id=organisation_id,
        authority_id=authority_id,
        respondent_id=respondent_id,
        engagement_id=engagement_id,
        topic=topic,
        state=ResponseState.DRAFT,
        answers=dict(answers or {}),
        current_page=0,
        created_at=moment,
        updated_at=moment,
    )
    session.add(response)
    await session.flush()
    return response
