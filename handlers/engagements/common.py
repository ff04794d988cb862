"""What every engagement feature shares: finding the engagement, who may act on it,
refusing politely (and on the record), and the words used to describe it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON, format_when
from bot.core.reply import Notice, Reply, command_ref
from bot.core.turn import Actor, Turn, parse_command, row_id
from bot.services import Services
from handlers.forms import FormPurpose, Subject
from handlers.steps import Refused as Refused
from handlers.steps import load_locked as load_locked
from handlers.steps import lock_row as lock_row
from handlers.steps import refusal_replies as refusal_replies
from storage import audit
from storage.engagement_tables import Engagement, EngagementState
from storage.engagements import add_participants
from storage.models import Authority, FormResponse
from storage.visibility import Refusal

#: Engagements close at 5pm London time on their closing day.
CLOSING_TIME = time(17, 0)

FUNDING_ROUTES = {
    "grant": "a grant",
    "contract": "a contract",
    "other": "another way, such as a partnership",
    "not_decided": "not decided yet",
}


def words_of(turn: Turn) -> list[str]:
    """`engagements answer 4` as ["answer", "4"] (the command word dropped)."""
    words, _ = parse_command(turn.text or "")
    return words[1:]


def as_id(text: str | None) -> int | None:
    """A row id as typed or carried by a button, or None when it can't be one."""
    return row_id(text)


def number_at(turn: Turn, position: int) -> int | None:
    """The number after the sub-command (`engagements show 4` gives 4), or `id=4`."""
    words = words_of(turn)
    if len(words) > position:
        return as_id(words[position])
    return as_id(turn.args.get("id"))


def closing_moment(day: str, tz: ZoneInfo = LONDON) -> datetime:
    """The closing date (YYYY-MM-DD) at 5pm in the authority's zone, as an aware time."""
    from datetime import date

    return datetime.combine(date.fromisoformat(day), CLOSING_TIME, tzinfo=tz)


def is_open(engagement: Engagement, now: datetime) -> bool:
    return engagement.state == EngagementState.OPEN and now < engagement.closes_at


def runs_it(actor: Actor, engagement: Engagement) -> bool:
    """Only the commissioning team of the engagement's own authority acts on it."""
    return engagement.authority_id in actor.commissioner_for()


def money(pence: int | None) -> str:
    if pence is None:
        return "Not given yet"
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}" if not rest else f"£{pounds:,}.{rest:02d}"


def closes_text(engagement: Engagement, tz: ZoneInfo) -> str:
    return format_when(engagement.closes_at, tz)


async def refuse(
    session: AsyncSession,
    turn: Turn,
    engagement: Engagement | None,
    attempted: str,
    message: str,
) -> list[Reply]:
    """Say no clearly, change nothing, and keep a record of the attempt."""
    await audit.record_turn(
        session,
        turn,
        "engagement.refused",
        object_type="engagement",
        object_id=engagement.id if engagement else None,
        authority_id=engagement.authority_id if engagement else None,
        attempted=attempted,
        reason=message,
    )
    return [Notice(text=message, level="warning")]


async def provider_asked(
    session: AsyncSession,
    turn: Turn,
    engagement: Engagement,
    organisation_id: int | None,
    request: Any,
    action: str,
    object_type: str,
    now: datetime,
) -> None:
    """A provider asked something of the team (`request`: a question, a private
    conversation). It is stored, their organisation is taking part from now on, and the
    request is on the record."""
    session.add(request)
    await session.flush()
    if organisation_id is not None:
        await add_participants(session, engagement.id, [organisation_id], joined_at=now)
    await audit.record_turn(
        session,
        turn,
        action,
        object_type=object_type,
        object_id=request.id,
        authority_id=engagement.authority_id,
        organisation_id=organisation_id,
        engagement_id=engagement.id,
    )


async def authority_name(session: AsyncSession, engagement: Engagement) -> str:
    authority = await session.get(Authority, engagement.authority_id)
    return authority.name if authority else "The council"


def week_gap(start: datetime, end: datetime) -> float:
    return (end - start) / timedelta(weeks=1)


async def closed_refusal(
    session: AsyncSession, now: datetime, engagement_id: int | None
) -> Refusal | None:
    """For a page sent to an engagement's form: refuse once the engagement has closed, so a
    draft opened in time can't be sent late (the form engine audits the refusal)."""
    engagement = await session.get(Engagement, engagement_id) if engagement_id else None
    if engagement is None or not is_open(engagement, now):
        return Refusal(
            "This engagement has closed, so this can't be sent or changed now. Nothing was saved."
        )
    return None


class NotTheTeam(Refused):
    """The engagement is missing, or belongs to another authority's commissioning team."""


async def load_for_team(
    session: AsyncSession,
    turn: Turn,
    engagement_id: int | None,
    attempted: str,
    refusal: str = "Only the commissioning team of the council running it can do that.",
    *,
    lock: bool = False,
) -> Engagement:
    """The engagement a team step acts on, checked in one place: locked first when the step
    changes it (`lock`), loaded, and only for its own commissioning team. Anyone else's
    attempt is on the record and raises `NotTheTeam(refusal)`."""
    assert turn.actor is not None
    if lock:
        engagement = await load_locked(session, Engagement, engagement_id)
    else:
        engagement = await session.get(Engagement, engagement_id) if engagement_id else None
    if engagement is None or not runs_it(turn.actor, engagement):
        await refuse(session, turn, engagement, attempted, refusal)
        raise NotTheTeam(refusal)
    return engagement


async def team_engagement(
    session: AsyncSession, turn: Turn, engagement_id: int | None, attempted: str, refusal: str
) -> Engagement | list[Reply]:
    """`load_for_team` for a step that has no service of its own yet: the refusal comes
    back as its replies."""
    try:
        return await load_for_team(session, turn, engagement_id, attempted, refusal)
    except Refused as refused:
        return refusal_replies(refused)


ONLY_THE_TEAM = "Only the commissioning team of the council running it can do that."


async def submitted_engagement(session: AsyncSession, response: FormResponse) -> Engagement:
    """The engagement a sent engagement form belongs to (its subject was checked on opening,
    and again by `may_answer` on sending)."""
    assert response.engagement_id is not None
    engagement = await session.get(Engagement, response.engagement_id)
    assert engagement is not None
    return engagement


class TeamForm(FormPurpose):
    """A form only the engagement's commissioning team fills in (each draft is one person's):
    setting it up, answering a question, an update, an event, times to talk, "you said"."""

    command = "engagements"
    confirms_itself = True
    #: Only while the engagement is open (questions and updates go out to participants).
    needs_open = False

    async def own_engagement(
        self,
        session: AsyncSession,
        turn: Turn,
        engagement_id: int | None,
        attempted: str,
        refusal: str = ONLY_THE_TEAM,
    ) -> Engagement | Refusal:
        """`team_engagement` for a form's subject: the refusal comes back as a `Refusal`."""
        found = await team_engagement(session, turn, engagement_id, attempted, refusal)
        return found if isinstance(found, Engagement) else Refusal(refusal)

    async def may_answer(
        self, session: AsyncSession, turn: Turn, services: Services, response: FormResponse
    ) -> Refusal | None:
        assert turn.actor is not None
        if response.respondent_id != turn.actor.person_id or (
            response.authority_id not in turn.actor.commissioner_for()
        ):
            return Refusal("This belongs to someone else, so you can't change it.")
        if self.needs_open:
            return await closed_refusal(session, services.clock.now(), response.engagement_id)
        return None


NOT_FOUND = (
    "We couldn't find that engagement. See the open ones: "
    f"{command_ref('engagements', 'the open engagements')}."
)


async def open_engagement(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    attempted: str,
    closed: str,
    missing: str = NOT_FOUND,
) -> Engagement | Refusal:
    """The published engagement named in the turn, while it is open. Once it has closed the
    refusal says `closed` (with `{title}` filled in), and the attempt is audited."""
    engagement_id = number_at(turn, 1)
    engagement = await session.get(Engagement, engagement_id) if engagement_id else None
    if engagement is None or engagement.published_at is None:
        return Refusal(missing)
    if not is_open(engagement, services.clock.now()):
        await refuse(session, turn, engagement, attempted, "closed")
        return Refusal(closed.format(title=engagement.title))
    return engagement


class ProviderForm(FormPurpose):
    """A provider's form about an open engagement: its answers, a question, a request to
    talk. Only the organisation's members change it, and only until the engagement closes."""

    command = "engagements"
    confirms_itself = True
    #: What the form is about: each organisation has one draft per engagement and topic.
    topic = ""
    #: The step (`engagements <step> N`): what reopens a draft, and its name in the audit log.
    attempted = ""
    #: Said when the engagement has closed (`{title}` is filled in), or can't be found.
    closed = "{title} has closed, so this can't be sent now. Nothing was changed."
    missing = NOT_FOUND

    def resume(self, response: FormResponse) -> str:
        return f"{self.attempted} {response.engagement_id}"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        """The person's organisation, for the open engagement the turn names."""
        from handlers.membership import HOW_TO_JOIN

        assert turn.actor is not None
        organisations = sorted(turn.actor.member_of())
        if not organisations:
            return Refusal(HOW_TO_JOIN)
        engagement = await open_engagement(
            session, turn, services, self.attempted, self.closed, self.missing
        )
        if isinstance(engagement, Refusal):
            return engagement
        return Subject(
            organisations[0], engagement.authority_id, engagement_id=engagement.id, topic=self.topic
        )

    async def may_answer(
        self, session: AsyncSession, turn: Turn, services: Services, response: FormResponse
    ) -> Refusal | None:
        refusal = await super().may_answer(session, turn, services, response)
        return refusal or await closed_refusal(
            session, services.clock.now(), response.engagement_id
        )
