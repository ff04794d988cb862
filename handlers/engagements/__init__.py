"""Pre-market engagement: one `engagements` command with a sub-command per step.

`engagements` lists them; `new`, `edit N`, `publish N`, `show N`, `answer N`, `join N`,
`ask N`, `questions N`, `reply N Q`, `update N`, `event N`, `rsvp E`, `cancel E`,
`attendance E`, `talk N`, `times M`, `pick M I`, `feedback N`, `close N`, `summary N`,
`answers N`, `record N`, `yousaid N`. Chat doors type them; buttons carry them as values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core.reply import Notice, Reply
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements import (
    answers,
    clarifications,
    closing,
    events,
    feedback,
    meetings,
    record,
    taking_part,
)
from handlers.engagements import setup as setting_up
from handlers.engagements.common import number_at, words_of

#: Sub-commands that open a form (so chat doors open a modal or card at once).
FORM_STEPS = frozenset(
    {
        "new",
        "edit",
        "answer",
        "ask",
        "reply",
        "update",
        "event",
        "talk",
        "times",
        "feedback",
        "yousaid",
    }
)
#: Sub-commands that change things: the web door runs them only from a posted form.
CHANGING_STEPS = frozenset({"publish", "join", "rsvp", "cancel", "pick", "close"})

Step = Callable[[Turn, Services], Awaitable[list[Reply]]]
NumberedStep = Callable[[Turn, Services, "int | None"], Awaitable[list[Reply]]]

_FORMS: dict[str, Step] = {
    "new": setting_up.open_setup,
    "edit": setting_up.open_setup,
    "answer": taking_part.answer,
    "ask": clarifications.ask,
    "reply": clarifications.reply_to_question,
    "update": clarifications.post_update,
    "event": events.add_event,
    "talk": meetings.ask_to_talk,
    "times": meetings.propose_times,
    "feedback": feedback.give_feedback,
    "yousaid": closing.you_said_we_did,
}
_NUMBERED: dict[str, NumberedStep] = {
    "show": taking_part.show_engagement,
    "publish": setting_up.publish,
    "join": taking_part.join,
    "questions": clarifications.questions_to_answer,
    "rsvp": events.rsvp,
    "cancel": events.cancel,
    "attendance": events.attendance,
    "pick": meetings.pick_time,
    "close": closing.close_now,
    "summary": closing.show_summary,
    "answers": answers.show_answers,
    "record": record.show_record,
}


async def engagements(turn: Turn, services: Services) -> list[Reply]:
    """Route `engagements <step> …` to the step; a bare `engagements` lists them."""
    words = [w for w in words_of(turn) if w != "chat"]
    step = words[0] if words else "list"
    if step == "list":
        return await taking_part.list_engagements(turn, services)
    if step in _FORMS:
        return await _FORMS[step](turn, services)
    if step in _NUMBERED:
        number = number_at(turn, 1)
        if number is None:
            return [
                Notice(
                    text=f"Which one? Type engagements {step} and its number, for example "
                    f"engagements {step} 4. Type engagements to see them all.",
                    level="warning",
                )
            ]
        return await _NUMBERED[step](turn, services, number)
    return [
        Notice(
            text=f'Sorry, I don\'t know "engagements {step}". Type engagements to see them, '
            "or help for everything I can do.",
            level="warning",
        )
    ]


REMINDERS = {
    setting_up.CLOSE_KIND: closing.close_on_schedule,
    setting_up.CLOSING_SOON_KIND: closing.remind_closing_soon,
    events.DAY_BEFORE_KIND: events.remind_attendees,
    events.HOUR_BEFORE_KIND: events.remind_attendees,
    meetings.REMINDER_KIND: meetings.remind_meeting,
}
