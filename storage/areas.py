"""What the move to area codes could not convert, for an admin to put right."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AreaMigrationNote


async def unconverted_areas(session: AsyncSession) -> list[AreaMigrationNote]:
    """Every free-text area migration 0008 could not turn into a code, oldest first."""
    rows = await session.scalars(
        select(AreaMigrationNote).order_by(AreaMigrationNote.table_name, AreaMigrationNote.id)
    )
    return list(rows.all())
