"""The pipeline, in-process: Priya plans what Riverside will fund or buy, publishes it as
advance notice, and providers see only what is expected within the window, with dates in
full and a plain note that plans change. Changing, removing, making a draft opportunity,
the UK1 warning (figures from the legal data) and the UK1 file; every refusal changes
nothing and is on the record."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import yaml
from sqlalchemy import func, select

from bot.core.law import Route, pipeline_contract_floor, pipeline_spend_floor
from bot.core.pages import PageContent, PageRefusal, PageRequest
from handlers.pipeline.uk1 import uk1_page
from storage.forms import SHIPPED
from storage.models import AuditEvent, FormResponse
from storage.opportunity_tables import Opportunity
from storage.pipeline_tables import PipelineEntry, PipelinePublication
from tests.features.engagement_story import add_hilltop
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of

#: Monday 12 January 2026, 9am.
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
TODAY = date(2026, 1, 12)

YOUTH: dict[str, Any] = {
    "title": "Youth clubs in Preston",
    "description": "Evening clubs for young people aged 11 to 18.",
    "value_min": "£2,200,000",
    "value_max": "£2,500,000",
    "route": "light_touch",
    "publication_on": "2026-04-13",
    "contract_start_on": "2026-10-01",
    "area_served": "Preston",
    "cpv_codes": "85312000",
}
FOOD: dict[str, Any] = {
    "title": "Community food larders",
    "value_min": "£20,000",
    "value_max": "£40,000",
    "route": "grant",
    "publication_on": "2026-06-01",
}
#: 20 months away: beyond the 18-month window.
FAR: dict[str, Any] = {
    "title": "Carers' breaks",
    "value_max": "£90,000",
    "route": "standard_contract",
    "publication_on": "2027-09-06",
}


async def plan(priya: Conversation, answers: dict[str, Any]) -> int:
    await priya.fill("pipeline plan", {0: answers})
    assert "Planned:" in priya.text(), priya.text()
    async with priya.test_door.services.db.session() as session:
        found = await session.scalar(select(func.max(PipelineEntry.id)))
    assert found is not None
    return int(found)


async def entries(door: TestDoor) -> list[tuple[Any, ...]]:
    async with door.services.db.session() as session:
        rows = (await session.scalars(select(PipelineEntry).order_by(PipelineEntry.id))).all()
        return [
            (e.id, e.title, e.value_min_pence, e.value_max_pence, e.publication_on, e.published_at)
            for e in rows
        ]


async def refusals(door: TestDoor, person_id: int) -> list[AuditEvent]:
    async with door.services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.action == "pipeline.refused", AuditEvent.actor_id == person_id
                    )
                )
            ).all()
        )


def test_the_form_offers_exactly_the_route_keys() -> None:
    definition = yaml.safe_load((SHIPPED / "pipeline_entry.yaml").read_text("utf-8"))
    (route,) = [f for p in definition["pages"] for f in p["fields"] if f["id"] == "route"]
    assert [c["value"] for c in route["choices"]] == [r.value for r in Route]


async def test_plan_publish_and_providers_see_only_the_window_with_dates_in_full(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    await plan(priya, YOUTH)
    assert "Monday 13 April 2026" in priya.text()
    assert "don't see it until you publish" in priya.text()
    await plan(priya, FOOD)
    await plan(priya, FAR)

    # Nothing is shown before the team publishes.
    before = text_of(await tom.say("pipeline"))
    assert "No council has published plans yet" in before
    assert "Youth clubs" not in before

    team = text_of(await priya.say("pipeline"))
    assert "Not shown to providers yet" in team
    assert "more than 18 months away" in team  # the far one
    assert "Contract for care and community services (light-touch rules)" in team

    published = text_of(await priya.say("pipeline publish"))
    assert "Published" in published and "2 planned opportunities" in published
    assert "pipeline notice (UK1)" in published  # the youth clubs are over the UK1 figure
    assert "1 more is not shown" in published
    assert await door.outbox() == []  # advance notice is a list, not a message

    seen = text_of(await tom.say("pipeline"))
    assert "Riverside Borough Council: Youth clubs in Preston" in seen
    assert "Riverside Borough Council: Community food larders" in seen
    assert "Carers' breaks" not in seen
    assert "Monday 13 April 2026" in seen and "Thursday 1 October 2026" in seen
    assert "£2,200,000 to £2,500,000" in seen
    assert "Plans can change" in seen
    async with door.services.db.session() as session:
        publication = await session.scalar(select(PipelinePublication))
        audited = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "pipeline.published")
        )
    assert publication is not None and publication.entries == 2
    assert audited is not None and len(audited.details["entries"]) == 2

    # Time passes: once an entry's expected date has gone, providers no longer see it.
    door.freeze(datetime(2026, 4, 20, 9, 0, tzinfo=UTC))
    later = text_of(await tom.say("pipeline"))
    assert "Youth clubs" not in later and "Community food larders" in later
    assert "expected date has passed" in text_of(await priya.say("pipeline"))


async def test_the_uk1_warning_uses_the_legal_figures(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    await plan(priya, FOOD)
    assert "pipeline notice (UK1)" not in text_of(await priya.say("pipeline"))
    await plan(priya, YOUTH)
    listed = text_of(await priya.say("pipeline"))
    assert "pipeline notice (UK1)" in listed
    assert f"£{pipeline_contract_floor(TODAY):,}" in listed
    assert f"£{pipeline_spend_floor(TODAY):,}" in listed
    assert "Procurement Act 2023 s.93" in listed and "Youth clubs in Preston" in listed


async def test_edit_and_remove(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    entry_id = await plan(priya, YOUTH)
    await priya.say("pipeline publish")
    await priya.fill(f"pipeline edit {entry_id}", {0: {**YOUTH, "publication_on": "2026-05-11"}})
    assert "Changed: Youth clubs in Preston" in priya.text()
    assert "Providers see this change now" in priya.text()
    assert "Monday 11 May 2026" in text_of(await tom.say("pipeline"))

    removed = text_of(await priya.say(f"pipeline remove {entry_id}"))
    assert "Removed from your pipeline: Youth clubs in Preston" in removed
    assert await entries(door) == []
    assert "Youth clubs" not in text_of(await tom.say("pipeline"))
    async with door.services.db.session() as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == "pipeline_entry")
                .order_by(AuditEvent.id)
            )
        ).all()
    assert list(actions) == ["pipeline.planned", "pipeline.changed", "pipeline.removed"]


async def test_bad_answers_are_explained_and_nothing_is_saved(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    form = form_in(await priya.say("pipeline plan"))
    back = form_in(
        await priya.send_page(form, {**YOUTH, "value_min": "£3,000,000", "value_max": "£2,000"})
    )
    assert "must be at least the least" in back.errors["value_max"]
    back = form_in(await priya.send_page(form, {**YOUTH, "contract_start_on": "2026-01-01"}))
    assert "can't start before you publish" in back.errors["contract_start_on"]
    back = form_in(await priya.send_page(form, {**YOUTH, "publication_on": "13 Smarch"}))
    assert "publication_on" in back.errors
    back = form_in(await priya.send_page(form, {**YOUTH, "publication_on": "2026-01-05"}))
    assert "Monday 5 January 2026 has passed" in back.errors["publication_on"]
    assert await entries(door) == []
    assert [r.details["reason"] for r in await refusals(door, priya.person_id)] == [
        "publication date has passed"
    ]


async def test_others_are_refused_nothing_changes_and_it_is_on_the_record(door: TestDoor) -> None:
    door.freeze(NOW)
    await add_hilltop(door.services)
    priya = await door.sign_in("Priya Shah")
    entry_id = await plan(priya, YOUTH)
    before = await entries(door)
    yusuf = await door.sign_in("Yusuf Khan")
    tom = await door.sign_in("Tom Okafor")
    for person, words in (
        (yusuf, f"pipeline remove {entry_id}"),
        (yusuf, f"pipeline draft {entry_id}"),
        (tom, f"pipeline remove {entry_id}"),
    ):
        answer = text_of(await person.say(words))
        assert "Only the commissioning team" in answer and "Nothing was changed" in answer
    assert "Only the commissioning team" in text_of(await yusuf.say(f"pipeline edit {entry_id}"))
    assert "Only a council's commissioning team" in text_of(await tom.say("pipeline publish"))
    assert await entries(door) == before
    assert len(await refusals(door, yusuf.person_id)) == 3
    assert len(await refusals(door, tom.person_id)) == 2
    async with door.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Opportunity)) == 0
        drafts = await session.scalar(
            select(func.count())
            .select_from(FormResponse)
            .where(FormResponse.respondent_id == yusuf.person_id)
        )
    assert drafts == 0


async def test_publishing_nothing_in_the_window_is_refused_and_audited(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    await plan(priya, FAR)
    answer = text_of(await priya.say("pipeline publish"))
    assert "Nothing was published" in answer
    assert [e[5] for e in await entries(door)] == [None]
    async with door.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(PipelinePublication)) == 0
    assert [r.details["attempted"] for r in await refusals(door, priya.person_id)] == ["publish"]


async def test_a_planned_entry_becomes_a_prefilled_draft_opportunity(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    entry_id = await plan(priya, YOUTH)
    made = await priya.say(f"pipeline draft {entry_id}")
    words = text_of(made)
    assert "We made a draft opportunity" in words and "Preview: Youth clubs in Preston" in words
    assert "It has no deadline for bids yet" in words  # the preview's own guardrail
    async with door.services.db.session() as session:
        opportunity = await session.scalar(select(Opportunity))
        entry = await session.get(PipelineEntry, entry_id)
    assert opportunity is not None and entry is not None
    assert opportunity.state == "draft" and entry.opportunity_id == opportunity.id
    assert opportunity.title == "Youth clubs in Preston"
    assert opportunity.purpose == YOUTH["description"]
    assert (opportunity.value_min_pence, opportunity.value_max_pence) == (220_000_000, 250_000_000)
    # The planned route is a first idea; the team answers the route questions to set it.
    assert opportunity.route is None
    assert opportunity.cpv_codes == ["85312000"]
    assert opportunity.area_served == entry.area_served and entry.area_served
    assert opportunity.procurement_starts_on == date(2026, 4, 13)
    # The setup form opens on it with those answers.
    form = form_in(await priya.say(f"opportunities edit {opportunity.id}"))
    assert form.values["title"] == "Youth clubs in Preston"
    again = text_of(await priya.say(f"pipeline draft {entry_id}"))
    assert f"already a draft opportunity, number {opportunity.id}" in again
    async with door.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Opportunity)) == 1


async def _uk1(door: TestDoor, person: Conversation, kind: str) -> PageContent | PageRefusal:
    request = PageRequest(
        actor=await person.actor(), params={"slug": "riverside", "kind": kind}, format="file"
    )
    return await uk1_page(request, door.services)


async def test_the_uk1_file_for_the_team(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    await plan(priya, YOUTH)
    await plan(priya, FOOD)  # a grant: not a procurement, so not on a UK1
    await plan(priya, FAR)  # beyond the window
    made = await _uk1(door, priya, "json")
    assert isinstance(made, PageContent) and made.body is not None
    document = json.loads(made.body)
    assert document["noticeType"] == "UK1"
    assert document["financialYear"] == "2025 to 2026"
    assert document["coversUntil"] == "2027-07-12"
    assert document["listContractsOver"]["amount"] == pipeline_contract_floor(TODAY)
    (row,) = document["plannedProcurements"]
    assert row["title"] == "Youth clubs in Preston"
    assert row["estimatedValueMaximum"] == "2500000.00"
    assert row["estimatedTenderNoticeDate"] == "2026-04-13"
    assert row["estimatedContractStartDate"] == "2026-10-01"
    assert row["cpvCodes"] == ["85312000"] and row["mustBeListed"] is True
    assert row["deliveryAreaNames"] == ["Preston"]

    sheet = await _uk1(door, priya, "csv")
    assert isinstance(sheet, PageContent) and sheet.body is not None
    rows = list(csv.reader(io.StringIO(sheet.body.decode("utf-8-sig"))))
    assert rows[0][1] == "Title" and rows[1][1] == "Youth clubs in Preston"
    assert rows[1][-1] == "Yes"
    assert sheet.download_name == "riverside-pipeline-uk1-2026-01-12.csv"

    refused = await _uk1(door, tom, "csv")
    assert isinstance(refused, PageRefusal) and refused.status == 403
    assert [r.details["attempted"] for r in await refusals(door, tom.person_id)] == ["uk1 file"]
