"""Pre-market engagement: one `engagements` command with a sub-command per step.

`engagements` lists them; `new`, `edit N`, `publish N`, `show N`, `answer N`, `join N`,
`ask N`, `questions N`, `reply N Q`, `update N`, `event N`, `rsvp E`, `cancel E`,
`attendance E`, `talk N`, `times M`, `pick M I`, `notes M`, `feedback N`, `close N`,
`summary N`, `answers N`, `export N`, `record N`, `reference N`, `declare N`, `declarations N`,
`yousaid N`. Chat doors type them; buttons carry them as values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_when
from bot.core.feature import (
    Command,
    Confirmation,
    ConfirmWords,
    Feature,
    HomeSection,
    NavLink,
    SubCommand,
    run_step,
)
from bot.core.reply import Button, Reply, Section
from bot.core.turn import Actor, Turn
from bot.services import Services
from handlers.engagements import (
    answers,
    clarifications,
    closing,
    confirming,
    conflicts,
    events,
    feedback,
    meetings,
    record,
    taking_part,
)
from handlers.engagements import setup as setting_up
from storage.engagement_tables import EngagementState
from storage.engagements import (
    engagements_of,
    open_engagements,
    taking_part_in,
    waiting_questions,
)

Step = Callable[[Turn, Services], Awaitable[list[Reply]]]
NumberedStep = Callable[[Turn, Services, "int | None"], Awaitable[list[Reply]]]


def _form(name: str, run: Step) -> SubCommand:
    """A step that opens a form (so chat doors open a modal or card at once)."""
    return SubCommand(name, run, opens_form=True)


def _numbered(
    name: str,
    run: NumberedStep,
    *,
    changes_things: bool = False,
    confirm: Confirmation | ConfirmWords | None = None,
) -> SubCommand:
    """A step about one engagement, event or meeting, whose number follows it. One that
    changes things runs on the web door only from a posted form, after asking `confirm`."""
    return SubCommand(name, run, numbered=True, changes_things=changes_things, confirm=confirm)


#: Every step of `engagements`, each declared once with what it does.
STEPS: tuple[SubCommand, ...] = (
    _form("new", setting_up.open_setup),
    _form("edit", setting_up.open_setup),
    _form("answer", taking_part.answer),
    _form("ask", clarifications.ask),
    _form("reply", clarifications.reply_to_question),
    _form("update", clarifications.post_update),
    _form("event", events.add_event),
    _form("talk", meetings.ask_to_talk),
    _form("times", meetings.propose_times),
    _form("feedback", feedback.give_feedback),
    _form("yousaid", closing.you_said_we_did),
    _form("reference", record.change_notice_facts),
    _form("declare", conflicts.declare),
    _form("notes", meetings.write_notes),
    _numbered("show", taking_part.show_engagement),
    _numbered("publish", setting_up.publish, changes_things=True, confirm=confirming.publish),
    _numbered("join", taking_part.join, changes_things=True, confirm=confirming.join),
    _numbered("questions", clarifications.questions_to_answer),
    _numbered("rsvp", events.rsvp, changes_things=True, confirm=confirming.rsvp),
    _numbered("cancel", events.cancel, changes_things=True, confirm=confirming.cancel),
    _numbered("attendance", events.attendance),
    _numbered("pick", meetings.pick_time, changes_things=True, confirm=confirming.PICK),
    _numbered("close", closing.close_now, changes_things=True, confirm=confirming.close),
    _numbered("summary", closing.show_summary),
    _numbered("answers", answers.show_answers),
    _numbered("export", answers.export_file),
    _numbered("record", record.show_record),
    _numbered("declarations", conflicts.show_declarations),
)
_STEPS = {step.name: step for step in STEPS}


async def engagements(turn: Turn, services: Services) -> list[Reply]:
    """Route `engagements <step> …` to the step; a bare `engagements` lists them."""
    return await run_step(
        "engagements", _STEPS, turn, services, listing=taking_part.list_engagements
    )


async def _home_sections(session: AsyncSession, actor: Actor, services: Services) -> list[Section]:
    """Open engagements: the team's own (with questions waiting), and the ones a provider
    takes part in, with their closing dates."""
    now = services.clock.now()
    sections: list[Section] = []
    if actor.is_commissioner:
        for engagement in await engagements_of(session, actor.commissioner_for()):
            if engagement.state == EngagementState.CLOSED:
                continue
            waiting = len(await waiting_questions(session, engagement.id))
            text = (
                "Draft, not published yet."
                if engagement.state == EngagementState.DRAFT
                else f"Open until {format_when(engagement.closes_at, actor.timezone)}."
                + (
                    f" {waiting} question{'s' if waiting != 1 else ''} to answer."
                    if waiting
                    else ""
                )
            )
            sections.append(
                Section(
                    heading=f"Engagement: {engagement.title}",
                    text=text,
                    buttons=[
                        Button(
                            label="Open", action="cmd.engagements", value=f"show {engagement.id}"
                        )
                    ],
                )
            )
    joined = await taking_part_in(session, actor.member_of())
    for engagement in await open_engagements(session):
        if engagement.id in joined and engagement.closes_at > now:
            sections.append(
                Section(
                    heading=f"Engagement: {engagement.title}",
                    text=f"You are taking part. It closes "
                    f"{format_when(engagement.closes_at, actor.timezone)}.",
                    buttons=[
                        Button(
                            label="See it", action="cmd.engagements", value=f"show {engagement.id}"
                        )
                    ],
                )
            )
    return sections


FEATURE = Feature(
    name="engagements",
    nav=(
        NavLink("Engagements", "engagements", "providers", order=30),
        NavLink("Engagements", "engagements", "commissioners", order=30),
    ),
    commands=(
        Command(
            "engagements",
            "pre-market engagement: take part, ask questions, book events (councils: set one up)",
            engagements,
            subcommands=STEPS,
            teams_scopes=frozenset({"personal", "team", "groupChat"}),
        ),
    ),
    actions={"engagement.attended": events.record_attendance},
    form_purposes=(
        setting_up.SETUP,
        taking_part.ANSWERS,
        clarifications.ASK,
        clarifications.ANSWER,
        clarifications.UPDATE,
        events.EVENT,
        meetings.REQUEST,
        meetings.TIMES,
        feedback.FEEDBACK,
        closing.YOU_SAID,
        record.NOTICE_FACTS,
        conflicts.DECLARE,
        meetings.NOTES,
    ),
    reminders={
        setting_up.CLOSE_KIND: closing.close_on_schedule,
        setting_up.CLOSING_SOON_KIND: closing.remind_closing_soon,
        events.DAY_BEFORE_KIND: events.remind_attendees,
        events.HOUR_BEFORE_KIND: events.remind_attendees,
        meetings.REMINDER_KIND: meetings.remind_meeting,
        conflicts.REMINDER_KIND: conflicts.remind_undeclared,
    },
    home_sections=(HomeSection(order=20, sections=_home_sections),),
    pages=record.PAGES,
)
