"""The variation form over real HTTP on every door: Tom (Riverside Youth Trust) types
`agreements vary N` in a browser, in Slack (a modal opens from the slash command, and its
pages are submitted as Slack sends them) and in Teams (a card, whose Next and Send buttons
post the pages), and each time a variation row with his answers is kept and he is told what
happens next. A bad amount sends the page back on that door and keeps nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select

from storage.agreement_tables import Agreement, AgreementParty
from storage.models import Authority, FormResponse, Organisation, ResponseState
from storage.variation_tables import AgreementVariation
from tests.slack.conftest import BlockKitLog, block_kit_problems
from tests.support import databases
from tests.support.doors import Doors, every_door, words_in_path
from tests.support.visibility_tables import cast
from tests.teams.conftest import CardLog, card_problems

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOM = next(a for a in cast(teams_tag="Variation", teams_tail="7a21") if a.name == "Tom Okafor")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    backend: databases.Backend, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Doors, int]]:
    async with every_door(backend, tmp_path_factory.mktemp("variations")) as backstage:
        services = backstage.services
        today = services.clock.now().date()
        async with services.db.session() as session:
            riverside = await session.scalar(
                select(Organisation).where(Organisation.slug == "riverside-youth-trust")
            )
            council = await session.scalar(select(Authority).order_by(Authority.id))
            assert riverside is not None and council is not None
            agreement = Agreement(
                authority_id=council.id,
                title="Youth clubs in Preston",
                route="standard_contract",
                vat_basis="including",
                value_pence=25_000_000,
                starts_on=today - timedelta(days=30),
                ends_on=today + timedelta(days=700),
                payment_terms_days=30,
            )
            session.add(agreement)
            await session.flush()
            session.add(
                AgreementParty(agreement_id=agreement.id, organisation_id=riverside.id, role="sole")
            )
            agreement_id = agreement.id
        doors = await backstage.open([TOM], link=words_in_path)
        yield doors, agreement_id


async def open_draft(doors: Doors, agreement_id: int) -> int:
    async with doors.services.db.session() as session:
        found = await session.scalar(
            select(FormResponse.id).where(
                FormResponse.form_key == "agreement_variation",
                FormResponse.topic == f"agreement:{agreement_id}:variation",
                FormResponse.state == ResponseState.DRAFT,
            )
        )
    assert found is not None
    return found


async def variation_rows(doors: Doors) -> list[tuple[object, ...]]:
    async with doors.services.db.session() as session:
        return [
            (v.what_changes, v.side, v.value_change_pence, v.term_change_days, v.new_ends_on)
            for v in (
                await session.scalars(select(AgreementVariation).order_by(AgreementVariation.id))
            ).all()
        ]


@pytest.mark.parametrize("door", ["web", "slack", "teams"])
async def test_the_variation_form_works_on_every_door(world: tuple[Doors, int], door: str) -> None:
    doors, agreement_id = world
    opened = {"web": doors.web_command, "slack": doors.slack_command, "teams": doors.teams_command}
    # The web follows the form-only link; the chat doors type the step itself.
    step = "change" if door == "web" else "vary"
    seen = await opened[door](TOM, f"agreements {step} {agreement_id}")
    assert "Ask for a change" in seen.text, seen.text
    assert "What would change?" in seen.text
    response_id = await open_draft(doors, agreement_id)
    what = f"More clubs, asked on {door}"
    seen = await doors.send_form(
        TOM, door, response_id, 0, {"what": what, "why": "Waiting list", "evidence": ""}, "next"
    )
    assert "How much would the value change?" in seen.text, seen.text
    before = await variation_rows(doors)
    # A bad amount comes back on the same door, and nothing is kept.
    money = {"value": "lots", "term": "", "ends": "", "linked": ""}
    seen = await doors.send_form(TOM, door, response_id, 1, money, "submit")
    assert 'could not read "lots" as an amount of money' in seen.text, seen.text
    assert await variation_rows(doors) == before
    money = {"value": "£20,000", "term": "", "ends": "", "linked": ""}
    ends = date.today() + timedelta(days=790)
    money["ends"] = ends.isoformat()
    seen = await doors.send_form(TOM, door, response_id, 1, money, "submit")
    assert "Asked: variation" in seen.text, seen.text
    rows = await variation_rows(doors)
    assert len(rows) == len(before) + 1
    assert rows[-1][0] == what and rows[-1][1:3] == ("provider", 2_000_000)
    assert rows[-1][4] == ends and rows[-1][3] == 90
    # Every modal and card the form was shown in is valid Block Kit or Adaptive Card.
    problems = block_kit_problems(BlockKitLog(fakes=[doors.fake_slack]))
    problems += card_problems(CardLog(fakes=[doors.fake_teams], returned=[]))
    assert problems == []
