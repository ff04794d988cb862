"""A provider changes engagement answers it already sent, in its Slack DM, until closing:
chat goes through each answer in turn ("keep" keeps one) instead of sending them again."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.turn import Door, Turn
from bot.outbox.sender import OutboxSender
from bot.services import Services
from handlers.engagements.setup import publish
from storage.models import FormResponse, Person, ResponseState
from storage.people import load_actor
from tests.slack.conftest import SlackPoster
from tests.slack.test_chat_dm import Chat
from tests.support.engagements import draft_engagement
from tests.support.fake_slack import FakeSlack


async def test_change_one_answer_in_chat_after_sending(
    slack: SlackPoster, fake_slack: FakeSlack, tom: str, services: Services, sender: OutboxSender
) -> None:
    engagement = await draft_engagement(
        services,
        title="Youth clubs",
        service_area="children_young_people",
        question_ids=["viable_terms", "contract_length"],
    )
    async with services.db.session() as session:
        priya = await session.scalar(select(Person).where(Person.name == "Priya Shah"))
        assert priya is not None
        actor = await load_actor(session, priya.id, services.tz)
    await publish(Turn(door=Door.WEB, actor=actor), services, engagement.id)

    chat = Chat(slack, fake_slack, sender, services)
    reply = await chat.say(f"engagements answer {engagement.id} chat")
    assert "Question 1 of 2" in reply
    await chat.say("Funding for three years.")
    reply = await chat.say("3")  # "3 to 5 years"
    assert "Thank you" in reply

    reply = await chat.say(f"engagements answer {engagement.id} chat")
    assert "Question 1 of 2" in reply and "Funding for three years." in reply
    reply = await chat.say("keep")
    assert "Question 2 of 2" in reply
    reply = await chat.say("4")  # "More than 5 years"
    assert "Thank you" in reply

    async with services.db.session() as session:
        sent = (
            await session.scalars(
                select(FormResponse)
                .where(
                    FormResponse.form_key == f"engagement-{engagement.id}",
                    FormResponse.state == ResponseState.SUBMITTED,
                )
                .order_by(FormResponse.id)
            )
        ).all()
    assert [r.answers["contract_length"] for r in sent] == ["three_five", "over_five"]
    assert all(r.answers["viable_terms"] == "Funding for three years." for r in sent)
