"""`profile chat`: the same form, one question per message, for people who prefer typing.

Every answer is saved to the draft as it arrives (so nothing is lost if they walk
away), `back` and `skip` move around, and an answer that can't be used gets a
plain-English reason and the same question again. Each reply goes through the
outbox to the fake Bot Connector.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.outbox.sender import OutboxSender
from bot.services import Services
from storage.models import FormResponse, Organisation, ResponseState
from tests.support.fake_botframework import FakeBotFramework
from tests.teams.conftest import TeamsClient
from tests.teams.helpers import posted, settle, text_of


class Chat:
    """Alice's personal chat with the bot: say something, read what came back."""

    def __init__(self, teams: TeamsClient, sender: OutboxSender) -> None:
        self.teams = teams
        self.sender = sender
        self.conversation = teams.build.personal_conversation_id()
        self.seen = 0

    async def say(self, text: str) -> str:
        """Send one message; return the text of every reply it caused, once delivered."""
        await self.teams.say(text)
        await settle(self.sender)
        shown = posted(self.teams.fake, self.conversation)
        new, self.seen = shown[self.seen :], len(shown)
        assert new, f"no reply to {text!r}"
        return "\n".join(text_of(a) for a in new)


async def the_draft(services: Services) -> FormResponse:
    async with services.db.session() as session:
        drafts = list((await session.scalars(select(FormResponse))).all())
    assert len(drafts) == 1, drafts
    return drafts[0]


async def test_profile_one_question_at_a_time(
    teams: TeamsClient,
    fake_teams: FakeBotFramework,
    sender: OutboxSender,
    services: Services,
    linked: int,
) -> None:
    chat = Chat(teams, sender)

    # The profile is pre-filled, so chat starts at the first question with no answer.
    reply = await chat.say("profile chat")
    assert "Organisation profile" in reply
    assert "Question 4 of 19 — Company number" in reply
    draft = await the_draft(services)
    assert draft.state == ResponseState.DRAFT

    reply = await chat.say("back")
    assert "Question 3 of 19 — Charity number" in reply
    assert "Your answer now: 1100001" in reply

    reply = await chat.say("back")
    assert "Question 2 of 19 — What kind of organisation are you?" in reply
    assert "2. Charitable company" in reply

    # An answer that is not one of the options: a plain reason, the same question again.
    reply = await chat.say("a big one")
    assert "Question 2 of 19" in reply
    assert "'a big one' is not one of the options" in reply
    assert "Choose from the list" in reply
    assert (await the_draft(services)).answers["legal_form"] == "charity", "nothing changed"

    reply = await chat.say("2")
    assert "Question 4 of 19 — Company number" in reply, "answered questions are not asked again"
    assert (await the_draft(services)).answers["legal_form"] == "charitable_company"

    reply = await chat.say("01234567")
    assert "Question 5 of 19 — Scottish charity number" in reply
    assert (await the_draft(services)).answers["company_number"] == "01234567"

    # The last unanswered questions are optional: skipping them finishes the form.
    reply = await chat.say("skip")
    assert "Question 6 of 19 — Northern Ireland charity number" in reply
    reply = await chat.say("skip")
    assert "Question 7 of 19 — Society number (FCA Mutuals Public Register)" in reply
    reply = await chat.say("skip")
    assert "Thank you. We saved your organisation profile." in reply
    draft = await the_draft(services)
    assert draft.state == ResponseState.SUBMITTED
    assert draft.answers.get("oscr_number") in (None, "")
    async with services.db.session() as session:
        org = await session.get(Organisation, linked)
        assert org is not None
        assert (org.legal_form, org.company_number) == ("charitable_company", "01234567")

    # Every reply reached the connector with a token it had issued, each exactly once.
    sends = fake_teams.calls_of("send")
    assert sends and all(c.ok and c.token_app_id == fake_teams.app_id for c in sends)
    assert len(posted(fake_teams, chat.conversation)) == chat.seen == len(sends)
    assert fake_teams.duplicates() == []


async def test_back_skip_stop_and_resume(
    teams: TeamsClient, sender: OutboxSender, services: Services, linked: int
) -> None:
    chat = Chat(teams, sender)
    await chat.say("profile chat")
    for _ in range(3):
        await chat.say("back")
    reply = await chat.say("back")
    assert "This is the first question, so there is nothing to go back to." in reply

    # The organisation's name is required: it can't be skipped, only kept or changed.
    reply = await chat.say("skip")
    assert "You need to answer this question, so you cannot skip it." in reply
    reply = await chat.say("keep")
    assert "Question 4 of 19 — Company number" in reply

    reply = await chat.say("skip")
    assert "Question 5 of 19 — Scottish charity number" in reply
    reply = await chat.say("C" * 31)
    assert (
        "Answer to 'Scottish charity number' must be 30 characters or fewer. You wrote 31." in reply
    )
    assert "Question 5 of 19" in reply
    assert "oscr_number" not in (await the_draft(services)).answers

    reply = await chat.say("stop")
    assert "Saved on" in reply and "To carry on: type profile." in reply
    assert (await the_draft(services)).state == ResponseState.DRAFT

    # Chat mode is over: a plain word is a command again.
    reply = await chat.say("stop")
    assert 'Sorry, I don\'t know "stop"' in reply

    # Coming back resumes the same draft at the first question still unanswered.
    reply = await chat.say("profile chat")
    assert "Question 4 of 19 — Company number" in reply
    assert (await the_draft(services)).state == ResponseState.DRAFT
