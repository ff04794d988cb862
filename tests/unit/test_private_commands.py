"""A private command (an agreement's check-ins, a service's feedback) is never answered in a
conversation other people read; elsewhere it runs as usual, and so do public commands."""

from __future__ import annotations

from typing import Any

from bot.core.feature import Command, Feature
from bot.core.reply import Notice, Reply
from bot.core.router import Router
from bot.core.turn import Action, Actor, Door, Turn

SECRET = "the provider's answers"


async def _secret(turn: Turn, services: Any) -> list[Reply]:
    return [Notice(text=SECRET)]


def _router() -> Router:
    router = Router()
    router.add(
        Feature(
            name="private",
            commands=(Command("agreements", "private things", _secret, private=True),),
            actions={"agreements.": _secret},
        )
    )
    router.add(Feature(name="public", commands=(Command("opportunities", "public", _secret),)))
    return router


def _turn(*, shared: bool, text: str | None = None, action: Action | None = None) -> Turn:
    return Turn(
        door=Door.TEAMS,
        actor=Actor(person_id=1, name="Priya Shah"),
        text=text,
        action=action,
        shared=shared,
    )


def _said(replies: list[Reply]) -> str:
    return " ".join(r.text for r in replies if isinstance(r, Notice))


async def test_a_private_command_is_refused_in_a_shared_chat_and_answered_in_a_private_one() -> (
    None
):
    router = _router()
    shared = _said(await router.dispatch(_turn(shared=True, text="agreements checkin 4"), None))
    assert SECRET not in shared and "Other people can read this chat" in shared
    alone = _said(await router.dispatch(_turn(shared=False, text="agreements checkin 4"), None))
    assert alone == SECRET


async def test_its_buttons_are_refused_there_too() -> None:
    router = _router()
    for action in (Action("cmd.agreements", "checkin 4"), Action("agreements.open", "4")):
        said = _said(await router.dispatch(_turn(shared=True, action=action), None))
        assert SECRET not in said and "Other people can read this chat" in said, action


async def test_a_public_command_still_answers_in_a_shared_chat() -> None:
    router = _router()
    said = _said(await router.dispatch(_turn(shared=True, text="opportunities"), None))
    assert said == SECRET
