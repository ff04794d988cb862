"""The Slack and Teams channels where an authority's open invitations are also posted.

One row per channel (platform, workspace, address); naming it again for an authority
moves it there and renames it, so the command can be run twice safely.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.engagement_tables import AuthorityChannel
from storage.models import Authority


async def post_invitations_in(
    session: AsyncSession,
    authority: Authority,
    platform: str,
    address: str,
    *,
    workspace_id: str | None,
    name: str | None,
) -> AuthorityChannel:
    """From now on, also post `authority`'s open invitations in this channel (on the record)."""
    row = await session.scalar(
        select(AuthorityChannel).where(
            AuthorityChannel.platform == platform,
            AuthorityChannel.workspace_id == workspace_id,
            AuthorityChannel.address == address,
        )
    )
    if row is None:
        row = AuthorityChannel(platform=platform, workspace_id=workspace_id, address=address)
        session.add(row)
    row.authority_id = authority.id
    row.name = name
    await session.flush()
    await audit.record(
        session,
        "channel.added",
        actor_id=None,
        object_type="authority_channel",
        object_id=row.id,
        authority_id=authority.id,
        platform=platform,
        channel=address,
    )
    return row
