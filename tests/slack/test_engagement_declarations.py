"""In Slack modals, over real HTTP against the fake Slack Web API: a commissioner writes the
notes of a private conversation on an open engagement and is asked whether every provider
should know something (the button opens the update form), then declares that they have no
conflict of interest."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core.turn import Door, Turn
from bot.outbox.sender import OutboxSender
from bot.services import Services
from handlers.engagements.meetings import SHARE_PROMPT
from handlers.engagements.setup import publish
from storage.engagement_tables import ConflictDeclaration, MeetingRequest, MeetingState
from storage.models import Organisation, Person
from storage.people import load_actor
from tests.slack.conftest import SlackPoster
from tests.slack.helpers import eventually, text_of_blocks
from tests.slack.test_engagement_modal import button_labelled, open_modal, submit
from tests.support.engagements import draft_engagement
from tests.support.fake_slack import FakeSlack
from tests.support.slack_signing import block_actions_payload


async def test_meeting_notes_prompt_an_update_and_a_declaration_in_modals(
    slack: SlackPoster,
    fake_slack: FakeSlack,
    priya: str,
    services: Services,
    sender: OutboxSender,
) -> None:
    fake = fake_slack
    engagement = await draft_engagement(
        services, title="Youth clubs", service_area="children_young_people"
    )
    async with services.db.session() as session:
        person = await session.scalar(select(Person).where(Person.name == "Priya Shah"))
        trust = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        assert person is not None and trust is not None
        actor = await load_actor(session, person.id, services.tz)
    await publish(Turn(door=Door.WEB, actor=actor), services, engagement.id)
    async with services.db.session() as session:
        meeting = MeetingRequest(
            engagement_id=engagement.id,
            organisation_id=trust.id,
            state=MeetingState.AGREED,
            proposed=[],
            agreed_at=services.clock.now() - timedelta(hours=3),
        )
        session.add(meeting)
        await session.flush()
        meeting_id = meeting.id

    view_id = await open_modal(slack, fake, f"engagements notes {meeting_id}", priya)
    assert "What did you talk about?" in text_of_blocks(fake.views[view_id]["blocks"])
    answer = await submit(
        slack,
        fake,
        view_id,
        {"notes": "We told them the budget is fixed.", "outcome": "Tell everyone."},
        priya,
    )
    shown = text_of_blocks(answer["view"]["blocks"])
    assert "Saved your notes" in shown and SHARE_PROMPT in shown, shown
    async with services.db.session() as session:
        stored = await session.get(MeetingRequest, meeting_id)
        assert stored is not None and stored.notes == "We told them the budget is fixed."

    # The prompt's button opens the update form, so it takes one step to tell everyone.
    button = button_labelled(answer["view"], "Publish an update")
    assert button["value"] == f"update {engagement.id}"
    before = len(fake.calls_to("views.update")) + len(fake.calls_to("views.push"))
    status, _ = await slack.interact(
        block_actions_payload(
            button["action_id"], value=button["value"], view=fake.views[view_id], user_id=priya
        )
    )
    assert status == 200
    await eventually(
        lambda: len(fake.calls_to("views.update")) + len(fake.calls_to("views.push")) > before
    )
    calls = fake.calls_to("views.update") + fake.calls_to("views.push")
    assert any(
        "What is the update about?" in text_of_blocks(c.body["view"]["blocks"]) for c in calls
    )

    view_id = await open_modal(slack, fake, f"engagements declare {engagement.id}", priya)
    answer = await submit(slack, fake, view_id, {"declaration": "none"}, priya)
    assert "Your declaration for Youth clubs was saved" in text_of_blocks(answer["view"]["blocks"])
    async with services.db.session() as session:
        declared = await session.scalar(select(ConflictDeclaration))
        assert declared is not None and declared.has_conflict is False
