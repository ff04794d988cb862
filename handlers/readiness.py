"""Readiness: what terms would make work viable for a provider, and what help it wants.

Answers belong to the organisation and the authority they were given for: the
visibility policy lets only the organisation's members and that authority's
commissioning team read them. They are never turned into a score or a ranking.
Every submission is kept (a new version each time); a reminder asks for a refresh
after 12 months.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_day
from bot.core.feature import Command, Feature, NavLink, SubCommand
from bot.core.forms import FormDefinition, format_answer
from bot.core.reply import Button, Message, Notice, Reply, ReplyList, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.forms import FormPurpose, Subject, open_form
from handlers.membership import HOW_TO_JOIN
from storage import audit
from storage.forms import latest_submission
from storage.models import Authority, FormResponse, Membership, Organisation, Person, Reminder, Role
from storage.outbox import enqueue_for_person
from storage.readiness import refresh_readiness_facts
from storage.reminders import schedule_reminder
from storage.visibility import Refusal

REFRESH_AFTER = timedelta(days=365)
REFRESH_KIND = "readiness.refresh"


async def _authority(session: AsyncSession, turn: Turn) -> Authority | Refusal:
    """The authority these answers are for: named with for=…, or the only one there is."""
    wanted = turn.args.get("for")
    query = select(Authority).order_by(Authority.name)
    if wanted:
        query = query.where(Authority.slug == wanted)
    authorities = list((await session.scalars(query)).all())
    if len(authorities) == 1:
        return authorities[0]
    if not authorities:
        return Refusal("No council has asked for readiness answers yet.")
    names = ", ".join(
        f"{a.name} ({command_ref(f'readiness for={a.slug}', f'readiness answers for {a.name}')})"
        for a in authorities
    )
    return Refusal(f"Which council are these answers for? {names}")


class Readiness(FormPurpose):
    form_key = "readiness"
    command = "readiness"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        assert turn.actor is not None
        organisations = sorted(turn.actor.member_of())
        if not organisations:
            return Refusal(HOW_TO_JOIN)
        authority = await _authority(session, turn)
        if isinstance(authority, Refusal):
            return authority
        return Subject(
            organisation_id=organisations[0], authority_id=authority.id, label=authority.name
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        """Start from the last answers given (people update, they don't start again)."""
        previous = await latest_submission(
            session,
            form_key=self.form_key,
            organisation_id=subject.organisation_id,
            authority_id=subject.authority_id,
        )
        if previous is not None:
            return dict(previous.answers)
        org = await session.get(Organisation, subject.organisation_id)
        if org is None:
            return {}
        answers: dict[str, Any] = {}
        if org.staff_count is not None:
            answers["staff_fte"] = org.staff_count
        if org.volunteer_count is not None:
            answers["volunteers"] = org.volunteer_count
        if org.areas_served:
            # The same places, as the same codes: the question is a place picker too.
            answers["areas_covered"] = [a.value for a in org.areas_served]
        return answers

    async def preface(self, session: AsyncSession, turn: Turn, subject: Subject) -> list[Reply]:
        """Say when these answers (for this council) were last sent."""
        assert turn.actor is not None
        previous = await latest_submission(
            session,
            form_key=self.form_key,
            organisation_id=subject.organisation_id,
            authority_id=subject.authority_id,
        )
        if previous is None or previous.submitted_at is None:
            return []
        when = format_day(previous.submitted_at, turn.actor.timezone)
        return [
            Notice(
                text=f"You last updated these answers on {when}. Change anything that is no "
                "longer right, then send them again."
            )
        ]

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and response.organisation_id is not None
        if response.authority_id is not None:
            # The summary's typed copy of the latest answers, in this same transaction.
            await refresh_readiness_facts(
                session,
                organisation_id=response.organisation_id,
                authority_id=response.authority_id,
                definition=definition,
            )
        now = services.clock.now()
        await schedule_reminder(
            session,
            kind=REFRESH_KIND,
            due_at=now + REFRESH_AFTER,
            target_type="organisation",
            target_id=response.organisation_id,
            payload={"authority_id": response.authority_id},
        )
        await audit.record_turn(
            session,
            turn,
            "readiness.submitted",
            object_type="form_response",
            object_id=response.id,
            organisation_id=response.organisation_id,
            authority_id=response.authority_id,
            at=now,
        )
        wanted = [v for v in response.answers.get("support_wanted") or [] if v != "none"]
        if not wanted:
            return []
        authority = await session.get(Authority, response.authority_id)
        field = definition.field("support_wanted")
        help_with = format_answer(field, wanted).lower()
        person = await session.get(Person, turn.actor.person_id)
        ack = Notice(
            text=f"Thank you for telling us you would like help with {help_with}. "
            f"{authority.name if authority else 'The council'}'s commissioning team can see "
            "your request and will contact you about support on offer.",
            level="success",
        )
        if person is not None:
            await enqueue_for_person(
                session,
                person,
                ReplyList(replies=[ack]).model_dump(mode="json"),
                f"readiness:{response.id}:support-ack",
            )
        return []


READINESS = Readiness()


async def show_readiness(turn: Turn, services: Services) -> list[Reply]:
    """`readiness` opens the questions (with the last answers filled in);
    `readiness summary`, `readiness shared` and `readiness needs` (or `view=…`, as the web
    door's links send it) are the commissioners' views across providers."""
    from handlers.readiness_summary import show_summary, wanted_view

    assert turn.actor is not None
    # A commissioner who is not also answering for a provider wants the summary.
    commissioner_only = turn.actor.is_commissioner and not turn.actor.member_of()
    if wanted_view(turn) is not None or commissioner_only:
        return await show_summary(turn, services)
    return await open_form(turn, services, READINESS)


async def remind_to_refresh(reminder: Reminder, services: Services) -> None:
    """A year on: ask the organisation's people to check their answers are still right."""
    organisation_id = int(reminder.target_id)
    async with services.db.session() as session:
        org = await session.get(Organisation, organisation_id)
        if org is None:
            return
        people = (
            await session.scalars(
                select(Person)
                .join(Membership, Membership.person_id == Person.id)
                .where(
                    Membership.organisation_id == organisation_id,
                    Membership.role.in_([Role.PROVIDER_ADMIN, Role.PROVIDER_MEMBER]),
                )
                .distinct()
            )
        ).all()
        message = Message(
            title="Are your readiness answers still right?",
            text=f"It is a year since {org.name} last answered the readiness questions. "
            "Please check them and change anything that has changed. It only takes a few "
            "minutes, and you can skip anything.",
            buttons=[Button(label="Check my answers", action="cmd.readiness", style="primary")],
        )
        for person in people:
            await enqueue_for_person(
                session,
                person,
                ReplyList(replies=[message]).model_dump(mode="json"),
                f"reminder:{reminder.id}:person:{person.id}",
            )


FEATURE = Feature(
    name="readiness",
    nav=(NavLink("Readiness", "readiness", "commissioners", order=55),),
    commands=(
        Command(
            "readiness",
            "answer questions about costs, risk and capacity (or: readiness summary)",
            show_readiness,
            "providers",
            opens_form=True,
            # The commissioners' views, read by `show_readiness` itself.
            subcommands=(SubCommand("summary"), SubCommand("shared"), SubCommand("needs")),
        ),
    ),
    form_purposes=(READINESS,),
    reminders={REFRESH_KIND: remind_to_refresh},
)
