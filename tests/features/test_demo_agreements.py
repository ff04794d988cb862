"""The demo's agreements (`make run` on an empty database), in-process: loaded through the
features' own steps, twice without doubling anything, and what a newcomer meets when
signing in as each demo person: Priya sees both agreements, Tom only his youth clubs with
a check-in waiting for him, Grace only the consortium she is a member of, Joan none."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.app import build_services, prepare
from bot.clock import LONDON
from bot.demo_agreements import WELLBEING, YOUTH_CLUBS, load_demo_agreements
from bot.settings import load_settings
from storage.agreement_detail_tables import AgreementPayment, AgreementPerson
from storage.agreement_tables import Agreement
from storage.conversation_tables import CheckinMessage
from storage.monitoring_tables import CheckinRow, MonitoringPlanRow
from storage.outcome_tables import OutcomeItem
from storage.variation_tables import AgreementVariation
from tests.support import databases
from tests.support.inprocess import TestDoor, text_of


async def _count(door: TestDoor, table: type) -> int:
    async with door.services.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_the_demo_agreements_are_part_way_through_and_load_once(door: TestDoor) -> None:
    await load_demo_agreements(door.services)
    tables = (
        Agreement,
        OutcomeItem,
        AgreementPerson,
        AgreementPayment,
        MonitoringPlanRow,
        CheckinRow,
        CheckinMessage,
        AgreementVariation,
    )
    counts = [await _count(door, t) for t in tables]
    await load_demo_agreements(door.services)
    assert [await _count(door, t) for t in tables] == counts

    today = door.now().astimezone(LONDON).date()
    async with door.services.db.session() as session:
        youth = await session.scalar(select(Agreement).where(Agreement.title == YOUTH_CLUBS))
        assert youth is not None
        plan = await session.scalar(
            select(MonitoringPlanRow).where(MonitoringPlanRow.agreement_id == youth.id)
        )
        assert plan is not None and plan.state == "agreed"
        answered, waiting = (
            await session.scalars(
                select(CheckinRow)
                .where(CheckinRow.agreement_id == youth.id)
                .order_by(CheckinRow.due_on)
            )
        ).all()
        assert answered.answered_at is not None and answered.rag == "amber"
        assert waiting.answered_at is None and waiting.due_on <= today
        assert today - waiting.due_on < timedelta(days=10)  # due about now
        (reply,) = (await session.scalars(select(CheckinMessage))).all()
        assert reply.checkin_id == answered.id and reply.side == "team"
        (variation,) = (await session.scalars(select(AgreementVariation))).all()
        assert variation.agreement_id == youth.id
        payments = (
            await session.scalars(
                select(AgreementPayment).where(AgreementPayment.agreement_id == youth.id)
            )
        ).all()
        assert any(p.paid_on for p in payments)
        assert any(today <= p.due_on <= today + timedelta(days=95) for p in payments)
        assert len((await session.scalars(select(OutcomeItem))).all()) == 5

    priya = await door.sign_in("Priya Shah")
    said = text_of(await priya.say("agreements"))
    assert YOUTH_CLUBS in said and WELLBEING in said
    said = text_of(await priya.say(f"agreements show {youth.id}"))
    assert "Tom Okafor" in said and "Priya Shah" in said

    tom = await door.sign_in("Tom Okafor")
    said = text_of(await tom.say("agreements"))
    assert YOUTH_CLUBS in said and WELLBEING not in said
    said = text_of(await tom.say(f"agreements monitoring {youth.id}"))
    assert "answered" in said.lower()

    grace = await door.sign_in("Grace Lee")
    said = text_of(await grace.say("agreements"))
    assert WELLBEING in said and YOUTH_CLUBS not in said

    joan = await door.sign_in("Joan Hughes")
    said = text_of(await joan.say("agreements"))
    assert YOUTH_CLUBS not in said and WELLBEING not in said


async def test_make_run_loads_them_into_an_empty_database_and_tests_do_not(
    backend: databases.Backend, tmp_path: Path, door: TestDoor
) -> None:
    """`convene serve --demo-if-empty` (make run) passes demo_agreements; the test fixtures'
    demo has none, so each feature test makes only the agreements it is about."""
    assert await _count(door, Agreement) == 0
    url = await backend.fresh(tmp_path, demo=False, name="empty.db")
    services = build_services(
        load_settings(database_url=url, secret_key="test-secret", scheduler_enabled=False)
    )
    try:
        await prepare(services, demo_if_empty=True, demo_agreements=True)
        async with services.db.session() as session:
            titles = set((await session.scalars(select(Agreement.title))).all())
    finally:
        await services.db.dispose()
        await backend.discard(url)
    assert titles == {YOUTH_CLUBS, WELLBEING}
