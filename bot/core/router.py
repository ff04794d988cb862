"""The router: sends each `Turn` to the handler that owns it.

Handlers register by command word, action id prefix, or form key, normally by handing
the router a feature's declaration (`bot.core.feature.Feature`), so that whether a
command opens a form or changes things is said once, where the feature is. A text turn
in a conversation that has a chat-mode form open goes to that form first, so people
can answer questions one message at a time on any chat door.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.feature import (
    Command,
    Confirmation,
    Feature,
    Gate,
    GatedAction,
    fits,
    plain_confirmation,
)
from bot.core.reply import Button, Message, Notice, Reply, Section, command_ref
from bot.core.turn import Turn, parse_command, row_id

log = logging.getLogger(__name__)

#: A handler: a turn and the app's services (typed loosely: the core imports nothing
#: above it) in, neutral replies out.
Handler = Callable[[Turn, Any], Awaitable[Sequence[Reply]]]


@dataclass(frozen=True)
class CommandInfo:
    """What `help` shows for a command, and who it is for."""

    name: str
    summary: str
    handler: Handler
    audience: str = "everyone"  # "everyone" | "providers" | "commissioners" | "admins"
    #: Chat doors open a modal/card for it at once. True: the bare command does; a set of
    #: sub-commands: `command <sub> …` does (e.g. `engagements answer 4`).
    opens_form: bool | frozenset[str] = False
    #: The web door runs it only from a form post (CSRF). True, or the sub-commands that do.
    changes_things: bool | frozenset[str] = False
    #: Kept to its audience before the handler runs (see `bot.core.feature.Gate`).
    gate: Gate | None = None
    #: Never answered in a shared conversation (see `bot.core.feature.Command.private`).
    private: bool = False


def not_here(name: str) -> Notice:
    """What a private command says in a chat other people read: nothing of it is shown."""
    return Notice(
        text=f"Other people can read this chat, so I don't show {name} here: they are only "
        "for you and the people you work with on them. Send me the same words in a chat "
        "with just me, or use the web. Nothing was shown or changed.",
        level="warning",
    )


class Router:
    """Maps turns to handlers. One router serves every door."""

    def __init__(self) -> None:
        self.commands: dict[str, CommandInfo] = {}
        self.actions: dict[str, Handler] = {}
        #: Action id prefix -> (audience, gate) for buttons kept to an audience.
        self.action_gates: dict[str, tuple[str, Gate]] = {}
        #: Action id prefix -> the private command whose buttons they are.
        self.private_actions: dict[str, str] = {}
        self.submissions: Handler | None = None
        self.chat: Callable[[Turn, Any], Awaitable[Sequence[Reply] | None]] | None = None
        #: Shown in help to somebody with no organisation or authority yet.
        self.unlinked_hint: str | None = None
        #: The features' command declarations, for the words they ask before changing things.
        self.declared: dict[str, Command] = {}

    def command(
        self,
        name: str,
        summary: str,
        audience: str = "everyone",
        *,
        opens_form: bool | frozenset[str] = False,
        changes_things: bool | frozenset[str] = False,
        gate: Gate | None = None,
        private: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.commands[name] = CommandInfo(
                name, summary, handler, audience, opens_form, changes_things, gate, private
            )
            return handler

        return register

    def add(self, feature: Feature) -> None:
        """Register a feature's commands and actions as it declares them.

        A command's `opens_form`/`changes_things` become the set of its sub-commands that
        do, unless the bare command itself does.
        """
        for command in feature.commands:
            self.declared[command.name] = command
            self.command(
                command.name,
                command.summary,
                command.audience,
                opens_form=command.opens_form or command.form_steps() or False,
                changes_things=command.changes_things or command.changing_steps() or False,
                gate=command.gate,
                private=command.private,
            )(command.run)
        private = next((c.name for c in feature.commands if c.private), None)
        for prefix, handler in feature.actions.items():
            if private is not None:
                self.private_actions[prefix] = private
            if isinstance(handler, GatedAction):
                self.action_gates[prefix] = (handler.audience, handler.gate)
                handler = handler.handler
            self.action(prefix)(handler)

    def changes_things(self, text: str) -> bool:
        """Whether running this command changes data (so a link alone must not run it)."""
        words, _ = parse_command(text)
        info = self.commands.get(words[0]) if words else None
        if info is None:
            return False
        if isinstance(info.changes_things, bool):
            return info.changes_things
        return len(words) > 1 and words[1] in info.changes_things

    async def confirmation(self, turn: Turn, services: Any) -> Confirmation:
        """What to ask before running this turn's command, in the words its feature
        declared for the step (reading the row when they need it), or a plain fallback."""
        text = " ".join((turn.text or "").split())
        words, _ = parse_command(text)
        declared = self.declared.get(words[0]) if words else None
        if declared is None:
            return plain_confirmation(text)
        step = declared.subcommand(words[1]) if len(words) > 1 else None
        confirm = declared.confirm if step is None else step.confirm
        if confirm is None:
            return plain_confirmation(text)
        if isinstance(confirm, Confirmation):
            return confirm
        if step is not None and step.numbered:
            number = row_id(words[2]) if len(words) > 2 else row_id(turn.args.get("id"))
            if number is None:
                return plain_confirmation(text)
            asked = await confirm(turn, services, number)
        else:
            asked = await confirm(turn, services)
        return asked or plain_confirmation(text)

    def opens_form(self, text: str) -> bool:
        """Whether this command shows a form, so a door can open its form surface first.

        A bare `True` command does only when bare: `profile chat` asks the questions one at
        a time in chat, and `readiness summary` shows a summary, not a form. A command with
        form sub-commands does for those, unless `chat` follows.
        """
        words, _ = parse_command(text)
        info = self.commands.get(words[0]) if words else None
        if info is None or "chat" in words[1:]:
            return False
        if isinstance(info.opens_form, bool):
            return info.opens_form and len(words) == 1
        return len(words) > 1 and words[1] in info.opens_form

    def gate_for(self, turn: Turn) -> Gate | None:
        """The gate this turn is stopped at, if its command is kept to an audience the actor
        is not in; None when the turn may go on. Buttons that run a command (`cmd.…`) are
        the command typed, so they meet the same gate; other buttons meet their
        `GatedAction`'s."""
        if turn.actor is None or turn.submission is not None:
            return None
        if turn.action is not None:
            if not turn.action.id.startswith("cmd."):
                return self._action_gate(turn)
            words = [turn.action.id.removeprefix("cmd.")]
        else:
            words, _ = parse_command(turn.text or "")
        info = self.commands.get(words[0]) if words else None
        if info is None or info.gate is None or fits(turn.actor, info.audience):
            return None
        return info.gate

    def _action_gate(self, turn: Turn) -> Gate | None:
        assert turn.action is not None
        for prefix, (audience, gate) in self.action_gates.items():
            if turn.action.id.startswith(prefix) and not fits(turn.actor, audience):
                return gate
        return None

    def action(self, prefix: str) -> Callable[[Handler], Handler]:
        """Register a handler for actions whose id starts with `prefix` (e.g. `profile.`)."""

        def register(handler: Handler) -> Handler:
            self.actions[prefix] = handler
            return handler

        return register

    async def dispatch(self, turn: Turn, services: Any) -> list[Reply]:
        if turn.actor is None:
            return [
                Notice(
                    text="We don't know who you are yet. Ask your organisation's admin or "
                    "your council contact for an invitation.",
                    level="warning",
                )
            ]
        if turn.submission is not None:
            if self.submissions is None:
                return [Notice(text="Forms are not available right now.", level="error")]
            return list(await self.submissions(turn, services))
        if turn.action is not None and turn.action.id.startswith("cmd."):
            command_text = turn.action.id.removeprefix("cmd.") + " " + turn.action.value
            turn = Turn(
                door=turn.door,
                actor=turn.actor,
                conversation=turn.conversation,
                text=command_text.strip(),
                args=turn.args,
                prefers_chat=turn.prefers_chat,
                attachments=turn.attachments,
                shared=turn.shared,
            )
        if turn.action is not None:
            if turn.shared:
                for prefix, name in self.private_actions.items():
                    if turn.action.id.startswith(prefix):
                        return [not_here(name)]
            for prefix, handler in sorted(self.actions.items(), key=lambda kv: -len(kv[0])):
                if turn.action.id.startswith(prefix):
                    return list(await handler(turn, services))
            # Not the id itself: it is whatever the caller sent, and callers' words never
            # reach the log.
            log.info("a button with no handler was pressed on %s", turn.door)
            return [Notice(text="That button no longer does anything. Try again from the start.")]
        command = turn.command
        if command not in self.commands and command != "help" and self.chat is not None:
            answered = await self.chat(turn, services)
            if answered is not None:
                return list(answered)
        if command is None or command == "help":
            return [self.help(turn)]
        info = self.commands.get(command)
        if info is None:
            return [
                Notice(
                    text=f'Sorry, I don\'t know "{command}". See what I can do: '
                    f"{command_ref('help', 'help')}.",
                    level="warning",
                )
            ]
        if info.private and turn.shared:
            return [not_here(info.name)]
        return list(await info.handler(turn, services))

    def help(self, turn: Turn) -> Message:
        """The list of commands this person can use, in plain English."""
        actor = turn.actor
        visible = [info for info in self.commands.values() if fits(actor, info.audience)]
        # Neutral words: each door says the commands its own way ("type engagements" in
        # chat, a link on the web), so the intro never says "type" itself.
        intro = "Choose one of these, or use the buttons."
        if actor is not None and not actor.grants and self.unlinked_hint:
            intro = f"{self.unlinked_hint}\n{intro}"
        return Message(
            title="What I can help with",
            text=intro,
            sections=[
                Section(
                    text="\n".join(f"• {command_ref(i.name, i.name)}: {i.summary}" for i in visible)
                )
            ],
            buttons=[Button(label=i.name.capitalize(), action=f"cmd.{i.name}") for i in visible][
                :5
            ],
        )
