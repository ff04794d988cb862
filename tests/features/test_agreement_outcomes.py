"""An agreement's outcomes framework, agreed by both sides: Priya (the council) proposes an
outcome, Tom (Riverside Youth Trust, the party) accepts it; Tom proposes an indicator and
Priya declines it with a reason. Only accepted proposals change the framework; every
proposal and decision is on the record with who and when. Outputs stay apart from outcomes.
Gentle warnings (not refusals) past 12 outcomes, past 6 indicators, and for an "outcome"
that reads like an output. Bad requests and strangers change nothing and are audited."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.core.enums import Door
from handlers.agreements.outcomes import Ask, Decide, read_request
from storage.models import AuditEvent
from storage.outcome_tables import ItemKind, OutcomeItem, OutcomeProposal, ProposalAction
from tests.features.engagement_story import add_hilltop
from tests.features.test_agreements import NOW, answers, record
from tests.support.inprocess import Conversation, TestDoor, text_of


async def framework(door: TestDoor) -> list[tuple[Any, ...]]:
    async with door.services.db.session() as session:
        items = [
            (i.kind, i.outcome_id, i.position, i.text)
            for i in (await session.scalars(select(OutcomeItem).order_by(OutcomeItem.id))).all()
        ]
        proposals = [
            (p.id, p.status, p.decided_by, p.decline_reason)
            for p in (
                await session.scalars(select(OutcomeProposal).order_by(OutcomeProposal.id))
            ).all()
        ]
    return [*items, *proposals]


async def audited(door: TestDoor, person: Conversation, action: str) -> list[AuditEvent]:
    async with door.services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.action == action, AuditEvent.actor_id == person.person_id
                    )
                )
            ).all()
        )


async def last_proposal(door: TestDoor) -> OutcomeProposal:
    async with door.services.db.session() as session:
        found = await session.scalar(
            select(OutcomeProposal).order_by(OutcomeProposal.id.desc()).limit(1)
        )
    assert found is not None
    return found


async def test_only_what_the_other_side_accepts_changes_the_framework(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await record(priya, answers())
    tom = await door.sign_in("Tom Okafor", door=Door.TEAMS)

    said = text_of(await priya.say(f"agreements framework {n} add outcome Young people feel safer"))
    assert "Proposed, number" in said and "Riverside Youth Trust" in said
    assert "does not change until the other side" in said
    assert [row for row in await framework(door) if row[0] in set(ItemKind)] == []
    first = await last_proposal(door)

    # Priya's own side proposed it: she can't accept it herself.
    said = text_of(await priya.say(f"agreements framework {n} accept {first.id}"))
    assert "the other side" in said and "Nothing was changed" in said
    assert len(await audited(door, priya, "agreement.refused")) == 1

    shown = text_of(await tom.say(f"agreements outcomes {n}"))
    assert f"Proposal {first.id}, waiting for you" in shown
    assert "Add outcome: Young people feel safer" in shown
    assert "Your organisation, the other organisations party" in shown
    assert "go to the form to propose a change" in shown
    assert "Priya Shah (the council), Monday 12 January 2026, 9am" in shown

    said = text_of(await tom.say(f"agreements framework {n} accept {first.id}"))
    assert "Accepted proposal" in said and "Outcome 1: Young people feel safer" in said
    assert len(await audited(door, tom, "outcomes.accepted")) == 1

    # Tom proposes an indicator and an output; Priya declines one with her reason.
    await tom.say(f"agreements framework {n} add indicator 1 Young people say they feel safe")
    indicator = await last_proposal(door)
    await tom.say(f"agreements framework {n} add output Sessions run each month")
    output = await last_proposal(door)
    said = text_of(await priya.say(f"agreements framework {n} decline {indicator.id}"))
    assert "Say why you decline it" in said
    said = text_of(
        await priya.say(
            f"agreements framework {n} decline {indicator.id} We ask this in the KPI survey"
        )
    )
    assert "Declined proposal" in said
    await priya.say(f"agreements framework {n} accept {output.id}")

    shown = text_of(await priya.say(f"agreements show {n}"))
    assert "Outcome 1: Young people feel safer" in shown and "No indicators yet." in shown
    assert "Outputs (counts of activity)" in shown and "Sessions run each month" in shown
    assert 'Their reason: "We ask this in the KPI survey"' in shown
    assert "Declined by Priya Shah (the council), Monday 12 January 2026, 9am" in shown
    async with door.services.db.session() as session:
        items = (await session.scalars(select(OutcomeItem).order_by(OutcomeItem.id))).all()
        assert [(i.kind, i.text) for i in items] == [
            ("outcome", "Young people feel safer"),
            ("output", "Sessions run each month"),
        ]

    # A decided proposal stays decided.
    said = text_of(await tom.say(f"agreements framework {n} accept {indicator.id}"))
    assert "already declined" in said

    # Change and remove go the same way.
    await tom.say(
        f"agreements framework {n} change outcome 1 Young people chat with a trusted adult"
    )
    await priya.say(f"agreements framework {n} accept {(await last_proposal(door)).id}")
    await priya.say(f"agreements framework {n} remove output 1")
    await tom.say(f"agreements framework {n} accept {(await last_proposal(door)).id}")
    async with door.services.db.session() as session:
        items = (await session.scalars(select(OutcomeItem))).all()
        assert [(i.kind, i.text) for i in items] == [
            ("outcome", "Young people chat with a trusted adult")
        ]
    shown = text_of(await tom.say(f"agreements outcomes {n}"))
    assert 'Remove output 1: "Sessions run each month"' in shown or (
        'Remove output: "Sessions run each month"' in shown
    )


async def test_gentle_warnings_never_refuse(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await record(priya, answers())
    said = text_of(await priya.say(f"agreements framework {n} add outcome Number of sessions run"))
    assert "reads like an output" in said and "Proposed, number" in said
    said = text_of(await priya.say(f"agreements framework {n} add outcome 40 young people"))
    assert "reads like an output" in said
    said = text_of(await priya.say(f"agreements framework {n} add outcome Families cope better"))
    assert "reads like an output" not in said and "outcomes. Most" not in said

    async with door.services.db.session() as session:
        outcomes = [
            OutcomeItem(agreement_id=n, kind="outcome", position=p, text=f"Change {p}")
            for p in range(1, 13)
        ]
        session.add_all(outcomes)
        await session.flush()
        session.add_all(
            OutcomeItem(
                agreement_id=n, kind="indicator", outcome_id=outcomes[0].id, position=p, text="x"
            )
            for p in range(1, 7)
        )
    said = text_of(await priya.say(f"agreements framework {n} add outcome Parents feel heard"))
    assert "This would make 13 outcomes. Most frameworks have 8 to 12" in said
    said = text_of(await priya.say(f"agreements framework {n} add indicator 1 Parents say so"))
    assert "This would give outcome 1 7 indicators" in said
    said = text_of(await priya.say(f"agreements framework {n} add indicator 2 Parents say so"))
    assert "indicators. 3 to 6" not in said
    async with door.services.db.session() as session:
        assert len((await session.scalars(select(OutcomeProposal))).all()) == 6


@pytest.mark.parametrize("on", [Door.WEB, Door.SLACK, Door.TEAMS])
async def test_bad_requests_and_strangers_change_nothing_and_are_on_the_record(
    door: TestDoor, on: Door
) -> None:
    door.freeze(NOW)
    await add_hilltop(door.services)
    priya = await door.sign_in("Priya Shah")
    n = await record(priya, answers())
    await priya.say(f"agreements framework {n} add outcome Young people feel safer")
    before = await framework(door)
    tom = await door.sign_in("Tom Okafor", door=on)
    for typed, words in [
        ("add", "Say which"),
        ("add outcome", "Write the words"),
        ("juggle outcome 1", "is not something"),
        ("change outcome 3 Other words", "There is no outcome 3"),
        ("remove indicator 1", "like 1.2"),
        ("add indicator 4 Words", "There is no outcome 4"),
        ("accept 999", "There is no proposal 999"),
        ("decline", "Give the proposal's number"),
        ("add output " + "x" * 501, "Keep it under 500"),
        ("add indicator 0 Words", "Give the outcome's number"),
    ]:
        said = text_of(await tom.say(f"agreements framework {n} {typed}"))
        assert words in said and "Nothing was changed" in said, (typed, said)
    assert len(await audited(door, tom, "agreement.refused")) == 10
    assert await framework(door) == before

    for name in ("Grace Lee", "Yusuf Khan"):
        other = await door.sign_in(name, door=on)
        for command in (
            f"agreements outcomes {n}",
            f"agreements framework {n} add outcome Mine",
            f"agreements framework {n} accept 1",
        ):
            said = text_of(await other.say(command))
            assert "couldn't find that agreement" in said and "Young people" not in said
        assert len(await audited(door, other, "agreement.refused")) == 3
    assert await framework(door) == before


def typed_as(text: str) -> list[str]:
    return text.split()


def test_what_is_typed_is_read_with_its_capitals_and_every_word() -> None:
    assert read_request(typed_as("add outcome 'Young people chat with a trusted adult'")) == Ask(
        ProposalAction.ADD, ItemKind.OUTCOME, (), "Young people chat with a trusted adult"
    )
    assert read_request(typed_as("remove indicator 2.3")) == Ask(
        ProposalAction.REMOVE, ItemKind.INDICATOR, (2, 3), None
    )
    assert read_request(typed_as("change outputs 1 Sessions a week")) == Ask(
        ProposalAction.CHANGE, ItemKind.OUTPUT, (1,), "Sessions a week"
    )
    assert read_request(typed_as("Decline 7 Not now")) == Decide(False, 7, "Not now")
    assert isinstance(read_request(typed_as("change indicator 2 Words")), str)
