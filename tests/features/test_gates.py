"""Commands kept to their audience by a declared gate: refused in the command's own words,
nothing run, and the attempt audited once, whichever way the command arrives."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.core.feature import Command, Feature, Gate, GatedAction, fits
from bot.core.turn import Action, Actor, Door, Grant, Turn
from bot.services import Services
from handlers import features
from storage.models import AuditEvent, Role
from storage.visibility import can_browse_directory
from tests.support.inprocess import TestDoor, text_of


async def _refusals(services: Services, action: str) -> list[AuditEvent]:
    async with services.db.session() as session:
        return list(
            (await session.scalars(select(AuditEvent).where(AuditEvent.action == action))).all()
        )


async def test_a_provider_asking_for_deliveries_is_refused_and_it_is_audited(
    door: TestDoor, services: Services
) -> None:
    grace = await door.sign_in("Grace Lee")
    replies = await grace.say("deliveries")
    assert text_of(replies) == "Only Convene admins can see deliveries."
    # The same command from a button meets the same gate.
    replies = await grace.press("cmd.deliveries")
    assert text_of(replies) == "Only Convene admins can see deliveries."
    events = await _refusals(services, "deliveries.refused")
    assert [(e.object_type, e.door) for e in events] == [("deliveries", "web")] * 2


async def test_a_button_kept_to_admins_is_refused_and_audited_before_it_runs(
    door: TestDoor, services: Services
) -> None:
    """`deliveries.retry` is not a command typed, so it carries its own gate."""
    grace = await door.sign_in("Grace Lee")
    replies = await grace.press("deliveries.retry", "999999")
    # Refused before the handler looks the message up (it would say "could not be found").
    assert text_of(replies) == "Only Convene admins can retry deliveries."
    events = await _refusals(services, "deliveries.retry_refused")
    assert [(e.object_type, e.door) for e in events] == [("deliveries", "web")]


async def test_an_admin_passes_the_gate_and_nothing_is_audited(
    door: TestDoor, services: Services
) -> None:
    alex = await door.sign_in("Alex Morgan")
    replies = await alex.say("deliveries")
    assert "Deliveries" in text_of(replies)
    assert await _refusals(services, "deliveries.refused") == []


def test_every_gated_command_has_an_audience_and_plain_words() -> None:
    gated = [c for c in features().commands() if c.gate is not None]
    assert {c.name for c in gated} >= {"directory", "deliveries"}
    for command in gated:
        assert command.audience != "everyone"
        assert command.gate is not None
        assert command.gate.refusal.endswith("."), command.name
        assert command.gate.audit_action.endswith(".refused"), command.name
    for feature in features().features:
        for prefix, action in feature.actions.items():
            if isinstance(action, GatedAction):
                assert action.gate.refusal.endswith("."), prefix
                assert action.gate.audit_action.endswith("_refused"), prefix


def test_a_gate_needs_an_audience() -> None:
    async def nothing(turn: Turn, services: object) -> list[object]:
        return []

    with pytest.raises(ValueError, match="gate but is for everyone"):
        Command("open", "for all", nothing, gate=Gate("No.", "open.refused", "open"))


COMMISSIONER = Actor(1, "Priya", grants=(Grant(Role.COMMISSIONER, authority_id=1),))
PROVIDER = Actor(2, "Tom", grants=(Grant(Role.PROVIDER_ADMIN, organisation_id=3),))
ADMIN = Actor(3, "Alex", grants=(Grant(Role.ADMIN),))
NOBODY = Actor(4, "New person")


@pytest.mark.parametrize("actor", [COMMISSIONER, PROVIDER, ADMIN, NOBODY], ids=lambda a: a.name)
def test_the_directory_gate_is_the_visibility_rule(actor: Actor) -> None:
    """The gate must let through exactly whom storage.visibility lets browse."""
    directory = features().command("directory")
    assert directory is not None
    assert fits(actor, directory.audience) == can_browse_directory(actor)


def test_the_router_gates_typed_commands_and_command_buttons_alike() -> None:
    from handlers import build_router

    router = build_router()
    for turn in (
        Turn(door=Door.SLACK, actor=PROVIDER, text="directory service=food"),
        Turn(door=Door.TEAMS, actor=PROVIDER, action=Action(id="cmd.directory", value="")),
    ):
        gate = router.gate_for(turn)
        assert gate is not None and gate.audit_action == "directory.refused"
    assert router.gate_for(Turn(door=Door.WEB, actor=COMMISSIONER, text="directory")) is None
    # Other buttons, and commands without a gate, go on to their handlers.
    assert router.gate_for(Turn(door=Door.WEB, actor=PROVIDER, text="profile")) is None
    assert (
        router.gate_for(Turn(door=Door.WEB, actor=PROVIDER, action=Action(id="profile.x"))) is None
    )


def test_an_unused_feature_declaration_is_fine() -> None:
    assert Feature(name="empty").commands == ()
