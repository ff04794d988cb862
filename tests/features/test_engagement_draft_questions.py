"""The draft review of an engagement shows the questions providers will be asked, and
the questions' intro says which may be left blank, worked out from what is required."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from bot.core.forms import what_must_be_answered
from bot.core.reply import Notice
from bot.core.turn import Intent
from bot.services import Services
from storage.engagement_tables import Engagement
from tests.features.engagement_story import make_engagement
from tests.support.inprocess import TestDoor, form_in, text_of


async def test_the_draft_lists_the_questions_saying_which_are_optional(
    services: Services, door: TestDoor
) -> None:
    story = await make_engagement(services, publish=False)
    async with services.db.session() as session:
        await session.execute(
            update(Engagement)
            .where(Engagement.id == story.engagement_id)
            .values(must_answer=["viable_terms"], own_questions=["Where do you meet people?"])
        )
    priya = await door.sign_in("Priya Shah")
    draft = text_of(await priya.say(f"engagements show {story.engagement_id}"))
    assert "The questions we will ask" in draft
    assert "Providers will be asked 3 questions. 1 question must be answered." in draft
    assert (
        "1. What would make this work possible for an organisation like yours?\n"
        "2. How would you like to be paid? (optional)\n"
        "3. Where do you meet people? (optional)"
    ) in draft


async def test_the_questions_intro_never_says_a_required_question_can_be_left_blank(
    services: Services, door: TestDoor
) -> None:
    story = await make_engagement(services, publish=False)
    async with services.db.session() as session:
        await session.execute(
            update(Engagement)
            .where(Engagement.id == story.engagement_id)
            .values(must_answer=["viable_terms"])
        )
    priya = await door.sign_in("Priya Shah")
    await priya.say(f"engagements publish {story.engagement_id}")
    tom = await door.sign_in("Tom Okafor")
    form = form_in(await tom.say(f"engagements answer {story.engagement_id}"))
    assert form.intro is not None
    assert "Every question can be left blank" not in form.intro
    assert "1 question must be answered. The others can be left blank." in form.intro


def test_what_must_be_answered_counts_the_required_questions() -> None:
    from bot.core.forms import FormDefinition

    def form(*required: bool) -> FormDefinition:
        fields = [
            {"id": f"q{i}", "type": "short_text", "label": f"Q{i}", "required": r}
            for i, r in enumerate(required)
        ]
        return FormDefinition.model_validate(
            {"key": "k", "title": "T", "pages": [{"id": "p", "title": "P", "fields": fields}]}
        )

    assert what_must_be_answered(form(False, False)) == "Every question can be left blank."
    assert what_must_be_answered(form(True, True)) == "Please answer every question."
    assert what_must_be_answered(form(True)) == "Please answer the question."
    assert what_must_be_answered(form(True, True, False)) == (
        "2 questions must be answered. The others can be left blank."
    )


async def test_an_event_form_refuses_a_past_day_and_warns_about_a_bank_holiday(
    services: Services, door: TestDoor
) -> None:
    """The engine's checks reach a feature's form on a door: a day gone is refused, a bank
    holiday is kept with a warning above the next view."""
    door.freeze(datetime(2027, 3, 10, 9, tzinfo=UTC))  # a Wednesday
    story = await make_engagement(services)
    priya = await door.sign_in("Priya Shah")
    form = form_in(await priya.say(f"engagements event {story.engagement_id}"))
    event = {"kind": "drop_in", "title": "Drop-in", "place": "Eastgate Library"}
    back = form_in(
        await priya.send_page(
            form, {**event, "starts_at": "9 March 2027, 2pm"}, intent=Intent.SUBMIT
        )
    )
    assert "Tuesday 9 March 2027 has passed" in back.errors["starts_at"]
    assert not [r for r in priya.last if isinstance(r, Notice) and r.level == "success"]

    replies = await priya.send_page(
        form,
        {**event, "starts_at": "26 March 2027, 2pm"},
        intent=Intent.SUBMIT,
    )
    notices = [r for r in replies if isinstance(r, Notice)]
    assert notices[0].level == "warning"
    assert "Friday 26 March 2027 is a bank holiday" in notices[0].text
    assert any(n.level == "success" and "Added Drop-in" in n.text for n in notices)
