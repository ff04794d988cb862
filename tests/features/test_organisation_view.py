"""Your own organisation in full; other providers see only the public parts; contacts saved.

In-process, on the test door. Who sees which profile field on every door is the
visibility table's job (tests/integration/test_visibility_table.py), over HTTP.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.core.turn import Intent
from bot.services import Services
from storage.models import Organisation
from tests.support.inprocess import TestDoor, form_in, text_of


async def test_contacts_are_saved_and_shown_to_the_right_people(
    door: TestDoor, services: Services
) -> None:
    amina = await door.sign_in("Amina Begum")
    form = form_in(await amina.say("profile"))
    replies = await amina.send_page(
        form,
        {
            "name": "Asha Women's Centre",
            "legal_form": "charity",
            "charity_number": "1100003",
            "contact_name": "Centre manager",
            "contact_email": "hello@ashacentre.example",
            "contact_phone": "020 7946 0001",
        },
        page=0,
    )
    assert "Size" in text_of(replies)
    await amina.send_page(form, {"income_band": "100k_1m"}, page=1)
    replies = await amina.send_page(
        form,
        {"service_areas": "domestic_abuse", "areas_served": "Lancaster"},
        page=2,
        intent=Intent.SUBMIT,
    )
    assert "Thank you" in text_of(replies)
    async with services.db.session() as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "asha-womens-centre")
        )
        assert org is not None and org.contact_email == "hello@ashacentre.example"

    own = text_of(await amina.say("organisation"))
    assert "hello@ashacentre.example" in own and "Amina Begum (Admin)" in own
    assert "Invite a colleague" in own

    other = await door.sign_in("Tom Okafor")
    seen = text_of(await other.say("organisation", name="Asha Women's Centre"))
    assert "Asha Women's Centre" in seen and "Domestic abuse" in seen and "Lancaster" in seen
    for private in ("hello@ashacentre.example", "1100003", "Amina Begum", "£100,000"):
        assert private not in seen, private
    commissioner = await door.sign_in("Priya Shah")
    seen = text_of(await commissioner.say("organisation", name="asha-womens-centre"))
    assert "hello@ashacentre.example" in seen and "Amina Begum (Admin)" in seen
    assert "Change the profile" not in seen
