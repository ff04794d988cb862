"""The route, its checklist and its rules, in-process: the six route questions (answers kept
and asked again), the decision with its reasons and the law, health care handed off, the
route's rules at publishing (problems refuse, warnings allow), the checklist with due dates
in full, steps recorded done with the notice's identifier and undone, reserved contracts
refusing organisations that do not qualify, and values of tens of millions of pounds.

Every refusal says why, changes nothing and is on the record; providers never see the
route's questions or the checklist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from bot.core.reply import Message, Notice
from storage.models import AuditEvent, Organisation
from storage.opportunity_route_tables import OpportunityChecklistStep, OpportunityRoute
from storage.opportunity_tables import Opportunity, OpportunityInterest
from tests.features.opportunity_story import (
    NOW,
    TITLE,
    choose_route,
    pages,
    post,
    refusals,
    state_of,
)
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of

#: A care and community service above the light-touch money limit (£663,540).
BIG = {"value_min": "£600,000", "value_max": "£700,000"}
BIG_ROUTE = {"value": "£700,000"}


async def _route_state(door: TestDoor) -> dict[str, Any]:
    """The route and checklist tables, for "nothing changed"."""
    async with door.services.db.session() as session:
        routes = [
            (r.opportunity_id, r.route, r.answers, r.started_on)
            for r in (await session.scalars(select(OpportunityRoute))).all()
        ]
        steps = [
            (s.opportunity_id, s.step, s.done_on, s.notice_id, s.awarded_organisation_id)
            for s in (await session.scalars(select(OpportunityChecklistStep))).all()
        ]
    everything = await state_of(door.services)
    del everything["responses"]  # form drafts come and go as forms are opened
    return {"routes": routes, "steps": steps, **everything}


async def _audit(door: TestDoor, action: str) -> list[AuditEvent]:
    async with door.services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
                )
            ).all()
        )


async def _steps(door: TestDoor, opportunity_id: int) -> dict[str, OpportunityChecklistStep]:
    async with door.services.db.session() as session:
        rows = await session.scalars(
            select(OpportunityChecklistStep).where(
                OpportunityChecklistStep.opportunity_id == opportunity_id
            )
        )
        return {row.step: row for row in rows.all()}


async def _record(priya: Conversation, opportunity_id: int, step: str, **answers: str) -> str:
    """Priya records a step done through the form its "Mark done" button opens."""
    await priya.fill(f"opportunities done {opportunity_id} {step}", {0: {"step": step, **answers}})
    return priya.text()


async def _flag(door: TestDoor, name: str, **flags: bool) -> None:
    async with door.services.db.session() as session:
        await session.execute(update(Organisation).where(Organisation.name == name).values(**flags))


# --- choosing the route ----------------------------------------------------------------------


async def test_the_route_is_chosen_shown_with_the_law_and_asked_again_with_the_answers(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await post(priya, route=False)
    form = form_in(await priya.say(f"opportunities route {n}"))
    assert form.form_key == "opportunity_route"
    # The first time, the opportunity's own value is filled in.
    assert form.values["value"] == "80000"

    shown = await choose_route(priya, n)
    assert f"The route for {TITLE}: Contract below the Act's money limit" in shown
    assert "It is worth £80,000 including VAT: below the money limit of £663,540" in shown
    assert "Monday 12 January 2026" in shown  # the rules of the day it starts, in full
    assert "Procurement Act 2023 s.84" in shown  # each reason cites the law
    assert "we used today's rules" in shown  # no start date was given
    assert "Providers never see them" in shown

    async with door.services.db.session() as session:
        choice = await session.get(OpportunityRoute, n)
        opportunity = await session.get(Opportunity, n)
    assert choice is not None and opportunity is not None
    assert (choice.route, opportunity.route) == ("below_threshold", "below_threshold")
    assert choice.answers["service_kind"] == "people_services"
    assert choice.answers["value"] == 8_000_000  # pence, as the form stores money
    assert choice.chosen_by == priya.person_id
    assert [e.details["route"] for e in await _audit(door, "opportunity.route_chosen")] == [
        "below_threshold"
    ]

    # Asked again with the answers filled in; a changed answer changes the route.
    again = form_in(await priya.say(f"opportunities route {n}"))
    assert again.values["funding"] == "purchase" and again.values["reserve"] == "no"
    shown = await choose_route(priya, n, funding="grant")
    assert "Grant" in shown and "Subsidy control" in shown
    async with door.services.db.session() as session:
        choice = await session.get(OpportunityRoute, n)
    assert choice is not None and choice.route == "grant"


async def test_rules_come_from_the_procurement_start_date_and_are_checked_again_at_publishing(
    door: TestDoor,
) -> None:
    """£210,000 of other services is below the goods and services limit for a procurement
    started on 31 December 2025 (£214,904), and above it from 1 January 2026 (£207,720)."""
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await post(priya, route=False, value_max="£210,000", procurement_starts_on="2025-12-31")
    shown = await choose_route(priya, n, service_kind="other_services", value="£210,000")
    assert "Contract below the Act's money limit" in shown
    assert "Wednesday 31 December 2025" in shown and "£214,904" in shown

    # The start date moves into 2026: the same answers now give another route.
    await priya.fill(
        f"opportunities edit {n}",
        pages(value_max="£210,000", procurement_starts_on="2026-01-02"),
    )
    assert "Preview" in priya.text()
    before = await _route_state(door)
    refused = text_of(await priya.say(f"opportunities publish {n}"))
    assert "Nothing was sent" in refused
    assert "your answers now give a different route (Contract (competition))" in refused
    assert await _route_state(door) == before
    assert [r.details["attempted"] for r in await refusals(door.services, priya.person_id)] == [
        "publish"
    ]


async def test_publishing_without_a_route_is_refused_and_offers_the_route_step(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await post(priya, route=False)
    preview = text_of(await priya.say(f"opportunities preview {n}"))
    assert "Before you can publish: You have not chosen how it will be funded" in preview
    before = await _route_state(door)
    replies = await priya.say(f"opportunities publish {n}")
    words = text_of(replies)
    assert "Nothing was sent" in words and "go to the route questions" in words
    refusal = next(r for r in replies if isinstance(r, Notice))
    assert any(b.value == f"route {n}" for b in refusal.buttons)
    assert await _route_state(door) == before
    assert await door.outbox() == []
    assert [r.details["attempted"] for r in await refusals(door.services, priya.person_id)] == [
        "publish"
    ]
    # The checklist, too, asks for the route first.
    assert "go to the route questions" in text_of(
        await priya.say(f"opportunities checklist {n}")
    )


async def test_health_care_is_flagged_handed_off_and_cannot_be_published(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await post(priya, route=False)
    shown = await choose_route(priya, n, health_care="yes")
    assert "Health care under the Provider Selection Regime" in shown
    assert "Convene does not run that regime, so this opportunity can't be published here" in shown
    assert "S.I. 2023/1348" in shown
    checklist = text_of(await priya.say(f"opportunities checklist {n}"))
    assert "Hand this to your health commissioning team" in checklist

    before = await _route_state(door)
    refused = text_of(await priya.say(f"opportunities publish {n}"))
    assert "handed off to the Provider Selection Regime" in refused
    assert "can't be published here" in refused
    assert await _route_state(door) == before
    assert await door.outbox() == []


async def test_the_routes_problems_refuse_publishing_and_its_warnings_allow_it(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    # Kept for mutuals, but not a care or community service: the law does not allow it.
    n = await post(priya, route=False, value_min="£250,000", value_max="£300,000")
    shown = await choose_route(
        priya, n, service_kind="other_services", value="£300,000", reserve="mutual"
    )
    assert "Contract kept for public service mutuals" in shown
    before = await _route_state(door)
    refused = text_of(await priya.say(f"opportunities publish {n}"))
    assert "Only light-touch services (such as care or community services) can be reserved" in (
        refused
    )
    assert "Procurement Act 2023 s.33" in refused
    assert await _route_state(door) == before
    assert await door.outbox() == []

    # "Not sure" answers are warnings: shown, and publishing goes ahead.
    shown = await choose_route(
        priya,
        n,
        service_kind="other_services",
        value="£300,000",
        reserve="no",
        health_care="not_sure",
    )
    assert "You were not sure if it is a health care service" in shown
    published = text_of(await priya.say(f"opportunities publish {n}"))
    assert "Published" in published
    assert "You were not sure if it is a health care service" in published
    # Once published the route stays as it is.
    assert "its route can't change now" in text_of(await priya.say(f"opportunities route {n}"))


# --- the checklist ---------------------------------------------------------------------------


async def test_the_checklist_shows_each_step_with_due_dates_and_records_what_is_done(
    door: TestDoor,
) -> None:
    """A care and community service above the light-touch limit: UK2 and UK4, the award
    notice, no standstill, and the contract details within 120 days of signing."""
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await post(priya, **BIG)
    await choose_route(priya, n, **BIG_ROUTE)
    assert "Published" in text_of(await priya.say(f"opportunities publish {n}"))

    replies = await priya.say(f"opportunities checklist {n}")
    checklist = text_of(replies)
    assert "The route: Contract for care and community services (light-touch rules)" in checklist
    for title in (
        "To do: Preliminary market engagement notice (UK2)",
        "To do: Tender notice (UK4)",
        "To do: Contract award notice (UK6)",
        "To do: Contract signed",
        "To do: Contract details notice (UK7)",
    ):
        assert title in checklist, title
    assert "Standstill" not in checklist  # not required for light-touch contracts
    assert "Due by Monday 12 January 2026" in checklist  # published today
    assert "within 120 days of signing" in checklist
    message = next(r for r in replies if isinstance(r, Message))
    assert "Providers never see" in (message.who_sees or "")
    tender = next(s for s in message.sections if "Tender notice (UK4)" in (s.heading or ""))
    assert [b.value for b in tender.buttons] == [f"done {n} tender_notice"]

    # Recorded done with the Find a Tender notice's identifier.
    recorded = await _record(priya, n, "tender_notice", notice_id="2026/S 000-001234")
    assert (
        "Recorded: Tender notice (UK4). Done on Monday 12 January 2026. Notice 2026/S 000-001234"
        in recorded
    )
    assert "Done: Tender notice (UK4)" in recorded and "1 of 5 steps done" in recorded
    row = (await _steps(door, n))["tender_notice"]
    assert (row.notice_id, row.done_by, str(row.done_on)) == (
        "2026/S 000-001234",
        priya.person_id,
        "2026-01-12",
    )
    # The award, then the signing: the contract details notice is due 120 days later.
    await _record(priya, n, "contract_award_notice", notice_id="2026/S 000-004321")
    recorded = await _record(priya, n, "contract_signed")
    assert "Due by Monday 11 May 2026" in recorded
    assert [e.details["step"] for e in await _audit(door, "opportunity.step_done")] == [
        "tender_notice",
        "contract_award_notice",
        "contract_signed",
    ]

    # Undo a mistake: marked not done again, on the record.
    undone = text_of(await priya.say(f"opportunities undo {n} contract_signed"))
    assert "Contract signed is marked not done again" in undone
    assert "Monday 11 May 2026" not in undone
    assert "contract_signed" not in await _steps(door, n)
    [event] = await _audit(door, "opportunity.step_undone")
    assert event.details["step"] == "contract_signed"
    before = await _route_state(door)
    again = text_of(await priya.say(f"opportunities undo {n} contract_signed"))
    assert "not marked done, so nothing was changed" in again
    assert await _route_state(door) == before


async def test_a_standard_contract_has_a_standstill_and_dates_in_order(door: TestDoor) -> None:
    """Other services above the limit: UK6, then eight working days' standstill, then UK7
    within 30 days of signing. Days in an impossible order are refused."""
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await post(priya, value_min="£250,000", value_max="£300,000")
    await choose_route(priya, n, service_kind="other_services", value="£300,000")
    assert "Published" in text_of(await priya.say(f"opportunities publish {n}"))
    await _record(priya, n, "contract_award_notice", notice_id="UK6-1")
    checklist = text_of(await priya.say(f"opportunities checklist {n}"))
    assert "Standstill before signing" in checklist
    # 8 working days beginning with Monday 12 January: to Wednesday 21; signing from 22.
    assert "The standstill ends on Wednesday 21 January 2026" in checklist
    assert "you can sign from Thursday 22 January 2026" in checklist

    before = await _route_state(door)
    refused = await _record(priya, n, "contract_signed", done_on="2026-01-12")
    assert "cannot be signed until the standstill ends on Wednesday 21 January 2026" in refused
    assert await _route_state(door) == before
    assert [r.details["attempted"] for r in await refusals(door.services, priya.person_id)] == [
        "done"
    ]


async def test_bad_steps_are_refused_clearly_and_change_nothing(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await post(priya, **BIG)
    await choose_route(priya, n, **BIG_ROUTE)
    before = await _route_state(door)

    no_id = await priya.fill(
        f"opportunities done {n} tender_notice", {0: {"step": "tender_notice"}}
    )
    form = form_in(no_id)
    assert (
        "Give the identifier of the Tender notice (UK4) from Find a Tender"
        in form.errors["notice_id"]
    )
    future = form_in(
        await priya.fill(
            f"opportunities done {n} tender_notice",
            {0: {"step": "tender_notice", "notice_id": "X-1", "done_on": "2026-02-01"}},
        )
    )
    assert "can't be in the future" in future.errors["done_on"]
    # A transparency notice is for a direct award, not this competition.
    other = form_in(
        await priya.fill(
            f"opportunities done {n}", {0: {"step": "transparency_notice", "notice_id": "X"}}
        )
    )
    assert "has no such step" in other.errors["step"]
    nobody = form_in(
        await priya.fill(
            f"opportunities done {n} contract_award_notice",
            {
                0: {
                    "step": "contract_award_notice",
                    "notice_id": "X",
                    "awarded_to": "Nobody Of That Name",
                }
            },
        )
    )
    assert (
        'can\'t find one organisation called "Nobody Of That Name"' in nobody.errors["awarded_to"]
    )
    assert await _route_state(door) == before
    assert [r.details["attempted"] for r in await refusals(door.services, priya.person_id)] == [
        "done"
    ] * 4


async def test_providers_and_other_councils_never_see_the_route_or_the_checklist(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await post(priya, **BIG)
    await choose_route(priya, n, **BIG_ROUTE)
    assert "Published" in text_of(await priya.say(f"opportunities publish {n}"))
    await _record(priya, n, "tender_notice", notice_id="2026/S 000-001234")
    tom = await door.sign_in("Tom Okafor")
    before = await _route_state(door)
    for words in (f"checklist {n}", f"route {n}", f"done {n}", f"undo {n} tender_notice"):
        answer = text_of(await tom.say(f"opportunities {words}"))
        assert "Only the commissioning team of the council that posted" in answer, words
        assert "2026/S 000-001234" not in answer
    assert await _route_state(door) == before
    assert len(await refusals(door.services, tom.person_id)) == 4
    # What a provider sees is the route's name only, never the answers or the checklist.
    shown = text_of(await tom.say(f"opportunities show {n}"))
    assert "Contract for care and community services (light-touch rules)" in shown
    assert "2026/S 000-001234" not in shown and "Checklist" not in shown


# --- reserved contracts ----------------------------------------------------------------------


async def test_a_contract_kept_for_supported_employment_refuses_other_organisations(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await post(priya, **BIG)
    await choose_route(priya, n, **BIG_ROUTE, reserve="supported_employment")
    assert "Published" in text_of(await priya.say(f"opportunities publish {n}"))
    await _flag(door, "Asha Women's Centre", supported_employment=True)

    tom = await door.sign_in("Tom Okafor")
    assert "Only supported employment providers can take part" in text_of(
        await tom.say(f"opportunities show {n}")
    )
    before = await _route_state(door)
    refused = text_of(await tom.say(f"opportunities interest {n}"))
    assert "kept for supported employment providers" in refused
    assert "at least 30% of workers are disabled or disadvantaged" in refused
    assert "Procurement Act 2023 s.32" in refused
    assert "Riverside Youth Trust's profile does not say it is one" in refused
    assert "Nothing was changed" in refused
    assert await _route_state(door) == before
    assert [r.details["reason"] for r in await refusals(door.services, tom.person_id)] == [
        "reserved contract"
    ]

    amina = await door.sign_in("Amina Begum")
    assert "is down as interested" in text_of(await amina.say(f"opportunities interest {n}"))
    # The team sees who is interested, and nothing of the refused attempt.
    summary = text_of(await priya.say(f"opportunities interested {n}"))
    assert "1 organisation is interested" in summary and "Asha Women's Centre" in summary
    assert "Riverside Youth Trust" not in summary


async def test_a_contract_kept_for_mutuals_checks_the_flag_and_the_three_year_rule(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    first = await post(priya, **BIG)
    await choose_route(priya, first, **BIG_ROUTE, reserve="mutual")
    assert "Published" in text_of(await priya.say(f"opportunities publish {first}"))

    tom = await door.sign_in("Tom Okafor")
    refused = text_of(await tom.say(f"opportunities interest {first}"))
    assert "kept for public service mutuals" in refused
    assert "Riverside Youth Trust's profile does not say it is one" in refused

    await _flag(door, "Riverside Youth Trust", public_service_mutual=True)
    assert "is down as interested" in text_of(await tom.say(f"opportunities interest {first}"))
    # The council gives Riverside the first contract, recorded with its award notice.
    await _record(
        priya,
        first,
        "contract_award_notice",
        notice_id="2026/S 000-000777",
        awarded_to="riverside youth trust",
    )
    assert "Recorded: Contract award notice (UK6)" in priya.text()
    assert (await _steps(door, first))["contract_award_notice"].awarded_organisation_id

    second = await post(priya, **BIG, title="Youth mental health in Chorley")
    await choose_route(priya, second, **BIG_ROUTE, reserve="mutual")
    assert "Published" in text_of(await priya.say(f"opportunities publish {second}"))
    before = await _route_state(door)
    refused = text_of(await tom.say(f"opportunities interest {second}"))
    assert "gave this mutual a reserved contract in the last 3 years" in refused
    assert "Nothing was changed" in refused
    assert await _route_state(door) == before
    async with door.services.db.session() as session:
        interest = (
            await session.scalars(
                select(OpportunityInterest).where(OpportunityInterest.opportunity_id == second)
            )
        ).all()
    assert interest == []


# --- money -----------------------------------------------------------------------------------


async def test_a_thirty_million_pound_contract_is_stored_and_shown_whole(door: TestDoor) -> None:
    """£30m is 3,000,000,000p: more than a 32-bit integer holds (on PostgreSQL too)."""
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await post(priya, route=False, value_min="£25m", value_max="£30,000,000")
    async with door.services.db.session() as session:
        opportunity = await session.get(Opportunity, n)
    assert opportunity is not None
    assert (opportunity.value_min_pence, opportunity.value_max_pence) == (
        2_500_000_000,
        3_000_000_000,
    )
    assert "£25,000,000 to £30,000,000" in text_of(await priya.say(f"opportunities preview {n}"))
    shown = await choose_route(priya, n, service_kind="other_services", value="£30,000,000")
    assert "It is worth £30,000,000 including VAT: at or above the money limit" in shown
    async with door.services.db.session() as session:
        choice = await session.get(OpportunityRoute, n)
    assert choice is not None and choice.answers["value"] == 3_000_000_000


async def test_a_route_step_without_its_number_asks_which_one(door: TestDoor) -> None:
    priya = await door.sign_in("Priya Shah")
    for step in ("route", "checklist", "done", "undo"):
        answer = text_of(await priya.say(f"opportunities {step}"))
        assert "Which one? Find it in the list: go to the opportunities list" in answer, step
    assert await refusals(door.services, priya.person_id) == []


def test_the_done_form_offers_every_step_a_checklist_can_hold() -> None:
    """The form's choices are data; the law's step keys are code: they must agree."""
    from handlers.opportunities.route import STEP_KEYS
    from storage.forms import shipped_definitions

    form = next(d for d in shipped_definitions() if d.key == "opportunity_step_done")
    assert {choice.value for choice in form.field("step").choices} == STEP_KEYS
