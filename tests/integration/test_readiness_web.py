"""A provider answers the readiness questions on the web door, stops, and finishes later."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.app import SENDER
from bot.services import Services
from handlers.readiness import REFRESH_KIND
from storage.models import FormResponse, InboxItem, Reminder, ResponseState
from tests.support.areas import codes
from tests.support.servers import RunningApp
from tests.support.web import WebUser, form_action, text_of

PAGES = [
    {
        "annual_cost": "£45,000",
        "overhead_rate": "15%",
        "arrears_days": "61_90",
        "payment_terms": "monthly_arrears",
        "inflation": "cpi_uplift",
    },
    {
        "reserves_months": "3",
        "payment_by_results": "small_part",
        "exposure": "tupe",
        "insurance": "public_liability",
        "main_risks": "Short contracts and late payment.",
    },
    {
        "contract_length": "5_plus",
        "break_clauses": "with_notice",
        "smallest_value": "5k",
        "largest_value": "£150,000",
    },
    {
        "staff_fte": "12",
        "volunteers": "40",
        "areas_covered": "Preston, lancashire",  # typed names, any case
        "mobilise": "1_3_months",
        "safeguarding_policy": "yes",
        "lived_experience": "involved",
        "social_value": "Local jobs.",
    },
    {"working_with_others": "join_consortium"},
    {"support_wanted": ["costing", "bid_writing"], "respond_how": "call"},
]


async def test_provider_answers_readiness_in_two_sittings(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    await web_user.sign_in_locally("Tom Okafor")
    status, html = await web_user.get("/do/readiness")
    assert status == 200 and "Costs and payment" in html
    page = text_of(html)
    assert "internal auditors may check them" in page
    assert "Freedom of Information Act 2000" in page
    assert "promised not to use these answers to score or rank bids" in page
    # Prefilled from the profile where it can be.
    action = form_action(html)

    # A number that does not parse is explained, with an example.
    status, html = await web_user.post(
        action, [("_page", "0"), ("_intent", "next"), ("annual_cost", "loads")]
    )
    assert status == 422 and "like £45,000" in text_of(html)

    for index, values in enumerate(PAGES[:3]):
        form = [("_page", str(index)), ("_intent", "next")]
        for key, value in values.items():
            form.extend((key, v) for v in (value if isinstance(value, list) else [value]))
        status, html = await web_user.post(action, form)
        assert status == 200, text_of(html)
    # Stop here; come back later.
    status, html = await web_user.post(
        action, [("_page", "3"), ("_intent", "save"), ("staff_fte", "12")]
    )
    assert "Saved" in text_of(html)
    # Home offers to carry on with this draft, whichever feature owns it.
    _, html = await web_user.get("/")
    assert "Form to finish" in text_of(html) and 'href="/do/readiness"' in html
    status, html = await web_user.get("/do/readiness")
    assert "What you can do" in html and 'value="12"' in html

    for index, values in list(enumerate(PAGES))[3:]:
        form = [("_page", str(index)), ("_intent", "submit" if index == 5 else "next")]
        for key, value in values.items():
            form.extend((key, v) for v in (value if isinstance(value, list) else [value]))
        status, html = await web_user.post(action, form)
        assert status == 200, text_of(html)
    page = text_of(html)
    assert "Thank you" in page and "£45,000" in page and "61 to 90 days" in page

    await app_server.runner.app[SENDER].drain()
    async with services.db.session() as session:
        response = await session.scalar(
            select(FormResponse).where(FormResponse.form_key == "readiness")
        )
        assert response is not None and response.state == ResponseState.SUBMITTED
        assert response.answers["annual_cost"] == 4_500_000
        assert response.answers["smallest_value"] == 500_000
        assert response.answers["areas_covered"] == codes("Preston", "Lancashire")
        assert response.authority_id is not None
        reminder = await session.scalar(select(Reminder).where(Reminder.kind == REFRESH_KIND))
        assert reminder is not None and reminder.target_id == str(response.organisation_id)
        assert response.submitted_at is not None
        assert reminder.due_at - response.submitted_at >= timedelta(days=364)
        acks = (await session.scalars(select(InboxItem))).all()
        assert any(
            "help with working out costs and prices, writing bids" in str(a.payload) for a in acks
        )

    # Coming back shows when they last answered, with the answers filled in.
    _, html = await web_user.get("/do/readiness")
    assert "You last updated these answers on" in text_of(html)
    assert 'value="45000"' in html


async def test_year_old_answers_get_a_refresh_reminder(
    app_server: RunningApp, services: Services
) -> None:
    from datetime import UTC, datetime

    from bot.app import SWEEP
    from storage.models import Organisation, WorkState
    from storage.reminders import schedule_reminder

    async with services.db.session() as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        assert org is not None
        reminder = await schedule_reminder(
            session,
            kind=REFRESH_KIND,
            due_at=datetime.now(UTC) - timedelta(seconds=1),
            target_type="organisation",
            target_id=org.id,
        )
        reminder_id = reminder.id
    assert await app_server.runner.app[SWEEP].run_once() == 1
    await app_server.runner.app[SENDER].drain()
    async with services.db.session() as session:
        row = await session.get(Reminder, reminder_id)
        assert row is not None and row.state == WorkState.DONE
        told = (await session.scalars(select(InboxItem))).all()
        assert len(told) == 1  # Tom is Riverside Youth Trust's only person
        assert "Are your readiness answers still right?" in str(told[0].payload)


async def test_last_updated_is_for_the_council_asked(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    """Answers sent to one council don't make another council's form say "last updated"."""
    from datetime import UTC, datetime

    from storage.models import Authority, Organisation

    async with services.db.session() as session:
        other = Authority(
            name="Hillside District Council", slug="hillside", created_at=datetime.now(UTC)
        )
        session.add(other)
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        assert org is not None
        await session.flush()
        session.add(
            FormResponse(
                form_key="readiness",
                form_version=1,
                organisation_id=org.id,
                authority_id=other.id,
                state=ResponseState.SUBMITTED,
                answers={},
                submitted_at=datetime.now(UTC),
            )
        )
    await web_user.sign_in_locally("Tom Okafor")
    _, html = await web_user.get("/do/readiness", params={"for": "riverside"})
    assert "Costs and payment" in html
    assert "You last updated these answers" not in text_of(html)
    _, html = await web_user.get("/do/readiness", params={"for": "hillside"})
    assert "You last updated these answers" in text_of(html)
