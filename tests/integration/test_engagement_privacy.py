"""Who can reach provider A's part in an engagement: a table of (actor, thing, door), all asserted.

The rules, from the domain: a provider's engagement answers and ideas (including an idea it
marked commercially confidential), the questions it asked before they are answered for
everyone, and its requests for a private conversation are for its own members and the
commissioning team of the council running the engagement. Not other providers, not another
council's commissioners (they are refused politely, and the attempt is audited), and not
Convene's admins, who manage deliveries, not answers. What is published (the invitation,
the questions and answers log) is for everyone, and never names who asked. The engagement
record is for the team, and even the team's record holds counts, never anybody's words.

The engagement is set up the way people would (the real handlers, in order): Priya publishes
it, Riverside Youth Trust (A) and Silver Threads (B) answer, A asks two questions (Priya
answers one for everyone), A asks to talk privately, and A's member books the event. Every
case then goes over real HTTP to one running app: the web door with a signed-in browser,
Slack with signed requests and the fake Slack Web API, Teams with JWT-signed activities and
the fake Bot Framework. A case looks for markers only A's data contains, in pages, modals,
cards and downloaded files.

`SEES`: every marker must be there (so a hidden case is not passing by accident: the surface
works). `HIDDEN`: none may be. `MAY`: the rules allow it; the surface must simply answer.
On top of the table, every case checks that nothing of A's reaches an outsider (B, the other
council, the admin), and nothing of B's reaches A, whatever the surface.

Anonymous feedback is checked in the database at the end of this file.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import delete, func, inspect, select

from bot.core.reply import FormView, Reply
from bot.core.turn import Door, Intent, Submission, Turn
from bot.services import Services
from storage.engagement_tables import (
    Clarification,
    Engagement,
    EngagementEvent,
    EngagementFeedback,
    EngagementState,
    FeedbackGiven,
    MeetingRequest,
)
from storage.forms import definition_at, start_draft
from storage.models import (
    AuditEvent,
    Authority,
    ConversationState,
    FormResponse,
    InboxItem,
    Organisation,
    OutboxMessage,
    Person,
    ResponseState,
    Role,
)
from storage.people import grant, load_actor
from tests.support import databases
from tests.support.areas import codes
from tests.support.doors import Actor, Seen, every_door, flatten, words_in_query
from tests.support.servers import RunningApp
from tests.support.visibility_tables import A_SLUG, TableWorld, cast, set_the_scene, table_cases
from tests.support.web import WebUser, form_action, text_of

TITLE = "Youth wellbeing hubs"

# Markers only A's data holds.
ANSWER_A = "ANSWER-A-VIABLE-8R2"  # A's sent answer to "what would make this work possible"
IDEA_A = "IDEA-A-CONFIDENTIAL-3M7"  # A's idea, marked commercially confidential
QUESTION_A = "QUESTION-A-WAITING-6T1"  # a question A asked, not answered yet
MEETING_A = "MEETING-A-PRIVATE-9K4"  # what A wants to talk about privately
A_PRIVATE = (ANSWER_A, IDEA_A, QUESTION_A, MEETING_A)
A_NAMES = ("Riverside Youth Trust", "Tom Okafor", "Sam Patel")
# B's own answers: A must never see them either.
ANSWER_B = "ANSWER-B-VIABLE-2W5"
IDEA_B = "IDEA-B-4H8"
# Published for everyone: A's other question, answered by the council.
PUBLIC_Q = "PUBLIC-QUESTION-5Z3"
PUBLIC_A = "PUBLIC-ANSWER-7N6"


# --- the actors ------------------------------------------------------------------------------


ACTORS = cast(teams_tag="EngPrivacy", teams_tail="e9a9e")
BY_KEY = {a.key: a for a in ACTORS}
A_PEOPLE = {"a_member", "a_admin"}
#: Nothing of A's may ever reach these people, by any surface.
OUTSIDERS_OF_A = {"b_member", "commissioner_y", "admin"}
#: Nothing of B's may ever reach these people.
OUTSIDERS_OF_B = {"a_member", "a_admin", "commissioner_y", "admin"}

# --- the table -------------------------------------------------------------------------------

SEES, HIDDEN, MAY = "sees", "hidden", "may see"
S, H, M = SEES, HIDDEN, MAY

#: thing -> what each actor gets, in the order of ACTORS:
#:                               A member A admin B member comm. X comm. Y admin
TABLE: dict[str, tuple[str, str, str, str, str, str]] = {
    # A's sent answers and its confidential idea, shown back on its form to change them.
    # B opens its own form; the others are told how to join an organisation.
    "answers form": (S, S, H, H, H, H),
    # Changing a page of A's draft answers (POST /forms/<id>, a modal, a card): members only.
    "form post": (S, S, H, H, H, H),
    # Sending A's draft: the confirmation lists every answer, to whoever sent it.
    "confirmation": (S, S, H, H, H, H),
    # The engagement page: the questions and answers log is for everyone...
    "engagement page: Q&A": (S, S, S, S, S, S),
    # ...and nobody's answers, ideas, private requests, unanswered questions or name are on
    # it, not even on the team's view of it.
    "engagement page: private": (H, H, H, H, H, H),
    # Questions waiting for an answer, with who asked: the team only.
    "waiting questions": (H, H, H, S, H, H),
    # The summary: A's answers counted (its choice, its confidential idea): the team only.
    "summary": (H, H, H, S, H, H),
    # Each organisation's answers, word for word, with the confidential idea flagged: the
    # team only.
    "team answers": (H, H, H, S, H, H),
    # The record: the team only (and it holds counts, never anybody's words: see below).
    "record": (H, H, H, S, H, H),
    "record page": (H, H, H, S, H, H),
    "record json": (H, H, H, S, H, H),
    # Who booked the event (A's member): the team only.
    "attendance": (H, H, H, S, H, H),
    # Suggesting times for A's private conversation: the team only.
    "meeting times": (H, H, H, S, H, H),
    # Messages on the web: the team was told of A's question and A's private request.
    "inbox": (M, M, H, S, H, H),
    # Home: A's members may see A's draft; nobody else sees anything of A's.
    "home": (M, M, H, H, H, H),
    # Readiness and directory views and exports never carry engagement answers.
    "readiness summary": (H, H, H, H, H, H),
    "readiness export": (H, H, H, H, H, H),
    "directory": (H, H, H, H, H, H),
    "directory export": (H, H, H, H, H, H),
    "organisation": (H, H, H, H, H, H),
}
WEB_ONLY = {"record page", "record json", "inbox"}
CASES = table_cases(TABLE, ACTORS, web_only=WEB_ONLY)

COMMANDS = {
    "answers form": "engagements answer {e}",
    "engagement page: Q&A": "engagements show {e}",
    "engagement page: private": "engagements show {e}",
    "waiting questions": "engagements questions {e}",
    "summary": "engagements summary {e}",
    "team answers": "engagements answers {e}",
    "record": "engagements record {e}",
    "attendance": "engagements attendance {event}",
    "meeting times": "engagements times {meeting}",
    "home": "home",
    "readiness summary": "readiness summary",
    "readiness export": "export readiness csv for=riverside",
    "directory": "directory",
    "directory export": "export directory xlsx",
    "organisation": "organisation Riverside Youth Trust",
}
Marker = str | re.Pattern[str]
MARKERS: dict[str, list[Marker]] = {
    "answers form": [ANSWER_A, IDEA_A],
    "confirmation": [ANSWER_A, IDEA_A],
    "engagement page: Q&A": [PUBLIC_Q, PUBLIC_A],
    "engagement page: private": [*A_PRIVATE, IDEA_B, ANSWER_B, "Riverside Youth Trust"],
    "waiting questions": [QUESTION_A, "Riverside Youth Trust"],
    "summary": [
        re.compile(r"In advance\W+1"),
        "1 marked their ideas commercially confidential",
    ],
    "team answers": [ANSWER_A, IDEA_A, "Commercially confidential: do not share"],
    "record": [re.compile(r"Organisations that answered\W+2")],
    "record page": [re.compile(r"Organisations that sent answers\W+2")],
    "record json": [re.compile(r'"organisations_answered": 2')],
    "attendance": [re.compile(r"Sam Patel\W+Booked")],
    "meeting times": ["Suggest times to talk"],
    "inbox": [QUESTION_A, MEETING_A],
    "home": list(A_PRIVATE),
    "readiness summary": list(A_PRIVATE),
    "readiness export": list(A_PRIVATE),
    "directory": list(A_PRIVATE),
    "directory export": list(A_PRIVATE),
    "organisation": list(A_PRIVATE),
}
#: Surfaces that never carry anybody's words, not even for the people who may open them.
NEVER_ANYBODYS_WORDS = {"record", "record page", "record json", "engagement page: Q&A"}
#: Team-only surfaces: who is refused is told so, and the attempt is audited.
REFUSALS = {
    "waiting questions": ("Only the council running it can see these.", "see questions"),
    "summary": ("Only the council running it can see its summary.", "summary"),
    "team answers": (
        "Only the commissioning team of the council running it can read the answers.",
        "answers",
    ),
    "record": ("Only the council running it can see its record.", "record"),
    "attendance": ("Only the council running it can see this.", "attendance"),
    "meeting times": (
        "Only the commissioning team of the council running it can do that.",
        "propose times",
    ),
    "record page": ("This record is not yours to see", None),
    "record json": ("This record is not yours to see", None),
}


def found_markers(markers: list[Marker], text: str) -> list[str]:
    found = []
    for marker in markers:
        if isinstance(marker, re.Pattern):
            if marker.search(text):
                found.append(marker.pattern)
        elif marker in text:
            found.append(marker)
    return found


# --- the world -------------------------------------------------------------------------------


@dataclass(kw_only=True)
class World(TableWorld):
    """One running app with every door (`doors`), the people above, and the engagement."""

    people: dict[str, int]
    b_id: int
    engagement_id: int
    event_id: int
    meeting_id: int

    def fill(self, command: str) -> str:
        return command.format(e=self.engagement_id, event=self.event_id, meeting=self.meeting_id)

    async def command(self, actor: Actor, door: str, command: str) -> Seen:
        """What `command` shows this person on this door, asked once per person and door."""
        return await self.doors.command(actor, door, self.fill(command))

    async def reset(self) -> None:
        """A's answers as every case expects them: the sent ones, and one draft of them."""
        async with self.services.db.session() as session:
            sent = await session.get(FormResponse, self.sent_id)
            assert sent is not None
            await session.execute(
                delete(FormResponse).where(
                    FormResponse.organisation_id == self.a_id,
                    FormResponse.form_key == sent.form_key,
                    FormResponse.id != self.sent_id,
                )
            )
            definition = await definition_at(session, sent.form_key, sent.form_version)
            assert definition is not None
            draft = await start_draft(
                session,
                definition,
                organisation_id=self.a_id,
                authority_id=self.x_id,
                respondent_id=self.people["a_admin"],
                answers=dict(sent.answers),
                engagement_id=self.engagement_id,
            )
            self.draft_id = draft.id

    async def refusals_audited(self, actor: Actor, door: str, attempted: str | None) -> int:
        async with self.services.db.session() as session:
            rows = (
                await session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.actor_id == self.people[actor.key],
                        AuditEvent.door == door,
                        AuditEvent.action.in_(("engagement.refused", "engagement.record_refused")),
                    )
                )
            ).all()
        if attempted is None:
            return sum(row.action == "engagement.record_refused" for row in rows)
        return sum((row.details or {}).get("attempted") == attempted for row in rows)


# --- setting the engagement up, as people would ----------------------------------------------


class Seeder:
    """Runs turns through the real router, in-process, as the people in the story."""

    def __init__(self, services: Services, people: dict[str, int]) -> None:
        self.services = services
        self.people = people

    async def turn(self, who: str, **parts: Any) -> list[Reply]:
        async with self.services.db.session() as session:
            actor = await load_actor(session, self.people[who], self.services.tz)
        return await self.services.router.dispatch(
            Turn(door=Door.WEB, actor=actor, **parts), self.services
        )

    async def say(self, who: str, text: str) -> list[Reply]:
        return await self.turn(who, text=text)

    async def fill_in(self, who: str, text: str, pages: list[dict[str, Any]]) -> list[Reply]:
        """Open a form with `text`, then send its pages (the last one with Send)."""
        replies = await self.say(who, text)
        views = [r for r in replies if isinstance(r, FormView)]
        assert views, replies
        response_id = views[0].response_id
        for index, values in enumerate(pages):
            intent = Intent.SUBMIT if index == len(pages) - 1 else Intent.NEXT
            replies = await self.turn(
                who,
                submission=Submission(
                    response_id=response_id, page=index, values=values, intent=intent
                ),
            )
            assert not any(isinstance(r, FormView) and r.errors for r in replies), replies
        return replies


async def _seed(services: Services) -> dict[str, Any]:
    """The people of the table (the second council and its commissioner, A's second
    member), then the story above."""
    now = services.clock.now()
    async with services.db.session() as session:
        places = await set_the_scene(session)
        a, b, x = places.a, places.b, places.x
        people = {}
        for actor in ACTORS:
            person = await session.scalar(select(Person).where(Person.email == actor.email))
            assert person is not None, actor
            people[actor.key] = person.id
        engagement = Engagement(
            authority_id=x.id,
            title=TITLE,
            purpose="Early help for young people, close to home.",
            service_area="children_young_people",
            area_served=codes("Preston"),
            closes_at=now + timedelta(weeks=8),
            confidentiality="We keep what you say private.",
            question_ids=["viable_terms", "ideas", "payment", "anything_else"],
            created_by=people["commissioner_x"],
            created_at=now,
            state=EngagementState.DRAFT,
        )
        session.add(engagement)
        await session.flush()
        event = EngagementEvent(
            engagement_id=engagement.id,
            kind="workshop",
            title="Design workshop",
            starts_at=now + timedelta(days=14),
            place="North Ward Library",
            capacity=10,
            created_at=now,
        )
        session.add(event)
        await session.flush()
        ids = {"a": a.id, "b": b.id, "x": x.id, "e": engagement.id, "event": event.id}

    seeder = Seeder(services, people)
    e = ids["e"]
    replies = await seeder.say("commissioner_x", f"engagements publish {e}")
    assert "Published" in flatten([r.model_dump() for r in replies]), replies
    await seeder.fill_in(
        "a_admin",
        f"engagements answer {e}",
        [
            {"viable_terms": ANSWER_A, "ideas": IDEA_A, "ideas_confidential": "yes"},
            {"payment": "advance"},
            {"anything_else": ""},
        ],
    )
    await seeder.fill_in(
        "b_member",
        f"engagements answer {e}",
        [
            {"viable_terms": ANSWER_B, "ideas": IDEA_B, "ideas_confidential": "no"},
            {"payment": "arrears_30"},
            {"anything_else": ""},
        ],
    )
    await seeder.fill_in("a_admin", f"engagements ask {e}", [{"question": PUBLIC_Q}])
    await seeder.fill_in("a_admin", f"engagements ask {e}", [{"question": QUESTION_A}])
    await seeder.fill_in("a_admin", f"engagements talk {e}", [{"topic": MEETING_A, "how": "video"}])
    await seeder.say("a_member", f"engagements rsvp {ids['event']}")
    async with services.db.session() as session:
        public = await session.scalar(
            select(Clarification.id).where(Clarification.question == PUBLIC_Q)
        )
        meeting = await session.scalar(
            select(MeetingRequest.id).where(MeetingRequest.topic == MEETING_A)
        )
        sent = await session.scalar(
            select(FormResponse.id).where(
                FormResponse.organisation_id == ids["a"],
                FormResponse.engagement_id == e,
                FormResponse.form_key == f"engagement-{e}",
                FormResponse.state == ResponseState.SUBMITTED,
            )
        )
    assert public and meeting and sent
    await seeder.fill_in(
        "commissioner_x",
        f"engagements reply {e} {public}",
        [{"question": PUBLIC_Q, "answer": PUBLIC_A}],
    )
    return {**ids, "people": people, "meeting": meeting, "sent": sent}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    backend: databases.Backend, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    async with every_door(backend, tmp_path_factory.mktemp("engprivacy")) as backstage:
        seeded = await _seed(backstage.services)
        # Everything the story queued goes to the web inbox (nobody has a chat identity yet).
        doors = await backstage.open(ACTORS, link=words_in_query)
        yield World(
            doors=doors,
            people=seeded["people"],
            a_id=seeded["a"],
            b_id=seeded["b"],
            x_id=seeded["x"],
            engagement_id=seeded["e"],
            event_id=seeded["event"],
            meeting_id=seeded["meeting"],
            sent_id=seeded["sent"],
        )


# --- the cases -------------------------------------------------------------------------------

FIRST_PAGE = 0
LAST_PAGE = 2


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("actor_key", "thing", "door", "expected"), CASES)
async def test_engagement_privacy(
    world: World, actor_key: str, thing: str, door: str, expected: str
) -> None:
    actor = BY_KEY[actor_key]
    await world.reset()

    if thing == "form post":
        seen = await world.change_a_page(
            actor,
            door,
            allowed=expected == SEES,
            page=FIRST_PAGE,
            field="viable_terms",
            unchanged=ANSWER_A,
        )
        if expected != SEES:
            await _assert_form_refusal_audited(world, actor, door)
        _assert_nothing_crosses(actor_key, thing, seen)
        return

    if thing == "confirmation":
        seen = await world.send_the_draft(
            actor, door, allowed=expected == SEES, page=LAST_PAGE, values={"anything_else": "Sent."}
        )
        if expected != SEES:
            assert "belongs to another organisation" in seen.text, seen.text[-2000:]
            await _assert_form_refusal_audited(world, actor, door)
        found = found_markers(MARKERS[thing], seen.everything)
    elif thing in ("record page", "record json"):
        suffix = "record" if thing == "record page" else "record.json"
        seen = await world.doors.page(actor, f"/engagements/{world.engagement_id}/{suffix}")
        assert seen.status == (200 if expected == SEES else 403), seen.text[:2000]
        found = found_markers(MARKERS[thing], seen.everything)
    elif thing == "inbox":
        seen = await world.doors.page(actor, "/inbox")
        assert seen.status == 200
        found = found_markers(MARKERS[thing], seen.everything)
    else:
        seen = await world.command(actor, door, COMMANDS[thing])
        found = found_markers(MARKERS[thing], seen.everything)

    assert seen.everything.strip()
    assert "Sorry, something went wrong" not in seen.everything, seen.everything[-2000:]
    if expected == SEES:
        missing = [
            m.pattern if isinstance(m, re.Pattern) else m
            for m in MARKERS[thing]
            if (m.pattern if isinstance(m, re.Pattern) else m) not in found
        ]
        assert not missing, (
            f"{actor_key} should see {missing} in {thing} through {door}: "
            + (seen.everything[-3000:])
        )
        if thing.endswith("export"):
            assert seen.files, "the export should be a file"
    elif expected == HIDDEN:
        assert not found, f"LEAK: {actor_key} sees {thing} ({found}) through {door}"
        if thing in REFUSALS:
            message, attempted = REFUSALS[thing]
            assert message in seen.text, seen.text[-2000:]
            assert await world.refusals_audited(actor, door, attempted), (
                f"{actor_key}'s attempt at {thing} through {door} is not in the audit log"
            )
        if thing == "answers form" and actor_key != "b_member":
            assert "organisation" in seen.text and "join" in seen.text.lower(), seen.text[-2000:]
    if thing in NEVER_ANYBODYS_WORDS:
        words = found_markers([*A_PRIVATE, ANSWER_B, IDEA_B], seen.everything)
        assert not words, f"{thing} holds somebody's words ({words}) for {actor_key}"
    _assert_nothing_crosses(actor_key, thing, seen)


def _assert_nothing_crosses(actor_key: str, thing: str, seen: Seen) -> None:
    """Whatever the table says, nothing of A's reaches an outsider, nor B's reaches A."""
    if actor_key in OUTSIDERS_OF_A:
        leaked = found_markers(list(A_PRIVATE), seen.everything)
        assert not leaked, f"LEAK: {actor_key} sees A's {leaked} in {thing}"
        if thing not in ("organisation", "directory", "directory export", "readiness export"):
            named = found_markers(list(A_NAMES), seen.everything)
            assert not named, f"LEAK: {actor_key} learns {named} took part, in {thing}"
    if actor_key in OUTSIDERS_OF_B:
        leaked = found_markers([ANSWER_B, IDEA_B], seen.everything)
        assert not leaked, f"LEAK: {actor_key} sees B's {leaked} in {thing}"


async def _assert_form_refusal_audited(world: World, actor: Actor, door: str) -> None:
    async with world.services.db.session() as session:
        refused = await session.scalar(
            select(func.count()).where(
                AuditEvent.action == "form.refused",
                AuditEvent.actor_id == world.people[actor.key],
                AuditEvent.object_id == str(world.draft_id),
                AuditEvent.door == door,
            )
        )
    assert refused, f"{actor.key}'s attempt through {door} is not in the audit log"


@pytest.mark.asyncio(loop_scope="module")
async def test_no_message_carries_another_providers_words(world: World) -> None:
    """Every message queued in the story, on any door: A's words go only to A's members and
    the team; the published answer goes to every participant without naming who asked."""
    people = world.people
    a_people = {people[k] for k in A_PEOPLE}
    team = {people["commissioner_x"]}
    async with world.services.db.session() as session:
        messages = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.idempotency_key.like("%engagement%"))
            )
        ).all()
        all_messages = (await session.scalars(select(OutboxMessage))).all()
    assert messages, "the story should have queued messages"
    reached_b_with_answer = False
    for message in all_messages:
        if message.person_id is None:
            continue  # a reply in the conversation someone typed in: the table covers those
        text = flatten(message.payload)
        if message.person_id not in a_people | team:
            assert not found_markers(list(A_PRIVATE), text), (message.idempotency_key, text)
            assert not found_markers(list(A_NAMES), text), (message.idempotency_key, text)
        if message.person_id != people["b_member"] and message.person_id not in team:
            assert not found_markers([ANSWER_B, IDEA_B], text), (message.idempotency_key, text)
        if message.person_id == people["b_member"] and PUBLIC_A in text:
            reached_b_with_answer = True
            assert PUBLIC_Q in text
    assert reached_b_with_answer, "the answer should reach B, a participant"


@pytest.mark.asyncio(loop_scope="module")
async def test_asker_is_kept_for_the_team_only(world: World) -> None:
    """Who asked is stored (the team may see it) but never published with the question."""
    async with world.services.db.session() as session:
        rows = (
            await session.scalars(
                select(Clarification).where(Clarification.engagement_id == world.engagement_id)
            )
        ).all()
    assert {(r.question, r.asked_for) for r in rows} == {
        (PUBLIC_Q, world.a_id),
        (QUESTION_A, world.a_id),
    }
    for who in ("b_member", "commissioner_y", "admin"):
        seen = await world.doors.web_command(BY_KEY[who], f"engagements show {world.engagement_id}")
        assert PUBLIC_A in seen.text
        assert not found_markers(list(A_NAMES), seen.text), who


# --- anonymous feedback ----------------------------------------------------------------------

FEEDBACK_TEXT = "FEEDBACK-COMMENT-{n}-Q8"
PROCESS_TEXT = "PROCESS-COMMENT-{n}-P4"
#: Columns that could tie a feedback row to a person, an organisation or a moment.
IDENTIFYING = re.compile(
    r"person|people|user|respondent|member|organisation|org_id|author|by$|_by|"
    r"actor|email|name|door|address|ip|at$|_at|time|date|created|updated|seq",
    re.I,
)


async def _feedback_world(services: Services) -> tuple[int, dict[str, int]]:
    """An open engagement every demo provider takes part in, and a fifth provider person."""
    now = services.clock.now()
    async with services.db.session() as session:
        x = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        a = await session.scalar(select(Organisation).where(Organisation.slug == A_SLUG))
        assert x is not None and a is not None
        sam = Person(name="Sam Patel", email="sam@riversideyouth.example", is_demo=True)
        session.add(sam)
        await session.flush()
        await grant(session, sam, Role.PROVIDER_MEMBER, organisation_id=a.id)
        engagement = Engagement(
            authority_id=x.id,
            title=TITLE,
            purpose="Early help.",
            area_served=codes("Preston", "Burnley", "Lancaster"),
            closes_at=now + timedelta(weeks=8),
            confidentiality="Private.",
            question_ids=["risks"],
            created_at=now,
            state=EngagementState.DRAFT,
        )
        session.add(engagement)
        await session.flush()
        people = {
            name: person_id
            for name, person_id in (await session.execute(select(Person.name, Person.id))).all()
        }
    seeder = Seeder(services, {"commissioner_x": people["Priya Shah"]})
    replies = await seeder.say("commissioner_x", f"engagements publish {engagement.id}")
    assert "4 organisations" in flatten([r.model_dump() for r in replies])
    return engagement.id, people


async def _give_feedback(web_user: WebUser, engagement_id: int, n: int) -> str:
    status, html = await web_user.get(f"/do/engagements?words=feedback+{engagement_id}")
    assert status == 200, text_of(html)
    assert "Tell us how it went" in html, text_of(html)
    status, html = await web_user.post(
        form_action(html),
        [
            ("engagement_rating", "4"),
            ("engagement_comment", FEEDBACK_TEXT.format(n=n)),
            ("process_rating", "5"),
            ("process_comment", PROCESS_TEXT.format(n=n)),
            ("_page", "0"),
            ("_intent", "submit"),
        ],
    )
    assert status == 200, text_of(html)
    return text_of(html)


PROVIDER_PEOPLE = ["Tom Okafor", "Grace Lee", "Amina Begum", "Joan Hughes", "Sam Patel"]


async def test_feedback_carries_no_identity(
    services: Services, app_server: RunningApp, web_user: WebUser
) -> None:
    engagement_id, people = await _feedback_world(services)
    await web_user.sign_in_locally("Tom Okafor")
    page = await _give_feedback(web_user, engagement_id, 1)
    assert "saved without your name" in page, page

    async with services.db.session() as session:
        # The table as it is in the database (the migration), not only as the model says.
        columns, foreign = await (await session.connection()).run_sync(
            lambda sync: (
                [c["name"] for c in inspect(sync).get_columns("engagement_feedback")],
                inspect(sync).get_foreign_keys("engagement_feedback"),
            )
        )
        assert set(columns) == {
            "id",
            "engagement_id",
            "engagement_rating",
            "engagement_comment",
            "process_rating",
            "process_comment",
        }, columns
        assert not [c for c in columns if c != "engagement_id" and IDENTIFYING.search(c)]
        assert [f["referred_table"] for f in foreign] == ["engagements"]
        model_columns = {c.key for c in inspect(EngagementFeedback).columns}
        assert model_columns == set(columns)

        rows = (await session.scalars(select(EngagementFeedback))).all()
        assert len(rows) == 1
        row = rows[0]
        assert row.engagement_comment == FEEDBACK_TEXT.format(n=1)
        # The key is random, not a number that counts up in the order people answered.
        assert re.fullmatch(r"[0-9a-f]{32}", row.id), row.id
        # The person's draft is gone: nothing ties what they typed to them.
        drafts = await session.scalar(
            select(func.count()).where(FormResponse.form_key == "engagement_feedback")
        )
        assert drafts == 0
        # Only *that* they gave feedback is kept, so they are not asked twice.
        given = (await session.scalars(select(FeedbackGiven))).all()
        assert [(g.engagement_id, g.person_id) for g in given] == [
            (engagement_id, people["Tom Okafor"])
        ]
        # No audit event, message, inbox item or chat conversation keeps the words.
        for model in (AuditEvent, OutboxMessage, InboxItem, ConversationState):
            for stored in (await session.scalars(select(model))).all():
                text = json.dumps(
                    {c.key: str(getattr(stored, c.key)) for c in inspect(model).columns}
                )
                assert "COMMENT-1" not in text, (model.__name__, text)

    # Asking again is refused, and adds nothing.
    status, html = await web_user.get(f"/do/engagements?words=feedback+{engagement_id}")
    assert status == 200 and "already given feedback" in text_of(html)
    async with services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(EngagementFeedback)) == 1


async def test_feedback_counts_are_suppressed_until_enough(
    services: Services, app_server: RunningApp
) -> None:
    """Under CONVENE_SUPPRESSION_MINIMUM (5) responses, the summary and the record show no
    count, no rating and no comment; at five they do. Feedback is given while the engagement
    is open and after it has closed."""
    assert services.settings.suppression_minimum == 5
    engagement_id, people = await _feedback_world(services)
    priya = WebUser(app_server.url)
    await priya.sign_in_locally("Priya Shah")
    users = []
    try:
        for n, name in enumerate(PROVIDER_PEOPLE[:4], start=1):
            user = WebUser(app_server.url)
            users.append(user)
            await user.sign_in_locally(name)
            if n == 3:  # half while open, half after it closed
                status, html = await priya.post(
                    "/do/engagements", {"words": f"close {engagement_id}"}
                )
                assert status == 200 and "Closed" in text_of(html), text_of(html)
            assert "saved without your name" in await _give_feedback(user, engagement_id, n)

        async def views() -> tuple[str, str, dict[str, Any]]:
            _, summary = await priya.get(f"/do/engagements?words=summary+{engagement_id}")
            _, record = await priya.get(f"/engagements/{engagement_id}/record")
            async with priya.client.get(
                f"{priya.base}/engagements/{engagement_id}/record.json"
            ) as resp:
                assert resp.status == 200
                data = json.loads(await resp.text())
            return text_of(summary), text_of(record), data

        summary, record, data = await views()
        assert "Fewer than 5 people gave feedback" in summary, summary
        assert "Fewer than 5 people gave feedback" in record, record
        assert data["feedback"] == {"responses": None, "suppressed": True, "minimum": 5}
        for shown in (summary, record, json.dumps(data)):
            assert "COMMENT-" not in shown
            assert "People who gave feedback" not in shown

        user = WebUser(app_server.url)
        users.append(user)
        await user.sign_in_locally(PROVIDER_PEOPLE[4])
        await _give_feedback(user, engagement_id, 5)
        summary, record, data = await views()
        assert re.search(r"People who gave feedback\W+5", summary), summary
        assert "5 people gave feedback" in record, record
        assert data["feedback"]["responses"] == 5
        assert data["feedback"]["suppressed"] is False
        assert data["feedback"]["engagement_rating"] == 4.0
        assert FEEDBACK_TEXT.format(n=5) in summary
        # Still nothing links a comment to a person: five rows, none with anything but words.
        async with services.db.session() as session:
            rows = (await session.scalars(select(EngagementFeedback))).all()
            assert sorted(r.engagement_comment for r in rows) == sorted(
                FEEDBACK_TEXT.format(n=n) for n in range(1, 6)
            )
            given = set((await session.scalars(select(FeedbackGiven.person_id))).all())
            assert given == {people[name] for name in PROVIDER_PEOPLE}
            assert (
                await session.scalar(
                    select(func.count()).where(FormResponse.form_key == "engagement_feedback")
                )
                == 0
            )
    finally:
        await priya.close()
        for user in users:
            await user.close()


async def test_the_suppression_minimum_is_a_setting(
    services: Services, app_server: RunningApp
) -> None:
    services.settings.suppression_minimum = 2  # CONVENE_SUPPRESSION_MINIMUM=2
    engagement_id, _ = await _feedback_world(services)
    priya = WebUser(app_server.url)
    users = [WebUser(app_server.url), WebUser(app_server.url)]
    try:
        await priya.sign_in_locally("Priya Shah")
        for n, (user, name) in enumerate(zip(users, PROVIDER_PEOPLE, strict=False), start=1):
            await user.sign_in_locally(name)
            await _give_feedback(user, engagement_id, n)
            _, html = await priya.get(f"/do/engagements?words=summary+{engagement_id}")
            summary = text_of(html)
            if n == 1:
                assert "Fewer than 2 people gave feedback" in summary, summary
                assert "COMMENT-" not in summary
            else:
                assert re.search(r"People who gave feedback\W+2", summary), summary
    finally:
        await priya.close()
        for user in users:
            await user.close()


async def test_feedback_is_only_for_people_who_took_part(
    services: Services, app_server: RunningApp, web_user: WebUser
) -> None:
    engagement_id, _ = await _feedback_world(services)
    for name in ("Priya Shah", "Alex Morgan"):
        await web_user.sign_in_locally(name)
        status, html = await web_user.get(f"/do/engagements?words=feedback+{engagement_id}")
        assert status == 200
        assert "Feedback is for organisations that took part" in text_of(html), text_of(html)
    async with services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(EngagementFeedback)) == 0
        assert await session.scalar(select(func.count()).select_from(FeedbackGiven)) == 0
