"""The pipeline's steps: plan an entry, change or remove it, publish the pipeline to
providers, and turn an entry into a draft opportunity. Each is a service (typed input, the
unit of work, a typed result or a typed refusal, audited) apart from the words in `views`.

Only entries expected within the pipeline window (18 months, from the legal data by the
day it is asked) are ever shown to providers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_date
from bot.core.forms import FormDefinition
from bot.core.reply import Reply, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.engagements.common import Refused, load_locked, number_at, words_of
from handlers.forms import Subject, topic_number
from handlers.opportunities.setup import TeamForm
from handlers.pipeline.common import COMMAND, FORM_KEY, in_window, today
from handlers.pipeline.views import saved_replies
from storage import audit
from storage.models import Authority, FormResponse
from storage.opportunity_tables import Opportunity, OpportunityState
from storage.pipeline import entries_of
from storage.pipeline_tables import PipelineEntry, PipelinePublication
from storage.visibility import Refusal


def entry_topic(entry_id: int | None) -> str:
    return f"pipeline:{entry_id if entry_id is not None else 'new'}"


def entry_of_topic(topic: str | None) -> int | None:
    return topic_number(topic)


class NotTheTeam(Refused):
    """The entry is missing, or another council's."""


class NothingToPublish(Refused):
    """No entry is within the window, so publishing would show providers nothing."""


class AlreadyDrafted(Refused):
    level = "info"

    def __init__(self, message: str, opportunity_id: int) -> None:
        super().__init__(message)
        self.opportunity_id = opportunity_id


ONLY_THE_TEAM = (
    "Only the commissioning team of the council that planned this can do that. Nothing was changed."
)


async def refuse(
    session: AsyncSession, turn: Turn, entry: PipelineEntry | None, attempted: str, reason: str
) -> None:
    """Keep a record of an attempt that was refused (nothing else changes)."""
    await audit.record_refusal(
        session, turn, "pipeline.refused", "pipeline_entry", entry, attempted, reason
    )


async def load_entry_for_team(
    session: AsyncSession, turn: Turn, entry_id: int | None, attempted: str, *, lock: bool = False
) -> PipelineEntry:
    """The entry a team step acts on, only for its own council's team (else audited)."""
    assert turn.actor is not None
    if lock:
        entry = await load_locked(session, PipelineEntry, entry_id)
    else:
        entry = await session.get(PipelineEntry, entry_id) if entry_id else None
    if entry is None or entry.authority_id not in turn.actor.commissioner_for():
        await refuse(session, turn, entry, attempted, "not the team")
        raise NotTheTeam(ONLY_THE_TEAM)
    return entry


async def council_for(session: AsyncSession, turn: Turn, attempted: str) -> Authority:
    """The council this commissioner plans for: the only one, or the one named with for=…
    Anyone else's attempt is on the record and refused."""
    assert turn.actor is not None
    mine = sorted(turn.actor.commissioner_for())
    authorities = list(
        (await session.scalars(select(Authority).where(Authority.id.in_(mine)))).all()
    )
    wanted = turn.args.get("for")
    if wanted:
        authorities = [a for a in authorities if a.slug == wanted]
    if len(authorities) == 1:
        return authorities[0]
    await refuse(session, turn, None, attempted, "which council" if mine else "not a commissioner")
    if not mine:
        raise NotTheTeam("Only a council's commissioning team can plan its pipeline.")
    names = ", ".join(
        f"{a.name} ({command_ref(f'{COMMAND} {attempted} for={a.slug}', f'the pipeline for {a.name}')})"
        for a in authorities
    )
    raise NotTheTeam(f"Which council is this for? {names}")


# --- planning and changing an entry -----------------------------------------------------------


class PipelineForm(TeamForm):
    """`pipeline plan` (a new entry) and `pipeline edit N` (change one), by the team."""

    form_key = FORM_KEY
    command = COMMAND

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        try:
            if words_of(turn)[:1] == ["edit"]:
                entry_id = number_at(turn, 1)
                if entry_id is None:
                    return Refusal(
                        f"Which one? Find it in the list: "
                        f"{command_ref(COMMAND, f'the {COMMAND} list')}."
                    )
                entry = await load_entry_for_team(session, turn, entry_id, "edit")
                return Subject(None, entry.authority_id, topic=entry_topic(entry.id))
            authority = await council_for(session, turn, "plan")
        except Refused as refused:
            return Refusal(refused.message)
        return Subject(None, authority.id, label=authority.name, topic=entry_topic(None))

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        entry_id = entry_of_topic(subject.topic)
        entry = await session.get(PipelineEntry, entry_id) if entry_id else None
        if entry is None:
            return {}
        return {
            "title": entry.title,
            "description": entry.description,
            "value_min": entry.value_min_pence,
            "value_max": entry.value_max_pence,
            "route": entry.route,
            "publication_on": entry.publication_on.isoformat(),
            "contract_start_on": entry.contract_start_on.isoformat()
            if entry.contract_start_on
            else None,
            "area_served": list(entry.area_served) or None,
            "cpv_codes": list(entry.cpv_codes) or None,
        }

    def cross_check(self, answers: dict[str, Any]) -> dict[str, str]:
        problems: dict[str, str] = {}
        low, high = answers.get("value_min"), answers.get("value_max")
        if low is not None and high is not None and low > high:
            problems["value_max"] = (
                "The most it might be worth must be at least the least it might be worth."
            )
        published, starts = answers.get("publication_on"), answers.get("contract_start_on")
        if published and starts and starts < published:
            problems["contract_start_on"] = (
                "The work can't start before you publish the opportunity. Check the two dates."
            )
        return problems

    async def check_against_records(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        answers: dict[str, Any],
    ) -> dict[str, str]:
        """An expected publication day that has passed is sent back (and on the record)."""
        day = answers.get("publication_on")
        if day and date.fromisoformat(day) < today(services):
            entry = await session.get(PipelineEntry, entry_of_topic(response.topic) or 0)
            await refuse(session, turn, entry, "plan", "publication date has passed")
            return {
                "publication_on": f"{format_date(date.fromisoformat(day))} has passed. Give the "
                "day you now expect to publish it, or remove the plan."
            }
        return {}

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and response.authority_id is not None
        now = services.clock.now()
        entry_id = entry_of_topic(response.topic)
        entry = await load_locked(session, PipelineEntry, entry_id)
        new = entry is None
        if entry is None:
            entry = PipelineEntry(
                authority_id=response.authority_id,
                created_by=turn.actor.person_id,
                created_at=now,
            )
            session.add(entry)
        apply_answers(entry, response.answers)
        entry.updated_at = now
        await session.flush()
        response.topic = entry_topic(entry.id)
        await audit.record_turn(
            session,
            turn,
            "pipeline.planned" if new else "pipeline.changed",
            object_type="pipeline_entry",
            object_id=entry.id,
            authority_id=entry.authority_id,
        )
        return saved_replies(entry, new=new, on=today(services))


def apply_answers(entry: PipelineEntry, answers: dict[str, Any]) -> None:
    entry.title = answers["title"]
    entry.description = answers.get("description")
    entry.value_min_pence = answers.get("value_min")
    entry.value_max_pence = answers.get("value_max")
    entry.route = answers.get("route")
    entry.publication_on = date.fromisoformat(answers["publication_on"])
    starts = answers.get("contract_start_on")
    entry.contract_start_on = date.fromisoformat(starts) if starts else None
    entry.area_served = list(answers.get("area_served") or [])
    codes = answers.get("cpv_codes")
    entry.cpv_codes = [str(c) for c in codes] if isinstance(codes, list) else []


FORM = PipelineForm()


# --- removing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Removed:
    title: str
    was_published: bool


async def remove_entry(session: AsyncSession, turn: Turn, entry_id: int | None) -> Removed:
    """The team takes an entry off its pipeline (it is on the record, then gone)."""
    entry = await load_entry_for_team(session, turn, entry_id, "remove", lock=True)
    removed = Removed(entry.title, entry.published_at is not None)
    await audit.record_turn(
        session,
        turn,
        "pipeline.removed",
        object_type="pipeline_entry",
        object_id=entry.id,
        authority_id=entry.authority_id,
        title=entry.title,
        was_published=removed.was_published,
    )
    await session.delete(entry)
    return removed


# --- publishing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelinePublished:
    authority: Authority
    shown: tuple[PipelineEntry, ...]
    #: Entries kept back: too far ahead, or their expected date has passed.
    held_back: tuple[PipelineEntry, ...]
    at: datetime


async def publish_pipeline(
    session: AsyncSession, turn: Turn, services: Services
) -> PipelinePublished:
    """The team shows providers its entries within the window, as advance notice."""
    authority = await council_for(session, turn, "publish")
    now, on = services.clock.now(), today(services)
    entries = await entries_of(session, {authority.id})
    shown = tuple(e for e in entries if in_window(e, on))
    held_back = tuple(e for e in entries if not in_window(e, on))
    if not shown:
        await refuse(session, turn, None, "publish", "nothing within the window")
        raise NothingToPublish(
            "Nothing was published: none of your planned opportunities is expected between "
            f"today and the end of the pipeline's window. Plan one first: "
            f"{command_ref('pipeline plan', 'the planning form')}."
        )
    for entry in shown:
        entry.published_at = entry.published_at or now
    session.add(
        PipelinePublication(
            authority_id=authority.id,
            published_at=now,
            published_by=turn.actor.person_id if turn.actor else None,
            entries=len(shown),
        )
    )
    await audit.record_turn(
        session,
        turn,
        "pipeline.published",
        object_type="pipeline",
        object_id=authority.id,
        authority_id=authority.id,
        entries=[e.id for e in shown],
        at=now,
    )
    return PipelinePublished(authority, shown, held_back, now)


# --- making a draft opportunity ---------------------------------------------------------------


async def draft_from_entry(
    session: AsyncSession, turn: Turn, services: Services, entry_id: int | None
) -> Opportunity:
    """A draft opportunity filled in from the entry, for the team to finish and publish."""
    assert turn.actor is not None
    entry = await load_entry_for_team(session, turn, entry_id, "draft", lock=True)
    if entry.opportunity_id is not None:
        existing = await session.get(Opportunity, entry.opportunity_id)
        if existing is not None:
            raise AlreadyDrafted(
                f"{entry.title} is already a draft opportunity, number {existing.id}.",
                existing.id,
            )
    now = services.clock.now()
    opportunity = Opportunity(
        authority_id=entry.authority_id,
        title=entry.title,
        purpose=entry.description or entry.title,
        value_min_pence=entry.value_min_pence,
        value_max_pence=entry.value_max_pence,
        # The planned route is a first idea: the team answers the route questions before
        # publishing, which is what decides the rules (`opportunities route N`).
        route=None,
        area_served=list(entry.area_served),
        cpv_codes=list(entry.cpv_codes),
        service_areas=[],
        submission_formats=["writing"],
        notice_links=[],
        procurement_starts_on=entry.publication_on,
        state=OpportunityState.DRAFT,
        created_by=turn.actor.person_id,
        created_at=now,
        updated_at=now,
    )
    session.add(opportunity)
    await session.flush()
    entry.opportunity_id = opportunity.id
    await audit.record_turn(
        session,
        turn,
        "opportunity.drafted",
        object_type="opportunity",
        object_id=opportunity.id,
        authority_id=opportunity.authority_id,
        from_pipeline_entry=entry.id,
    )
    return opportunity
