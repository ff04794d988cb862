"""Rough edges found by trying agreements from outside (issue 15), in-process: on the web a
provider had no way to the check-in's upload page (the check-in said "send your own
report" but linked nowhere), and the page after sending a check-in had no way on."""

from __future__ import annotations

from bot.core.enums import Door
from bot.core.reply import Button, Message, Notice, Reply
from handlers.agreements.evidence import upload_path
from tests.features.test_agreement_monitoring import (
    NOW,
    PLAN,
    agreed,
    make_agreement,
    send_first,
)
from tests.support.inprocess import TestDoor, text_of


def _buttons(replies: list[Reply]) -> list[Button]:
    """Every button of the messages, their own and their sections'."""
    return [
        b
        for r in replies
        if isinstance(r, Message)
        for b in [*r.buttons, *(b for s in r.sections for b in s.buttons)]
    ]


def _report_links(replies: list[Reply]) -> list[str]:
    return [b.url or "" for b in _buttons(replies) if b.label == "Send a report or photos"]


async def test_the_checkin_links_to_its_upload_page_on_every_door(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    await agreed(door, agreement_id)
    checkin_id = await send_first(door)
    base = door.services.settings.base_url
    (sent,) = [
        q
        for q in await door.outbox(person_id=await door.person_id("Tom Okafor"))
        if "Check-in" in q.text
    ]
    # Sent to chat or the inbox: the full address.
    assert _report_links(sent.replies) == [f"{base}{upload_path(checkin_id)}"]
    web = await door.sign_in("Tom Okafor", door=Door.WEB)
    assert _report_links(await web.say(f"agreements checkin {checkin_id}")) == [
        upload_path(checkin_id)
    ]
    slack = await door.sign_in("Tom Okafor", door=Door.SLACK)
    assert _report_links(await slack.say(f"agreements checkin {checkin_id}")) == [
        f"{base}{upload_path(checkin_id)}"
    ]


async def test_after_sending_a_checkin_there_is_a_next_step(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    await agreed(door, agreement_id)
    checkin_id = await send_first(door)
    tom = await door.sign_in("Tom Okafor", door=Door.WEB)
    replies = await tom.say(f'agreements answer {checkin_id} effective="Yes, 40 a week" rag=green')
    said = text_of(replies)
    assert "your check-in for Youth clubs in Preston is sent" in said, said
    assert _report_links(replies) == [upload_path(checkin_id)]
    (back,) = [b for b in _buttons(replies) if b.label == "See the agreement"]
    assert back.value == f"show {agreement_id}"


async def test_the_agreement_page_links_to_each_checkin_and_a_plan_to_accept(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    priya = await door.sign_in("Priya Shah", door=Door.WEB)
    tom = await door.sign_in("Tom Okafor", door=Door.WEB)
    labels = [b.label for b in _buttons(await tom.say(f"agreements show {agreement_id}"))]
    assert "Propose a monitoring plan" in labels
    await priya.say(f"agreements plan {agreement_id} {PLAN}")
    tom_sees = _buttons(await tom.say(f"agreements show {agreement_id}"))
    assert [b.value for b in tom_sees if b.label == "Accept the plan"] == [f"accept {agreement_id}"]
    priya_sees = _buttons(await priya.say(f"agreements show {agreement_id}"))
    assert not [b for b in priya_sees if b.label == "Accept the plan"]  # her own proposal
    await tom.say(f"agreements accept {agreement_id}")
    checkin_id = await send_first(door)

    tom_sees = _buttons(await tom.say(f"agreements show {agreement_id}"))
    assert [b.value for b in tom_sees if b.label.startswith("Answer the check-in of")] == [
        f"answer {checkin_id}"
    ]
    priya_sees = _buttons(await priya.say(f"agreements show {agreement_id}"))
    assert not [b for b in priya_sees if "check-in of" in b.label]  # nothing to open yet
    said = text_of(await tom.say(f"agreements answer {checkin_id} rag=amber effective=Yes"))
    assert "is sent" in said, said
    priya_sees = _buttons(await priya.say(f"agreements show {agreement_id}"))
    assert [b.value for b in priya_sees if b.label.startswith("Open the check-in of")] == [
        f"checkin {checkin_id}"
    ]


async def test_asking_for_a_variation_has_a_way_on(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    tom = await door.sign_in("Tom Okafor", door=Door.WEB)
    replies = await tom.say(
        f'agreements vary {agreement_id} what="Two more youth clubs" why="More young people '
        'asked" value=£20,000'
    )
    assert "Asked: variation" in text_of(replies), text_of(replies)
    ways = [(b.label, b.value) for r in replies if isinstance(r, Notice) for b in r.buttons]
    assert ways == [
        ("See the variations", f"variations {agreement_id}"),
        ("Back to the agreement", f"show {agreement_id}"),
    ]


def _notice_buttons(replies: list[Reply]) -> list[Button]:
    return [b for r in replies if isinstance(r, Notice) for b in r.buttons]


async def test_a_refused_agreement_and_one_not_ended_have_a_way_on(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    grace = await door.sign_in("Grace Lee", door=Door.WEB)
    refused = await grace.say(f"agreements show {agreement_id}")
    assert "We couldn't find that agreement" in text_of(refused)
    (back,) = _notice_buttons(refused)
    listed = text_of(await grace.press(back.action, back.value))
    assert "Your organisation's agreements" in listed, listed
    assert "Youth clubs in Preston" not in listed

    priya = await door.sign_in("Priya Shah", door=Door.WEB)
    (end,) = _notice_buttons(await priya.say(f"agreements ending {agreement_id}"))
    assert (end.label, end.value) == ("Record its end", f"end {agreement_id}")
    tom = await door.sign_in("Tom Okafor", door=Door.WEB)
    assert _notice_buttons(await tom.say(f"agreements ending {agreement_id}")) == []
