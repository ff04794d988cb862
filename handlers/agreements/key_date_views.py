"""The words of key-date reminders: the reminder itself, and the key dates coming up on an
agreement's page."""

from __future__ import annotations

from datetime import date

from bot.clock import format_date
from bot.core.monitoring import Audience, KeyDate
from bot.core.reply import Button, Fact, Message, Section, command_ref
from handlers.agreements.common import COMMAND
from storage.agreement_tables import Agreement

WHO_GETS = {
    Audience.TEAM: "Only the council's commissioning team for this agreement gets this reminder.",
    Audience.PROVIDER: (
        "Only the people in the organisations party to this agreement get this reminder."
    ),
    Audience.BOTH: (
        "The council's commissioning team and the people in each organisation party to this "
        "agreement get this reminder. No other provider does."
    ),
}


#: When people are named on the agreement, the reminder goes to them.
NAMED_GET = (
    "Only the people named on this agreement for this kind of date get this reminder "
    "(everyone named on a side when nobody there has that role). No other provider does."
)


def _day_words(on: date, today: date) -> str:
    return "today" if on == today else f"on {format_date(on)}"


def key_date_reminder(
    agreement: Agreement,
    key_date: KeyDate,
    *,
    today: date,
    payment_id: int | None = None,
    named: bool = False,
) -> Message:
    """A reminder of one key date: what is due and when, why, and the button to act. For a
    payment, the button marks it paid."""
    buttons = [
        Button(
            label="Show the agreement",
            action=f"cmd.{COMMAND}",
            value=f"show {agreement.id}",
            style="default" if payment_id else "primary",
        )
    ]
    next_step = f"see it in full: {command_ref(f'{COMMAND} show {agreement.id}', 'the agreement')}."
    if payment_id is not None:
        buttons.insert(
            0,
            Button(
                label="Mark it paid",
                action=f"cmd.{COMMAND}",
                value=f"paid {payment_id}",
                style="primary",
            ),
        )
        next_step = (
            f"pay it, then mark it paid: {command_ref(f'{COMMAND} paid {payment_id}', 'Mark it paid')}. "
            "We stop reminding you once it is marked paid."
        )
    return Message(
        title=f"Key date: {agreement.title}",
        text=(
            f"{key_date.what}. This is due {_day_words(key_date.on, today)}.\n\n"
            f"Why: {key_date.citation}.\n\n"
            f"What to do next: {next_step}"
        ),
        buttons=buttons,
        who_sees=NAMED_GET if named else WHO_GETS[key_date.audience],
    )


def upcoming_message(dates: list[KeyDate], *, for_team: bool) -> Message:
    """The key dates still to come on an agreement's page (the team: all; a party: theirs)."""
    if for_team:
        who = (
            "Your team sees every key date. The organisations party to the agreement see "
            "the ones that are for them."
        )
    else:
        who = (
            "You see the key dates that are for your organisation. The council's "
            "commissioning team sees these and its own."
        )
    return Message(
        title="Key dates coming up",
        text=(
            "We send a reminder on the working day on or before each date, at the start of "
            "your working day."
            if dates
            else "No key dates are still to come."
        ),
        sections=[Section(facts=[Fact(label=format_date(d.on), value=d.what) for d in dates])]
        if dates
        else [],
        who_sees=who,
    )
