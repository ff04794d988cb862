"""What every feature's steps share: a typed refusal, its plain view, and locking the row a
step changes. Engagements, opportunities and the shared clarifications use these."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.reply import Notice, Reply


async def lock_row(session: AsyncSession, model: Any, row_id: int | None) -> None:
    """Hold the write lock on one row before reading it, so two people acting on it at the
    same moment go one after the other (the last place at an event, a publish). PostgreSQL
    does this with the caller's FOR UPDATE; SQLite only locks on a write, so the row is
    written unchanged first."""
    if row_id is not None and session.bind is not None and session.bind.dialect.name == "sqlite":
        await session.execute(
            update(model)
            .where(model.id == row_id)
            .values(id=model.id)
            .execution_options(synchronize_session=False)
        )


class Refused(Exception):
    """A step's typed "no": it changed nothing, and says why in `message`.

    A service step raises it (a subclass names the reason) before it writes anything; the
    feature's entry point catches it inside the unit of work, so an audited refusal is still
    kept, and its view turns it into replies (`refusal_replies` by default).
    """

    #: How the refusal is shown: most are warnings; "already done" is only information.
    level: Literal["info", "warning", "error"] = "warning"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def refusal_replies(refusal: Refused) -> list[Reply]:
    """The plain view of a refusal: one notice saying why, and that nothing changed."""
    return [Notice(text=refusal.message, level=refusal.level)]


_Row = TypeVar("_Row")


async def load_locked(session: AsyncSession, model: type[_Row], row_id: int | None) -> _Row | None:
    """One row, write-locked for the rest of the unit of work (see `lock_row`), or None."""
    if row_id is None:
        return None
    await lock_row(session, model, row_id)
    return await session.get(model, row_id, with_for_update=True)


async def nameable(session: AsyncSession, model: Any, row_id: int, actor: Any) -> Any | None:
    """The engagement or opportunity `row_id`, when `actor` may see its title on a confirm
    page: published, or a draft of a council they commission for. Otherwise None, and the
    confirm page asks in plain words without naming it (the step refuses when it runs)."""
    row = await session.get(model, row_id)
    if row is None or actor is None:
        return None
    if row.state == "draft" and row.authority_id not in actor.commissioner_for():
        return None
    return row


async def organisations_told(session: AsyncSession, matched: Select[Any]) -> str:
    """ "4 organisations": how many a publish will tell, for its confirm words."""
    count = await session.scalar(select(func.count()).select_from(matched.subquery())) or 0
    return f"{count} organisation{'' if count == 1 else 's'}"
