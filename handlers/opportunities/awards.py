"""`opportunities award N`: the team records a grant it gave from a grant-route opportunity
(which organisation, how much, on what day). It is on the record, and goes into the
council's 360Giving open data. Contracts are refused: they are awarded through Find a
Tender's notices, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON, format_date
from bot.core.forms import FormDefinition
from bot.core.reply import Button, Fact, Notice, Reply, Section
from bot.core.turn import Turn
from bot.services import Services
from handlers.forms import Subject
from handlers.opportunities.common import (
    COMMAND,
    Refused,
    load_for_team,
    money,
    number_at,
    refuse,
)
from handlers.opportunities.open_data import grants_buttons, is_grant, recipient_id
from handlers.opportunities.setup import (
    TeamForm,
    opportunity_of_topic,
    opportunity_topic,
    which_one,
)
from storage import audit
from storage.models import Authority, FormResponse, Organisation
from storage.opportunity_tables import Opportunity, OpportunityState
from storage.pipeline import award_of, awards_of, organisations_named
from storage.pipeline_tables import GrantAward
from storage.visibility import Refusal

FORM_KEY = "grant_award"


class NotAGrant(Refused):
    """The opportunity is bought as a contract (or not decided): no grant to award."""


class NotPublished(Refused):
    """A draft or a withdrawn opportunity has nothing to award."""


class BadAward(Refused):
    """The organisation is not in the directory (or the name fits more than one), or the
    award date is after today: a grant is recorded once it is given."""


async def award_problems(
    session: AsyncSession, services: Services, answers: dict[str, Any]
) -> tuple[Organisation | None, dict[str, str]]:
    """The organisation the award is for, and what is wrong with the answers (by field)."""
    problems: dict[str, str] = {}
    name = str(answers.get("organisation") or "").strip()
    found = await organisations_named(session, name)
    if len(found) != 1:
        problems["organisation"] = (
            f"We couldn't find one organisation called '{name}' in the directory. Type its "
            "name as the directory shows it."
        )
    day = answers.get("awarded_on")
    if day and date.fromisoformat(day) > services.clock.now().astimezone(LONDON).date():
        problems["awarded_on"] = (
            f"{format_date(date.fromisoformat(day))} is after today. Record a grant once it "
            "is given."
        )
    return (found[0] if len(found) == 1 else None), problems


async def awardable(
    session: AsyncSession, turn: Turn, opportunity_id: int | None, *, lock: bool = False
) -> Opportunity:
    """The team's own published grant-route opportunity; anything else refused, audited."""
    opportunity = await load_for_team(session, turn, opportunity_id, "award", lock=lock)
    if not is_grant(opportunity):
        await refuse(session, turn, opportunity, "award", "not a grant route")
        raise NotAGrant(
            f"{opportunity.title} is not funded as a grant, so you can't record a grant "
            "award for it. Nothing was changed. Contracts are awarded through your Find a "
            "Tender notices."
        )
    if opportunity.state not in (OpportunityState.OPEN, OpportunityState.CLOSED):
        await refuse(session, turn, opportunity, "award", f"state {opportunity.state}")
        raise NotPublished(
            f"{opportunity.title} is "
            + ("still a draft" if opportunity.state == OpportunityState.DRAFT else "withdrawn")
            + ", so no grant can be awarded from it. Nothing was changed."
        )
    return opportunity


class AwardForm(TeamForm):
    """The team's grant award form, for one opportunity."""

    form_key = FORM_KEY

    def resume(self, response: FormResponse) -> str:
        return f"award {opportunity_of_topic(response.topic)}"

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        opportunity_id = number_at(turn, 1)
        if opportunity_id is None:
            return Refusal(which_one("award"))
        try:
            opportunity = await awardable(session, turn, opportunity_id)
        except Refused as refused:
            return Refusal(refused.message)
        return Subject(
            None,
            opportunity.authority_id,
            label=opportunity.title,
            topic=f"{opportunity_topic(opportunity.id)}:award",
        )

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        return {}

    async def check_against_records(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        answers: dict[str, Any],
    ) -> dict[str, str]:
        """The organisation must be in the directory, and the day not after today. The form
        comes back with the problem; the attempt is on the record."""
        _, problems = await award_problems(session, services, answers)
        if problems:
            opportunity = await session.get(Opportunity, opportunity_of_topic(response.topic))
            await refuse(session, turn, opportunity, "award", "; ".join(sorted(problems)))
        return problems

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        opportunity_id = opportunity_of_topic(response.topic)
        try:
            awarded = await award_grant(session, turn, services, opportunity_id, response.answers)
        except Refused as refusal:
            again = Button(
                label="Try again", action=f"cmd.{COMMAND}", value=f"award {opportunity_id}"
            )
            return [Notice(text=refusal.message, level=refusal.level, buttons=[again])]
        return awarded_replies(awarded, services, turn)


AWARD = AwardForm()


@dataclass(frozen=True)
class Awarded:
    opportunity: Opportunity
    organisation: Organisation
    authority: Authority
    award: GrantAward
    changed: bool
    #: Whether the grant can go in the 360Giving file (the organisation has an org-id).
    in_open_data: bool


async def award_grant(
    session: AsyncSession,
    turn: Turn,
    services: Services,
    opportunity_id: int | None,
    answers: dict[str, Any],
) -> Awarded:
    """Record the grant (or correct the one already recorded for that organisation).
    Raises a typed refusal, audited, before anything changes."""
    assert turn.actor is not None
    opportunity = await awardable(session, turn, opportunity_id, lock=True)
    organisation, problems = await award_problems(session, services, answers)
    if problems or organisation is None:
        reasons = "; ".join(sorted(problems))
        await refuse(session, turn, opportunity, "award", reasons)
        raise BadAward(" ".join(problems.values()) + " Nothing was saved.")
    awarded_on = date.fromisoformat(answers["awarded_on"])
    now = services.clock.now()
    award = await award_of(session, opportunity.id, organisation.id)
    changed = award is not None
    if award is None:
        award = GrantAward(
            opportunity_id=opportunity.id,
            organisation_id=organisation.id,
            awarded_by=turn.actor.person_id,
            created_at=now,
        )
        session.add(award)
    award.amount_pence = int(answers["amount"])
    award.awarded_on = awarded_on
    award.awarded_by = turn.actor.person_id
    award.updated_at = now
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        "opportunity.grant_changed" if changed else "opportunity.grant_awarded",
        object_type="opportunity",
        object_id=opportunity.id,
        authority_id=opportunity.authority_id,
        organisation_id=organisation.id,
        amount_pence=award.amount_pence,
        awarded_on=awarded_on.isoformat(),
        at=now,
    )
    authority = await session.get(Authority, opportunity.authority_id)
    assert authority is not None
    return Awarded(
        opportunity,
        organisation,
        authority,
        award,
        changed,
        in_open_data=recipient_id(organisation) is not None,
    )


def awarded_replies(awarded: Awarded, services: Services, turn: Turn) -> list[Reply]:
    a = awarded
    text = (
        f"{'Changed' if a.changed else 'Recorded'}: a grant of {money(a.award.amount_pence)} "
        f"to {a.organisation.name} from {a.opportunity.title}, awarded on "
        f"{format_date(a.award.awarded_on)}. It is on the record. Anyone can see it in "
        f"{a.authority.name}'s grants open data (360Giving). Convene does not tell "
        f"{a.organisation.name}: please tell them yourself."
    )
    replies: list[Reply] = [
        Notice(
            text=text,
            level="success",
            buttons=grants_buttons(services.settings, turn.door, a.authority.slug),
        )
    ]
    if not a.in_open_data:
        replies.append(
            Notice(
                text=f"{a.organisation.name} has no charity, company or other register "
                "number on its profile, so this grant can't go in the 360Giving file yet. "
                "It will, once they add one to their profile.",
                level="warning",
            )
        )
    return replies


async def grants_section(session: AsyncSession, opportunity: Opportunity) -> list[Section]:
    """The grants recorded from this opportunity, for its team (empty when there are none)."""
    rows = await awards_of(session, opportunity.id)
    if not rows:
        return []
    facts = []
    for award in rows:
        organisation = await session.get(Organisation, award.organisation_id)
        facts.append(
            Fact(
                label=organisation.name if organisation else "An organisation that has left",
                value=f"{money(award.amount_pence)}, awarded on {format_date(award.awarded_on)}",
            )
        )
    return [Section(heading="Grants awarded", facts=facts)]
