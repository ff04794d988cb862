"""The feature registry is the one place a feature is wired: these checks fail when a
manifest, a form purpose or a declaration disagrees with it."""

from __future__ import annotations

import inspect
import json

import pytest
import yaml

from bot.core.feature import Command, Feature, Features, SubCommand
from bot.teams.package import TEMPLATE
from handlers import build_router, features, reminder_handlers
from handlers.forms import FormPurpose, purpose_for
from manifest import slack_manifest_text


async def _nothing(*_: object) -> list[object]:
    return []


def test_teams_command_lists_are_what_the_registry_gives_each_scope() -> None:
    """Every command Teams lists is registered, and each list is exactly the commands
    declared for its scopes (a new command can't be forgotten in the manifest)."""
    (bot,) = json.loads(TEMPLATE.read_text())["bots"]
    registry = features()
    registered = {c.name for c in registry.commands()} | {"help"}
    covered: set[str] = set()
    for listed in bot["commandLists"]:
        titles = [c["title"] for c in listed["commands"]]
        assert set(titles) <= registered
        assert len(titles) == len(set(titles))
        for scope in listed["scopes"]:
            assert set(titles) == set(registry.teams_commands(scope)), scope
            covered.add(scope)
    declared = {s for c in registry.commands() for s in c.teams_scopes}
    assert declared <= covered <= set(bot["scopes"])


def test_slack_usage_hint_names_only_registered_commands_and_steps() -> None:
    (command,) = yaml.safe_load(slack_manifest_text())["features"]["slash_commands"]
    registry = features()
    for entry in command["usage_hint"].split("|"):
        name, *rest = entry.split()
        if name == "help":
            assert not rest
            continue
        declared = registry.command(name)
        assert declared is not None, name
        for word in rest:
            assert declared.subcommand(word) is not None, entry


def _concrete(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        if not inspect.isabstract(sub):
            found.add(sub)
        found |= _concrete(sub)
    return found


def test_every_form_purpose_is_declared_by_exactly_one_feature() -> None:
    """A purpose no feature declares would leave its forms unanswerable: submissions find
    a form's purpose through the declarations."""
    declared = features().form_purposes()
    assert len(declared) == len({id(p) for p in declared})
    assert {type(p) for p in declared} == _concrete(FormPurpose)
    for purpose in declared:
        assert purpose_for(purpose.form_key) is purpose
        if purpose.form_key.endswith("-"):
            assert purpose_for(purpose.form_key + "12") is purpose
    assert purpose_for("no_such_form") is None


def test_the_router_and_the_due_sweep_are_built_from_the_registry() -> None:
    registry = features()
    router = build_router()
    assert list(router.commands) == [c.name for c in registry.commands()]
    assert set(router.actions) == set(registry.actions())
    assert reminder_handlers() == registry.reminders()
    engagements = registry.command("engagements")
    assert engagements is not None
    assert router.commands["engagements"].opens_form == engagements.form_steps()
    assert router.commands["engagements"].changes_things == engagements.changing_steps()


def test_sub_commands_say_once_what_they_do() -> None:
    step = SubCommand("close", _nothing, numbered=True, changes_things=True)
    command = Command("things", "do things", _nothing, subcommands=(step,))
    router = build_router()
    router.add(Feature(name="things", commands=(command,)))
    assert router.changes_things("things close 4")
    assert not router.changes_things("things")
    assert not router.opens_form("things close 4")


def test_a_command_registered_twice_is_refused() -> None:
    one = Feature(name="a", commands=(Command("same", "one", _nothing),))
    two = Feature(name="b", commands=(Command("same", "two", _nothing),))
    with pytest.raises(ValueError, match="twice"):
        Features([one, two])
    with pytest.raises(ValueError, match="audience"):
        Command("x", "x", _nothing, audience="nobody")
    with pytest.raises(ValueError, match="Teams scope"):
        Command("x", "x", _nothing, teams_scopes=frozenset({"meeting"}))


def test_home_sections_show_in_their_declared_order() -> None:
    orders = [s.order for s in features().home_sections()]
    assert orders == sorted(orders) and len(orders) == len(set(orders))


async def test_run_step_runs_the_declared_step_and_asks_for_a_missing_number() -> None:
    from bot.core.feature import SubCommand, run_step
    from bot.core.reply import Notice, Reply, chat_words
    from bot.core.turn import Actor, Door, Turn

    ran: list[tuple[str, int | None]] = []

    async def show(turn: Turn, services: object, number: int) -> list[Reply]:
        ran.append(("show", number))
        return []

    async def new(turn: Turn, services: object) -> list[Reply]:
        ran.append(("new", None))
        return []

    async def listing(turn: Turn, services: object) -> list[Reply]:
        ran.append(("list", None))
        return []

    steps = {"show": SubCommand("show", show, numbered=True), "new": SubCommand("new", new)}
    actor = Actor(1, "Priya")

    async def say(text: str, **args: str) -> list[Reply]:
        turn = Turn(door=Door.WEB, actor=actor, text=text, args=args)
        return await run_step("things", steps, turn, None, listing=listing)

    assert await say("things") == [] and await say("things chat") == []
    assert await say("things show 4") == [] and await say("things show", id="9") == []
    assert await say("things new") == []
    assert ran == [("list", None), ("list", None), ("show", 4), ("show", 9), ("new", None)]
    (which,) = await say("things show")
    # Which one? points at the list, a link on the web and "type things" in chat.
    assert isinstance(which, Notice) and "Which one?" in which.text
    assert "type things" in chat_words(which.text)
    (unknown,) = await say("things fly 2")
    assert isinstance(unknown, Notice) and 'don\'t know "things fly"' in unknown.text
    assert len(ran) == 5  # neither ran anything
