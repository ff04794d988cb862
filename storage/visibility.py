"""Who may see what. Every read of provider data goes through here.

The rules come from the domain: an organisation's answers are for its own members
and for the commissioning team of the authority they answered for, nobody else.
Other providers see only the public parts of a profile (name, areas, services).
Keeping the rules in one module means one place to test and one place to change.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_

from bot.core.turn import Actor
from storage.engagement_tables import Engagement
from storage.models import FormResponse, Organisation

PUBLIC_PROFILE_FIELDS = ("name", "service_areas", "areas_served")


@dataclass(frozen=True)
class Refusal:
    """Why an actor may not do something, in words we can show them."""

    message: str


def can_edit_profile(actor: Actor, organisation_id: int) -> bool:
    """Members of an organisation keep its profile up to date; nobody else edits it."""
    return organisation_id in actor.member_of()


def can_answer_for(actor: Actor, response: FormResponse) -> bool:
    """Who may change a draft: its organisation's members, or the person it belongs to."""
    if response.organisation_id is not None:
        return response.organisation_id in actor.member_of()
    return response.respondent_id == actor.person_id


def can_see_full_profile(actor: Actor, organisation_id: int) -> bool:
    """Members and commissioners see the whole profile; everyone else sees the public parts.

    Convene admins are not included: the profile form promises providers that the rest is
    seen "only by people in your organisation and council commissioners", and admins
    manage deliveries, not providers' details.
    """
    return organisation_id in actor.member_of() or actor.is_commissioner


def can_browse_directory(actor: Actor) -> bool:
    """The filterable directory is a commissioning tool. It shows size and shape facts
    (income, kind of organisation) that are not public, so only commissioners use it."""
    return actor.is_commissioner


def can_export(actor: Actor, authority_id: int) -> bool:
    """Exports are for the commissioning team of one authority.

    A readiness export holds every provider's own answers given to that authority, and
    both exports hold whole profiles, so the rule is the strictest of the two: the person
    must be a commissioner *for this authority*. Providers, admins and commissioners of
    another authority can never export it.
    """
    return authority_id in actor.commissioner_for()


def can_see_readiness_summary(actor: Actor, authority_id: int) -> bool:
    """Readiness across providers, and who asked for support: only the commissioning team
    of the authority the answers were given to (it may see exact numbers and names)."""
    return authority_id in actor.commissioner_for()


def _runs(actor: Actor, engagement: Engagement) -> bool:
    return engagement.authority_id in actor.commissioner_for()


def can_see_original_question(actor: Actor, engagement: Engagement) -> bool:
    """A clarification edited to keep the asker anonymous is published as edited; how it
    was first asked could identify them, so only the engagement's own commissioning team
    (and the record, which is theirs) sees it. Never other providers, nor the asker's
    own colleagues through the Q&A log."""
    return _runs(actor, engagement)


def can_see_meeting_notes(actor: Actor, engagement: Engagement) -> bool:
    """Notes and the outcome of a private conversation are the team's record of it: the
    engagement's own commissioning team only. Not the provider (the notes are the council's
    working record), not other providers, not other councils. Anything every provider
    should know goes out as an update instead."""
    return _runs(actor, engagement)


def can_see_conflict_declarations(actor: Actor, engagement: Engagement) -> bool:
    """What a team member declared (Procurement Act 2023 ss.81-83) is for the engagement's
    own commissioning team. Everyone else, and the record, learn only that declarations
    were made."""
    return _runs(actor, engagement)


def responses_visible_to(actor: Actor) -> ColumnElement[bool]:
    """Whose answers an actor may read, as SQL, for lists, summaries and exports: the
    organisation's own members, and the commissioners of the authority it answered."""
    clauses: list[ColumnElement[bool]] = []
    member_of = actor.member_of()
    if member_of:
        clauses.append(FormResponse.organisation_id.in_(member_of))
    clauses.append(
        and_(FormResponse.organisation_id.is_(None), FormResponse.respondent_id == actor.person_id)
    )
    commissioner_for = actor.commissioner_for()
    if commissioner_for:
        clauses.append(FormResponse.authority_id.in_(commissioner_for))
    return or_(*clauses) if clauses else false()


def public_profile(organisation: Organisation) -> dict[str, object]:
    """The parts of a profile any signed-in person may see."""
    return {
        "name": organisation.name,
        "service_areas": [a.value for a in organisation.service_areas],
        "areas_served": [a.value for a in organisation.areas_served],
    }
