"""Monitoring an agreement, in-process: Priya proposes a monthly plan and Tom (Riverside
Youth Trust) accepts it; the check-in moves off a Saturday to Monday 8am and goes to Tom,
who answers in chat; Priya is told, as a prompt to talk, with the rating the plan has. A
non-responder is reminded twice, then only the team is told; "away until" pauses that. For
a consortium only the lead is asked, and other providers see nothing of it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.enums import Door
from handlers.agreements.monitoring import CHASE_KIND, CHECKIN_KIND
from storage.agreement_tables import Agreement, AgreementParty
from storage.models import AuditEvent, Organisation
from storage.monitoring_tables import CheckinRow, MonitoringPlanRow
from tests.support.inprocess import Conversation, TestDoor, text_of

#: Monday 12 January 2026, 9am.
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
#: Monthly from Wednesday 14 January: the first falls on Saturday 14 February.
FIRST_CHECKIN = datetime(2026, 2, 16, 8, 0, tzinfo=UTC)
PLAN = (
    'frequency=monthly method="A short form each month, and a call if either side wants one" '
    'questions=effective,harder_easier rag=yes timeline="Answers within 10 working days"'
)


async def make_agreement(door: TestDoor, *, consortium: bool = False) -> int:
    priya = await door.actor(await door.person_id("Priya Shah"))
    (authority_id,) = sorted(priya.commissioner_for())
    async with door.services.db.session() as session:
        orgs = {o.slug: o.id for o in (await session.scalars(select(Organisation))).all()}
        agreement = Agreement(
            authority_id=authority_id,
            title="Youth clubs in Preston",
            route="standard_contract",
            vat_basis="including",
            value_pence=25_000_000,
            starts_on=date(2026, 1, 14),
            ends_on=date(2026, 12, 31),
            payment_terms_days=30,
        )
        session.add(agreement)
        await session.flush()
        if consortium:
            session.add_all(
                [
                    AgreementParty(
                        agreement_id=agreement.id,
                        organisation_id=orgs["riverside-youth-trust"],
                        role="lead",
                        share_percent=60,
                    ),
                    AgreementParty(
                        agreement_id=agreement.id,
                        organisation_id=orgs["asha-womens-centre"],
                        role="member",
                        share_percent=40,
                    ),
                ]
            )
        else:
            session.add(
                AgreementParty(
                    agreement_id=agreement.id,
                    organisation_id=orgs["riverside-youth-trust"],
                    role="sole",
                )
            )
        return agreement.id


async def agreed(door: TestDoor, agreement_id: int) -> tuple[Conversation, Conversation]:
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    await priya.say(f"agreements plan {agreement_id} {PLAN}")
    assert "Nothing is sent until the provider accepts it" in priya.text(), priya.text()
    await tom.say(f"agreements accept {agreement_id}")
    assert "Agreed: the monitoring plan" in tom.text(), tom.text()
    return priya, tom


async def send_first(door: TestDoor) -> int:
    door.advance(FIRST_CHECKIN - door.now())
    assert await door.sweep() >= 1
    async with door.services.db.session() as session:
        (checkin,) = (await session.scalars(select(CheckinRow))).all()
        return checkin.id


async def texts_to(door: TestDoor, name: str) -> list[str]:
    return [q.text for q in await door.outbox(person_id=await door.person_id(name))]


async def refusals(door: TestDoor) -> list[AuditEvent]:
    async with door.services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "agreement.refused")
                )
            ).all()
        )


async def test_a_plan_needs_both_sides_and_has_no_default_frequency(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")

    # No frequency and no dates: refused, nothing saved, on the record.
    await priya.say(f'agreements plan {agreement_id} method="A form" questions=effective')
    assert "Convene does not choose for you" in priya.text()
    assert "Nothing was changed" in priya.text()
    await priya.say(f"agreements plan {agreement_id} frequency=fortnightly method=form")
    assert "How often must be one of" in priya.text()
    async with door.services.db.session() as session:
        assert (await session.scalars(select(MonitoringPlanRow))).all() == []
    assert len(await refusals(door)) == 2

    # Tom proposes; Tom cannot accept his own proposal; Priya accepts.
    await tom.say(f"agreements plan {agreement_id} {PLAN}")
    assert "until the council's team accepts it" in tom.text()
    await tom.say(f"agreements accept {agreement_id}")
    assert "the other side needs to accept it" in tom.text()
    assert await door.reminders(kind=CHECKIN_KIND) == []
    await priya.say(f"agreements accept {agreement_id}")
    assert "Monday 16 February 2026, 8am" in priya.text(), priya.text()
    due = [r.due_at for r in await door.reminders(kind=CHECKIN_KIND)]
    assert due[0] == FIRST_CHECKIN
    # The 14th of each month February to December, then the last 17 days at the end.
    assert len(due) == 12
    assert all(d.astimezone(UTC).weekday() < 5 for d in due)

    # Both see the plan on the agreement, with the burden meter.
    said = text_of(await tom.say(f"agreements show {agreement_id}"))
    assert "Agreed by both sides" in said and "every month" in said
    assert "No check-ins have been sent yet" in said


@pytest.mark.parametrize("tom_door", [Door.SLACK, Door.TEAMS, Door.WEB])
async def test_a_checkin_goes_on_a_working_morning_and_is_answered_in_chat(
    door: TestDoor, tom_door: Door
) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    priya, _ = await agreed(door, agreement_id)
    tom = await door.sign_in("Tom Okafor", door=tom_door)
    checkin_id = await send_first(door)

    (sent,) = [q for q in await door.outbox(person_id=tom.person_id) if "Check-in" in q.text]
    assert sent.row.next_attempt_at >= FIRST_CHECKIN
    assert "Monday 16 February 2026" in sent.text
    assert "Which outcomes are harder or easier" in sent.text
    assert "Is it efficient" not in sent.text  # only the questions the plan chose

    opened = text_of(await tom.say(f"agreements checkin {checkin_id}"))
    assert "rag=green" in opened
    door.advance(timedelta(minutes=12))
    # Bad answers: nothing changed, on the record.
    await tom.say(f'agreements answer {checkin_id} effective="Yes"')
    assert "add rag=red, rag=amber or rag=green" in tom.text()
    await tom.say(f'agreements answer {checkin_id} sustainable="Yes" rag=green')
    assert "no question called 'sustainable'" in tom.text()
    async with door.services.db.session() as session:
        row = await session.get(CheckinRow, checkin_id)
        assert row is not None and row.answered_at is None

    await tom.say(
        f'agreements answer {checkin_id} effective="Yes, 40 came each week" '
        'harder_easier="Girls\' football is harder to fill" rag=green'
    )
    assert "your check-in for Youth clubs in Preston is sent" in tom.text()
    (told,) = [q.text for q in await door.outbox(person_id=priya.person_id) if "answered" in q.text]
    assert "40 came each week" in told and "rated it green" in told
    assert "prompt to talk" in told and "Riverside Youth Trust" in told
    # Answered: no chases left.
    assert [r for r in await door.reminders(kind=CHASE_KIND) if r.state == "pending"] == []
    said = text_of(await priya.say(f"agreements monitoring {agreement_id}"))
    assert "2 questions asked" in said and "12 minutes spent answering" in said
    assert "answered, rated green" in said


async def test_a_non_responder_is_chased_then_only_the_team_is_told(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    await agreed(door, agreement_id)
    await send_first(door)
    chases = sorted(
        (r for r in await door.reminders(kind=CHASE_KIND) if r.state == "pending"),
        key=lambda r: r.due_at,
    )
    # 3 and 7 working days after Monday 16 February, then 3 more: 8am each.
    assert [c.due_at for c in chases] == [
        datetime(2026, 2, 19, 8, 0, tzinfo=UTC),
        datetime(2026, 2, 25, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    ]
    door.advance(chases[0].due_at - door.now())
    await door.sweep()
    assert any(t.startswith("Reminder: Check-in") for t in await texts_to(door, "Tom Okafor"))

    # Tom is away until Friday 27 February: the second reminder waits until Monday 2 March.
    tom = await door.sign_in("Tom Okafor")
    await tom.say("agreements away 2026-02-27")
    assert "away until Friday 27 February 2026" in tom.text()
    door.advance(chases[1].due_at - door.now())
    await door.sweep()
    assert not any(t.startswith("Second reminder") for t in await texts_to(door, "Tom Okafor"))
    await tom.say("agreements away off")
    moved = sorted(
        (r.payload["step"], r.due_at)
        for r in await door.reminders(kind=CHASE_KIND)
        if r.state == "pending"
    )
    # The team is told 3 working days after the paused reminder, as before.
    assert moved == [
        ("second_reminder", datetime(2026, 3, 2, 8, 0, tzinfo=UTC)),
        ("tell_commissioner", datetime(2026, 3, 5, 8, 0, tzinfo=UTC)),
    ]

    door.advance(datetime(2026, 3, 2, 8, 0, tzinfo=UTC) - door.now())
    await door.sweep()
    assert any(t.startswith("Second reminder") for t in await texts_to(door, "Tom Okafor"))
    assert not [t for t in await texts_to(door, "Priya Shah") if "No answer yet" in t]
    door.advance(datetime(2026, 3, 5, 8, 0, tzinfo=UTC) - door.now())
    await door.sweep()
    told = [t for t in await texts_to(door, "Priya Shah") if "No answer yet" in t]
    assert len(told) == 1 and "not a mark against them" in told[0]
    for other in ("Amina Begum", "Grace Lee"):
        assert await texts_to(door, other) == []


async def test_for_a_consortium_only_the_lead_is_asked_and_others_see_nothing(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door, consortium=True)
    await agreed(door, agreement_id)
    checkin_id = await send_first(door)
    assert any("Check-in for" in t for t in await texts_to(door, "Tom Okafor"))
    assert await texts_to(door, "Amina Begum") == []

    # Asha (a member) sees the plan on its agreement, but not the lead's answers.
    amina = await door.sign_in("Amina Begum")
    assert "Monitoring plan" in text_of(await amina.say(f"agreements monitoring {agreement_id}"))
    before = len(await refusals(door))
    assert "couldn't find that agreement" in text_of(
        await amina.say(f"agreements checkin {checkin_id}")
    )
    await amina.say(f'agreements answer {checkin_id} effective="Yes" rag=green')
    assert "couldn't find that agreement" in amina.text()

    # Grace's organisation is not party: nothing, by any step, and each attempt on record.
    grace = await door.sign_in("Grace Lee")
    for step in (
        f"monitoring {agreement_id}",
        f"checkin {checkin_id}",
        f"accept {agreement_id}",
        f"plan {agreement_id} {PLAN}",
    ):
        said = text_of(await grace.say(f"agreements {step}"))
        assert "couldn't find that agreement" in said and "Youth clubs" not in said
    assert len(await refusals(door)) == before + 6
    async with door.services.db.session() as session:
        row = await session.get(CheckinRow, checkin_id)
        assert row is not None and row.answered_at is None and row.opened_at is None
    assert await texts_to(door, "Grace Lee") == []
