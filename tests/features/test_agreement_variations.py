"""Variations, in-process: Priya (the council) and Tom (Riverside Youth Trust) vary the
youth clubs contract. A small change needs no notice; a later one that moves the end date by
a quarter of the term does: the team is told, reminded every week at the start of a working
day, and the reminders stop when the notice's identifier is recorded. The same on a
light-touch contract and on a grant: never a notice. An ended agreement can't be varied;
another provider and another council see nothing; bad input changes nothing and is on the
record."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import LONDON
from bot.core.enums import Door
from storage.agreement_tables import Agreement
from storage.models import AuditEvent, WorkState
from storage.variation_tables import AgreementVariation
from tests.features.engagement_story import add_hilltop
from tests.features.test_agreements import answers, record
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of

#: Monday 12 January 2026, 9am.
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
KIND = "agreement.change_notice"


async def variations(door: TestDoor) -> list[tuple[Any, ...]]:
    async with door.services.db.session() as session:
        rows = (
            await session.scalars(select(AgreementVariation).order_by(AgreementVariation.id))
        ).all()
        ends = [a.ends_on for a in (await session.scalars(select(Agreement))).all()]
        return [
            *(
                (v.id, v.state, v.value_change_pence, v.term_change_days, v.change_notice_required)
                for v in rows
            ),
            *ends,
        ]


async def refusals(door: TestDoor, person: Conversation) -> list[AuditEvent]:
    async with door.services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.action == "agreement.refused",
                        AuditEvent.actor_id == person.person_id,
                    )
                )
            ).all()
        )


async def latest_variation(door: TestDoor) -> AgreementVariation:
    async with door.services.db.session() as session:
        found = await session.scalar(
            select(AgreementVariation).order_by(AgreementVariation.id.desc()).limit(1)
        )
    assert found is not None
    return found


async def vary_and_approve(
    asker: Conversation, answerer: Conversation, priya: Conversation, agreement_id: int, change: str
) -> AgreementVariation:
    said = text_of(
        await asker.say(f'agreements vary {agreement_id} what="More clubs" why="Demand" {change}')
    )
    assert "Asked: variation" in said, said
    variation = await latest_variation(asker.test_door)
    said = text_of(await answerer.say(f"agreements variation {variation.id} agree"))
    assert "agreed to" in said, said
    said = text_of(
        await priya.say(f'agreements variation {variation.id} approve reason="Good value"')
    )
    assert f"Approved variation {variation.id}" in said, said
    return await latest_variation(asker.test_door)


async def pending(door: TestDoor) -> list[Any]:
    return [r for r in await door.reminders(kind=KIND) if r.state == WorkState.PENDING]


async def notice_messages(door: TestDoor, person: Conversation) -> list[Any]:
    return [
        q
        for q in await door.outbox(person_id=person.person_id)
        if "contract change notice is needed" in text_of(q.replies)
    ]


async def test_pushed_over_the_threshold_a_notice_is_needed_and_the_team_reminded(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    agreement_id = await record(priya, answers())  # £250,000, 1 April 2026 to 31 March 2028

    # 8% more money: within the 10% limit, no notice.
    first = await vary_and_approve(priya, tom, priya, agreement_id, "value=£20,000")
    assert not first.change_notice_required
    assert await pending(door) == []
    assert "contract change notice" not in priya.text()

    # Tom asks for six more months: 183 days on a 731-day term is 25%. A notice is needed.
    second = await vary_and_approve(
        tom, priya, priya, agreement_id, 'ends=2028-09-30 evidence="Waiting list of 40"'
    )
    assert second.change_notice_required and second.term_change_days == 183
    said = priya.text()
    assert "now ends on Saturday 30 September 2028" in said
    assert "needs a contract change notice" in said
    async with door.services.db.session() as session:
        agreement = await session.get(Agreement, agreement_id)
        assert agreement is not None and agreement.ends_on == date(2028, 9, 30)
    # The team is told at once, and a reminder is set a week on, at 8am on a working day.
    assert len(await notice_messages(door, priya)) == 1
    assert await notice_messages(door, tom) == []
    (reminder,) = await pending(door)
    assert reminder.due_at == datetime(2026, 1, 19, 8, 0, tzinfo=UTC)

    # Shown with the agreement, with the running totals, to both sides.
    shown = text_of(await priya.say(f"agreements show {agreement_id}"))
    assert "Variation" in shown and "+8.00%" in shown and "+25.03%" in shown
    assert "Needed (UK10, section 75), not recorded yet" in shown
    assert "Waiting list of 40" in text_of(await tom.say(f"agreements variations {agreement_id}"))

    # A week on, the reminder fires and the next one is set.
    door.advance(reminder.due_at - door.now())
    assert await door.sweep() == 1
    assert len(await notice_messages(door, priya)) == 2
    (again,) = await pending(door)
    assert again.due_at == datetime(2026, 1, 26, 8, 0, tzinfo=UTC)

    # Recording the notice stops them.
    assert "Give the notice's identifier" in text_of(
        await priya.say(f"agreements variation {second.id} notice")
    )
    said = text_of(await priya.say(f"agreements variation {second.id} notice id=UK10-2026-00123"))
    assert "Recorded the change notice UK10-2026-00123" in said
    assert await pending(door) == []
    door.advance(timedelta(days=14))
    assert await door.sweep() == 0
    assert len(await notice_messages(door, priya)) == 2
    assert "Recorded: UK10-2026-00123" in text_of(
        await priya.say(f"agreements variations {agreement_id}")
    )


@pytest.mark.parametrize(
    ("route", "words"),
    [("light_touch", "light-touch contract"), ("grant", "This is a grant")],
)
async def test_light_touch_and_grants_never_need_a_notice(
    door: TestDoor, route: str, words: str
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    agreement_id = await record(priya, answers(route=route))
    # 40% more money and six more months: far beyond the limits.
    variation = await vary_and_approve(priya, tom, priya, agreement_id, "value=£100,000 term=183")
    assert not variation.change_notice_required
    assert "contract change notice" not in priya.text()
    assert await pending(door) == [] and await notice_messages(door, priya) == []
    shown = text_of(await priya.say(f"agreements variations {agreement_id}"))
    assert words in shown and "+40.00%" in shown


async def test_an_ended_agreement_cant_be_varied(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers())
    door.advance(datetime(2028, 4, 3, 9, tzinfo=UTC) - door.now())
    before = await variations(door)
    said = text_of(
        await priya.say(f'agreements vary {agreement_id} what="More" why="Demand" value=£1,000')
    )
    assert "ended on Friday 31 March 2028" in said and "Nothing was changed" in said
    assert await variations(door) == before
    (refused,) = await refusals(door, priya)
    assert refused.details["reason"] == "agreement has ended"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("value=lots", 'could not read "lots" as an amount of money'),
        ("term=soon", 'could not read "soon" as a number of days'),
        ("ends=2026-01-01", "can't end (Thursday 1 January 2026) before it starts"),
        ("term=30 ends=2028-09-30", "not both"),
    ],
)
async def test_bad_requests_change_nothing_and_are_on_the_record(
    door: TestDoor, change: str, words: str
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers())
    before = await variations(door)
    said = text_of(
        await priya.say(f'agreements vary {agreement_id} what="More" why="Demand" {change}')
    )
    assert words in said, said
    said = text_of(await priya.say(f"agreements vary {agreement_id} value=£1,000"))
    assert "Say what changes and why" in said
    assert await variations(door) == before
    assert len(await refusals(door, priya)) == 2


async def test_each_side_only_does_its_part(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    agreement_id = await record(priya, answers())
    await tom.say(f'agreements vary {agreement_id} what="New hall" why="Old one closed"')
    # The other side is asked to answer; the asker is not.
    asked = [
        q
        for q in await door.outbox(person_id=priya.person_id)
        if "asks to change" in text_of(q.replies)
    ]
    assert len(asked) == 1 and "New hall" in text_of(asked[0].replies)
    assert not [
        q
        for q in await door.outbox(person_id=tom.person_id)
        if "asks to change" in text_of(q.replies)
    ]
    variation = await latest_variation(door)
    before = await variations(door)
    # Tom asked, so Tom can't answer; Priya can't approve before the answer.
    assert "the other side answers it" in text_of(
        await tom.say(f"agreements variation {variation.id} agree")
    )
    assert "has not answered yet" in text_of(
        await priya.say(f'agreements variation {variation.id} approve reason="Fine"')
    )
    # Only the team decides.
    assert "Only the commissioning team" in text_of(
        await tom.say(f'agreements variation {variation.id} approve reason="Fine"')
    )
    # With no reason, a short form asks for it (the web has nowhere to type reason="...");
    # opening it changes nothing, and its answer runs the same step as the typed reason.
    assert form_in(await priya.say(f"agreements variation {variation.id} disagree")).fields
    assert await variations(door) == before
    said = text_of(
        await priya.fill(
            f"agreements variation {variation.id} disagree", {0: {"reason": "Too costly"}}
        )
    )
    assert f"You disagreed with variation {variation.id}" in said
    assert "can't be approved" in text_of(
        await priya.say(f'agreements variation {variation.id} approve reason="Fine"')
    )
    said = text_of(
        await priya.say(f'agreements variation {variation.id} reject reason="Too costly"')
    )
    assert "Rejected variation" in said
    shown = text_of(await tom.say(f"agreements variations {agreement_id}"))
    assert "Disagreed: Too costly" in shown
    assert "Rejected" in shown
    assert len(await refusals(door, tom)) == 2 and len(await refusals(door, priya)) == 2


@pytest.mark.parametrize("on", [Door.WEB, Door.SLACK, Door.TEAMS])
async def test_another_provider_and_another_council_see_nothing(door: TestDoor, on: Door) -> None:
    door.freeze(NOW)
    await add_hilltop(door.services)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers())
    await priya.say(
        f'agreements vary {agreement_id} what="Secret change" why="Demand" value=£5,000'
    )
    # Tom, of the party, is asked; nobody else is sent anything about it.
    tom = await door.sign_in("Tom Okafor")
    about_it = [q for q in await door.outbox() if "Secret change" in text_of(q.replies)]
    assert [q.row.person_id for q in about_it] == [tom.person_id]
    variation = await latest_variation(door)
    before = await variations(door)
    for name in ("Grace Lee", "Yusuf Khan"):
        other = await door.sign_in(name, door=on)
        for command in (
            f"agreements variations {agreement_id}",
            f'agreements vary {agreement_id} what="x" why="y"',
            f"agreements variation {variation.id} agree",
            f'agreements variation {variation.id} reject reason="no"',
        ):
            said = text_of(await other.say(command))
            assert "couldn't find that agreement" in said and "Secret change" not in said, said
        assert len(await refusals(door, other)) == 4
    assert await variations(door) == before


async def test_an_approved_new_end_moves_the_key_date_reminders(door: TestDoor) -> None:
    """The end-of-term reminder follows the agreement's end when a variation moves it."""
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    agreement_id = await record(priya, answers())  # 1 April 2026 to 31 March 2028

    async def end_of_term() -> date:
        (found,) = [
            r
            for r in await door.reminders(kind="agreement.key_date")
            if r.state == WorkState.PENDING
            and r.target_id.startswith(f"{agreement_id}:end_of_term:")
        ]
        return found.due_at.astimezone(LONDON).date()

    # Reminded on the last working day on or before the end: Friday 31 March 2028.
    assert await end_of_term() == date(2028, 3, 31)
    await vary_and_approve(tom, priya, priya, agreement_id, "ends=2028-09-30")
    # The new end is Saturday 30 September 2028: reminded on Friday 29 September.
    assert await end_of_term() == date(2028, 9, 29)
