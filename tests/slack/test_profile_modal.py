"""A provider fills in the three-page organisation profile in Slack modals, over real HTTP.

Tom Okafor (Riverside Youth Trust) types `/convene profile`; Convene opens a loading
modal with the trigger id at once (it lasts three seconds), then swaps in the first
page. Each page comes back as a `view_submission`, answered in the HTTP response with
the next page, the errors, or the confirmation. The test plays Slack: it submits what
the modal shows (with Tom's changes typed over it) and replaces the modal whenever
Convene answers `response_action: update`.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import (
    ChatIdentity,
    FormResponse,
    Organisation,
    OutboxMessage,
    Person,
    ResponseState,
    WorkState,
)
from tests.slack.conftest import SlackPoster
from tests.slack.helpers import (
    button_action_id,
    draft_of,
    eventually,
    fill_in,
    input_elements,
    outbox_rows,
    settle,
    show_update,
    text_of_blocks,
    with_state,
)
from tests.support.areas import codes
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import block_actions_payload, view_submission_payload
from tests.support.web import WebUser, text_of

Json = dict[str, Any]


def metadata(view: Json) -> Json:
    parsed: Json = json.loads(view["private_metadata"])
    return parsed


async def open_profile(slack: SlackPoster, fake: FakeSlack) -> str:
    """`/convene profile`: a loading modal first, then the first page. Returns the view id."""
    status, _ = await slack.command(
        "profile", trigger_id="trigger.profile", response_url=fake.response_url("profile")
    )
    assert status == 200
    await eventually(lambda: fake.calls_to("views.update"))
    opened = fake.calls_to("views.open")
    assert len(opened) == 1
    assert opened[0].body["trigger_id"] == "trigger.profile"
    assert "Getting your form ready" in text_of_blocks(opened[0].body["view"]["blocks"])
    update = fake.calls_to("views.update")[0]
    assert fake.calls.index(opened[0]) < fake.calls.index(update), "loading modal first"
    view_id = str(update.body["view_id"])
    assert fake.view_stacks[view_id] == [view_id], "the form replaced the loading modal"
    return view_id


async def submit(
    slack: SlackPoster, fake: FakeSlack, view_id: str, changes: dict[str, Any]
) -> Json:
    """Press the modal's submit button with `changes` typed in; return Convene's answer."""
    view = fake.views[view_id]
    payload = view_submission_payload(view=view, values=fill_in(view, changes))
    status, answer = await slack.interact(payload)
    assert status == 200, answer
    assert isinstance(answer, dict), answer
    return answer


async def press(
    slack: SlackPoster, fake: FakeSlack, view_id: str, name: str, changes: dict[str, Any]
) -> None:
    """Press a button inside the modal (Back, Save and finish later) with `changes` typed."""
    view = fake.views[view_id]
    action_id = button_action_id(view, name)
    payload = block_actions_payload(
        action_id,
        value=str(metadata(view)["r"]),
        view=with_state(view, fill_in(view, changes)),
    )
    status, _ = await slack.interact(payload)
    assert status == 200


async def test_provider_completes_the_profile_in_modals(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str, services: Services, sender: OutboxSender
) -> None:
    fake = fake_slack
    view_id = await open_profile(slack, fake)

    # Page 1 of 3, with the organisation's current details filled in.
    page1 = fake.views[view_id]
    assert page1["callback_id"] == "convene_form"
    response_id = metadata(page1)["r"]
    assert metadata(page1) == {"r": response_id, "p": 0}
    assert page1["title"]["text"] == "Organisation profile"
    assert input_elements(page1)["name"]["initial_value"] == "Riverside Youth Trust"
    assert input_elements(page1)["legal_form"]["type"] == "radio_buttons"

    answer = await submit(slack, fake, view_id, {"name": "Riverside Youth Trust North"})
    assert answer["response_action"] == "update"
    assert metadata(answer["view"]) == {"r": response_id, "p": 1}
    assert "Size" in text_of_blocks(answer["view"]["blocks"])
    page2 = show_update(fake, view_id, answer["view"])
    draft = await draft_of(services, response_id)
    assert (draft.answers["name"], draft.current_page) == ("Riverside Youth Trust North", 1)

    # Page 2 with "lots" for a number: the modal shows the error and nothing is saved.
    answer = await submit(slack, fake, view_id, {"staff_count": "lots", "income_band": "1m_10m"})
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"staff_count"}
    message = answer["errors"]["staff_count"]
    assert "number" in message.lower(), message
    assert not any(word in message for word in ("invalid literal", "int(", "Error", "None"))
    draft = await draft_of(services, response_id)
    assert draft.answers["income_band"] == "100k_1m", "nothing from the page with errors"
    assert draft.answers["staff_count"] == 12
    assert draft.current_page == 1
    assert fake.views[view_id] is page2, "Slack keeps the page open to show the error"

    # Fixed; page 3 has checkboxes-or-menu and radio buttons.
    answer = await submit(slack, fake, view_id, {"staff_count": "15", "volunteer_count": "45"})
    assert answer["response_action"] == "update"
    assert metadata(answer["view"]) == {"r": response_id, "p": 2}
    page3 = show_update(fake, view_id, answer["view"])
    elements = input_elements(page3)
    assert elements["service_areas"]["type"] == "multi_static_select"
    assert len(elements["service_areas"]["options"]) == 16
    assert elements["led_by_and_for"]["type"] == "radio_buttons"
    assert page3["submit"]["text"] == "Send"

    answer = await submit(
        slack,
        fake,
        view_id,
        {
            "service_areas": ["children_young_people", "mental_health", "carers"],
            "areas_served": "Preston, Lancaster, YO1 7",
            "led_by_and_for": "yes",
        },
    )

    # The confirmation replaces the modal; the profile is saved.
    assert answer["response_action"] == "update"
    confirmation = text_of_blocks(answer["view"]["blocks"])
    assert "Thank you. We saved your organisation profile." in confirmation
    assert "Riverside Youth Trust North" in confirmation
    async with services.db.session() as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        assert org is not None
        assert org.name == "Riverside Youth Trust North"
        assert (org.staff_count, org.volunteer_count) == (15, 45)
        assert org.led_by_and_for == "yes"
        assert sorted(a.value for a in org.service_areas) == [
            "carers",
            "children_young_people",
            "mental_health",
        ]
        assert sorted(a.value for a in org.areas_served) == sorted(
            codes("Preston", "Lancaster", "York")
        )
        response = await session.get(FormResponse, response_id)
        assert response is not None and response.state == ResponseState.SUBMITTED

    # A confirmation DM is queued, then posted with its outbox key in the metadata.
    key = f"slack:submitted:{response_id}:{view_id}"
    rows = await eventually(lambda: rows_with_key(services, key))
    assert rows[0].door == "slack" and rows[0].address == tom
    await settle(sender)
    posted = fake.delivered(tom)
    assert len(posted) == 1
    assert posted[0]["metadata"]["event_payload"]["key"] == key
    assert "Thank you" in posted[0]["text"]
    assert [r.state for r in await outbox_rows(services)] == [WorkState.DONE]

    # And the App Home is published again, with nothing left to finish.
    await eventually(lambda: fake.calls_to("views.publish"))
    home = fake.home_views[tom]
    assert "Form to finish" not in text_of_blocks(home["blocks"])


async def rows_with_key(services: Services, key: str) -> list[OutboxMessage]:
    return [r for r in await outbox_rows(services) if r.idempotency_key == key]


async def test_back_and_save_buttons_inside_the_modal(
    slack: SlackPoster,
    fake_slack: FakeSlack,
    tom: str,
    services: Services,
    web_user: WebUser,
) -> None:
    fake = fake_slack
    view_id = await open_profile(slack, fake)
    response_id = metadata(fake.views[view_id])["r"]
    answer = await submit(slack, fake, view_id, {})
    show_update(fake, view_id, answer["view"])
    assert metadata(fake.views[view_id])["p"] == 1

    # "Back" keeps what was typed on this page and shows page 1 (via views.update).
    await press(slack, fake, view_id, "form.back", {"staff_count": "20"})
    await eventually(lambda: metadata(fake.views[view_id])["p"] == 0)
    back = fake.calls_to("views.update")[-1]
    assert back.body["view_id"] == view_id and not back.error
    draft = await draft_of(services, response_id)
    assert (draft.answers["staff_count"], draft.current_page) == (20, 0)

    # "Save and finish later" stores the page and says so.
    updates = len(fake.calls_to("views.update"))
    await press(slack, fake, view_id, "form.save", {"name": "Riverside Youth Trust North"})
    await eventually(lambda: len(fake.calls_to("views.update")) > updates)
    saved = fake.views[view_id]
    assert saved["title"]["text"] == "Saved"
    assert "Nothing is sent yet" in text_of_blocks(saved["blocks"])
    draft = await draft_of(services, response_id)
    assert draft.state == ResponseState.DRAFT
    assert draft.answers["name"] == "Riverside Youth Trust North"

    # The Slack user is the demo Tom (linked by email), so the web door resumes the draft.
    async with services.db.session() as session:
        identity = await session.scalar(select(ChatIdentity).where(ChatIdentity.user_id == tom))
        person = await session.scalar(
            select(Person).where(Person.email == "tom@riversideyouth.example")
        )
        assert identity is not None and person is not None
        assert identity.person_id == person.id
    await web_user.sign_in_locally("Tom Okafor")
    status, html = await web_user.get("/do/profile")
    assert status == 200
    assert f'action="/forms/{response_id}"' in html
    assert 'value="Riverside Youth Trust North"' in html
    assert "About your organisation" in text_of(html)


async def test_someone_from_another_organisation_cannot_send_a_page(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str, services: Services
) -> None:
    """A modal's private metadata names the draft; sending it is checked against the sender,
    so a forwarded or forged submission from another organisation saves nothing."""
    view_id = await open_profile(slack, fake_slack)
    view = fake_slack.views[view_id]
    response_id = metadata(view)["r"]
    fake_slack.add_user("T0001", "U0003", "Grace Lee", email="grace@eastgatekitchen.example")
    payload = view_submission_payload(
        view=view, values=fill_in(view, {"name": "Taken over"}), user_id="U0003"
    )
    status, answer = await slack.interact(payload)
    assert status == 200 and isinstance(answer, dict)
    assert answer["response_action"] == "errors"
    assert "belongs to another organisation" in answer["errors"]["name"]
    draft = await draft_of(services, response_id)
    assert (draft.answers["name"], draft.current_page) == ("Riverside Youth Trust", 0)
