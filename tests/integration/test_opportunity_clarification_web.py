"""Opportunity questions over real HTTP on the web door: Grace asks from a link and a form,
Priya sees who asked and answers from hers, and the answer reaches Grace's web inbox and
the opportunity's page without naming her. After the last day for questions the link
refuses, with that day in full, and nothing is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

import pytest
from sqlalchemy import select

from bot.app import SENDER
from bot.clock import LONDON, format_when
from bot.core.clock import FixedClock
from bot.services import Services
from storage.clarification_tables import Clarification
from storage.models import Authority
from storage.opportunity_tables import Opportunity, OpportunityState
from tests.support.engagements import Browser
from tests.support.polling import settle
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of

QUESTION = "We run a kitchen in Burnley: may a food charity bid?"
PUBLISHED = "May a food charity bid?"
ANSWER = "Yes, any charity may bid."


@pytest.fixture(autouse=True)
def working_hours(services: Services) -> None:
    """Wednesday 16 December 2026, 10am in London: messages go at once (in the evening they
    wait for the morning, as people's quiet hours say), whatever time the suite runs."""
    services.clock = FixedClock(datetime(2026, 12, 16, 10, 0, tzinfo=UTC))


class OpportunityBrowser(Browser):
    async def open(self, words: str) -> str:
        status, html = await self.user.get(f"/do/opportunities?words={quote_plus(words)}")
        assert status == 200, text_of(html)
        return html


@pytest.fixture
async def browsers(app_server: RunningApp) -> AsyncIterator[dict[str, OpportunityBrowser]]:
    users = {name: WebUser(app_server.url) for name in ("Priya Shah", "Grace Lee")}
    for name, user in users.items():
        await user.sign_in_locally(name)
    yield {name: OpportunityBrowser(user) for name, user in users.items()}
    for user in users.values():
        await user.close()


async def _open_opportunity(services: Services, *, questions_closed: bool) -> Opportunity:
    now = services.clock.now()
    async with services.db.session() as session:
        riverside = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert riverside is not None
        opportunity = Opportunity(
            authority_id=riverside.id,
            title="Family support",
            purpose="Help families.",
            state=OpportunityState.OPEN,
            published_at=now,
            submission_deadline=now + timedelta(weeks=8),
            clarification_deadline=now - timedelta(hours=1)
            if questions_closed
            else now + timedelta(weeks=6),
            created_at=now,
            updated_at=now,
        )
        session.add(opportunity)
    return opportunity


async def test_ask_and_answer_on_the_web(
    services: Services, app_server: RunningApp, browsers: dict[str, OpportunityBrowser]
) -> None:
    priya, grace = browsers["Priya Shah"], browsers["Grace Lee"]
    o = (await _open_opportunity(services, questions_closed=False)).id

    thanks = text_of(await grace.fill_in(f"ask {o}", [{"question": QUESTION}]))
    assert "answer your question for everyone" in thanks, thanks
    async with services.db.session() as session:
        question = await session.scalar(select(Clarification))
    assert question is not None and question.opportunity_id == o

    waiting = text_of(await priya.open(f"questions {o}"))
    assert QUESTION in waiting and "Eastgate Community Kitchen" in waiting
    sent = text_of(
        await priya.fill_in(
            f"answer {o} {question.id}", [{"question": PUBLISHED, "answer": ANSWER}]
        )
    )
    assert "Published on" in sent and "all at the same time" in sent, sent

    await settle(app_server.runner.app[SENDER])  # the outbox delivers to the web inbox
    inbox = await grace.inbox()
    assert ANSWER in inbox and PUBLISHED in inbox and "Eastgate" not in inbox
    page = text_of(await grace.open(f"show {o}"))
    assert "Questions and answers" in page and ANSWER in page
    assert QUESTION not in page and "Eastgate" not in page


async def test_after_the_last_day_the_link_refuses_and_stores_nothing(
    services: Services, browsers: dict[str, OpportunityBrowser]
) -> None:
    opportunity = await _open_opportunity(services, questions_closed=True)
    assert opportunity.clarification_deadline is not None
    page = text_of(await browsers["Grace Lee"].open(f"ask {opportunity.id}"))
    assert format_when(opportunity.clarification_deadline, LONDON) in page, page
    assert "Nothing was sent" in page
    async with services.db.session() as session:
        assert await session.scalar(select(Clarification)) is None
