"""Variations by form, linked variations, values written back and check-ins that follow a
new end, in-process.

Tom (Riverside Youth Trust) asks for a change with the form (`agreements vary N`), and
Priya (the council) is told at once with an Agree button. Two 6% increases on the £250,000
youth clubs contract: on their own each is within the 10% limit (s.75(2)(a)), so no change
notice; marked as one series, the second is added to the first (s.75(4)-(5)) and together
they are 12%: a notice is needed. An approved change is written to the agreement's current
value while the value on award stays kept for the totals. A longer term adds the plan's
check-ins on working days; a shorter one cancels later ones and their chases. Framework
proposals reach the other side at once, with buttons, and decisions reach the proposer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.enums import Door
from bot.core.reply import Button, Message
from bot.core.turn import Intent
from handlers.agreements.monitoring import CHASE_KIND, CHECKIN_KIND
from storage.agreement_tables import Agreement
from storage.models import AuditEvent, WorkState
from storage.variation_link_tables import AgreementOriginal, VariationLink
from storage.variation_tables import AgreementVariation
from tests.features.test_agreement_monitoring import FIRST_CHECKIN, agreed, make_agreement
from tests.features.test_agreement_variations import latest_variation, refusals, variations
from tests.features.test_agreements import answers, record
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of

#: Monday 12 January 2026, 9am.
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)

CHANGE = {"what": "Two more youth clubs", "why": "More young people asked", "evidence": ""}


async def ask_by_form(
    person: Conversation, agreement_id: int, money_and_time: dict[str, Any]
) -> list[Any]:
    """Open the form with `agreements vary N`, send both pages; the last replies."""
    form = form_in(await person.say(f"agreements vary {agreement_id}"))
    assert form.form_key == "agreement_variation" and form.page_count == 2
    replies = await person.send_page(form, CHANGE, intent=Intent.NEXT, page=0)
    form = form_in(replies)
    return await person.send_page(form, money_and_time, intent=Intent.SUBMIT, page=1)


async def approve(
    priya: Conversation, tom: Conversation, variation_id: int, *, asked_by_tom: bool = True
) -> None:
    answerer = priya if asked_by_tom else tom
    assert "agreed to" in text_of(await answerer.say(f"agreements variation {variation_id} agree"))
    said = text_of(await priya.say(f'agreements variation {variation_id} approve reason="Fair"'))
    assert f"Approved variation {variation_id}" in said, said


async def test_either_side_asks_with_the_form_and_the_other_side_gets_buttons(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    agreement_id = await record(priya, answers())
    said = text_of(await ask_by_form(tom, agreement_id, {"value": "£20,000", "term": "90"}))
    assert "Asked: variation" in said, said
    variation = await latest_variation(door)
    assert (variation.side, variation.value_change_pence, variation.term_change_days) == (
        "provider",
        2_000_000,
        90,
    )
    assert variation.what_changes == "Two more youth clubs" and variation.evidence is None
    # Priya (the team: the other side and the approvers) is told at once, with Agree.
    (told,) = [
        q
        for q in await door.outbox(person_id=priya.person_id)
        if "change is asked" in text_of(q.replies)
    ]
    message = told.replies[0]
    assert isinstance(message, Message)
    assert (
        Button(label="Agree", action="cmd.agreements", value=f"variation {variation.id} agree")
        in message.buttons
    )
    assert "up £20,000" in message.text and "longer by 90 days" in (message.text or "")
    # Pressing it agrees, as typing would.
    said = text_of(await priya.press("cmd.agreements", f"variation {variation.id} agree"))
    assert f"You agreed to variation {variation.id}" in said, said
    # When the council asks, the provider is asked and the other approvers are told.
    await ask_by_form(priya, agreement_id, {"ends": "2028-06-30"})
    asked = [
        q
        for q in await door.outbox(person_id=tom.person_id)
        if "change is asked" in text_of(q.replies)
    ]
    assert len(asked) == 1 and "new end date Friday 30 June 2028" in text_of(asked[0].replies)


@pytest.mark.parametrize(
    ("money_and_time", "field", "words"),
    [
        ({"value": "lots"}, "value", 'could not read "lots" as an amount of money'),
        ({"ends": "2026-01-01"}, "ends", "can't end (Thursday 1 January 2026) before it starts"),
        ({"linked": "999"}, "linked", "Variation 999 is not an earlier variation"),
        ({"linked": "soon"}, "linked", 'could not read "soon" as variation numbers'),
    ],
)
async def test_a_bad_answer_sends_the_form_back_saves_nothing_and_is_on_the_record(
    door: TestDoor, money_and_time: dict[str, Any], field: str, words: str
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers())
    before = await variations(door)
    form = form_in(await ask_by_form(priya, agreement_id, money_and_time))
    assert words in form.errors[field], form.errors
    assert await variations(door) == before
    assert len(await refusals(door, priya)) == 1


async def test_a_link_to_another_agreements_variation_is_refused(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    first = await record(priya, answers())
    second = await record(priya, answers(title="Lunch clubs in Preston"))
    said = text_of(
        await priya.say(f'agreements vary {first} what="More" why="Demand" value=£1,000')
    )
    assert "Asked: variation" in said
    other = await latest_variation(door)
    before = await variations(door)
    said = text_of(
        await priya.say(f'agreements vary {second} what="More" why="Demand" linked={other.id}')
    )
    assert f"Variation {other.id} is not an earlier variation of this agreement" in said
    assert await variations(door) == before
    assert len(await refusals(door, priya)) == 1


async def test_an_ended_agreement_does_not_open_the_form(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers())
    door.advance(datetime(2028, 4, 3, 9, tzinfo=UTC) - door.now())
    said = text_of(await priya.say(f"agreements vary {agreement_id}"))
    assert "ended on Friday 31 March 2028" in said, said
    assert len(await refusals(door, priya)) == 1


async def six_percent(
    priya: Conversation, tom: Conversation, agreement_id: int, linked: str
) -> AgreementVariation:
    """Tom asks for £15,000 more (6% of £250,000); Priya agrees and approves it."""
    await ask_by_form(tom, agreement_id, {"value": "£15,000", "linked": linked})
    variation = await latest_variation(priya.test_door)
    await approve(priya, tom, variation.id)
    return await latest_variation(priya.test_door)


@pytest.mark.parametrize("linked", [True, False])
async def test_linked_changes_count_together_and_unlinked_ones_do_not(
    door: TestDoor, linked: bool
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    agreement_id = await record(priya, answers())
    first = await six_percent(priya, tom, agreement_id, "")
    assert not first.change_notice_required
    second = await six_percent(priya, tom, agreement_id, str(first.id) if linked else "")
    # Each is 6%; together 12% is over the 10% of s.75(2)(a), and only linked changes
    # are added together (s.75(4)-(5)).
    assert second.change_notice_required is linked
    async with door.services.db.session() as session:
        links = (await session.scalars(select(VariationLink))).all()
    assert [(k.variation_id, k.linked_variation_id) for k in links] == (
        [(second.id, first.id)] if linked else []
    )
    shown = text_of(await priya.say(f"agreements variations {agreement_id}"))
    assert "+12.00%" in shown
    if linked:
        assert f"variation {first.id} (counted together, section 75(4))" in shown
        assert "needs a contract change notice" in priya.text() or "Needed (UK10" in shown
    else:
        assert "counted together" not in shown
        assert "Taken together, the changes so far are beyond the limits" in shown


async def test_an_approved_change_is_written_to_the_current_value(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    agreement_id = await record(priya, answers())  # £250,000 to Friday 31 March 2028
    await ask_by_form(tom, agreement_id, {"value": "£20,000", "ends": "2028-06-30"})
    variation = await latest_variation(door)
    async with door.services.db.session() as session:
        assert await session.get(AgreementOriginal, agreement_id) is None
    await approve(priya, tom, variation.id)
    async with door.services.db.session() as session:
        agreement = await session.get(Agreement, agreement_id)
        original = await session.get(AgreementOriginal, agreement_id)
    assert agreement is not None and original is not None
    assert (agreement.value_pence, agreement.ends_on) == (27_000_000, date(2028, 6, 30))
    assert (original.value_pence, original.ends_on) == (25_000_000, date(2028, 3, 31))
    # The totals stay against the value on award: 8%, not 0%.
    shown = text_of(await tom.say(f"agreements variations {agreement_id}"))
    assert "Worth £250,000 when agreed, ending Friday 31 March 2028" in shown
    assert "worth £270,000 (+8.00%)" in shown
    # A rejected one changes nothing.
    await ask_by_form(tom, agreement_id, {"value": "£5,000"})
    rejected = await latest_variation(door)
    assert "agreed to" in text_of(await priya.say(f"agreements variation {rejected.id} agree"))
    await priya.say(f'agreements variation {rejected.id} reject reason="No budget"')
    async with door.services.db.session() as session:
        agreement = await session.get(Agreement, agreement_id)
    assert agreement is not None and agreement.value_pence == 27_000_000


async def pending(door: TestDoor, kind: str) -> list[Any]:
    return [r for r in await door.reminders(kind=kind) if r.state == WorkState.PENDING]


async def test_a_longer_term_adds_the_plans_checkins_on_working_days(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)  # 14 January to 31 December 2026, monthly
    priya, tom = await agreed(door, agreement_id)
    before = {r.payload["due_on"] for r in await pending(door, CHECKIN_KIND)}
    assert max(before) <= "2026-12-31"
    said = text_of(
        await priya.say(
            f'agreements vary {agreement_id} what="Run on" why="Going well" ends=2027-03-31'
        )
    )
    assert "Asked: variation" in said
    variation = await latest_variation(door)
    await approve(priya, tom, variation.id, asked_by_tom=False)
    after = await pending(door, CHECKIN_KIND)
    days = {r.payload["due_on"] for r in after}
    added = sorted(days - before)
    assert added and all("2027-01-01" <= d <= "2027-03-31" for d in added), added
    assert {"2027-01-14", "2027-02-15", "2027-03-15"} <= days  # 14 Feb and 14 Mar 2027 are Sundays
    assert all(r.due_at.weekday() < 5 for r in after)
    for person in (tom, priya):
        (moved,) = [
            q
            for q in await door.outbox(person_id=person.person_id)
            if "Check-ins moved" in text_of(q.replies)
        ]
        assert "New check-ins: " in text_of(moved.replies)
        assert "Thursday 14 January 2027" in text_of(moved.replies)


async def test_a_shorter_term_cancels_later_checkins_and_their_chases(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    priya, tom = await agreed(door, agreement_id)
    door.advance(FIRST_CHECKIN - door.now())  # the 14 February check-in goes on Monday 16th
    assert await door.sweep() >= 1
    assert await pending(door, CHASE_KIND)
    assert await pending(door, CHECKIN_KIND)
    said = text_of(
        await priya.say(
            f'agreements vary {agreement_id} what="Stop early" why="Funding" ends=2026-02-13'
        )
    )
    assert "Asked: variation" in said
    variation = await latest_variation(door)
    await approve(priya, tom, variation.id, asked_by_tom=False)
    assert await pending(door, CHECKIN_KIND) == []
    assert await pending(door, CHASE_KIND) == []
    (moved,) = [
        q
        for q in await door.outbox(person_id=tom.person_id)
        if "Check-ins moved" in text_of(q.replies)
    ]
    assert "No longer needed: " in text_of(moved.replies)
    assert "Reminders about a check-in due after the new end have stopped" in text_of(moved.replies)


async def test_a_framework_proposal_reaches_the_other_side_and_the_decision_the_proposer(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor", door=Door.SLACK)
    agreement_id = await record(priya, answers())
    said = text_of(
        await priya.say(f"agreements framework {agreement_id} add outcome Young people feel safer")
    )
    assert "They have been sent it now" in said, said
    (told,) = [
        q
        for q in await door.outbox(person_id=tom.person_id)
        if "outcomes framework" in text_of(q.replies)
    ]
    message = told.replies[0]
    assert isinstance(message, Message)
    labels = [b.label for b in message.buttons]
    assert labels[:2] == ["Accept", "Decline"]
    accept = message.buttons[0]
    said = text_of(await tom.press(accept.action, accept.value or ""))
    assert "Accepted proposal" in said, said
    (decided,) = [
        q
        for q in await door.outbox(person_id=priya.person_id)
        if "Your framework proposal" in text_of(q.replies)
    ]
    assert "was accepted" in text_of(decided.replies)
    # Tom proposes; Priya declines with a reason, and Tom is told why.
    await tom.say(f"agreements framework {agreement_id} add output Sessions run each month")
    async with door.services.db.session() as session:
        refused_before = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "agreement.refused")
            )
        ).all()
    proposals = [
        q
        for q in await door.outbox(person_id=priya.person_id)
        if "outcomes framework" in text_of(q.replies)
    ]
    assert len(proposals) == 1
    said = text_of(
        await priya.say(
            f"agreements framework {agreement_id} decline 2 We count sessions in the KPIs"
        )
    )
    assert "Declined proposal 2" in said, said
    (declined,) = [
        q
        for q in await door.outbox(person_id=tom.person_id)
        if "Your framework proposal" in text_of(q.replies)
    ]
    assert "We count sessions in the KPIs" in text_of(declined.replies)
    assert refused_before == []


async def test_a_framework_change_can_be_proposed_with_the_form(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    agreement_id = await record(priya, answers())
    form = form_in(await tom.say(f"agreements framework {agreement_id}"))
    assert form.form_key == "outcomes_proposal"
    # Changing one needs its number: sent back, nothing proposed, on the record.
    form = form_in(
        await tom.send_page(
            form,
            {"action": "change", "kind": "outcome", "words": "Feel safe"},
            intent=Intent.SUBMIT,
        )
    )
    assert "Give the outcome's number" in form.errors["number"], form.errors
    assert len(await refusals(door, tom)) == 1
    said = text_of(
        await tom.send_page(
            form,
            {"action": "add", "kind": "outcome", "number": "", "words": "Young people feel safer"},
            intent=Intent.SUBMIT,
        )
    )
    assert "Proposed, number" in said and "They have been sent it now" in said, said
    (told,) = [
        q
        for q in await door.outbox(person_id=priya.person_id)
        if "outcomes framework" in text_of(q.replies)
    ]
    assert "Add outcome: Young people feel safer" in text_of(told.replies)


async def test_the_form_asks_one_question_at_a_time_in_chat(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor", door=Door.SLACK)
    agreement_id = await record(priya, answers())
    said = text_of(await tom.say(f"agreements vary {agreement_id} chat"))
    assert "What would change?" in said, said
    for answer in ("A summer scheme", "Schools asked for it", "skip", "£10,000", "skip"):
        await tom.say(answer)
    for answer in ("skip", "skip"):
        said = text_of(await tom.say(answer))
    assert "Asked: variation" in said, said
    variation = await latest_variation(door)
    assert (variation.what_changes, variation.value_change_pence, variation.evidence) == (
        "A summer scheme",
        1_000_000,
        None,
    )


async def test_another_provider_cannot_open_the_form_and_it_is_on_the_record(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers())
    grace = await door.sign_in("Grace Lee")
    before = await variations(door)
    for command in (
        f"agreements vary {agreement_id}",
        f"agreements change {agreement_id}",
        f"agreements propose {agreement_id}",
        f'agreements vary {agreement_id} what="More" why="Demand"',
    ):
        said = text_of(await grace.say(command))
        assert "couldn't find that agreement" in said and "Youth clubs" not in said, said
    assert await variations(door) == before
    assert len(await refusals(door, grace)) == 4
