"""Registration numbers in a Teams card: a number that cannot be from its register comes back
with a plain reason and nothing saved; a good one is stored the register's way and shown on
the organisation's card as a link to its public entry. Real HTTP, the fake Bot Connector."""

from __future__ import annotations

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import Organisation
from tests.support.fake_botframework import FakeBotFramework
from tests.teams.conftest import TeamsClient
from tests.teams.helpers import (
    draft_of,
    inputs,
    invoke_card,
    only_card,
    page_title,
    posted,
    press,
    settle,
    text_of,
)

META = "_convene"


async def open_profile(teams: TeamsClient, sender: OutboxSender) -> tuple[str, dict]:
    activity = await teams.say("profile")
    await settle(sender)
    shown = posted(teams.fake, activity["conversation"]["id"])
    return shown[0]["id"], only_card(shown[0])


async def test_register_numbers_are_checked_and_stored_the_registers_way(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    sender: OutboxSender,
    services: Services,
    linked: int,
) -> None:
    card_id, card = await open_profile(teams, sender)
    response_id = card["actions"][0]["data"][META]["response_id"]
    assert inputs(card)["supported_employment"]["type"] == "Input.ChoiceSet"

    typed = {"company_number": "C123", "ccni_number": "nic 100123", "ppon": "PABC-1234-DEFG"}
    answer = await teams.execute("form.next", press(card, "form.next", typed), reply_to_id=card_id)
    assert answer.status == 200
    again = invoke_card(answer.body)
    assert page_title(again) == "About your organisation"
    shown = text_of(again)
    assert "Companies House numbers are 8 characters" in shown, shown
    assert "like SC123456" in shown
    assert inputs(again)["company_number"]["value"] == "C123", "what was typed is kept"
    draft = await draft_of(services, response_id)
    assert "ccni_number" not in draft.answers, "nothing saved from a page with errors"

    fixed = {**typed, "company_number": "sc 12345", "supported_employment": "yes"}
    answer = await teams.execute("form.next", press(again, "form.next", fixed), reply_to_id=card_id)
    page_two = invoke_card(answer.body)
    assert page_title(page_two) == "Size"
    answer = await teams.execute("form.next", press(page_two, "form.next"), reply_to_id=card_id)
    page_three = invoke_card(answer.body)
    answer = await teams.execute(
        "form.submit", press(page_three, "form.submit"), reply_to_id=card_id
    )
    assert "Thank you. We saved your organisation profile." in text_of(invoke_card(answer.body))

    async with services.db.session() as session:
        org = await session.get(Organisation, linked)
        assert org is not None
        assert (org.company_number, org.ccni_number, org.ppon) == (
            "SC012345",
            "NIC100123",
            "PABC-1234-DEFG",
        )
        assert org.supported_employment is True
        assert org.charity_number == "1100001", "kept from the demo profile"

    # The organisation card links each number to its public register entry.
    activity = await teams.say("organisation")
    await settle(sender)
    facts = text_of(posted(fake_teams, activity["conversation"]["id"])[-1])
    assert (
        "Company number: [SC012345]"
        "(https://find-and-update.company-information.service.gov.uk/company/SC012345)"
    ) in facts
    assert (
        "Northern Ireland charity number: [NIC100123]"
        "(https://www.charitycommissionni.org.uk/charity-details/?regId=100123&subId=0)"
    ) in facts
    assert "Public Procurement Organisation Number (PPON): PABC-1234-DEFG" in facts
    assert "Are you a supported employment provider?: Yes" in facts
