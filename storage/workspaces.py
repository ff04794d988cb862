"""Chat workspaces (Slack) and tenants (Teams): installed, or removed by the platform.

When Slack says Convene was uninstalled from a workspace, or its bot token revoked,
nothing more can be sent there. The workspace's link keeps the time that happened
(`WorkspaceLink.removed_at`), so the outbox marks messages to it undeliverable at once,
with a reason an admin can act on, instead of calling Slack for each one. Installing
again clears it.

A workspace Convene was never linked to still gets a link row here: the removal has
to be remembered somewhere, and the link is where admins already look.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.db import Database
from storage.models import Authority, Door, Organisation, WorkspaceLink
from storage.upsert import insert_ignoring_duplicates

KEYS = ["platform", "workspace_id"]


async def mark_workspace_removed(
    db: Database, platform: Door, workspace_id: str, *, at: datetime
) -> None:
    """Remember that the platform removed Convene from this workspace (idempotent: the
    first time is kept if the platform tells us twice)."""
    await _link_then_update(
        db,
        platform,
        workspace_id,
        at=at,
        only_if=WorkspaceLink.removed_at.is_(None),
        values={"removed_at": at},
    )


async def mark_workspace_installed(
    db: Database, platform: Door, workspace_id: str, *, name: str | None, at: datetime
) -> None:
    """Convene was installed (again) in this workspace: link it if it is new, keep the
    name we were told if it had none, and forget any earlier removal."""
    named = name[:200] if name else None
    await _link_then_update(
        db,
        platform,
        workspace_id,
        at=at,
        name=named,
        values={"removed_at": None, "name": func.coalesce(WorkspaceLink.name, named)},
    )


async def _link_then_update(
    db: Database,
    platform: Door,
    workspace_id: str,
    *,
    at: datetime,
    values: dict[str, Any],
    name: str | None = None,
    only_if: ColumnElement[bool] | None = None,
) -> None:
    """Make sure the workspace has a link row (race-free), then change it, in one
    transaction: a platform may tell us before anyone linked the workspace."""
    key = workspace_id[:100]
    async with db.transaction() as connection:
        await insert_ignoring_duplicates(
            connection,
            WorkspaceLink,
            {"platform": platform, "workspace_id": key, "name": name, "created_at": at},
            KEYS,
        )
        change = update(WorkspaceLink).where(
            WorkspaceLink.platform == platform, WorkspaceLink.workspace_id == key
        )
        if only_if is not None:
            change = change.where(only_if)
        await connection.execute(change.values(**values))


async def workspace_removed_at(db: Database, platform: Door, workspace_id: str) -> datetime | None:
    """When the platform removed Convene from this workspace, or None if it is installed
    (or we have never heard of it)."""
    async with db.transaction() as connection:
        removed: datetime | None = await connection.scalar(
            select(WorkspaceLink.removed_at).where(
                WorkspaceLink.platform == platform,
                WorkspaceLink.workspace_id == workspace_id[:100],
            )
        )
    return removed


async def link_workspace(
    session: AsyncSession,
    platform: Door,
    workspace_id: str,
    *,
    authority: str | None = None,
    org: str | None = None,
) -> str | None:
    """Say who newcomers from a workspace or tenant are: commissioners of `authority` or
    members of `org` (a slug, exactly one given). Audited as `workspace.linked`. The
    name of the authority or organisation, or None if there is none by that slug."""
    target: Authority | Organisation | None
    if authority is not None:
        target = await session.scalar(select(Authority).where(Authority.slug == authority))
    else:
        target = await session.scalar(select(Organisation).where(Organisation.slug == org))
    if target is None:
        return None
    link = await session.scalar(
        select(WorkspaceLink).where(
            WorkspaceLink.platform == platform,
            WorkspaceLink.workspace_id == workspace_id,
        )
    )
    if link is None:
        link = WorkspaceLink(platform=Door(platform), workspace_id=workspace_id)
        session.add(link)
    link.authority_id = target.id if authority is not None else None
    link.organisation_id = target.id if org is not None else None
    await session.flush()
    await audit.record(
        session,
        "workspace.linked",
        actor_id=None,
        object_type="workspace_link",
        object_id=link.id,
        platform=platform,
        workspace=workspace_id,
        authority_id=link.authority_id,
        organisation_id=link.organisation_id,
    )
    return target.name
