"""The agreement form's people, dates and payments over real HTTP on every door: Priya
sends the form from a Slack modal (signed view submissions, the app calling a fake Slack
Web API), from a Teams card (JWT-signed card actions, replies to a fake Bot Connector) and
from the web (a signed-in browser posting each page). Each time the named people are linked
to Convene people, the yearly review and the payment are saved, and the door shows what was
saved; a review after the end is sent back on that door with a plain message, nothing
saved, and the refusal is on the record."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.agreement_detail_tables import AgreementDate, AgreementPayment, AgreementPerson
from storage.agreement_tables import Agreement
from storage.forms import latest_definition, start_draft
from storage.models import AuditEvent, Authority, Person
from tests.support import databases
from tests.support.doors import Actor, Doors, every_door, words_in_path
from tests.support.teams_activities import TeamsUser

PRIYA = Actor(
    "priya",
    "Priya Shah",
    "priya.shah@riverside.example",
    "UDETAILSPRIYA",
    TeamsUser(
        id=f"29:1Details01{'x' * 40}",
        name="Priya Shah",
        aad_object_id="00000001-0000-4000-8000-0000000de7a1",
    ),
)

PAGES: list[dict[str, str]] = [
    {"title": "Youth clubs", "route": "standard_contract", "vat_basis": "including"},
    {
        "provider": "Riverside Youth Trust",
        "council_people": "Priya Shah, contract manager",
        "provider_contacts": "Tom Okafor, finance\nSam Lee, safeguarding lead, sam@example.org",
    },
    {
        "starts_on": "2026-04-01",
        "ends_on": "2028-03-31",
        "review_on": "2026-06-01",
        "review_yearly": "yes",
        "tupe_transfer_on": "2026-04-01",
    },
    {"kpis": ""},
    {"payment_terms_days": "", "payments": "30 April 2026; £10,000"},
]


async def _draft(doors: Doors) -> int:
    """A new draft of the agreement form for Priya, as `agreements new` starts one."""
    async with doors.services.db.session() as session:
        definition = await latest_definition(session, "agreement")
        assert definition is not None
        authority = await session.scalar(select(Authority).order_by(Authority.id).limit(1))
        priya = await session.scalar(select(Person).where(Person.email == PRIYA.email))
        assert authority is not None and priya is not None
        draft = await start_draft(
            session,
            definition,
            organisation_id=None,
            authority_id=authority.id,
            respondent_id=priya.id,
            topic="agreement:new",
        )
        return draft.id


async def _send(doors: Doors, door: str, pages: list[dict[str, str]]) -> str:
    response_id = await _draft(doors)
    seen = ""
    for index, values in enumerate(pages):
        last = index == len(pages) - 1
        shown = await doors.send_form(
            PRIYA, door, response_id, index, values, "submit" if last else "next"
        )
        seen = shown.text
    return seen


async def _counts(doors: Doors) -> tuple[int, ...]:
    async with doors.services.db.session() as session:
        return tuple(
            [
                int(await session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Agreement, AgreementPerson, AgreementDate, AgreementPayment)
            ]
        )


async def test_people_dates_and_payments_by_form_on_every_door(
    backend: databases.Backend, tmp_path: Path
) -> None:
    async with every_door(backend, tmp_path) as backstage:
        doors = await backstage.open([PRIYA], link=words_in_path)
        for door in ("web", "slack", "teams"):
            before = await _counts(doors)
            # A review after the end: sent back on this door, nothing saved, on the record.
            bad = [dict(p) for p in PAGES]
            bad[2]["review_on"] = "2028-06-01"
            said = await _send(doors, door, bad)
            assert "A review can't be on Thursday 1 June 2028" in said, (door, said)
            assert await _counts(doors) == before
            async with doors.services.db.session() as session:
                refusals = await session.scalar(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(AuditEvent.action == "agreement.refused", AuditEvent.door == door)
                )
            assert refusals == 1, door

            said = await _send(doors, door, PAGES)
            assert "Recorded: Youth clubs" in said, (door, said)
            assert "Priya Shah (contract manager)" in said
            assert "Sam Lee (safeguarding lead, sam@example.org, not on Convene yet" in said
            assert "Monday 1 June 2026, then on that day every year" in said
            async with doors.services.db.session() as session:
                agreement_id = await session.scalar(select(func.max(Agreement.id)))
                named = (
                    await session.scalars(
                        select(AgreementPerson).where(AgreementPerson.agreement_id == agreement_id)
                    )
                ).all()
                payment = await session.scalar(
                    select(AgreementPayment).where(AgreementPayment.agreement_id == agreement_id)
                )
            assert [(p.name, p.person_id is not None) for p in named] == [
                ("Priya Shah", True),
                ("Tom Okafor", True),
                ("Sam Lee", False),
            ]
            assert payment is not None and payment.amount_pence == 1_000_000


pytestmark = pytest.mark.asyncio
