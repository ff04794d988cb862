"""Rough edges found by trying agreements from outside (issue 15), in-process: on the web a
provider had no way to the check-in's upload page (the check-in said "send your own
report" but linked nowhere), and the page after sending a check-in had no way on."""

from __future__ import annotations

from bot.core.enums import Door
from bot.core.reply import Button, Message, Reply
from handlers.agreements.evidence import upload_path
from tests.features.test_agreement_monitoring import NOW, agreed, make_agreement, send_first
from tests.support.inprocess import TestDoor, text_of


def _buttons(replies: list[Reply]) -> list[Button]:
    return [b for r in replies if isinstance(r, Message) for b in r.buttons]


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
