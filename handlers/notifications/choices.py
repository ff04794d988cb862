"""Choosing how and when Convene tells a person about new opportunities.

Service: `save_choices` reads the form's answers into `Preferences`, refuses (on the
record, nothing saved) when they don't fit together, and saves them. View: `saved_replies`
and `describe` say what happens next in plain words. The form works on every door through
`handlers.forms` (`PreferencesForm`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import LONDON, format_day, format_when
from bot.core.forms import FormDefinition
from bot.core.quiet_hours import DAY_ENDS, DAY_STARTS, HowOften, Preferences, is_awake
from bot.core.reply import Button, Message, Reply, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.common import Refused
from handlers.forms import FormPurpose, Subject, form_view
from storage import audit
from storage.digests import ensure_digest_job
from storage.models import FormResponse, ResponseState
from storage.notification_preferences import preferences_for, save_preferences
from storage.visibility import Refusal

COMMAND = "notifications"
FORM_KEY = "notification_preferences"

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

WHO_SEES = (
    "Only you see these choices. They change only the messages sent to you, not to "
    "anyone else in your organisation."
)


class BadChoice(Refused):
    """Answers that don't fit together; `field` is the question to fix."""

    level = "error"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Saved:
    preferences: Preferences
    timezone: ZoneInfo
    now: datetime


def hour_words(moment: time) -> str:
    """'8am', 'midday', 'midnight', '8:30pm'."""
    if moment == time(0, 0):
        return "midnight"
    if moment == time(12, 0):
        return "midday"
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{'am' if moment.hour < 12 else 'pm'}"


def _hour(answer: Any) -> time | None:
    try:
        return time(int(str(answer)), 0) if answer not in (None, "") else None
    except ValueError:
        return None


def preferences_from(answers: dict[str, Any]) -> Preferences:
    """The form's answers as choices; raises `BadChoice` when they don't fit together."""
    how_often = HowOften(answers.get("how_often") or HowOften.IMMEDIATELY)
    day = answers.get("digest_day")
    if how_often == HowOften.WEEKLY and day in (None, ""):
        raise BadChoice(
            "You chose once a week. Please choose the day you want it. Nothing was saved.",
            "digest_day",
        )
    when = answers.get("when") or "usual"
    starts, ends = DAY_STARTS, DAY_ENDS
    if when == "own":
        chosen_start, chosen_end = _hour(answers.get("day_starts")), _hour(answers.get("day_ends"))
        if chosen_start is None or chosen_end is None:
            raise BadChoice(
                "You chose your own hours. Please choose both the time they start and the "
                "time they end. Nothing was saved.",
                "day_starts" if chosen_start is None else "day_ends",
            )
        if chosen_start == chosen_end:
            raise BadChoice(
                "Your hours start and end at the same time, so we could never message you. "
                'Choose two different times, or "Any time". Nothing was saved.',
                "day_ends",
            )
        starts, ends = chosen_start, chosen_end
    return Preferences(
        opportunities=how_often,
        digest_weekday=int(day) if day not in (None, "") else 0,
        quiet_hours=when != "any",
        day_starts=starts,
        day_ends=ends,
    )


def answers_from(preferences: Preferences) -> dict[str, Any]:
    """What the form starts with: the person's current choices."""
    usual = (preferences.day_starts, preferences.day_ends) == (DAY_STARTS, DAY_ENDS)
    return {
        "how_often": str(preferences.opportunities),
        "digest_day": str(preferences.digest_weekday)
        if preferences.opportunities == HowOften.WEEKLY
        else None,
        "when": "any" if not preferences.quiet_hours else "usual" if usual else "own",
        "day_starts": f"{preferences.day_starts.hour:02d}",
        "day_ends": f"{preferences.day_ends.hour:02d}",
    }


async def save_choices(
    session: AsyncSession, turn: Turn, answers: dict[str, Any], now: datetime
) -> Saved:
    """The service step: check the answers, save them, start the digest job if needed.
    A refusal is on the record and saves nothing."""
    assert turn.actor is not None
    try:
        preferences = preferences_from(answers)
    except BadChoice as refused:
        await audit.record_turn(
            session,
            turn,
            "notifications.refused",
            object_type="notification_preferences",
            object_id=turn.actor.person_id,
            reason=refused.message,
        )
        raise
    await save_preferences(session, turn.actor.person_id, preferences, now)
    if preferences.opportunities == HowOften.WEEKLY:
        await ensure_digest_job(
            session, now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        )
    await audit.record_turn(
        session,
        turn,
        "notifications.changed",
        object_type="notification_preferences",
        object_id=turn.actor.person_id,
        opportunities=str(preferences.opportunities),
        digest_weekday=preferences.digest_weekday,
        quiet_hours=preferences.quiet_hours,
        day_starts=preferences.day_starts.isoformat(),
        day_ends=preferences.day_ends.isoformat(),
    )
    return Saved(preferences, turn.actor.timezone, now)


# --- the view -------------------------------------------------------------------------------


def next_digest(preferences: Preferences, now: datetime, tz: ZoneInfo) -> datetime:
    """When the next weekly digest may come: the start of their next chosen weekday (today,
    if it is that day and their day has not ended)."""
    local = now.astimezone(tz)
    ahead = (preferences.digest_weekday - local.weekday()) % 7
    ended = preferences.quiet_hours and not is_awake(now, tz, preferences)
    if ahead == 0 and ended and local.time() >= preferences.day_starts:
        ahead = 7
    day = local.date() + timedelta(days=ahead)
    start = datetime.combine(day, preferences.day_starts, tzinfo=tz)
    return max(start, local)


def how_often_words(
    preferences: Preferences, now: datetime | None = None, tz: ZoneInfo = LONDON
) -> str:
    if preferences.opportunities == HowOften.WEEKLY:
        said = (
            f"New opportunities that fit your organisation come in one message every "
            f"{DAYS[preferences.digest_weekday]}, from {hour_words(preferences.day_starts)}. "
            "If nothing new was posted that week, we send nothing."
        )
        if now is not None:
            said += (
                f" The next one can come on {format_day(next_digest(preferences, now, tz), tz)}."
            )
        return said
    if preferences.opportunities == HowOften.NONE:
        return (
            "We don't message you about new opportunities. You can still see them: "
            + command_ref("opportunities", "the opportunities")
            + ". If your organisation says it is interested in one, you still "
            "hear about changes to it."
        )
    return "We tell you about each new opportunity that fits your organisation when it is posted."


def hours_words(preferences: Preferences, tz: ZoneInfo) -> str:
    if not preferences.quiet_hours:
        return "Our messages about opportunities may come at any time, day or night."
    return (
        f"Our messages about opportunities come only between "
        f"{hour_words(preferences.day_starts)} and {hour_words(preferences.day_ends)}, "
        f"your time ({tz.key}). One that comes outside these hours waits until "
        f"{hour_words(preferences.day_starts)}."
    )


def describe(preferences: Preferences, tz: ZoneInfo, now: datetime | None = None) -> str:
    return f"{how_often_words(preferences, now, tz)} {hours_words(preferences, tz)}"


def saved_replies(saved: Saved) -> list[Reply]:
    return [
        Message(
            title="Thank you. Your choices are saved.",
            text=f"Saved on {format_when(saved.now, saved.timezone)}. "
            f"{describe(saved.preferences, saved.timezone, saved.now)} "
            f"You can change this any time: {command_ref(COMMAND, 'your notification choices')}.",
            buttons=[Button(label="Change my choices", action=f"cmd.{COMMAND}")],
            who_sees=WHO_SEES,
        )
    ]


# --- the form, on every door -----------------------------------------------------------------


@dataclass(frozen=True)
class _Own(Subject):
    """The person's own choices (no organisation's)."""

    person_id: int = 0


class PreferencesForm(FormPurpose):
    """One person's own choices: anybody signed in may make them, for themselves only."""

    form_key = FORM_KEY
    command = COMMAND
    confirms_itself = True

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        assert turn.actor is not None
        return _Own(None, label="you", person_id=turn.actor.person_id)

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        if not isinstance(subject, _Own):
            return {}
        chosen = await preferences_for(session, [subject.person_id])
        return answers_from(chosen[subject.person_id])

    async def preface(self, session: AsyncSession, turn: Turn, subject: Subject) -> list[Reply]:
        assert turn.actor is not None
        now = (await preferences_for(session, [turn.actor.person_id]))[turn.actor.person_id]
        return [Message(title="What you have now", text=describe(now, turn.actor.timezone))]

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        try:
            saved = await save_choices(session, turn, response.answers, services.clock.now())
        except BadChoice as refused:
            response.state = ResponseState.DRAFT  # fix it and send again
            response.submitted_at = None
            return [form_view(definition, response, 0, errors={refused.field: refused.message})]
        return saved_replies(saved)


PREFERENCES = PreferencesForm()
