"""The engagement corrections that need no door: who sees private notes, original questions
and conflict declarations; what the record says of s.17 and of who could take part; and
how an edited question keeps its original."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from bot.core.turn import Actor, Grant
from handlers.engagements.clarifications import EDITED_MARK, keep_original, published_question
from handlers.engagements.closing import SummaryFacts
from handlers.engagements.conflicts import DECLARE
from handlers.engagements.record import ROUTES, notice_duty, process_description
from storage.engagement_tables import Clarification, ClarificationKind, Engagement, Threshold
from storage.models import Role
from storage.visibility import (
    can_see_conflict_declarations,
    can_see_meeting_notes,
    can_see_original_question,
)

RIVERSIDE, EASTGATE = 1, 2
TRUST = 10

TEAM = Actor(1, "Priya", grants=(Grant(Role.COMMISSIONER, authority_id=RIVERSIDE),))
OTHER_COUNCIL = Actor(2, "Sam", grants=(Grant(Role.COMMISSIONER, authority_id=EASTGATE),))
PROVIDER = Actor(3, "Tom", grants=(Grant(Role.PROVIDER_ADMIN, organisation_id=TRUST),))
CONVENE_ADMIN = Actor(4, "Alex", grants=(Grant(Role.ADMIN),))
NOBODY = Actor(5, "New person")


def _engagement(**fields: object) -> Engagement:
    return Engagement(
        id=7,
        authority_id=RIVERSIDE,
        title="Warm spaces",
        purpose="Somewhere warm.",
        closes_at=datetime(2026, 4, 1, 16, tzinfo=UTC),
        confidentiality="x",
        **fields,
    )


@pytest.mark.parametrize(
    "rule", [can_see_meeting_notes, can_see_original_question, can_see_conflict_declarations]
)
@pytest.mark.parametrize(
    ("actor", "sees"),
    [
        (TEAM, True),
        (OTHER_COUNCIL, False),
        (PROVIDER, False),
        (CONVENE_ADMIN, False),
        (NOBODY, False),
    ],
)
def test_only_the_engagements_own_team_sees_its_private_records(
    rule: object, actor: Actor, sees: bool
) -> None:
    assert callable(rule)
    assert rule(actor, _engagement()) is sees


def test_a_team_member_of_another_council_too_is_still_only_this_councils_team() -> None:
    both = Actor(
        6,
        "Dual",
        grants=(
            Grant(Role.COMMISSIONER, authority_id=EASTGATE),
            Grant(Role.PROVIDER_MEMBER, organisation_id=TRUST),
        ),
    )
    assert not can_see_meeting_notes(both, _engagement())


@pytest.mark.parametrize(
    ("threshold", "says", "never"),
    [
        (Threshold.YES, "Above threshold", "does not apply"),
        (Threshold.NO, "does not apply", "before the tender notice"),
        (Threshold.NOT_SURE, "If it is above threshold", "Below threshold"),
        (None, "Not known yet", "Below threshold"),
    ],
)
def test_the_uk2_duty_follows_s17(threshold: str | None, says: str, never: str) -> None:
    duty = notice_duty(_engagement(above_threshold=threshold))
    assert says in duty and never not in duty
    # s.17: before the tender notice (or reasons in it), never "before engagement".
    assert "before engag" not in duty.lower()
    if threshold != Threshold.NO:
        assert "before the tender notice" in duty and "s.17" in duty


def test_the_process_description_says_who_could_really_take_part() -> None:
    nothing = SummaryFacts(0, 0, 0, (), Counter(), Counter(), (), (), (), 0, {})
    text = process_description(_engagement(), nothing)
    assert "any other organisation could also take part" not in text
    assert "on Convene" in text and "not on Convene could not take part" in text


def test_routes_include_not_decided_and_grants_are_not_procurement() -> None:
    assert ROUTES["not_decided"] == "Not decided yet"
    assert "not a procurement" in ROUTES["grant"]


def _question(text: str) -> Clarification:
    return Clarification(engagement_id=7, kind=ClarificationKind.QUESTION, question=text)


def test_an_edited_question_keeps_its_original_and_is_marked() -> None:
    question = _question("We are the Trust in North Ward: can we bid?")
    keep_original(question, "Can a small group bid?")
    assert question.question == "Can a small group bid?"
    assert question.original_question == "We are the Trust in North Ward: can we bid?"
    assert published_question(question) == f"Can a small group bid? ({EDITED_MARK})"
    # A second edit keeps the first wording the provider used, not the team's draft.
    keep_original(question, "Can small groups bid?")
    assert question.original_question == "We are the Trust in North Ward: can we bid?"


def test_a_question_published_as_asked_is_not_marked() -> None:
    question = _question("Can we bid?")
    keep_original(question, "  Can we bid?  ")
    assert question.original_question is None
    assert published_question(question) == "Can we bid?"


@pytest.mark.parametrize(
    ("answers", "problems"),
    [
        ({"declaration": "none"}, set()),
        ({"declaration": "conflict", "what": "Trustee", "how_managed": "I step out."}, set()),
        ({"declaration": "conflict"}, {"what", "how_managed"}),
        ({"declaration": "conflict", "what": "  ", "how_managed": "I step out."}, {"what"}),
    ],
)
def test_a_declared_conflict_needs_what_and_how(
    answers: dict[str, str], problems: set[str]
) -> None:
    assert set(DECLARE.cross_check(answers)) == problems
