"""The foundation slice over real HTTP: a provider signs in and fills in the profile."""

from __future__ import annotations

from sqlalchemy import select

from bot.services import Services
from storage.models import AuditEvent, FormResponse, Organisation, ResponseState
from tests.support.areas import codes
from tests.support.web import WebUser, form_action, text_of


async def test_provider_fills_in_profile_across_pages(
    web_user: WebUser, services: Services
) -> None:
    await web_user.sign_in_locally("Grace Lee")
    status, html = await web_user.get("/do/profile")
    assert status == 200
    assert "About your organisation" in html
    action = form_action(html)

    status, html = await web_user.post(
        action,
        {
            "_page": "0",
            "_intent": "next",
            "name": "Eastgate Community Kitchen CIC",
            "legal_form": "cic",
            "company_number": "12000002",
        },
    )
    assert status == 200, text_of(html)
    assert "Size" in html

    # A bad number is refused with a message naming the field, and nothing from the page is saved.
    status, html = await web_user.post(
        action,
        {
            "_page": "1",
            "_intent": "next",
            "income_band": "10k_100k",
            "staff_count": "two and a bit",
            "volunteer_count": "31",
        },
    )
    assert status == 422
    page = text_of(html)
    assert "There is a problem" in page and "Paid staff" in page
    async with services.db.session() as session:
        draft = await session.scalar(
            select(FormResponse).where(FormResponse.form_key == "organisation_profile")
        )
        assert draft is not None and draft.current_page == 1
        assert draft.answers.get("volunteer_count") == 25  # the stored value, not the 31 typed

    status, html = await web_user.post(
        action,
        {
            "_page": "1",
            "_intent": "next",
            "income_band": "10k_100k",
            "staff_count": "3",
            "volunteer_count": "25",
        },
    )
    assert status == 200 and "Your work" in html
    status, html = await web_user.post(
        action,
        [
            ("_page", "2"),
            ("_intent", "submit"),
            ("service_areas", "food"),
            ("service_areas", "older_people"),
            ("areas_served", "burnley, PR1 2"),
            ("led_by_and_for", "yes"),
        ],
    )
    assert status == 200, text_of(html)
    page = text_of(html)
    assert "Thank you" in page and "Jobs and skills" not in page

    async with services.db.session() as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "eastgate-community-kitchen")
        )
        assert org is not None
        assert org.name == "Eastgate Community Kitchen CIC"
        assert org.staff_count == 3
        assert sorted(a.value for a in org.service_areas) == ["food", "older_people"]
        assert sorted(a.value for a in org.areas_served) == sorted(codes("Burnley", "Preston"))
        response = await session.scalar(
            select(FormResponse).where(FormResponse.organisation_id == org.id)
        )
        assert response is not None and response.state == ResponseState.SUBMITTED
        events = (await session.scalars(select(AuditEvent.action))).all()
        assert "form.submitted" in events and "organisation.profile_updated" in events
