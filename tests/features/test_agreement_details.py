"""An agreement's named people, own dates and payments, in-process. Priya names herself as
contract manager, her colleague Dev Mistry for finance and Jo Bloggs (not on Convene yet) as
safeguarding lead; Riverside names Tom Okafor and Sam Patel. Key dates go to the people
named for that kind of date, on their own door; Jo is shown but never sent anything. A
payment's invoice starts the clock: pay by the day it came plus 30 days (s.68), reminded
five working days before (Christmas Day moves it); marking it paid stops the reminder and
is on the record; a late one is shown to the team only. A consortium's lead paying a member
is reminded to the lead's finance people only (s.73). TUPE: the employee liability
information 28 days before the transfer. Dates that contradict are refused and audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers.agreements.key_dates import REMINDER_KIND, Recorded, plan
from storage.agreement_detail_tables import (
    AgreementDate,
    AgreementPayment,
    AgreementPerson,
)
from storage.agreement_tables import Agreement
from storage.models import AuditEvent, Authority, Organisation, Person, Role
from storage.people import grant
from tests.features.engagement_story import add_sam
from tests.features.test_agreements import NOW, answers, fill_keeping, record
from tests.support.inprocess import Queued, TestDoor, form_in, text_of

LONDON = ZoneInfo("Europe/London")

PEOPLE = {
    "council_people": (
        "Priya Shah, contract manager\nDev Mistry, finance\n"
        "Jo Bloggs, safeguarding lead, jo@preston.example"
    ),
    "provider_contacts": "Tom Okafor, service manager\nsam@riversideyouth.example, finance",
    "payments": "30 April 2026; £10,000\n31 May 2026; £12,500",
}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


async def add_dev(door: TestDoor) -> None:
    """A second member of Preston's commissioning team, who looks after the money."""
    async with door.services.db.session() as session:
        preston = await session.scalar(select(Authority).order_by(Authority.id).limit(1))
        assert preston is not None
        dev = Person(name="Dev Mistry", email="dev@preston.example", is_demo=True)
        session.add(dev)
        await session.flush()
        await grant(session, dev, Role.COMMISSIONER, authority_id=preston.id)


async def _go_to(door: TestDoor, moment: datetime) -> None:
    door.advance(moment - door.now())
    await door.sweep()


async def _reminded(door: TestDoor, what: str) -> list[Queued]:
    return [
        q
        for q in await door.outbox()
        if ":key_date:" in q.row.idempotency_key and f":{what}:" in q.row.idempotency_key
    ]


async def _pending(door: TestDoor) -> dict[str, Any]:
    return {
        r.target_id.split(":", 1)[1]: r
        for r in await door.reminders(kind=REMINDER_KIND)
        if r.state == "pending"
    }


async def _payments(door: TestDoor) -> list[AgreementPayment]:
    async with door.services.db.session() as session:
        return list(
            (await session.scalars(select(AgreementPayment).order_by(AgreementPayment.id))).all()
        )


async def _audit(door: TestDoor, action: str) -> list[AuditEvent]:
    async with door.services.db.session() as session:
        return list(
            (await session.scalars(select(AuditEvent).where(AuditEvent.action == action))).all()
        )


async def test_named_people_are_linked_and_each_date_reaches_the_right_ones(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    await add_dev(door)
    await add_sam(door.services)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers(**PEOPLE))
    ids = {n: await door.person_id(n) for n in ("Priya Shah", "Dev Mistry", "Tom Okafor")}
    ids["Sam Patel"] = await door.person_id("Sam Patel")

    async with door.services.db.session() as session:
        named = (
            await session.scalars(
                select(AgreementPerson).where(AgreementPerson.agreement_id == agreement_id)
            )
        ).all()
        riverside = await session.scalar(
            select(Organisation.id).where(Organisation.slug == "riverside-youth-trust")
        )
    linked = {(p.name, p.role): (p.side, p.person_id, p.organisation_id) for p in named}
    assert linked[("Priya Shah", "contract_manager")] == ("council", ids["Priya Shah"], None)
    assert linked[("Dev Mistry", "finance")] == ("council", ids["Dev Mistry"], None)
    # Not on Convene: kept with the email, linked to nobody.
    assert linked[("Jo Bloggs", "safeguarding_lead")] == ("council", None, None)
    assert linked[("Tom Okafor", "service_manager")] == ("provider", ids["Tom Okafor"], riverside)
    # Picked by email.
    assert linked[("Sam Patel", "finance")][1] == ids["Sam Patel"]

    page = text_of(await priya.say(f"agreements show {agreement_id}"))
    assert "Dev Mistry (finance)" in page
    assert "Jo Bloggs (safeguarding lead, jo@preston.example, not on Convene yet" in page

    # The contract details notice is the team's: for the contract manager only, not Dev.
    await _go_to(door, at(date(2026, 4, 30), 0, 1))
    (sent,) = await _reminded(door, "contract_details_notice")
    assert sent.row.person_id == ids["Priya Shah"]
    assert "Only the people named on this agreement" in sent.text
    # A review is for both sides: Priya (contract manager) and, as nobody at Riverside is
    # its contract manager or monitoring contact, everyone named there. Never Jo.
    await _go_to(door, at(date(2026, 6, 1), 0, 1))
    told = {q.row.person_id for q in await _reminded(door, "review")}
    assert told == {ids["Priya Shah"], ids["Tom Okafor"], ids["Sam Patel"]}
    assert all(q.row.person_id is not None for q in await door.outbox())


async def test_an_invoice_sets_the_pay_by_day_and_paying_it_stops_the_reminder(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    await add_dev(door)
    await add_sam(door.services)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers(**PEOPLE))
    first, second = await _payments(door)
    assert (first.amount_pence, first.due_on, first.payer) == (
        1_000_000,
        date(2026, 4, 30),
        "council",
    )

    # Thursday 26 November 2026: 30 days beginning that day end on Christmas Day (s.68).
    door.advance(at(date(2026, 11, 27), 9) - door.now())
    await priya.say(f"agreements invoice {first.id} 26 November 2026")
    assert "Pay by Friday 25 December 2026" in priya.text()
    # Tom (the provider) cannot record the council's invoice: refused and on the record.
    tom = await door.sign_in("Tom Okafor")
    assert "Only the council's commissioning team" in text_of(
        await tom.say(f"agreements paid {first.id}")
    )
    refused = await _audit(door, "agreement.refused")
    assert any(e.details.get("reason") == "not the payer" for e in refused)

    # Five working days before the working day on or before Christmas (Thursday 24):
    # Thursday 17 December. To Dev (finance) only.
    pending = await _pending(door)
    assert pending["payment_due:0"].due_at.replace(tzinfo=UTC) == at(date(2026, 12, 17), 0)
    await _go_to(door, at(date(2026, 12, 17), 0, 1))
    (sent,) = await _reminded(door, "payment_due")
    assert sent.row.person_id == await door.person_id("Dev Mistry")
    assert "Procurement Act 2023 s.68" in sent.text
    assert "Mark it paid" in sent.text and f"paid {first.id}" in sent.text

    dev = await door.sign_in("Dev Mistry")
    await dev.say(f"agreements paid {first.id}")
    assert "Marked paid" in dev.text() and "Paid on Thursday 17 December 2026" in dev.text()
    (paid,) = await _audit(door, "agreement.payment_marked_paid")
    assert paid.actor_id == await door.person_id("Dev Mistry")
    assert "payment_due:0" not in await _pending(door)
    assert "already marked paid" in text_of(await dev.say(f"agreements paid {first.id}"))

    # The second invoice is never paid: late, shown to the team, not to the provider.
    await priya.say(f"agreements invoice {second.id}")
    await _go_to(door, at(date(2027, 1, 20), 9))
    team_page = text_of(await priya.say(f"agreements show {agreement_id}"))
    assert "This is late" in team_page and "1 late" in team_page
    provider_page = text_of(await tom.say(f"agreements show {agreement_id}"))
    assert "Pay by" in provider_page
    assert "This is late" not in provider_page and "1 late" not in provider_page


async def test_a_consortium_lead_paying_a_member_is_reminded_to_its_own_finance_people(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(
        priya,
        answers(
            provider_share="60",
            members="Asha Women's Centre, 40%",
            provider_contacts="Tom Okafor, finance\nAmina Begum, finance",
            payments="30 April 2026; £4,000; to Asha Women's Centre",
        ),
    )
    (payment,) = await _payments(door)
    assert payment.payer == "lead"
    door.advance(at(date(2026, 5, 4), 9) - door.now())
    # The council does not pay this one: the lead does (s.73).
    assert "Only the consortium's lead" in text_of(
        await priya.say(f"agreements invoice {payment.id}")
    )
    tom = await door.sign_in("Tom Okafor")
    await tom.say(f"agreements invoice {payment.id} 4 May 2026")
    assert "The lead pays the member" in tom.text()
    await _go_to(door, at(date(2026, 5, 27), 0, 1))
    sent = await _reminded(door, "member_payment_due")
    # Amina is named for finance too, but at the member being paid: only the lead's people.
    assert [q.row.person_id for q in sent] == [await door.person_id("Tom Okafor")]
    assert "Procurement Act 2023 s.73" in sent[0].text
    assert agreement_id


async def test_yearly_reviews_and_the_tupe_transfer_are_key_dates(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    await record(
        priya,
        answers(review_on="2026-06-01", review_yearly="yes", tupe_transfer_on="2026-04-01"),
    )
    pending = await _pending(door)
    # Every 1 June until the end (31 March 2028): 2026 and 2027.
    assert {k for k in pending if k.startswith("review:")} == {"review:0", "review:1"}
    # 28 days before Wednesday 1 April 2026: Wednesday 4 March.
    eli = pending["employee_liability_information:0"]
    assert eli.due_at.replace(tzinfo=UTC) == at(date(2026, 3, 4), 0)
    await _go_to(door, at(date(2026, 3, 4), 0, 1))
    sent = await _reminded(door, "employee_liability_information")
    assert {q.row.person_id for q in sent} == {
        await door.person_id("Priya Shah"),
        await door.person_id("Tom Okafor"),
    }
    assert "reg. 11(6)" in sent[0].text and "at least 28 days before" in sent[0].text


async def _details_state(door: TestDoor) -> list[Any]:
    async with door.services.db.session() as session:
        return [
            [(a.id, a.notes, a.updated_at) for a in (await session.scalars(select(Agreement)))],
            [(p.name, p.role) for p in (await session.scalars(select(AgreementPerson)))],
            [(d.kind, d.on) for d in (await session.scalars(select(AgreementDate)))],
            [(p.due_on, p.amount_pence) for p in (await session.scalars(select(AgreementPayment)))],
        ]


@pytest.mark.parametrize(
    ("changes", "field", "words", "reason"),
    [
        ({"review_on": "2028-06-01"}, "review_on", "after the agreement ends", "review after"),
        (
            {"tupe_transfer_on": "2028-05-01"},
            "tupe_transfer_on",
            "after the agreement ends",
            "tupe_transfer after",
        ),
        (
            {"payments": "1 March 2026; £500"},
            "payments",
            "before the agreement starts",
            "payment before the start",
        ),
        ({"payments": "soon; lots"}, "payments", "could not read", "payment line does not parse"),
        (
            {"council_people": "Priya Shah, tea maker"},
            "council_people",
            "contract manager, finance",
            "named person does not parse",
        ),
        (
            {"provider_contacts": "Grace Lee, finance"},
            "provider_contacts",
            "could not find",
            "named person not found",
        ),
        (
            {"payments": "30 April 2026; £500; to Eastgate Community Kitchen"},
            "payments",
            "not a member of this consortium",
            "payment to someone not a member",
        ),
    ],
)
async def test_contradictions_are_refused_nothing_saved_and_on_the_record(
    door: TestDoor, changes: dict[str, Any], field: str, words: str, reason: str
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    existing = await record(priya, answers(payments="30 April 2026; £10,000"))
    before = await _details_state(door)
    replies = await fill_keeping(priya, f"agreements edit {existing}", answers(**changes))
    form = form_in(replies)
    assert words in form.errors[field], form.errors
    assert await _details_state(door) == before
    refused = [e for e in await _audit(door, "agreement.refused") if e.actor_id == priya.person_id]
    assert len(refused) == 1 and reason in str(refused[0].details.get("reason"))


async def test_an_edit_keeps_what_is_known_of_each_payment(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers(payments="30 April 2026; £10,000"))
    (payment,) = await _payments(door)
    door.advance(timedelta(days=120))
    await priya.say(f"agreements invoice {payment.id} 1 May 2026")
    before = await _details_state(door)
    # The form shows the saved details back; sending it unchanged keeps them all, and the
    # payment keeps its invoice.
    await record(priya, {}, f"agreements edit {agreement_id}")
    (kept,) = await _payments(door)
    assert (kept.id, kept.invoice_received_on) == (payment.id, date(2026, 5, 1))
    after = await _details_state(door)
    assert after[1:] == before[1:] and after[1] == [
        ("Priya Shah", "contract_manager"),
        ("Tom Okafor", "service_manager"),
    ]


def test_a_date_left_outside_the_term_by_a_moved_end_loses_only_its_own_reminder() -> None:
    agreement = Agreement(
        id=9,
        starts_on=date(2026, 4, 1),
        ends_on=date(2026, 8, 31),
        break_clauses=[],
        light_touch=False,
        grant_funded=False,
        payment_terms_days=30,
    )
    recorded = Recorded(
        dates=[
            AgreementDate(kind="review", on=date(2027, 6, 1), yearly=False),
            AgreementDate(kind="tupe_transfer", on=date(2026, 10, 1), yearly=False),
            AgreementDate(kind="price_uplift", on=date(2026, 5, 1), yearly=True),
        ]
    )
    kinds = [p.key_date.kind for p in plan(agreement, 0, recorded)]
    assert "end_of_term" in kinds and "price_uplift" in kinds
    assert "review" not in kinds and "employee_liability_information" not in kinds
