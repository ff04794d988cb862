"""The check-in form over real HTTP on every door: Tom (Riverside Youth Trust) answers one
check-in in a Slack modal (submitted through the fake Slack), one on a Teams card (through
the fake Bot Connector) and one in a web form; each answer lands in the database and the
council's team is told. Priya's own answer attempt is refused on the door she uses. Then
Priya replies from Teams and offers a call from a Slack modal, Tom takes the time in Teams,
and the thread shows in Slack; everything sent is valid Block Kit and Adaptive Cards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.demo import AUTHORITY
from storage.agreement_tables import Agreement, AgreementParty
from storage.conversation_tables import CheckinCall
from storage.models import Authority, FormResponse, Organisation, OutboxMessage
from storage.monitoring_tables import CheckinRow, MonitoringPlanRow
from tests.slack.conftest import BlockKitLog, block_kit_problems
from tests.support import databases
from tests.support.doors import Actor, Doors, every_door, words_in_query
from tests.support.teams_activities import TeamsUser
from tests.support.web import text_of
from tests.teams.conftest import CardLog, card_problems

TOM = Actor(
    "tom",
    "Tom Okafor",
    "tom@riversideyouth.example",
    "UCHKTOM",
    TeamsUser(
        id="29:1chk01" + "x" * 40, name="Tom", aad_object_id="00000001-0000-4000-8000-0000000c4e01"
    ),
)
PRIYA = Actor(
    "priya",
    "Priya Shah",
    "priya.shah@riverside.example",
    "UCHKPRIYA",
    TeamsUser(
        id="29:1chk02" + "x" * 40,
        name="Priya",
        aad_object_id="00000002-0000-4000-8000-0000000c4e02",
    ),
)


async def seed(doors_services: object) -> list[int]:
    """An agreement with Riverside Youth Trust, an agreed plan (one question, no rating) and
    three check-ins already sent."""
    from bot.services import Services

    assert isinstance(doors_services, Services)
    now = doors_services.clock.now()
    async with doors_services.db.session() as session:
        council = await session.scalar(select(Authority).where(Authority.slug == AUTHORITY[1]))
        assert council is not None
        riverside = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        assert riverside is not None
        agreement = Agreement(
            authority_id=council.id,
            title="Youth clubs in Preston",
            route="grant",
            vat_basis="not_applicable",
            value_pence=5_000_000,
            starts_on=date(2026, 1, 14),
            ends_on=date(2027, 12, 31),
            payment_terms_days=30,
        )
        session.add(agreement)
        await session.flush()
        session.add(
            AgreementParty(agreement_id=agreement.id, organisation_id=riverside.id, role="sole")
        )
        plan = MonitoringPlanRow(
            agreement_id=agreement.id,
            state="agreed",
            frequency="quarterly",
            dates=[],
            method="A short form",
            questions=["effective"],
            rag=False,
            proposed_by_side="team",
        )
        session.add(plan)
        await session.flush()
        checkins = [
            CheckinRow(
                agreement_id=agreement.id,
                plan_id=plan.id,
                organisation_id=riverside.id,
                due_on=date(2026, 4, 14) + timedelta(days=n),
                sent_at=now,
                questions=["effective"],
                answers={},
            )
            for n in range(3)
        ]
        session.add_all(checkins)
        await session.flush()
        return [c.id for c in checkins]


@pytest.fixture
async def doors(backend: databases.Backend, tmp_path: Path) -> AsyncIterator[Doors]:
    async with every_door(backend, tmp_path) as backstage:
        doors = await backstage.open([TOM, PRIYA], link=words_in_query)
        yield doors


async def draft_of(doors: Doors, checkin_id: int) -> int:
    async with doors.services.db.session() as session:
        response = await session.scalar(
            select(FormResponse).where(FormResponse.form_key == f"checkin-{checkin_id}")
        )
        assert response is not None, "the form was not opened"
        return response.id


async def answered(doors: Doors, checkin_id: int) -> CheckinRow:
    async with doors.services.db.session() as session:
        row = await session.get(CheckinRow, checkin_id)
        assert row is not None
        return row


async def test_the_checkin_form_on_slack_teams_and_the_web(doors: Doors) -> None:
    slack_id, teams_id, web_id = await seed(doors.services)

    # --- Slack: the slash command opens a modal; its pages are submitted ------------------
    seen = await doors.slack_command(TOM, f"agreements answer {slack_id}")
    assert "Is it effective" in seen.text, seen.text[-2000:]
    response = await draft_of(doors, slack_id)
    await doors.slack_form(TOM, response, 0, {"effective": "Yes, from Slack"}, "next")
    seen = await doors.slack_form(TOM, response, 1, {"notes": "A new volunteer"}, "submit")
    assert "is sent" in seen.text, seen.text[-2000:]
    row = await answered(doors, slack_id)
    assert row.answers == {"effective": "Yes, from Slack", "notes": "A new volunteer"}

    # --- Teams: the typed command shows a card; its Send button is pressed ----------------
    seen = await doors.teams_command(TOM, f"agreements answer {teams_id}")
    assert "Is it effective" in seen.text, seen.text[-2000:]
    response = await draft_of(doors, teams_id)
    await doors.teams_form(TOM, response, 0, {"effective": "Yes, from Teams"}, "next")
    seen = await doors.teams_form(TOM, response, 1, {}, "submit")
    assert "is sent" in seen.text, seen.text[-2000:]
    assert (await answered(doors, teams_id)).answers == {"effective": "Yes, from Teams"}

    # --- the web: a confirmed link opens the form; each page is posted --------------------
    user = doors.browsers[TOM.key]
    status, html = await user.post("/do/agreements", {"words": f"answer {web_id}"})
    assert status == 200 and "Is it effective" in text_of(html), text_of(html)
    response = await draft_of(doors, web_id)
    await doors.web_form(TOM, response, 0, {"effective": "Yes, from the web"}, "next")
    seen = await doors.web_form(TOM, response, 1, {}, "submit")
    assert "is sent" in seen.text, seen.text[-2000:]
    assert (await answered(doors, web_id)).answers == {"effective": "Yes, from the web"}

    # The team was told of each, through the outbox; Priya can't answer one herself.
    async with doors.services.db.session() as session:
        keys = (
            await session.scalars(
                select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.idempotency_key.like("checkin-answer:%")
                )
            )
        ).all()
    for checkin_id in (slack_id, teams_id, web_id):
        assert any(k.startswith(f"checkin-answer:{checkin_id}:") for k in keys)
    seen = await doors.teams_command(PRIYA, f"agreements answer {web_id}")
    assert "Only the organisation asked can answer" in seen.text

    # --- after it: Priya replies in Teams, offers a call from a Slack modal, Tom picks ----
    seen = await doors.teams_command(PRIYA, f'agreements reply {slack_id} text="Tell us more?"')
    assert "Sent to the provider" in seen.text, seen.text[-2000:]
    await doors.slack_command(PRIYA, f"agreements call {slack_id}")
    async with doors.services.db.session() as session:
        offer_form = await session.scalar(
            select(FormResponse).where(FormResponse.topic == f"call:{slack_id}")
        )
    assert offer_form is not None
    seen = await doors.slack_form(
        PRIYA, offer_form.id, 0, {"option_1": "1 June 2027 10am"}, "submit"
    )
    assert "Sent 1 time to" in seen.text, seen.text[-2000:]
    async with doors.services.db.session() as session:
        offer = await session.scalar(select(CheckinCall))
    assert offer is not None
    seen = await doors.teams_command(TOM, f"agreements pick {offer.id} 1")
    assert "Agreed: a call on Tuesday 1 June 2027, 10am" in seen.text, seen.text[-2000:]
    seen = await doors.slack_command(TOM, f"agreements checkin {slack_id}")
    assert "Tell us more?" in seen.text and "Call agreed for Tuesday 1 June 2027" in seen.text

    # Everything sent was valid Block Kit and valid Adaptive Cards.
    problems = block_kit_problems(BlockKitLog(fakes=[doors.fake_slack]))
    problems += card_problems(CardLog(fakes=[doors.fake_teams], returned=[]))
    assert problems == []
