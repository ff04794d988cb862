"""One opportunity story, shared by the opportunity feature tests and the door tests: Priya
posts "Youth mental health in Preston" (two lots) through the real forms, on whichever
door her conversation uses.

It fits Riverside Youth Trust (young people, Preston) and Asha Women's Centre (mental
health, Lancashire, a county that holds Preston); it does not fit Eastgate Community
Kitchen (food, Burnley) or Silver Threads (older people).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bot.services import Services
from storage.models import AuditEvent, FormResponse, OutboxMessage
from storage.opportunity_tables import (
    Opportunity,
    OpportunityAmendment,
    OpportunityAnnouncement,
    OpportunityInterest,
    OpportunityLot,
)
from tests.support.inprocess import Conversation

#: Monday 12 January 2026, 9am: the deadline below is eight weeks later, a Friday.
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
DEADLINE_DAY = "2026-03-06"
DEADLINE_WORDS = "Friday 6 March 2026, 5pm"
TITLE = "Youth mental health in Preston"

PAGES: dict[int, dict[str, Any]] = {
    0: {"title": TITLE, "purpose": "Help young people feel better, sooner."},
    1: {
        "people_served": "Young people aged 11 to 18 in Preston",
        "service_areas": ["children_young_people", "mental_health"],
        "area_served": "Preston",
    },
    2: {
        "value_min": "£50,000",
        "value_max": "£80,000",
        "payment_model": "in_arrears",
        "length_months": "24",
        "tupe": "no",
    },
    3: {
        "submission_deadline": DEADLINE_DAY,
        "clarification_deadline": "2026-02-20",
        "submission_formats": ["writing", "video"],
        "partners_wanted": "yes",
    },
}

#: The route questions' answers for the story: a care and community service bought in an
#: open competition, worth £80,000 (below the light-touch money limit).
ROUTE_ANSWERS: dict[str, Any] = {
    "funding": "purchase",
    "health_care": "no",
    "service_kind": "people_services",
    "value": "£80,000",
    "how_chosen": "open",
    "reserve": "no",
}


def pages(**changes: Any) -> dict[int, dict[str, Any]]:
    """The story's pages with some answers changed (`value_max="£10"` finds its page)."""
    changed = {index: dict(answers) for index, answers in PAGES.items()}
    for name, value in changes.items():
        page = next((i for i, answers in PAGES.items() if name in answers), 3)
        changed[page][name] = value
    return changed


#: The route answers that make it a grant (outside the Act; 360Giving applies).
A_GRANT: dict[str, Any] = {"funding": "grant"}


async def post(priya: Conversation, *, route: bool | dict[str, Any] = True, **changes: Any) -> int:
    """Priya fills in the whole form, then (unless `route=False`) answers the route
    questions (the story's, or the story's changed by `route`); the new opportunity's id.
    Her last replies are the preview."""
    await priya.fill("opportunities new", pages(**changes))
    assert "Preview" in priya.text(), priya.text()
    services = priya.test_door.services
    async with services.db.session() as session:
        found = await session.scalar(select(func.max(Opportunity.id)))
    assert found is not None
    if route:
        await choose_route(priya, int(found), **(route if isinstance(route, dict) else {}))
        await priya.say(f"opportunities preview {found}")
        assert "Preview" in priya.text(), priya.text()
    return int(found)


async def choose_route(priya: Conversation, opportunity_id: int, **answers: Any) -> str:
    """Priya answers the six route questions (the story's answers, some changed); the
    words of the reply."""
    await priya.fill(f"opportunities route {opportunity_id}", {0: {**ROUTE_ANSWERS, **answers}})
    return priya.text()


async def add_lot(
    priya: Conversation, opportunity_id: int, title: str, low: str, high: str
) -> None:
    await priya.fill(
        f"opportunities lot {opportunity_id}",
        {0: {"title": title, "value_min": low, "value_max": high}},
    )
    assert f"{title}, is saved" in priya.text(), priya.text()


async def post_with_two_lots(priya: Conversation) -> int:
    opportunity_id = await post(priya)
    await add_lot(priya, opportunity_id, "North Preston", "£20,000", "£30,000")
    await add_lot(priya, opportunity_id, "South Preston", "£30,000", "£50,000")
    return opportunity_id


async def state_of(services: Services) -> dict[str, Any]:
    """Everything a refused attempt must leave as it was (the audit log aside)."""
    async with services.db.session() as session:

        async def count(model: Any) -> int:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

        opportunities = [
            (o.id, o.state, o.title, o.published_at, o.submission_deadline, o.withdrawn_at)
            for o in (await session.scalars(select(Opportunity).order_by(Opportunity.id))).all()
        ]
        interest = [
            (i.organisation_id, i.state)
            for i in (
                await session.scalars(select(OpportunityInterest).order_by(OpportunityInterest.id))
            ).all()
        ]
        return {
            "opportunities": opportunities,
            "interest": interest,
            "lots": await count(OpportunityLot),
            "amendments": await count(OpportunityAmendment),
            "announcements": await count(OpportunityAnnouncement),
            "outbox": await count(OutboxMessage),
            "responses": await count(FormResponse),
        }


async def refusals(services: Services, person_id: int) -> list[AuditEvent]:
    async with services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent)
                    .where(
                        AuditEvent.action == "opportunity.refused",
                        AuditEvent.actor_id == person_id,
                    )
                    .order_by(AuditEvent.id)
                )
            ).all()
        )
