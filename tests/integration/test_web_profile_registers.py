"""Registration numbers on the web profile form, over real HTTP.

A number that cannot be from its register is refused with that register's format in plain
words, the page keeps what was typed, and nothing from the page is saved. Good numbers are
stored the register's own way and the organisation page links each to its public entry.
"""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select, update

from bot.services import Services
from storage.models import AuditEvent, FormResponse, Organisation
from tests.support.servers import RunningApp
from tests.support.web import WebUser, form_action, text_of

LINK = re.compile(r'<dt>([^<]*)</dt><dd><a href="([^"]*)"')


async def asha(services: Services) -> Organisation:
    async with services.db.session() as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "asha-womens-centre")
        )
        assert org is not None
        return org


async def test_register_numbers_are_checked_stored_and_linked(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    await web_user.sign_in_locally("Amina Begum")
    _, html = await web_user.get("/do/profile")
    action = form_action(html)
    page_one = {
        "_page": "0",
        "_intent": "next",
        "name": "Asha Women's Centre",
        "legal_form": "charity",
        "charity_number": "1100003",
        "oscr_number": "012345",  # SC missing
        "ccni_number": "NIC100123",
        "mutuals_number": "",
        "ppon": "ABCD-1234-EFGH",  # does not start with P
        "public_service_mutual": "no",
        "supported_employment": "yes",
    }
    status, html = await web_user.post(action, page_one)
    assert status == 422
    page = text_of(html)
    assert "There is a problem" in page
    assert (
        "Scottish Charity Regulator (OSCR) numbers are SC and then 6 numbers, like SC012345."
        in page
    )
    assert (
        "Central Digital Platform (Find a Tender) numbers are P and 3 letters, then 4 numbers"
        in page
    )
    assert 'value="ABCD-1234-EFGH"' in html, "what was typed is shown again"
    async with services.db.session() as session:
        draft = await session.scalar(
            select(FormResponse).where(FormResponse.form_key == "organisation_profile")
        )
        assert draft is None or "ccni_number" not in draft.answers, "nothing from the page saved"

    status, html = await web_user.post(
        action, {**page_one, "oscr_number": "sc 012345", "ppon": "pabc 1234 defg"}
    )
    assert status == 200 and "Size" in html
    _, html = await web_user.post(action, {"_page": "1", "_intent": "next"})
    status, html = await web_user.post(action, {"_page": "2", "_intent": "submit"})
    assert "Thank you" in text_of(html)

    org = await asha(services)
    assert (org.charity_number, org.oscr_number, org.ccni_number, org.ppon) == (
        "1100003",
        "SC012345",
        "NIC100123",
        "PABC-1234-DEFG",
    )
    assert (org.public_service_mutual, org.supported_employment) == (False, True)

    _, html = await web_user.get("/do/organisation")
    links = {(unescape(label), unescape(url)) for label, url in LINK.findall(html)}
    assert links == {
        (
            "Charity number (England and Wales)",
            "https://register-of-charities.charitycommission.gov.uk/charity-details/"
            "?regid=1100003&subid=0",
        ),
        (
            "Scottish charity number",
            "https://www.oscr.org.uk/about-charities/search-the-register/charity-details"
            "?number=SC012345",
        ),
        (
            "Northern Ireland charity number",
            "https://www.charitycommissionni.org.uk/charity-details/?regId=100123&subId=0",
        ),
    }
    seen = text_of(html)
    assert "Public Procurement Organisation Number (PPON) PABC-1234-DEFG" in seen
    assert "Are you a supported employment provider? Yes" in seen
    assert "Are you a public service mutual? No" in seen

    # Another provider sees only the public parts: no numbers.
    other = WebUser(app_server.url)
    try:
        await other.sign_in_locally("Tom Okafor")
        _, html = await other.get("/do/organisation", params={"name": "Asha Women's Centre"})
        assert "SC012345" not in html and "charity-details" not in html
    finally:
        await other.close()


async def test_the_note_about_an_old_cic_number_is_shown_until_the_profile_is_sent(
    services: Services, web_user: WebUser
) -> None:
    note = "You gave a CIC number, C123, as well as your company number."
    async with services.db.session() as session:
        await session.execute(
            update(Organisation)
            .where(Organisation.slug == "eastgate-community-kitchen")
            .values(registration_note=note)
        )
    await web_user.sign_in_locally("Grace Lee")
    _, html = await web_user.get("/do/organisation")
    seen = text_of(html)
    assert "About your registration numbers" in seen and note in seen

    _, html = await web_user.get("/do/profile")
    action = form_action(html)
    await web_user.post(
        action,
        {
            "_page": "0",
            "_intent": "next",
            "name": "Eastgate Community Kitchen",
            "company_number": "12000002",
        },
    )
    await web_user.post(action, {"_page": "1", "_intent": "next"})
    _, html = await web_user.post(action, {"_page": "2", "_intent": "submit"})
    assert "Thank you" in text_of(html)
    _, html = await web_user.get("/do/organisation")
    assert note not in text_of(html)
    async with services.db.session() as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "eastgate-community-kitchen")
        )
        assert org is not None and org.registration_note is None
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "organisation.profile_updated")
        )
        assert event is not None and event.details["cleared_registration_note"] == note
