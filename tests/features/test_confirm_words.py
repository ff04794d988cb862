"""What a step that changes things asks first, declared once by the feature for every door
(`SubCommand.confirm`), and the status a provider sees where they look: in-process.

The web door's confirm page (title, words, yes, "No, go back") is tested over HTTP in
tests/integration/test_confirm_web.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.core.feature import Confirmation
from bot.core.turn import Door, Turn
from bot.services import Services
from handlers import features
from storage.models import AuditEvent, FormResponse, Membership
from tests.features.engagement_story import TITLE, make_engagement
from tests.features.test_membership import _newcomer
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of


async def _asked(services: Services, who: Conversation, text: str) -> Confirmation:
    """What the web door would ask before running `text` for this person."""
    turn = Turn(door=Door.WEB, actor=await who.actor(), text=text)
    return await services.router.confirmation(turn, services)


async def test_publishing_says_what_will_happen_and_to_how_many(
    door: TestDoor, services: Services
) -> None:
    story = await make_engagement(services, publish=False)
    priya = await door.sign_in("Priya Shah")
    asked = await _asked(services, priya, f"engagements publish {story.engagement_id}")
    assert asked.title == "Publish this engagement?"
    found = re.fullmatch(rf"Publish '{TITLE}' to (\d+) organisations? now\?", asked.question)
    assert found and int(found.group(1)) > 0, asked.question
    assert "told at the same moment" in asked.consequence
    assert asked.yes_label == "Yes, publish it"

    # A provider is never told a draft's title: the plain words instead.
    tom = await door.sign_in("Tom Okafor")
    plain = await _asked(services, tom, f"engagements publish {story.engagement_id}")
    assert plain.title == "Are you sure?" and TITLE not in plain.question
    assert "Nothing is done until you press the button" in plain.consequence
    # Asking changed nothing.
    assert "Published" not in text_of(await tom.say("engagements"))


async def test_every_changing_step_of_the_main_features_has_its_own_words(
    services: Services,
) -> None:
    """Publish, close, cancel, approve, reject, withdraw, remove... each says what will
    happen; only steps that just open a form may fall back to the plain words."""
    missing = []
    for name in ("engagements", "opportunities", "agreements", "feedback", "pipeline", "invite"):
        command = features().command(name)
        assert command is not None
        for step in command.subcommands:
            if step.changes_things and step.confirm is None:
                missing.append(f"{name} {step.name}")
    assert missing == []


async def test_agreement_decisions_name_what_is_decided(door: TestDoor, services: Services) -> None:
    priya = await door.sign_in("Priya Shah")
    approve = await _asked(services, priya, "agreements variation 7 approve")
    assert approve.title == "Approve this change?" and approve.question == "Approve variation 7?"
    reject = await _asked(services, priya, "agreements variation 7 reject")
    assert "Nothing about the agreement changes" in reject.consequence
    # An unknown word after the number gets the plain words, not a wrong promise.
    assert (await _asked(services, priya, "agreements variation 7 eat")).title == "Are you sure?"


async def test_opening_a_check_in_only_records_it_was_seen() -> None:
    """Declared so: a link to a check-in opens it without asking (the web door asks only
    for what `changes_things`)."""
    agreements = features().command("agreements")
    assert agreements is not None
    checkin = agreements.subcommand("checkin")
    indicator = agreements.subcommand("indicator")
    assert checkin is not None and not checkin.changes_things
    assert indicator is not None and not indicator.changes_things


async def test_a_provider_sees_their_place_and_their_answers_on_the_engagement(
    door: TestDoor, services: Services
) -> None:
    story = await make_engagement(services, capacity=10)
    e, event = story.engagement_id, story.event_id
    tom = await door.sign_in("Tom Okafor")
    shown = text_of(await tom.say(f"engagements show {e}"))
    assert "You have a place" not in shown and "You sent your answers" not in shown

    assert (
        "Cancel your place at Drop-in at the library"
        in (await _asked(services, tom, f"engagements cancel {event}")).question
    )
    await tom.say(f"engagements rsvp {event}")
    await tom.fill(f"engagements answer {e}", {0: {"viable_terms": "Longer agreements."}, 1: {}})
    replies = await tom.say(f"engagements show {e}")
    shown = text_of(replies)
    assert "You have a place at Drop-in at the library on" in shown, shown
    assert re.search(
        r"You sent your answers on \w+day \d+ \w+ \d{4}; you can change them until \w+day", shown
    ), shown
    buttons = [b for r in replies for s in getattr(r, "sections", []) for b in s.buttons]
    assert any(b.label == "Cancel your place" and b.value == f"cancel {event}" for b in buttons)
    assert any(b.label == "Change your answers" for b in buttons)


async def test_home_lists_only_drafts_with_an_answer(door: TestDoor, services: Services) -> None:
    story = await make_engagement(services)
    tom = await door.sign_in("Tom Okafor")
    form = form_in(await tom.say(f"engagements answer {story.engagement_id}"))
    assert "Page 1 of 2" in form.progress
    # Opened and left: nothing to finish.
    assert "Form to finish" not in text_of(await tom.say("home"))
    replies = await tom.send_page(form, {"viable_terms": "Longer agreements."}, page=0)
    assert form_in(replies).progress == "Page 2 of 2"
    assert "Form to finish" in text_of(await tom.say("home"))


async def test_an_unanswered_draft_is_tidied_away_after_a_week(
    door: TestDoor, services: Services
) -> None:
    story = await make_engagement(services)
    door.freeze()
    tom = await door.sign_in("Tom Okafor")
    form_in(await tom.say(f"engagements answer {story.engagement_id}"))
    await tom.say("home")
    async with services.db.session() as session:
        assert await session.scalar(select(FormResponse).where(FormResponse.state == "draft"))
    door.advance(timedelta(days=8))
    assert "Form to finish" not in text_of(await tom.say("home"))
    async with services.db.session() as session:
        assert not await session.scalar(select(FormResponse).where(FormResponse.state == "draft"))


async def test_invite_shows_the_same_code_until_a_new_one_is_made(
    door: TestDoor, services: Services
) -> None:
    tom = await door.sign_in("Tom Okafor")

    def code_in(text: str) -> str:
        found = re.search(r"Share this code: ([A-Z0-9]{4}-[A-Z0-9]{4})", text)
        assert found, text
        return found.group(1)

    first = code_in(text_of(await tom.say("invite")))
    assert code_in(text_of(await tom.say("invite"))) == first
    asked = await _asked(services, tom, "invite new")
    assert asked.title == "Make a new invite code?"
    assert f"Your code {first} will stop working at once" in asked.consequence
    made = text_of(await tom.say("invite new"))
    second = code_in(made)
    assert second != first and "Your old code stopped working" in made
    assert code_in(text_of(await tom.say("invite"))) == second

    await _newcomer(services, "Sam Newton")
    sam = await door.sign_in("Sam Newton")
    assert "That code doesn't work" in text_of(await sam.say("join", code=first))
    assert "You are now part of" in text_of(await sam.say("join", code=second))
    async with services.db.session() as session:
        made_codes = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "membership.code_created")
            )
        ).all()
    assert len(made_codes) == 2

    # Taking somebody out asks first, naming them, to an admin of theirs only.
    sam_id = await door.person_id("Sam Newton")
    async with services.db.session() as session:
        membership_id = await session.scalar(
            select(Membership.id).where(Membership.person_id == sam_id)
        )
    asked = await _asked(services, tom, f"invite remove {membership_id}")
    assert asked.title == "Remove Sam Newton?"
    assert asked.question == "Remove Sam Newton from Riverside Youth Trust in Convene?"
    assert "signed out at once" in asked.consequence
    priya = await door.sign_in("Priya Shah")
    assert "Sam" not in (await _asked(services, priya, f"invite remove {membership_id}")).question
    removed = text_of(await tom.say(f"invite remove {membership_id}"))
    assert "Sam Newton is no longer part of Riverside Youth Trust" in removed
