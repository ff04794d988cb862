"""Opportunities from the providers' side, in-process: the list that fits them, the card and
details, saying "we're interested" (once per organisation) and changing their mind, the
deadline as a calendar file, and every amendment and a withdrawal reaching everyone told
and everyone interested. The team sees interest in aggregate, with names for it alone."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from bot.core.files import FileRefused, TakenFile
from storage.models import FormResponse
from storage.opportunity_tables import Opportunity, OpportunityAmendment, OpportunityInterest
from tests.features.engagement_story import add_hilltop, add_sam
from tests.features.opportunity_story import (
    DEADLINE_WORDS,
    NOW,
    TITLE,
    pages,
    post_with_two_lots,
    refusals,
    state_of,
)
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of


async def _published(door: TestDoor) -> tuple[Conversation, int]:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post_with_two_lots(priya)
    assert "Published" in text_of(await priya.say(f"opportunities publish {opportunity_id}"))
    return priya, opportunity_id


async def test_providers_see_the_open_ones_that_fit_them(door: TestDoor) -> None:
    _, opportunity_id = await _published(door)
    tom = await door.sign_in("Tom Okafor")
    listing = text_of(await tom.say("opportunities"))
    assert TITLE in listing and DEADLINE_WORDS in listing
    grace = await door.sign_in("Grace Lee")
    assert TITLE not in text_of(await grace.say("opportunities"))
    # Anyone may still open it by its number: it is public once published.
    details = text_of(await grace.say(f"opportunities show {opportunity_id}"))
    assert "Is this for us?" in details and "How to apply" in details


async def test_interest_once_per_organisation_and_withdrawn_freely(door: TestDoor) -> None:
    priya, opportunity_id = await _published(door)
    await add_sam(door.services)
    tom = await door.sign_in("Tom Okafor")
    sam = await door.sign_in("Sam Patel")
    first = text_of(await tom.say(f"opportunities interest {opportunity_id}"))
    assert "is down as interested" in first and "Only the council's commissioning team" in first
    again = text_of(await sam.say(f"opportunities interest {opportunity_id}"))
    assert "already down as interested" in again
    async with door.services.db.session() as session:
        rows = (await session.scalars(select(OpportunityInterest))).all()
    assert [(r.state, r.person_id) for r in rows] == [("interested", tom.person_id)]
    assert [r.details["attempted"] for r in await refusals(door.services, sam.person_id)] == [
        "interest"
    ]

    left = text_of(await sam.say(f"opportunities leave {opportunity_id}"))
    assert "no longer down as interested" in left
    summary = text_of(await priya.say(f"opportunities interested {opportunity_id}"))
    assert "0 organisations are interested; 1 withdrew" in summary
    back = text_of(await tom.say(f"opportunities interest {opportunity_id}"))
    assert "is down as interested" in back


async def test_values_that_do_not_parse_are_errors_and_nothing_is_saved(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    form = form_in(await priya.say("opportunities new"))
    for page in (0, 1):
        form = form_in(await priya.send_page(form, pages()[page], page=page))
    refused = form_in(
        await priya.send_page(form, {"value_min": "lots", "value_max": "£80,000"}, page=2)
    )
    assert refused.page_index == 2 and "value_min" in refused.errors
    async with door.services.db.session() as session:
        draft = await session.get(FormResponse, form.response_id)
    assert draft is not None and "value_max" not in draft.answers


async def test_the_team_sees_interest_by_size_and_kind_and_names_only_it_sees(
    door: TestDoor,
) -> None:
    priya, opportunity_id = await _published(door)
    for name in ("Tom Okafor", "Amina Begum"):
        person = await door.sign_in(name)
        await person.say(f"opportunities interest {opportunity_id}")
    summary = text_of(await priya.say(f"opportunities interested {opportunity_id}"))
    assert "2 organisations are interested" in summary
    assert "Riverside Youth Trust, Asha Women's Centre" in summary or (
        "Asha Women's Centre, Riverside Youth Trust" in summary
    )
    assert "not a shortlist" in summary
    assert "Registered charity (including CIOs)\n2" in summary  # both charities: counted by kind

    # Nobody else gets that view, and the attempt is on the record.
    await add_hilltop(door.services)
    tom = await door.sign_in("Tom Okafor")
    yusuf = await door.sign_in("Yusuf Khan")
    for person in (tom, yusuf):
        answer = text_of(await person.say(f"opportunities interested {opportunity_id}"))
        assert "Asha" not in answer and "Only the commissioning team" in answer
        assert len(await refusals(door.services, person.person_id)) == 1


async def test_no_provider_learns_who_else_is_interested(door: TestDoor) -> None:
    _, opportunity_id = await _published(door)
    amina = await door.sign_in("Amina Begum")
    await amina.say(f"opportunities interest {opportunity_id}")
    tom = await door.sign_in("Tom Okafor")
    seen = [
        text_of(await tom.say(words))
        for words in (
            "opportunities",
            f"opportunities show {opportunity_id}",
            f"opportunities interest {opportunity_id}",
            "home",
        )
    ]
    seen += [q.text for q in await tom.inbox()]
    for text in seen:
        assert "Asha" not in text and "Amina" not in text


async def test_an_amended_deadline_reaches_everyone_with_both_dates(door: TestDoor) -> None:
    priya, opportunity_id = await _published(door)
    await add_sam(door.services)  # joins Tom's trust after publishing: told as interested
    tom = await door.sign_in("Tom Okafor")
    await tom.say(f"opportunities interest {opportunity_id}")
    await priya.fill(
        f"opportunities amend {opportunity_id}",
        {
            0: {
                "what_changed": "We need more time to answer questions.",
                "submission_deadline": "2026-03-13",
            }
        },
    )
    assert "on its way to 3 people" in priya.text()
    for name in ("Tom Okafor", "Amina Begum", "Sam Patel"):
        person = await door.sign_in(name)
        changes = [q.text for q in await person.inbox() if "A change to" in q.text]
        assert len(changes) == 1, name
        assert f"It was {DEADLINE_WORDS}" in changes[0]
        assert "It is now Friday 13 March 2026, 5pm" in changes[0]
    grace = await door.sign_in("Grace Lee")
    assert await grace.inbox() == []
    async with door.services.db.session() as session:
        amendment = await session.scalar(select(OpportunityAmendment))
    assert amendment is not None and amendment.made_by == priya.person_id
    assert "Friday 13 March 2026, 5pm" in text_of(
        await tom.say(f"opportunities show {opportunity_id}")
    )


async def test_an_amended_deadline_in_the_past_is_refused_and_nothing_is_sent(
    door: TestDoor,
) -> None:
    priya, opportunity_id = await _published(door)
    before = await state_of(door.services)
    await priya.fill(
        f"opportunities amend {opportunity_id}",
        {0: {"what_changed": "Sooner.", "submission_deadline": "2026-01-02"}},
    )
    assert "has passed already" in priya.text()
    after = await state_of(door.services)
    assert {k: v for k, v in after.items() if k != "responses"} == {
        k: v for k, v in before.items() if k != "responses"
    }
    assert len(await refusals(door.services, priya.person_id)) == 1


async def test_withdrawing_tells_everyone_the_reason_and_closes_interest(door: TestDoor) -> None:
    priya, opportunity_id = await _published(door)
    tom = await door.sign_in("Tom Okafor")
    await priya.fill(
        f"opportunities withdraw {opportunity_id}",
        {0: {"reason": "The money for it was cut."}},
    )
    assert "on its way to 2 people" in priya.text()
    withdrawn = [q.text for q in await tom.inbox() if "withdrawn" in q.text]
    assert len(withdrawn) == 1 and "The money for it was cut." in withdrawn[0]
    answer = text_of(await tom.say(f"opportunities interest {opportunity_id}"))
    assert "not open for bids now" in answer
    assert "withdrawn" in text_of(await tom.say(f"opportunities show {opportunity_id}"))


async def test_the_deadline_as_a_calendar_file_for_that_person_only(door: TestDoor) -> None:
    _, opportunity_id = await _published(door)
    tom = await door.sign_in("Tom Okafor")
    await tom.say(f"opportunities calendar {opportunity_id}")
    taken = await tom.take_file()
    assert isinstance(taken, TakenFile) and taken.filename.endswith(".ics")
    event = next(iter(Calendar.from_ical(taken.data).walk("VEVENT")))
    starts = event.decoded("dtstart")
    assert starts == door.now().replace(year=2026, month=3, day=6, hour=17, minute=0)
    assert TITLE in str(event.get("summary"))
    # The same link in someone else's hands gives nothing.
    amina = await door.sign_in("Amina Begum")
    assert isinstance(await amina.take_file(tom.last[0]), FileRefused)  # type: ignore[arg-type]
    door.advance(timedelta(weeks=9))
    assert "couldn't find" in text_of(await tom.say(f"opportunities calendar {opportunity_id}"))


async def test_home_shows_the_team_its_opportunities_and_a_provider_its_interest(
    door: TestDoor,
) -> None:
    priya, opportunity_id = await _published(door)
    team_home = text_of(await priya.say("home"))
    assert "Opportunity: " + TITLE in team_home and "0 interested" in team_home
    tom = await door.sign_in("Tom Okafor")
    assert "Opportunity: " + TITLE not in text_of(await tom.say("home"))
    await tom.say(f"opportunities interest {opportunity_id}")
    home = text_of(await tom.say("home"))
    assert "Opportunity: " + TITLE in home and DEADLINE_WORDS in home
    assert "You said you are interested" in home
    assert "1 interested" in text_of(await priya.say("home"))
    assert "opportunities" in text_of(await tom.say("help"))
    # Someone else's interest is not theirs: Grace's organisation said nothing.
    grace = await door.sign_in("Grace Lee")
    assert "You said you are interested" not in text_of(await grace.say("home"))


async def test_it_closes_at_its_deadline_and_an_amended_deadline_moves_the_closing(
    door: TestDoor,
) -> None:
    priya, opportunity_id = await _published(door)
    [closing] = await door.reminders(kind="opportunity.close")
    assert closing.due_at == door.now().replace(month=3, day=6, hour=17, minute=0)
    await priya.fill(
        f"opportunities amend {opportunity_id}",
        {0: {"what_changed": "More time.", "submission_deadline": "2026-03-13"}},
    )
    [moved] = await door.reminders(kind="opportunity.close")
    assert moved.due_at == door.now().replace(month=3, day=13, hour=17, minute=0)
    door.advance(timedelta(weeks=8, days=1))  # past the old deadline, before the new
    await door.sweep()  # (deadline reminders may be due; the closing is not)
    [pending] = await door.reminders(kind="opportunity.close")
    assert pending.state == "pending"
    async with door.services.db.session() as session:
        still = await session.get(Opportunity, opportunity_id)
    assert still is not None and still.state == "open"
    door.advance(timedelta(weeks=1))
    await door.sweep()
    [done] = await door.reminders(kind="opportunity.close")
    assert done.state == "done"
    async with door.services.db.session() as session:
        opportunity = await session.get(Opportunity, opportunity_id)
    assert opportunity is not None and opportunity.state == "closed"
    assert "Closed" in text_of(await priya.say("opportunities"))
