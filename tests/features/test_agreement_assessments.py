"""Performance assessments (s.71) and ending an agreement (s.80), in-process.

Priya (Riverside council) records a £6m contract with Riverside Youth Trust (Tom) and
three KPIs, so s.52 and s.71 apply. She is reminded four weeks before each 12 months are
up, at the start of a working day, and every week after until an assessment is decided.
The assessment form is built from the KPIs and starts empty even when check-ins have been
answered; the provider sees nothing of a draft, is told first when it is shared, may
respond, and only then can the team decide; the contract performance notice is reminded
until recorded. Ending the contract stops later check-ins, their chases and key-date
reminders, and starts the s.80 and the last-assessment reminders; a grant gets neither.
Bad input and the wrong people change nothing and are on the record.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from storage.agreement_tables import Agreement
from storage.agreements import parties_of
from storage.assessment_tables import AgreementEnding, AssessmentRating, PerformanceAssessment
from storage.models import AuditEvent, Reminder, WorkState
from storage.monitoring_tables import CheckinRow, MonitoringPlanRow
from storage.reminders import schedule_reminder
from tests.features.test_agreements import answers, record
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of

#: Monday 12 January 2026, 9am.
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
#: Monday 2 November 2026, 9am: seven months into the contract.
LATER = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ASSESS = "agreement.performance_assessment"
PERFORMANCE_NOTICE = "agreement.performance_notice"
TERMINATION_NOTICE = "agreement.termination_notice"
KPIS = (
    "Young people attending; monthly register; 120 a month\n"
    "Clubs open; weekly count; 10 a week\n"
    "Young people who feel safer; yearly survey; 80%"
)
RATINGS = {
    0: {
        "kpi_1_rating": "good",
        "kpi_1_note": "Above target most months",
        "kpi_2_rating": "approaching_target",
        "kpi_3_rating": "requires_improvement",
        "kpi_3_note": "Survey reached few young people",
    },
    1: {"summary": "Going well overall"},
}


def big_contract(**changes: Any) -> dict[int, dict[str, Any]]:
    return answers(value="£6,000,000", kpis=KPIS, **changes)


async def pending(door: TestDoor, kind: str) -> list[Reminder]:
    return [r for r in await door.reminders(kind=kind) if r.state == WorkState.PENDING]


async def refusals(door: TestDoor, person: Conversation) -> list[AuditEvent]:
    async with door.services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.action == "agreement.refused",
                        AuditEvent.actor_id == person.person_id,
                    )
                )
            ).all()
        )


async def latest_assessment(door: TestDoor) -> PerformanceAssessment:
    async with door.services.db.session() as session:
        found = await session.scalar(
            select(PerformanceAssessment).order_by(PerformanceAssessment.id.desc()).limit(1)
        )
    assert found is not None
    return found


async def messages_to(door: TestDoor, person: Conversation, words: str) -> list[Any]:
    return [q for q in await door.outbox(person_id=person.person_id) if words in text_of(q.replies)]


async def answered_checkin(door: TestDoor, agreement_id: int) -> None:
    """A check-in Tom answered with a red rating and harsh words, stored as monitoring does."""
    async with door.services.db.session() as session:
        plan = MonitoringPlanRow(
            agreement_id=agreement_id,
            state="agreed",
            frequency="quarterly",
            method="chat",
            questions=["effective"],
            rag=True,
            proposed_by_side="team",
        )
        session.add(plan)
        await session.flush()
        ((party, _),) = await parties_of(session, agreement_id)
        session.add(
            CheckinRow(
                agreement_id=agreement_id,
                plan_id=plan.id,
                organisation_id=party.organisation_id,
                due_on=date(2026, 7, 1),
                sent_at=NOW,
                questions=["effective"],
                answered_at=NOW,
                answers={"effective": "Attendance fell; we missed the target"},
                rag="red",
            )
        )


async def test_the_team_is_reminded_every_12_months_at_the_start_of_a_working_day(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, big_contract())  # 1 April 2026 to 31 March 2028

    (reminder,) = await pending(door, ASSESS)
    assert reminder.target_id == str(agreement_id)
    # 12 months from Wednesday 1 April 2026, less four weeks: Thursday 4 March 2027, 8am.
    assert reminder.due_at == datetime(2027, 3, 4, 8, 0, tzinfo=UTC)

    door.freeze(datetime(2027, 3, 4, 8, 1, tzinfo=UTC))
    assert await door.sweep() >= 1
    (told,) = await messages_to(door, priya, "Time to assess performance")
    said = text_of(told.replies)
    assert "at least every 12 months" in said and "Thursday 1 April 2027" in said
    assert "never fill it in from check-ins" in said
    (again,) = await pending(door, ASSESS)
    assert again.due_at == datetime(2027, 3, 11, 8, 0, tzinfo=UTC)


async def test_no_yearly_reminder_where_s71_does_not_apply(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    await record(priya, answers())  # £250,000: no s.52 KPIs, so s.71 is no duty
    assert await pending(door, ASSESS) == []


async def test_an_agreement_without_kpis_is_refused_with_a_clear_message(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers(kpis=""))
    said = text_of(await priya.say(f"agreements assess {agreement_id}"))
    assert "has no key performance indicators, so there is nothing to assess" in said
    said = text_of(await priya.say(f"agreements rate {agreement_id} kpi1=good"))
    assert "no key performance indicators" in said
    assert [r.details.get("reason") for r in await refusals(door, priya)] == ["no KPIs"] * 2
    async with door.services.db.session() as session:
        assert (await session.scalars(select(PerformanceAssessment))).all() == []


async def test_the_form_is_built_from_the_kpis_and_never_filled_from_checkins(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, big_contract())
    await answered_checkin(door, agreement_id)

    form = form_in(await priya.say(f"agreements assess {agreement_id}"))
    labels = [f.label for f in form.fields]
    assert labels[0].startswith("Young people attending") and len(form.fields) == 6
    assert all(value in (None, "", []) for value in form.values.values()), form.values
    assert "never fill this in from check-in answers" in (form.intro or "")
    assert [c.value for c in form.fields[0].choices] == [
        "good",
        "approaching_target",
        "requires_improvement",
        "inadequate",
        "other",
    ]


async def test_the_provider_is_told_first_then_the_team_decides_and_records_the_notice(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    grace = await door.sign_in("Grace Lee")
    agreement_id = await record(priya, big_contract())
    door.freeze(LATER)

    await priya.fill(f"agreements assess {agreement_id}", RATINGS)
    assert "as a draft. Only your team sees it" in priya.text(), priya.text()
    draft = await latest_assessment(door)
    async with door.services.db.session() as session:
        ratings = (
            await session.scalars(
                select(AssessmentRating).where(AssessmentRating.assessment_id == draft.id)
            )
        ).all()
    assert [(r.position, r.rating) for r in ratings] == [
        (1, "good"),
        (2, "approaching_target"),
        (3, "requires_improvement"),
    ]

    # Tom sees nothing of a draft; deciding before it is shared is refused.
    said = text_of(await tom.say(f"agreements assessments {agreement_id}"))
    assert "No assessments yet" in said and "Above target" not in said
    said = text_of(await priya.say(f'agreements assessment {draft.id} decide reason="Fair"'))
    assert "must see the assessment before you decide" in said
    assert (await latest_assessment(door)).state == "draft"

    said = text_of(await priya.say(f"agreements assessment {draft.id} share"))
    assert "They can respond until Monday 9 November 2026" in said, said
    (told,) = await messages_to(door, tom, "assessment of your performance")
    assert "Requires improvement" in text_of(told.replies)
    assert await messages_to(door, grace, "assessment") == []

    # Within the provider's time, and with no response, the team can't decide yet.
    said = text_of(await priya.say(f'agreements assessment {draft.id} decide reason="Fair"'))
    assert "has until Monday 9 November 2026 to respond" in said
    said = text_of(await grace.say(f'agreements assessment {draft.id} respond text="Hi"'))
    assert "couldn't find that agreement" in said

    # The response and the reason by the short form (as the web gives them): the same step
    # runs as for the typed text="..." and reason="...".
    said = text_of(
        await tom.fill(
            f"agreements assessment {draft.id} respond", {0: {"reason": "The survey was late"}}
        )
    )
    assert "Sent your response" in said
    assert await messages_to(door, priya, "The survey was late")

    said = text_of(
        await priya.fill(
            f"agreements assessment {draft.id} decide", {0: {"reason": "Survey to be rerun"}}
        )
    )
    assert "is decided, by you" in said
    assert "contract performance notice (UK9, section 71) by Tuesday 1 December 2026" in said
    final = await latest_assessment(door)
    assert (final.state, final.decided_by, final.decision_reason) == (
        "final",
        priya.person_id,
        "Survey to be rerun",
    )
    assert final.notice_required and final.notice_due_on == date(2026, 12, 1)
    assert await messages_to(door, tom, "has decided its assessment")
    (notice,) = await pending(door, PERFORMANCE_NOTICE)
    assert notice.due_at == datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
    # The next yearly reminder counts from this decision: 2 November 2027, less four weeks.
    (yearly,) = await pending(door, ASSESS)
    assert yearly.due_at == datetime(2027, 10, 5, 7, 0, tzinfo=UTC)

    door.freeze(datetime(2026, 11, 9, 8, 5, tzinfo=UTC))
    await door.sweep()
    assert await messages_to(door, priya, "A contract performance notice is needed")
    (notice,) = await pending(door, PERFORMANCE_NOTICE)
    assert notice.due_at == datetime(2026, 11, 16, 8, 0, tzinfo=UTC)

    said = text_of(await priya.say(f"agreements assessment {draft.id} notice id=UK9-000123"))
    assert "Recorded the contract performance notice UK9-000123" in said
    assert await pending(door, PERFORMANCE_NOTICE) == []

    said = text_of(await tom.say(f"agreements assessments {agreement_id}"))
    assert "Survey to be rerun" in said and "UK9-000123" not in said


async def test_bad_ratings_and_the_wrong_people_change_nothing(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    agreement_id = await record(priya, big_contract())

    said = text_of(await priya.say(f"agreements rate {agreement_id} kpi1=good kpi2=brilliant"))
    assert 'could not read "brilliant"' in said and "Nothing was saved" in said
    said = text_of(await tom.say(f"agreements assess {agreement_id}"))
    assert "Only the commissioning team" in said
    said = text_of(await tom.say(f"agreements rate {agreement_id} kpi1=good kpi2=good kpi3=good"))
    assert "Only the commissioning team" in said
    async with door.services.db.session() as session:
        assert (await session.scalars(select(PerformanceAssessment))).all() == []
    assert len(await refusals(door, priya)) == 1 and len(await refusals(door, tom)) == 2

    said = text_of(
        await priya.say(
            f'agreements rate {agreement_id} kpi1=good kpi2="approaching target" '
            'kpi3=inadequate note3="Far below"'
        )
    )
    assert "as a draft" in said


async def end(priya: Conversation, agreement_id: int, ended_on: str, reason: str) -> str:
    await priya.fill(
        f"agreements end {agreement_id}",
        {0: {"ended_on": ended_on, "reason": reason, "notes": "Both sides agreed"}},
    )
    return priya.text()


async def test_ending_stops_later_reminders_and_starts_the_s80_and_last_assessment_ones(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    agreement_id = await record(priya, big_contract())
    key_dates = await pending(door, "agreement.key_date")
    assert key_dates
    async with door.services.db.session() as session:
        plan = MonitoringPlanRow(
            agreement_id=agreement_id,
            state="agreed",
            frequency="quarterly",
            method="chat",
            questions=["effective"],
            proposed_by_side="team",
        )
        session.add(plan)
        await session.flush()
        for on in ("2026-07-01", "2026-10-01", "2027-01-01"):
            await schedule_reminder(
                session,
                kind="agreements.checkin",
                due_at=datetime.fromisoformat(f"{on}T08:00:00+00:00"),
                target_type="monitoring_plan",
                target_id=f"{plan.id}:{on}",
            )
        ((party, _),) = await parties_of(session, agreement_id)
        # One check-in due before the end (its chase stays), one after it (its chase goes).
        for due in (date(2026, 10, 1), date(2026, 12, 1)):
            checkin = CheckinRow(
                agreement_id=agreement_id,
                plan_id=plan.id,
                organisation_id=party.organisation_id,
                due_on=due,
                sent_at=NOW,
                questions=["effective"],
            )
            session.add(checkin)
            await session.flush()
            await schedule_reminder(
                session,
                kind="agreements.checkin_chase",
                due_at=datetime.combine(due, datetime.min.time(), tzinfo=UTC),
                target_type="monitoring_checkin",
                target_id=f"{checkin.id}:first",
            )

    said = text_of(await tom.say(f"agreements end {agreement_id}"))
    assert "Only the commissioning team" in said

    door.freeze(LATER)
    said = await end(priya, agreement_id, "2026-03-01", "terminated_early")
    assert "can't end before it starts (Wednesday 1 April 2026)" in said, said
    async with door.services.db.session() as session:
        assert (await session.scalars(select(AgreementEnding))).all() == []

    said = await end(priya, agreement_id, "2026-11-30", "terminated_early")
    assert "ended on Monday 30 November 2026" in said, said
    assert "contract termination notice (UK11, section 80) by Tuesday 29 December 2026" in said
    assert "last assessment" in said
    assert await pending(door, "agreement.key_date") == []
    checkins = await pending(door, "agreements.checkin")
    assert [r.target_id.split(":")[1] for r in checkins] == ["2026-07-01", "2026-10-01"]
    async with door.services.db.session() as session:
        kept = [
            (await session.get(CheckinRow, int(r.target_id.split(":")[0]))).due_on  # type: ignore[union-attr]
            for r in await pending(door, "agreements.checkin_chase")
        ]
    assert kept == [date(2026, 10, 1)]
    async with door.services.db.session() as session:
        agreement = await session.get(Agreement, agreement_id)
        assert agreement is not None and agreement.ends_on == date(2026, 11, 30)
    (s80,) = await pending(door, TERMINATION_NOTICE)
    assert s80.due_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    (last,) = await pending(door, ASSESS)
    assert last.payload["on_termination"] is True

    said = text_of(await priya.say(f"agreements end {agreement_id}"))
    assert "already ended on Monday 30 November 2026" in said
    assert "already ended" in [r.details.get("reason") for r in await refusals(door, priya)]

    door.freeze(datetime(2026, 11, 30, 8, 5, tzinfo=UTC))
    await door.sweep()
    assert await messages_to(door, priya, "A contract termination notice is needed")
    assert await messages_to(door, priya, "The agreement has ended, so section 71")
    (s80,) = await pending(door, TERMINATION_NOTICE)
    assert s80.due_at == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)

    said = text_of(await tom.say(f"agreements termination {agreement_id} id=UK11-9"))
    assert "Only the commissioning team" in said
    said = text_of(await priya.say(f"agreements termination {agreement_id} id=UK11-000777"))
    assert "Recorded the contract termination notice UK11-000777" in said
    assert await pending(door, TERMINATION_NOTICE) == []
    said = text_of(await tom.say(f"agreements ending {agreement_id}"))
    assert "It was ended early" in said and "UK11-000777" not in said

    # The last assessment, decided, stops its reminder.
    await priya.say(f"agreements rate {agreement_id} kpi1=good kpi2=good kpi3=good summary=Done")
    final = await latest_assessment(door)
    assert final.on_termination
    await priya.say(f"agreements assessment {final.id} share")
    await tom.say(f'agreements assessment {final.id} respond text="Thank you"')
    said = text_of(await priya.say(f'agreements assessment {final.id} decide reason="Final"'))
    assert "is decided" in said
    assert await pending(door, ASSESS) == []


async def test_a_grant_gets_no_termination_notice(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers(route="grant", kpis=KPIS))
    door.freeze(LATER)
    said = await end(priya, agreement_id, "2026-10-31", "completed")
    assert "ended on Saturday 31 October 2026" in said
    assert "termination notice" not in said and "last assessment" not in said
    assert await pending(door, TERMINATION_NOTICE) == []
    assert await pending(door, ASSESS) == []
    async with door.services.db.session() as session:
        (ending,) = (await session.scalars(select(AgreementEnding))).all()
    assert not ending.notice_required and ending.notice_due_on is None


async def test_a_light_touch_contract_still_gets_a_termination_notice(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    agreement_id = await record(priya, answers(route="light_touch"))
    door.freeze(LATER)
    said = await end(priya, agreement_id, "2026-10-31", "completed")
    assert "by Sunday 29 November 2026" in said
    assert len(await pending(door, TERMINATION_NOTICE)) == 1
