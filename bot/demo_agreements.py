"""Demo agreements: two of the demo council's agreements, part-way through, so a newcomer
can walk every agreements journey without first making an agreement, a framework and a
plan and waiting a month for a check-in.

- "Youth clubs in Preston" (Riverside Youth Trust, sole provider): an outcomes framework,
  named people on both sides, payments (one due this month), a monthly monitoring plan
  Priya proposed and Tom accepted, last month's check-in answered (with a reply from
  Priya), this month's check-in sent and waiting for Tom, and a variation Tom asked for.
- "Women's wellbeing and advice" (a consortium: Asha Women's Centre leads, Eastgate
  Community Kitchen is a member), with a payment from the lead to the member.

The plan, its check-ins, the answer, the reply and the variation go through the features'
own steps (`handlers.agreements.*`), acting as Priya or Tom, so what the demo shows is what
the product does; only the agreement rows themselves (which the register form writes) and
the framework's items are put in directly. Loading is idempotent: an agreement already
there by its title is left alone.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot.clock import LONDON
from bot.core.months import add_months
from bot.core.turn import Door, Turn
from bot.services import Services
from handlers.agreements import monitoring
from handlers.agreements.conversation import send_reply
from handlers.agreements.monitoring import plan_of, propose_plan, record_answer
from handlers.agreements.variations import request_variation
from storage.agreement_detail_tables import (
    AgreementDate,
    AgreementPayment,
    AgreementPerson,
    DatedItemKind,
    Payer,
    PersonRole,
    Side,
)
from storage.agreement_tables import Agreement, AgreementKpi, AgreementParty, PartyRole
from storage.models import Authority, Organisation, Person, Reminder
from storage.monitoring_tables import CheckinRow
from storage.outcome_tables import ItemKind, OutcomeItem
from storage.people import load_actor

YOUTH_CLUBS = "Youth clubs in Preston"
WELLBEING = "Women's wellbeing and advice"

FRAMEWORK = (
    (
        "Young people feel safer in their area",
        ("Young people who say they feel safe", "Sessions attended each week"),
    ),
    ("More young people take up training or work", ("Young people starting a course or job",)),
)

PLAN = {
    "frequency": "monthly",
    "method": "A short form each month, and a call if either side wants one",
    "questions": "effective,harder_easier",
    "rag": "yes",
    "timeline": "Answers within 10 working days",
}


async def _turn(services: Services, email: str) -> Turn:
    """A web turn acting as the demo person with this email, as the web door builds it."""
    async with services.db.session() as session:
        person_id = await session.scalar(select(Person.id).where(Person.email == email))
        assert person_id is not None, f"demo person {email} is missing"
        actor = await load_actor(session, person_id, services.tz)
    return Turn(door=Door.WEB, actor=actor, conversation="demo")


async def load_demo_agreements(services: Services) -> None:
    """Add the demo agreements the database does not have yet (by title)."""
    today = services.clock.now().astimezone(LONDON).date()
    async with services.db.session() as session:
        council = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert council is not None, "load the demo council first"
        titles = set(
            (
                await session.scalars(
                    select(Agreement.title).where(Agreement.authority_id == council.id)
                )
            ).all()
        )
    if YOUTH_CLUBS not in titles:
        await _youth_clubs(services, council.id, today)
    if WELLBEING not in titles:
        await _wellbeing(services, council.id, today)


async def _org_ids(services: Services) -> dict[str, int]:
    async with services.db.session() as session:
        return {o.slug: o.id for o in (await session.scalars(select(Organisation))).all()}


async def _youth_clubs(services: Services, council_id: int, today: date) -> None:
    orgs = await _org_ids(services)
    priya = await _turn(services, "priya.shah@riverside.example")
    tom = await _turn(services, "tom@riversideyouth.example")
    assert priya.actor is not None and tom.actor is not None
    # Monthly check-ins from a start two months and a few days ago: last month's is past,
    # this month's falls due about now.
    starts_on = add_months(today - timedelta(days=3), -2)
    async with services.db.session() as session:
        agreement = Agreement(
            authority_id=council_id,
            title=YOUTH_CLUBS,
            route="standard_contract",
            vat_basis="including",
            value_pence=18_000_000,
            area_served=[],
            starts_on=starts_on,
            ends_on=add_months(starts_on, 24) - timedelta(days=1),
            payment_terms_days=30,
            notes="Four evening youth clubs a week in Preston, with mentoring.",
            created_by=priya.actor.person_id,
        )
        session.add(agreement)
        await session.flush()
        session.add(
            AgreementParty(
                agreement_id=agreement.id,
                organisation_id=orgs["riverside-youth-trust"],
                role=PartyRole.SOLE,
            )
        )
        for position, (name, measure, target) in enumerate(
            (
                ("Young people attending", "monthly register", "120 a month"),
                ("Clubs open", "weekly count", "4 a week"),
            ),
            start=1,
        ):
            session.add(
                AgreementKpi(
                    agreement_id=agreement.id,
                    position=position,
                    name=name,
                    measure=measure,
                    target=target,
                )
            )
        for position, (outcome_text, indicators) in enumerate(FRAMEWORK, start=1):
            outcome = OutcomeItem(
                agreement_id=agreement.id,
                kind=ItemKind.OUTCOME,
                position=position,
                text=outcome_text,
            )
            session.add(outcome)
            await session.flush()
            for n, text in enumerate(indicators, start=1):
                session.add(
                    OutcomeItem(
                        agreement_id=agreement.id,
                        kind=ItemKind.INDICATOR,
                        outcome_id=outcome.id,
                        position=n,
                        text=text,
                    )
                )
        named = (
            (Side.COUNCIL, PersonRole.CONTRACT_MANAGER, priya.actor.person_id, None, "Priya Shah"),
            (
                Side.PROVIDER,
                PersonRole.MONITORING_CONTACT,
                tom.actor.person_id,
                orgs["riverside-youth-trust"],
                "Tom Okafor",
            ),
            (
                Side.PROVIDER,
                PersonRole.SAFEGUARDING_LEAD,
                None,
                orgs["riverside-youth-trust"],
                "Dee Walsh",
            ),
        )
        for position, (side, role, person_id, org_id, name) in enumerate(named, start=1):
            session.add(
                AgreementPerson(
                    agreement_id=agreement.id,
                    position=position,
                    side=side,
                    role=role,
                    person_id=person_id,
                    organisation_id=org_id,
                    name=name,
                )
            )
        session.add(
            AgreementDate(agreement_id=agreement.id, kind=DatedItemKind.SIGNED, on=starts_on)
        )
        session.add(
            AgreementDate(
                agreement_id=agreement.id,
                kind=DatedItemKind.REVIEW,
                on=add_months(starts_on, 6),
                yearly=True,
            )
        )
        # Paid each quarter in advance: the first is paid; the next falls due within weeks.
        for n in range(8):
            session.add(
                AgreementPayment(
                    agreement_id=agreement.id,
                    due_on=add_months(starts_on, 3 * n),
                    amount_pence=2_250_000,
                    payer=Payer.COUNCIL,
                    invoice_received_on=starts_on - timedelta(days=7) if n == 0 else None,
                    paid_on=starts_on + timedelta(days=14) if n == 0 else None,
                    paid_by=priya.actor.person_id if n == 0 else None,
                )
            )
        agreement_id = agreement.id

    async with services.db.session() as session:
        proposed = await session.get(Agreement, agreement_id)
        assert proposed is not None
        await propose_plan(session, priya, services, proposed, dict(PLAN))
    await monitoring.accept(tom, services, agreement_id)
    await _send_due_checkins(services, agreement_id, today)

    async with services.db.session() as session:
        checkins = list(
            (
                await session.scalars(
                    select(CheckinRow)
                    .where(CheckinRow.agreement_id == agreement_id)
                    .order_by(CheckinRow.due_on)
                )
            ).all()
        )
        answered = await session.get(Agreement, agreement_id)
        assert answered is not None and checkins
        last_month = checkins[0]
        indicator_ids = {
            item.text: item.id
            for item in (
                await session.scalars(
                    select(OutcomeItem).where(
                        OutcomeItem.agreement_id == agreement_id,
                        OutcomeItem.kind == ItemKind.INDICATOR,
                    )
                )
            ).all()
        }
        await record_answer(
            session,
            tom,
            services,
            last_month,
            answered,
            {
                "effective": "Yes: about 30 young people came to each club night.",
                "harder_easier": "Harder: one hall was closed for two weeks for repairs.",
                "rag": "amber",
                "notes": "A new volunteer youth worker started this month.",
            },
            {
                indicator_ids["Sessions attended each week"]: "110",
                indicator_ids["Young people who say they feel safe"]: "8 in 10",
            },
        )
        last_month_id = last_month.id
    async with services.db.session() as session:
        await send_reply(
            session,
            priya,
            services,
            last_month_id,
            "Thank you, Tom. Sorry about the hall. Could you tell us next month how many "
            "young people moved to the other clubs?",
        )
    async with services.db.session() as session:
        await request_variation(
            session,
            tom,
            services,
            agreement_id,
            {
                "what": "Open a fifth youth club, on Saturday afternoons",
                "why": "42 young people are on the waiting list",
                "value": "£12,000",
                "evidence": "The waiting list at the end of last month",
            },
        )


async def _send_due_checkins(services: Services, agreement_id: int, today: date) -> None:
    """Send the plan's check-ins that are due by today, as the scheduler would on its next
    sweep (it finds them already sent and leaves them)."""
    async with services.db.session() as session:
        plan = await plan_of(session, agreement_id)
        assert plan is not None
        due = list(
            (
                await session.scalars(
                    select(Reminder).where(
                        Reminder.kind == monitoring.CHECKIN_KIND,
                        Reminder.target_type == "monitoring_plan",
                        Reminder.target_id.like(f"{plan.id}:%"),
                    )
                )
            ).all()
        )
    for reminder in sorted(due, key=lambda r: r.due_at):
        if date.fromisoformat(str(reminder.payload["due_on"])) <= today:
            await monitoring.send_checkin(reminder, services)


async def _wellbeing(services: Services, council_id: int, today: date) -> None:
    orgs = await _org_ids(services)
    starts_on = add_months(today.replace(day=1), -5)
    async with services.db.session() as session:
        agreement = Agreement(
            authority_id=council_id,
            title=WELLBEING,
            route="grant",
            grant_funded=True,
            vat_basis="not_applicable",
            value_pence=9_600_000,
            area_served=[],
            starts_on=starts_on,
            ends_on=add_months(starts_on, 12) - timedelta(days=1),
            payment_terms_days=30,
            notes="Drop-in advice, a weekly women's group and a shared lunch.",
        )
        session.add(agreement)
        await session.flush()
        session.add_all(
            [
                AgreementParty(
                    agreement_id=agreement.id,
                    organisation_id=orgs["asha-womens-centre"],
                    role=PartyRole.LEAD,
                    share_percent=75,
                ),
                AgreementParty(
                    agreement_id=agreement.id,
                    organisation_id=orgs["eastgate-community-kitchen"],
                    role=PartyRole.MEMBER,
                    share_percent=25,
                ),
            ]
        )
        for n in range(4):
            due = add_months(starts_on, 3 * n)
            session.add(
                AgreementPayment(
                    agreement_id=agreement.id,
                    due_on=due,
                    amount_pence=2_400_000,
                    payer=Payer.COUNCIL,
                    paid_on=due + timedelta(days=10) if due + timedelta(days=10) < today else None,
                )
            )
            session.add(
                AgreementPayment(
                    agreement_id=agreement.id,
                    due_on=due + timedelta(days=14),
                    amount_pence=600_000,
                    payer=Payer.LEAD,
                    payee_organisation_id=orgs["eastgate-community-kitchen"],
                )
            )
