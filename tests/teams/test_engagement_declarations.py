"""In Teams cards, over real HTTP: a commissioner declares a conflict of interest for a
draft engagement (a conflict needs what and how before anything is saved), sees who has
declared, and writes the notes of a private conversation, then is asked to publish an update.

Every card is checked against the Adaptive Cards 1.5 rules by the suite's fixture."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.outbox.sender import OutboxSender
from bot.services import Services
from handlers.engagements.meetings import SHARE_PROMPT
from storage.engagement_tables import ConflictDeclaration, MeetingRequest, MeetingState
from storage.models import Authority, Door, Organisation, WorkspaceLink
from tests.support.engagements import draft_engagement
from tests.support.fake_botframework import FakeBotFramework
from tests.teams.conftest import TeamsClient
from tests.teams.helpers import invoke_card, only_card, page_title, posted, press, settle
from tests.teams.helpers import text_of as card_text


async def _as_riverside_team(services: Services, fake_teams: FakeBotFramework) -> None:
    async with services.db.session() as session:
        council = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert council is not None
        session.add(
            WorkspaceLink(
                platform=Door.TEAMS, workspace_id=fake_teams.tenant_id, authority_id=council.id
            )
        )


async def test_declare_a_conflict_and_write_meeting_notes_in_cards(
    teams: TeamsClient, fake_teams: FakeBotFramework, sender: OutboxSender, services: Services
) -> None:
    await _as_riverside_team(services, fake_teams)
    engagement = await draft_engagement(services, title="Carers' breaks")

    activity = await teams.say(f"engagements declare {engagement.id}")
    await settle(sender)
    shown = posted(teams.fake, activity["conversation"]["id"])
    card_id, card = shown[-1]["id"], only_card(shown[-1])
    assert page_title(card) == "Your declaration"
    answer = await teams.execute(
        "form.submit", press(card, "form.submit", {"declaration": "conflict"}), reply_to_id=card_id
    )
    card = invoke_card(answer.body)
    assert "Please say what it is." in card_text(card), card_text(card)
    async with services.db.session() as session:
        assert await session.scalar(select(ConflictDeclaration)) is None
    answer = await teams.execute(
        "form.submit",
        press(
            card,
            "form.submit",
            {
                "declaration": "conflict",
                "what": "My partner chairs a carers' charity.",
                "how_managed": "I leave the room for any decision about it.",
            },
        ),
        reply_to_id=card_id,
    )
    done = card_text(invoke_card(answer.body))
    assert "Your declaration for Carers' breaks was saved" in done, done
    async with services.db.session() as session:
        declared = await session.scalar(select(ConflictDeclaration))
        assert declared is not None and declared.has_conflict
        assert declared.how_managed == "I leave the room for any decision about it."

    activity = await teams.say(f"engagements declarations {engagement.id}")
    await settle(sender)
    listing = card_text(posted(teams.fake, activity["conversation"]["id"])[-1])
    assert "My partner chairs a carers' charity." in listing, listing
    assert "Priya Shah" in listing and "Not declared yet" in listing

    # A private conversation that happened yesterday: the team writes its notes.
    async with services.db.session() as session:
        trust = await session.scalar(
            select(Organisation).where(Organisation.slug.like("riverside%"))
        )
        assert trust is not None
        meeting = MeetingRequest(
            engagement_id=engagement.id,
            organisation_id=trust.id,
            state=MeetingState.AGREED,
            proposed=[],
            agreed_at=services.clock.now() - timedelta(days=1),
        )
        session.add(meeting)
        await session.flush()
        meeting_id = meeting.id
    activity = await teams.say(f"engagements notes {meeting_id}")
    await settle(sender)
    shown = posted(teams.fake, activity["conversation"]["id"])
    card_id, card = shown[-1]["id"], only_card(shown[-1])
    assert page_title(card) == "What happened"
    answer = await teams.execute(
        "form.submit",
        press(
            card,
            "form.submit",
            {"notes": "We explained the timeline.", "outcome": "Nothing more to do."},
        ),
        reply_to_id=card_id,
    )
    seen = card_text(invoke_card(answer.body))
    assert "Saved your notes" in seen, seen
    async with services.db.session() as session:
        stored = await session.get(MeetingRequest, meeting_id)
        assert stored is not None and stored.outcome == "Nothing more to do."
    # A draft is not open, so there is nobody to update yet: no prompt.
    assert SHARE_PROMPT not in seen


async def test_a_conflict_declared_in_chat_needs_its_details_too(
    teams: TeamsClient, fake_teams: FakeBotFramework, sender: OutboxSender, services: Services
) -> None:
    await _as_riverside_team(services, fake_teams)
    engagement = await draft_engagement(services, title="Carers' breaks")
    said: list[str] = []
    for text in (f"engagements declare {engagement.id} chat", "2", "skip", "skip"):
        activity = await teams.say(text)
        await settle(sender)
        said.append(card_text(posted(teams.fake, activity["conversation"]["id"])[-1]))
    assert "If yes, what is it?" in said[1], said
    assert "Please say what it is." in said[-1], said
    async with services.db.session() as session:
        assert await session.scalar(select(ConflictDeclaration)) is None
