"""Your own organisation in full; other providers see only the public parts; contacts saved."""

from __future__ import annotations

from sqlalchemy import select

from bot.services import Services
from storage.models import Organisation
from tests.support.servers import RunningApp
from tests.support.web import WebUser, form_action, text_of


async def test_contacts_are_saved_and_shown_to_the_right_people(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    await web_user.sign_in_locally("Amina Begum")
    _, html = await web_user.get("/do/profile")
    action = form_action(html)
    _, html = await web_user.post(
        action,
        {
            "_page": "0",
            "_intent": "next",
            "name": "Asha Women's Centre",
            "legal_form": "charity",
            "charity_number": "1100003",
            "contact_name": "Centre manager",
            "contact_email": "hello@ashacentre.example",
            "contact_phone": "020 7946 0001",
        },
    )
    assert "Size" in html
    _, html = await web_user.post(
        action, {"_page": "1", "_intent": "next", "income_band": "100k_1m"}
    )
    _, html = await web_user.post(
        action,
        [
            ("_page", "2"),
            ("_intent", "submit"),
            ("service_areas", "domestic_abuse"),
            ("areas_served", "Lancaster"),
        ],
    )
    assert "Thank you" in text_of(html)
    async with services.db.session() as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "asha-womens-centre")
        )
        assert org is not None and org.contact_email == "hello@ashacentre.example"

    _, html = await web_user.get("/do/organisation")
    own = text_of(html)
    assert "hello@ashacentre.example" in own and "Amina Begum (Admin)" in own
    assert "Invite a colleague" in own

    other = WebUser(app_server.url)
    try:
        await other.sign_in_locally("Tom Okafor")
        _, html = await other.get("/do/organisation", params={"name": "Asha Women's Centre"})
        seen = text_of(html)
        assert "Asha Women's Centre" in seen and "Domestic abuse" in seen and "Lancaster" in seen
        for private in ("hello@ashacentre.example", "1100003", "Amina Begum", "£100,000"):
            assert private not in seen, private
        commissioner = WebUser(app_server.url)
        try:
            await commissioner.sign_in_locally("Priya Shah")
            _, html = await commissioner.get(
                "/do/organisation", params={"name": "asha-womens-centre"}
            )
            seen = text_of(html)
            assert "hello@ashacentre.example" in seen and "Amina Begum (Admin)" in seen
            assert "Change the profile" not in seen
        finally:
            await commissioner.close()
    finally:
        await other.close()
