"""Issue 13's engagement corrections, on the web door over real HTTP: an edited question
keeps its original for the team, private conversations leave notes only the team sees,
the UK2 facts can be changed after publishing, and every team member declares conflicts
of interest (the record shows only that they did)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.scheduler import DueSweep
from bot.services import Services
from handlers import reminder_handlers
from handlers.engagements.meetings import SHARE_PROMPT
from handlers.engagements.setup import DEFAULT_CONFIDENTIALITY
from storage.engagement_tables import (
    Clarification,
    ConflictDeclaration,
    Engagement,
    MeetingRequest,
    MeetingState,
)
from storage.models import InboxItem, Organisation, OutboxMessage, Person
from tests.support.engagements import Browser, published_engagement
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of

ASKED = "We are Riverside Youth Trust in North Ward: could our one van cover the whole area?"
EDITED = "Could one van cover the whole area?"


async def record_json(web_user: WebUser, engagement_id: int) -> dict[str, Any]:
    async with web_user.client.get(
        f"{web_user.base}/engagements/{engagement_id}/record.json"
    ) as resp:
        assert resp.status == 200
        loaded: dict[str, Any] = json.loads(await resp.text())
        return loaded


async def test_an_edited_question_is_published_marked_and_the_original_kept(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    engagement = await published_engagement(
        services, web_user, service_area="children_young_people"
    )
    browser = Browser(web_user)
    await web_user.sign_in_locally("Tom Okafor")
    page = text_of(await browser.fill_in(f"ask {engagement.id}", [{"question": ASKED}]))
    assert "without your name" in page, page
    await web_user.post("/signout", {})

    async with services.db.session() as session:
        question = await session.scalar(select(Clarification))
        assert question is not None and question.original_question is None
    await web_user.sign_in_locally("Priya Shah")
    page = text_of(
        await browser.fill_in(
            f"reply {engagement.id} {question.id}",
            [{"question": EDITED, "answer": "Yes, one van is enough."}],
        )
    )
    assert "Published" in page, page
    async with services.db.session() as session:
        stored = await session.get(Clarification, question.id)
        assert stored is not None
        assert (stored.question, stored.original_question) == (EDITED, ASKED)
        sent = (
            await session.scalars(
                select(OutboxMessage.payload).where(
                    OutboxMessage.idempotency_key.like(
                        f"engagement:{engagement.id}:clarification:%"
                    )
                )
            )
        ).all()
    published = json.dumps(sent)
    assert sent and f"{EDITED} (edited to keep the asker anonymous)" in published
    assert "Riverside Youth Trust" not in published

    # The team sees how it was asked; the record keeps it for audit.
    team_view = text_of(await browser.open(f"show {engagement.id}"))
    assert "edited to keep the asker anonymous" in team_view
    assert f"First asked as: {ASKED}" in team_view
    record = await record_json(web_user, engagement.id)
    [item] = record["clarifications"]
    assert item["question"] == EDITED and item["original_question"] == ASKED
    assert item["edited_to_keep_the_asker_anonymous"] is True
    await web_user.post("/signout", {})

    # Providers see only the edited question, marked.
    await web_user.sign_in_locally("Tom Okafor")
    provider_view = text_of(await browser.open(f"show {engagement.id}"))
    assert f"{EDITED} (edited to keep the asker anonymous)" in provider_view
    assert ASKED not in provider_view and "First asked as" not in provider_view


async def agreed_meeting(services: Services, engagement: Engagement, hours_ago: float) -> int:
    """A private conversation Tom's organisation asked for, agreed for `hours_ago` ago."""
    async with services.db.session() as session:
        trust = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        assert trust is not None
        request = MeetingRequest(
            engagement_id=engagement.id,
            organisation_id=trust.id,
            topic="Our costs.",
            state=MeetingState.AGREED,
            proposed=[],
            agreed_at=services.clock.now() - timedelta(hours=hours_ago),
        )
        session.add(request)
        await session.flush()
        return request.id


NOTES = "They said quarterly payment in advance would let them bid. SECRET-NOTE-7Q"


async def test_private_meeting_notes_stay_with_the_team_and_prompt_an_update(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    engagement = await published_engagement(
        services, web_user, service_area="children_young_people"
    )
    browser = Browser(web_user)
    later = await agreed_meeting(services, engagement, hours_ago=-48)
    done = await agreed_meeting(services, engagement, hours_ago=2)

    await web_user.sign_in_locally("Priya Shah")
    page = text_of(await browser.open(f"notes {later}"))
    assert "once the conversation has happened" in page, page
    html = await browser.open(f"notes {done}")
    assert "What did you talk about?" in text_of(html)
    # Both answers are needed: nothing is saved without the outcome.
    status, html = await browser.send_page(html, 0, {"notes": NOTES}, intent="submit")
    assert status == 422 and "Enter an answer to 'What was the outcome?'" in text_of(html)
    async with services.db.session() as session:
        row = await session.get(MeetingRequest, done)
        assert row is not None and row.notes is None
    status, html = await browser.send_page(
        html, 0, {"notes": NOTES, "outcome": "Nothing more to do."}, intent="submit"
    )
    page = text_of(html)
    assert status == 200 and "Saved your notes" in page, page
    assert SHARE_PROMPT in page
    assert f"words=update+{engagement.id}" in html or f"update {engagement.id}" in html
    update_form = text_of(await browser.open(f"update {engagement.id}"))
    assert "What is the update about?" in update_form, update_form
    async with services.db.session() as session:
        row = await session.get(MeetingRequest, done)
        priya = await session.scalar(select(Person).where(Person.name == "Priya Shah"))
        assert row is not None and priya is not None
        assert (row.notes, row.outcome, row.notes_by) == (NOTES, "Nothing more to do.", priya.id)
        assert row.notes_at is not None
    record = await record_json(web_user, engagement.id)
    assert record["participation"]["private_conversations_with_notes"] == 1
    assert "SECRET-NOTE-7Q" not in json.dumps(record)
    await web_user.post("/signout", {})

    # The provider who talked can't read or write the team's notes.
    await web_user.sign_in_locally("Tom Okafor")
    page = text_of(await browser.open(f"notes {done}"))
    assert "SECRET-NOTE-7Q" not in page
    assert "Only the commissioning team" in page, page
    assert "SECRET-NOTE-7Q" not in text_of(await browser.open(f"show {engagement.id}"))
    async with services.db.session() as session:
        sent = (await session.scalars(select(OutboxMessage.payload))).all()
        inbox = (await session.scalars(select(InboxItem.payload))).all()
    assert "SECRET-NOTE-7Q" not in json.dumps([*sent, *inbox])


async def test_notice_facts_change_after_publishing_and_the_process_is_described_honestly(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    engagement = await published_engagement(services, web_user)
    browser = Browser(web_user)
    await web_user.sign_in_locally("Priya Shah")
    record = await record_json(web_user, engagement.id)
    assert record["notice"]["procurement_reference"] is None
    assert record["notice"]["likely_above_threshold"] == "Not given"
    assert "any other organisation could also take part" not in json.dumps(record)
    assert "organisations not on Convene could not" in record["notice"]["engagement_process"]

    page = text_of(
        await browser.fill_in(
            f"reference {engagement.id}",
            [
                {
                    "procurement_reference": " 2026/S 000-012345 ",
                    "above_threshold": "yes",
                    "intended_route": "competitive_flexible",
                }
            ],
        )
    )
    assert "Saved for Warm spaces" in page, page
    assert "before the tender notice" in page
    record = await record_json(web_user, engagement.id)
    notice = record["notice"]
    assert notice["procurement_reference"] == "2026/S 000-012345"
    assert notice["likely_above_threshold"] == "Yes, likely above threshold"
    assert notice["intended_route"] == "Competitive flexible procedure"
    assert "s.17" in notice["notice_duty"] and "before the tender notice" in notice["notice_duty"]
    status, html = await web_user.get(f"/engagements/{engagement.id}/record")
    assert status == 200 and "2026/S 000-012345" in text_of(html)
    await web_user.post("/signout", {})

    await web_user.sign_in_locally("Tom Okafor")
    page = text_of(await browser.open(f"reference {engagement.id}"))
    assert "isn't one of your council's" in page, page


WHAT = "I am a trustee of Riverside Youth Trust. CONFLICT-DETAIL-3X"


async def test_every_team_member_declares_and_the_record_shows_only_that_they_did(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    browser = Browser(web_user)
    await web_user.sign_in_locally("Priya Shah")
    closes = (services.clock.now() + timedelta(weeks=8)).date().strftime("%d/%m/%Y")
    page = text_of(
        await browser.fill_in(
            "new",
            [
                {
                    "title": "Youth clubs",
                    "purpose": "Evening clubs.",
                    "service_area": "children_young_people",
                },
                {"closes_on": closes, "confidentiality": DEFAULT_CONFIDENTIALITY},
                {"questions": ["viable_terms"]},
            ],
        )
    )
    assert "Draft: Youth clubs" in page, page
    assert "Not declared yet: Priya Shah" in page, page
    async with services.db.session() as session:
        engagement = await session.scalar(select(Engagement))
        assert engagement is not None
    n = engagement.id

    # The due sweep reminds whoever has not declared, while it is a draft.
    assert await DueSweep(services, reminder_handlers()).run_once() >= 1
    async with services.db.session() as session:
        reminded = (
            await session.scalars(
                select(Person.name)
                .join(OutboxMessage, OutboxMessage.person_id == Person.id)
                .where(OutboxMessage.idempotency_key.like(f"conflicts:{n}:%"))
            )
        ).all()
    assert list(reminded) == ["Priya Shah"]

    # A conflict needs what it is and how it is managed; nothing is saved without them.
    html = await browser.open(f"declare {n}")
    assert "Do you have a conflict of interest in this work?" in text_of(html)
    status, html = await browser.send_page(html, 0, {"declaration": "conflict"}, intent="submit")
    page = text_of(html)
    assert status == 422 and "Please say what it is." in page, page
    assert "Please say how the conflict is being managed." in page
    async with services.db.session() as session:
        assert await session.scalar(select(ConflictDeclaration)) is None
    status, html = await browser.send_page(
        html,
        0,
        {"declaration": "conflict", "what": WHAT, "how_managed": "I leave decisions on it."},
        intent="submit",
    )
    assert "Your declaration for Youth clubs was saved" in text_of(html), text_of(html)
    page = text_of(await browser.open(f"declarations {n}"))
    assert "Everyone on your team has declared." in page, page
    assert "CONFLICT-DETAIL-3X" in page
    draft = text_of(await browser.open(f"show {n}"))
    assert "Not declared yet" not in draft

    # Declaring again replaces the declaration.
    await browser.fill_in(f"declare {n}", [{"declaration": "none"}])
    async with services.db.session() as session:
        [declared] = (await session.scalars(select(ConflictDeclaration))).all()
        assert (declared.has_conflict, declared.what) == (False, None)
    await browser.fill_in(
        f"declare {n}",
        [{"declaration": "conflict", "what": WHAT, "how_managed": "I leave decisions on it."}],
    )

    record = await record_json(web_user, n)
    assert record["conflicts_of_interest"] == {
        "team_members": 1,
        "declared": 1,
        "not_declared": [],
    }
    assert "CONFLICT-DETAIL-3X" not in json.dumps(record)
    status, html = await web_user.get(f"/engagements/{n}/record")
    assert "1 of 1 people on the commissioning team declared" in text_of(html)
    assert "CONFLICT-DETAIL-3X" not in html
    await web_user.post("/signout", {})

    # Nobody outside the team sees or makes declarations.
    await web_user.sign_in_locally("Tom Okafor")
    page = text_of(await browser.open(f"declarations {n}"))
    assert "CONFLICT-DETAIL-3X" not in page and "Only the commissioning team" in page, page
    page = text_of(await browser.open(f"declare {n}"))
    assert "Only the commissioning team" in page, page
