"""`digest`: a commissioner chooses the day of their weekly digest, or turns it off.

Typed or pressed: `dashboard digest` shows the day chosen with a button for each day and one to
turn it off; `dashboard digest day=tuesday` or `dashboard digest off` saves. Service step `choose` (typed
input, one unit of work, a result or a refusal); the view words it.
"""

from __future__ import annotations

from bot.core.reply import Button, Message, Notice, Reply, Section
from bot.core.turn import Turn, parse_command
from bot.services import Services
from handlers.dashboard.digest import DAYS
from storage import audit
from storage.commissioner_digests import (
    choose_digest_day,
    digest_day_of,
    ensure_commissioner_digest_job,
)

#: Teams' command lists are full, so the day is chosen inside `dashboard`: `dashboard digest`.
COMMAND = "dashboard"
SUB = "digest"
NOT_FOR_YOU = "The weekly digest is for council commissioning teams."


def day_words(weekday: int | None) -> str:
    if weekday is None:
        return "You have turned off the weekly digest. We won't send it."
    return (
        f"We send your weekly digest on {DAYS[weekday]}s, after 8am your time (or when "
        "your hours start), and only in a week with something to tell you."
    )


def section(weekday: int | None) -> Section:
    """The day chosen, and a button for each choice: also shown on the notifications page."""
    return Section(
        heading="Your weekly digest (for commissioners)",
        text=day_words(weekday),
        buttons=[
            *(
                Button(label=day, action=f"cmd.{COMMAND}", value=f"{SUB} day={day.lower()}")
                for i, day in enumerate(DAYS)
                if i != weekday
            ),
            *(
                [Button(label="Turn it off", action=f"cmd.{COMMAND}", value=f"{SUB} day=off")]
                if weekday is not None
                else []
            ),
        ],
    )


def _wanted(turn: Turn) -> tuple[bool, int | None] | None:
    """(asked to change, weekday or None for off), or None when the day is not a day.
    Takes `day=tuesday`, `day=off`, or the word itself: `digest tue`, `digest off`."""
    _, typed = parse_command(turn.text or "")
    args = {**typed, **turn.args}
    words = [w for w in (turn.text or "").lower().split()[1:] if "=" not in w and w != SUB]
    day = (args.get("day") or (words[0] if words else "")).strip().lower()
    if not day:
        return False, None
    if day == "off":
        return True, None
    for i, name in enumerate(DAYS):
        if len(day) >= 3 and name.lower().startswith(day):
            return True, i
    return None


async def digest(turn: Turn, services: Services) -> list[Reply]:
    assert turn.actor is not None
    if not turn.actor.commissioner_for():
        return [Notice(text=NOT_FOR_YOU, level="warning")]
    wanted = _wanted(turn)
    person_id = turn.actor.person_id
    async with services.db.session() as session:
        if wanted is None:
            return [
                Notice(
                    text="Choose a day from Monday to Sunday, or turn the digest off.",
                    level="warning",
                ),
                Message(sections=[section(await digest_day_of(session, person_id))]),
            ]
        change, weekday = wanted
        if change:
            await choose_digest_day(session, person_id, weekday)
            await ensure_commissioner_digest_job(session, services.clock.now())
            await audit.record_turn(
                session,
                turn,
                "dashboard.digest_day_chosen",
                object_type="commissioner_digest_days",
                object_id=str(person_id),
                weekday=weekday,
            )
            return [
                Notice(text="Saved. " + day_words(weekday), level="success"),
                Message(sections=[section(weekday)], who_sees="Only you see this choice."),
            ]
        return [
            Message(
                sections=[section(await digest_day_of(session, person_id))],
                who_sees="Only you see this choice.",
            )
        ]
