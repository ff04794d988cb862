"""A feature says once what it offers; everything else is built from that.

Before this, a new feature was wired by hand in five places (the router, sub-command
tables, the reminder list, Home, both manifests) and nothing failed when one was
missed. Now a feature declares a `FEATURE = Feature(...)` in its own module, the
feature list in `handlers/__init__.py` names it in one line, and the router, help,
Home, the due sweep's reminder handlers and the manifest checks all read the
declarations.

This module is part of the neutral core: it imports nothing from storage, the
features or the doors, so the services, database sessions and reminder rows a
feature's callables take are typed loosely here and precisely in the feature.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.files import FileSource
from bot.core.pages import WebPage
from bot.core.reply import Notice, Reply, Section, command_ref
from bot.core.turn import Turn, parse_command, row_id

#: A command or action handler: a turn and the app's services in, neutral replies out.
Handler = Callable[[Turn, Any], Awaitable[Sequence[Reply]]]
#: What the due sweep calls for a reminder of a kind: the reminder row and the services.
ReminderHandler = Callable[[Any, Any], Awaitable[None]]
#: A Home section: (database session, actor, services) in, sections to show out.
HomeSectionsFn = Callable[[Any, Any, Any], Awaitable[list[Section]]]

#: Who a command is for; help shows it only to them.
AUDIENCES = frozenset({"everyone", "providers", "commissioners", "admins"})
#: The Teams scopes a bot command can be listed in.
TEAMS_SCOPES = frozenset({"personal", "team", "groupChat"})


@dataclass(frozen=True)
class Gate:
    """A command kept to its audience, checked once for every door before its handler runs.

    Whoever is outside the command's audience gets `refusal` in plain words, nothing runs,
    and the attempt is audited as `audit_action` on `object_type`, so a council can show who
    tried to see what they may not. Declared on the command; enforced by the router's
    `gate_for` and written to the audit log by the turn runner, never by each feature.
    """

    refusal: str
    audit_action: str
    object_type: str


def fits(actor: Any, audience: str) -> bool:
    """Whether `actor` (a `bot.core.turn.Actor`, or None) is in `audience`."""
    if audience == "everyone":
        return True
    if actor is None:
        return False
    if audience == "commissioners":
        return bool(actor.is_commissioner)
    if audience == "providers":
        return bool(actor.member_of())
    return audience == "admins" and bool(actor.is_admin)


async def link_pressed(turn: Any, services: Any) -> list[Reply]:
    """For a feature's link buttons: Slack also tells the app when somebody presses a link
    button, and there is nothing to say back (the browser opened the link)."""
    return []


@dataclass(frozen=True)
class GatedAction:
    """A button kept to an audience, like a gated command: the router checks it for every
    door before `handler` runs, and the turn runner audits the refusal. For buttons that
    are not a command typed (`deliveries.retry`), which a command's gate does not see."""

    handler: Handler
    audience: str
    gate: Gate

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES or self.audience == "everyone":
            raise ValueError("a gated action needs an audience other than everyone")


@dataclass(frozen=True)
class Confirmation:
    """What a step that changes things asks before it runs, in the feature's own words.

    `question` says what will happen ("Publish 'Young people's mental health support' to 4
    organisations now?"), `consequence` what follows and who is told, `title` heads the
    page, `yes_label` is the button that does it. The web door shows it on its confirm
    page; one wording for every door, declared where the step is.
    """

    title: str
    question: str
    consequence: str = "Nothing is done until you press the button."
    yes_label: str = "Yes, go ahead"


#: Words for a step's confirmation: (turn, services) in, or (turn, services, number) for a
#: numbered step. None when there is nothing particular to say (the plain fallback is used).
ConfirmWords = Callable[..., Awaitable[Confirmation | None]]


def plain_confirmation(text: str) -> Confirmation:
    """The fallback for a step that declares no words of its own: still plain, and says
    that nothing happens until the button is pressed."""
    return Confirmation(
        title="Are you sure?",
        question=f'Do you want to go ahead with "{text}"?',
        consequence="Nothing is done until you press the button.",
    )


@dataclass(frozen=True)
class SubCommand:
    """A word after a command (`engagements answer 4`), with what it does declared once.

    `run` is None when the command's own handler reads the word itself (`readiness
    summary`); otherwise the command's dispatcher calls it, with the number that follows
    when `numbered`.
    """

    name: str
    run: Callable[..., Awaitable[list[Reply]]] | None = None
    #: Takes an id: `engagements show 4`. Without one, people are asked which.
    numbered: bool = False
    #: Changes data, so the web door runs it only from a posted form (CSRF).
    changes_things: bool = False
    #: Shows a form, so chat doors open a modal or card at once.
    opens_form: bool = False
    #: What to ask before it runs when it `changes_things`: fixed words, or a callable that
    #: reads the row (`ConfirmWords`). Without one, a plain fallback is asked.
    confirm: Confirmation | ConfirmWords | None = None


async def run_step(
    command: str,
    steps: Mapping[str, SubCommand],
    turn: Turn,
    services: Any,
    *,
    listing: Handler,
) -> list[Reply]:
    """Route `command <step> …` to the step its declaration names; a bare command (or
    `list`) shows `listing`. A numbered step without a number asks which one, in words that
    say how to type it; an unknown step says so. One dispatcher for every feature whose
    command has sub-commands, so they all answer the same way."""
    words, _ = parse_command(turn.text or "")
    words = words[1:]
    asked = [w for w in words if w != "chat"]
    step = asked[0] if asked else "list"
    if step == "list":
        return list(await listing(turn, services))
    declared = steps.get(step)
    if declared is None or declared.run is None:
        return [
            Notice(
                text=f'Sorry, I don\'t know "{command} {step}". See them: '
                f"{command_ref(command, f'the {command} list')}, or "
                f"{command_ref('help', 'help')} for everything I can do.",
                level="warning",
            )
        ]
    if not declared.numbered:
        return await declared.run(turn, services)
    number = row_id(words[1]) if len(words) > 1 else row_id(turn.args.get("id"))
    if number is None:
        return [
            Notice(
                text=f"Which one? Find it in the list: {command_ref(command, f'the {command} list')}.",
                level="warning",
            )
        ]
    return await declared.run(turn, services, number)


@dataclass(frozen=True)
class Command:
    """A command word people type or press, and who it is for."""

    name: str
    summary: str
    run: Handler
    audience: str = "everyone"
    #: The bare command shows a form (`profile`), so chat doors open one at once.
    opens_form: bool = False
    #: The bare command changes data (`join CODE`).
    changes_things: bool = False
    #: What to ask before the bare command runs, when it `changes_things` (see `SubCommand`).
    confirm: Confirmation | ConfirmWords | None = None
    subcommands: tuple[SubCommand, ...] = ()
    #: The Teams command lists it appears in (the manifest's lists are checked against it).
    teams_scopes: frozenset[str] = frozenset({"personal"})
    #: Keep the command to its audience for everyone, on every door (see `Gate`). Without
    #: one, the audience only decides who sees it in help.
    gate: Gate | None = None
    #: Its answers are for the person asking and those they work with on it (an agreement's
    #: check-ins, a service's feedback): never given in a chat other people read, where
    #: anyone in the channel would see them. The router refuses it there, with its buttons.
    private: bool = False

    def __post_init__(self) -> None:
        if self.gate is not None and self.audience == "everyone":
            raise ValueError(f"{self.name} has a gate but is for everyone")
        if self.audience not in AUDIENCES:
            raise ValueError(f"unknown audience {self.audience!r} for {self.name}")
        if not self.teams_scopes <= TEAMS_SCOPES:
            raise ValueError(f"unknown Teams scope for {self.name}: {set(self.teams_scopes)}")
        names = [s.name for s in self.subcommands]
        if len(names) != len(set(names)):
            raise ValueError(f"a sub-command of {self.name} is declared twice")

    def subcommand(self, name: str) -> SubCommand | None:
        return next((s for s in self.subcommands if s.name == name), None)

    def form_steps(self) -> frozenset[str]:
        return frozenset(s.name for s in self.subcommands if s.opens_form)

    def changing_steps(self) -> frozenset[str]:
        return frozenset(s.name for s in self.subcommands if s.changes_things)


@dataclass(frozen=True)
class HomeSection:
    """Sections a feature adds to Home. Lower `order` shows first: Home reads as a
    page, so its order is the product's choice, not the order features are listed in."""

    order: int
    sections: HomeSectionsFn


@dataclass(frozen=True)
class NavLink:
    """A link in the site's main navigation, declared by the feature it leads to.

    It goes to `command` (`/do/<command>`), or to `path` (a page the feature offers) when
    given. It is shown only to people in `audience`, and only while `command` is
    registered; when it is not and there is a `fallback` command, that is used instead (the
    commissioners' Dashboard goes to Home until a `dashboard` command exists). Lower
    `order` shows first; links to the same place are shown once.
    """

    label: str
    command: str
    audience: str = "everyone"
    order: int = 50
    path: str | None = None
    fallback: str | None = None

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise ValueError(f"unknown audience {self.audience!r} for the {self.label} link")


def navigation(
    links: Iterable[NavLink], actor: Any, registered: Callable[[str], bool]
) -> list[tuple[str, str]]:
    """The (label, command or path) pairs `actor` sees, in order, each place once.

    A path starts with "/"; anything else is a command for the door to link to. A person
    with several roles sees the union of their links."""
    shown: list[tuple[str, str]] = []
    places: set[str] = set()
    for link in sorted(links, key=lambda link: link.order):
        if not fits(actor, link.audience):
            continue
        command = link.command
        if not registered(command):
            if link.fallback is None or not registered(link.fallback):
                continue
            command = link.fallback
        place = link.path if link.path and command == link.command else command
        if place in places or any(label == link.label for label, _ in shown):
            continue
        places.add(place)
        shown.append((link.label, place))
    return shown


@dataclass(frozen=True)
class Feature:
    """Everything one feature offers, declared once in the feature's own module."""

    name: str
    commands: tuple[Command, ...] = ()
    #: Button action id prefix -> handler (`join.` for join-request decisions), or a
    #: `GatedAction` when the button is only for an audience.
    actions: Mapping[str, Handler | GatedAction] = field(default_factory=dict)
    #: The form purposes (`handlers.forms.FormPurpose`) the feature's forms are for; a
    #: form key is matched to its purpose through these.
    form_purposes: tuple[Any, ...] = ()
    #: Reminder kind -> what the due sweep calls when one is due.
    reminders: Mapping[str, ReminderHandler] = field(default_factory=dict)
    home_sections: tuple[HomeSection, ...] = ()
    #: The files the feature offers (its exports), as file sources the app's `FileDesk`
    #: redeems tickets at; each is made from the app's settings, since tickets are signed.
    exports: tuple[Callable[[Any], FileSource], ...] = ()
    #: Web pages the feature offers (the engagement record), served by the web door.
    pages: tuple[WebPage, ...] = ()
    #: Links to the feature in the web door's main navigation, by audience.
    nav: tuple[NavLink, ...] = ()


class Features:
    """The features of the product, in the order their commands are shown in help."""

    def __init__(self, features: Iterable[Feature]) -> None:
        self.features = tuple(features)
        seen: dict[str, str] = {}
        for feature in self.features:
            for command in feature.commands:
                if command.name in seen or command.name == "help":
                    raise ValueError(f"command {command.name!r} is registered twice")
                seen[command.name] = feature.name
        self._purposes: dict[str, Any] = {}
        for purpose in self.form_purposes():
            if purpose.form_key in self._purposes:
                raise ValueError(f"form key {purpose.form_key!r} has two purposes")
            self._purposes[purpose.form_key] = purpose
        kinds = [kind for f in self.features for kind in f.reminders]
        if len(kinds) != len(set(kinds)):
            raise ValueError("a reminder kind is registered twice")

    def commands(self) -> list[Command]:
        return [c for f in self.features for c in f.commands]

    def command(self, name: str) -> Command | None:
        return next((c for c in self.commands() if c.name == name), None)

    def actions(self) -> dict[str, Handler | GatedAction]:
        return {prefix: h for f in self.features for prefix, h in f.actions.items()}

    def form_purposes(self) -> list[Any]:
        return [p for f in self.features for p in f.form_purposes]

    def purpose(self, form_key: str) -> Any | None:
        """The purpose declared for a form key. Keys made per item (`engagement-12`) are
        declared by their prefix (`engagement-`)."""
        found = self._purposes.get(form_key)
        if found is None and "-" in form_key:
            found = self._purposes.get(form_key.rsplit("-", 1)[0] + "-")
        return found

    def reminders(self) -> dict[str, ReminderHandler]:
        return {kind: h for f in self.features for kind, h in f.reminders.items()}

    def home_sections(self) -> list[HomeSection]:
        return sorted((s for f in self.features for s in f.home_sections), key=lambda s: s.order)

    def file_sources(self, settings: Any) -> list[FileSource]:
        return [make(settings) for f in self.features for make in f.exports]

    def pages(self) -> tuple[WebPage, ...]:
        return tuple(page for f in self.features for page in f.pages)

    def nav_links(self) -> tuple[NavLink, ...]:
        return tuple(link for f in self.features for link in f.nav)

    def teams_commands(self, scope: str) -> list[str]:
        """The commands the Teams manifest lists for a scope (plus `help`, which is built in)."""
        return ["help", *(c.name for c in self.commands() if scope in c.teams_scopes)]
