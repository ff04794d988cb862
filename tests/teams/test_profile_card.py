"""A provider keeps their organisation profile up to date in a Teams card.

`profile` posts page 1 as an Adaptive Card. Each button is an `Action.Execute`,
answered in the HTTP response with the card that replaces the one pressed, so the
person moves through the pages in place. A page with a mistake comes back with
the error under the input and what they typed kept, and nothing from that page is
saved. Older clients send `Action.Submit` (a message with `value`), which we answer
by updating the card through the outbox. Everything goes over real HTTP: signed
activities in, the fake Bot Connector out.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import (
    FormResponse,
    Membership,
    Organisation,
    OrganisationAreaServed,
    OrganisationServiceArea,
    ResponseState,
    Role,
)
from tests.support.areas import codes
from tests.support.fake_botframework import FakeBotFramework
from tests.support.web import WebUser
from tests.support.web import text_of as page_text
from tests.teams.conftest import TeamsClient
from tests.teams.helpers import (
    META,
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

PAGE_ONE = [
    "name",
    "legal_form",
    "charity_number",
    "company_number",
    "oscr_number",
    "ccni_number",
    "mutuals_number",
    "ppon",
    "public_service_mutual",
    "supported_employment",
    "contact_name",
    "contact_email",
    "contact_phone",
]


async def organisation(
    services: Services, org_id: int
) -> tuple[Organisation, list[str], list[str]]:
    """The organisation row with its service areas and areas served, as stored."""
    async with services.db.session() as session:
        org = await session.get(Organisation, org_id)
        assert org is not None
        areas = (
            await session.scalars(
                select(OrganisationServiceArea.value)
                .where(OrganisationServiceArea.organisation_id == org_id)
                .order_by(OrganisationServiceArea.value)
            )
        ).all()
        served = (
            await session.scalars(
                select(OrganisationAreaServed.value)
                .where(OrganisationAreaServed.organisation_id == org_id)
                .order_by(OrganisationAreaServed.value)
            )
        ).all()
        return org, list(areas), list(served)


async def open_profile(teams: TeamsClient, sender: OutboxSender) -> tuple[str, str, dict]:
    """Type `profile` in the personal chat; return (conversation id, card activity id, card)."""
    activity = await teams.say("profile")
    await settle(sender)
    conversation = activity["conversation"]["id"]
    shown = posted(teams.fake, conversation)
    assert len(shown) == 1, shown
    return conversation, shown[0]["id"], only_card(shown[0])


async def test_a_provider_finishes_the_profile_in_a_card(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    sender: OutboxSender,
    services: Services,
    linked: int,
) -> None:
    conversation, card_id, card = await open_profile(teams, sender)
    assert page_title(card) == "About your organisation"
    assert list(inputs(card)) == PAGE_ONE
    assert inputs(card)["name"]["value"] == "Riverside Youth Trust", "pre-filled from the profile"
    response_id = card["actions"][0]["data"][META]["response_id"]

    # Page 1 → page 2, answered in the HTTP response to the invoke.
    answer = await teams.execute(
        "form.next",
        press(card, "form.next", {"company_number": "09876543"}),
        reply_to_id=card_id,
    )
    assert answer.status == 200
    assert answer.body["statusCode"] == 200
    assert answer.body["type"] == "application/vnd.microsoft.card.adaptive"
    page_two = invoke_card(answer.body)
    assert page_title(page_two) == "Size"
    assert list(inputs(page_two)) == ["income_band", "staff_count", "volunteer_count"]
    draft = await draft_of(services, response_id)
    assert draft.current_page == 1
    assert draft.answers["company_number"] == "09876543"

    # A mistake: the same page comes back with the error and what was typed, nothing saved.
    typed = {"income_band": "1m_10m", "staff_count": "lots", "volunteer_count": "55"}
    answer = await teams.execute(
        "form.next", press(page_two, "form.next", typed), reply_to_id=card_id
    )
    assert answer.status == 200
    again = invoke_card(answer.body)
    assert page_title(again) == "Size"
    assert re.search(r"^Error: .*paid staff.*whole number", text_of(again), re.M | re.I), text_of(
        again
    )
    assert {k: v.get("value") for k, v in inputs(again).items()} == typed, "answers kept"
    draft = await draft_of(services, response_id)
    assert draft.current_page == 1
    assert draft.answers["income_band"] == "100k_1m", "nothing saved from a page with errors"
    assert draft.answers["volunteer_count"] == 40
    assert draft.answers.get("staff_count") == 12

    # Fixed: on to page 3.
    answer = await teams.execute(
        "form.next", press(again, "form.next", {"staff_count": "15"}), reply_to_id=card_id
    )
    page_three = invoke_card(answer.body)
    assert page_title(page_three) == "Your work"
    assert inputs(page_three)["service_areas"]["isMultiSelect"] is True

    # The last page, with a multi-select sent the way Teams sends it: "a,b".
    answer = await teams.execute(
        "form.submit",
        press(
            page_three,
            "form.submit",
            {
                "service_areas": "food,carers",
                "areas_served": "preston, Burnley",
                "led_by_and_for": "yes",
            },
        ),
        reply_to_id=card_id,
    )
    assert answer.status == 200
    done = invoke_card(answer.body)
    assert "Thank you. We saved your organisation profile." in text_of(done)
    assert "Paid staff: 15" in text_of(done)

    org, areas, served = await organisation(services, linked)
    assert (org.name, org.company_number, org.income_band) == (
        "Riverside Youth Trust",
        "09876543",
        "1m_10m",
    )
    assert (org.staff_count, org.volunteer_count, org.led_by_and_for) == (15, 55, "yes")
    assert areas == ["carers", "food"]
    assert sorted(served) == sorted(codes("Burnley", "Preston"))
    submitted = await draft_of(services, response_id)
    assert submitted.state == ResponseState.SUBMITTED

    # A copy of the confirmation stays in the chat; the pages themselves were never posted.
    await settle(sender)
    shown = posted(fake_teams, conversation)
    assert shown[0]["id"] == card_id
    assert len(shown) == 2, [text_of(a) for a in shown]
    assert "Thank you. We saved your organisation profile." in text_of(shown[1])
    assert fake_teams.duplicates() == []


async def test_back_and_save_for_later_keep_the_draft(
    teams: TeamsClient, sender: OutboxSender, services: Services, linked: int
) -> None:
    _, card_id, card = await open_profile(teams, sender)
    response_id = card["actions"][0]["data"][META]["response_id"]
    page_two = invoke_card(
        (await teams.execute("form.next", press(card, "form.next"), reply_to_id=card_id)).body
    )
    back = invoke_card(
        (
            await teams.execute(
                "form.back",
                press(page_two, "form.back", {"volunteer_count": "41"}),
                reply_to_id=card_id,
            )
        ).body
    )
    assert page_title(back) == "About your organisation"
    assert (await draft_of(services, response_id)).answers["volunteer_count"] == 41

    saved = invoke_card(
        (
            await teams.execute(
                "form.save",
                press(back, "form.save", {"oscr_number": "sc 012345"}),
                reply_to_id=card_id,
            )
        ).body
    )
    assert "Nothing is sent yet" in text_of(saved)
    draft = await draft_of(services, response_id)
    assert draft.state == ResponseState.DRAFT
    assert draft.answers["oscr_number"] == "SC012345", "stored the one way OSCR writes it"


async def test_action_submit_updates_the_card_in_place(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    sender: OutboxSender,
    services: Services,
    linked: int,
) -> None:
    """Older Teams clients send `Action.Submit`: a message with `value` and `replyToId`."""
    conversation, card_id, card = await open_profile(teams, sender)
    response_id = card["actions"][0]["data"][META]["response_id"]
    submit = teams.build.card_submit(
        press(card, "form.next", {"charity_number": "1199999"}), reply_to_id=card_id
    )
    answer = await teams.send(submit)
    assert answer.status == 200
    assert not answer.text, "Action.Submit is answered by updating the card, not in the response"

    await settle(sender)
    updates = fake_teams.calls_of("update", ok=True)
    assert [(u.conversation_id, u.activity_id) for u in updates] == [(conversation, card_id)]
    shown = posted(fake_teams, conversation)
    assert [a["id"] for a in shown] == [card_id], "replaced in place, nothing new posted"
    assert fake_teams.activity(conversation, card_id).updates == 1
    assert page_title(only_card(shown[0])) == "Size"
    assert (await draft_of(services, response_id)).answers["charity_number"] == "1199999"


async def test_a_colleague_joins_with_an_invite_code_then_opens_the_profile(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    sender: OutboxSender,
    services: Services,
    web_user: WebUser,
    riverside: int,
) -> None:
    """No tenant link: Tom, an admin, makes a code on the web; Alice types it in Teams."""
    first = await teams.say("profile")
    await settle(sender)
    conversation = first["conversation"]["id"]
    assert "not linked to an organisation" in text_of(posted(fake_teams, conversation)[-1])

    await web_user.sign_in_locally("Tom Okafor")
    status, html = await web_user.get("/do/invite")
    assert status == 200
    code = re.search(r"Share this code: ([A-Z0-9]{4}-[A-Z0-9]{4})", page_text(html))
    assert code, page_text(html)

    await teams.say(f"join {code.group(1)}")
    await settle(sender)
    assert "You are now part of Riverside Youth Trust" in text_of(
        posted(fake_teams, conversation)[-1]
    )
    async with services.db.session() as session:
        roles = (
            await session.scalars(
                select(Membership.role).where(Membership.organisation_id == riverside)
            )
        ).all()
    assert roles.count(Role.PROVIDER_MEMBER) == 1

    await teams.say("profile")
    await settle(sender)
    card = only_card(posted(fake_teams, conversation)[-1])
    assert page_title(card) == "About your organisation"
    assert list(inputs(card)) == PAGE_ONE
    async with services.db.session() as session:
        drafts = (await session.scalars(select(FormResponse.organisation_id))).all()
    assert drafts == [riverside]
