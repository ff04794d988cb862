"""A feedback point's short link, and its feedback beside the agreement's check-ins,
in-process.

Every point gets a six-letter short code (no look-alike letters, any case): `/s/<code>`
sends the browser on to the point's page, and a wrong code gets the same friendly "not
found" as an unknown point. `feedback show N` and the poster carry the short link, with a
ready-to-copy text message that always fits in one SMS.

On the agreement's page and its check-ins, Tom (the provider) and Priya (the council) see
the agreement's feedback points: how many answered (Priya sees "fewer than N" while there
are few), the newest "you said, we did", and a button to the feedback; with no point, a
button to set one up. The feedback is never in the performance assessment. And a message
about harm sent with a file that is refused still reaches the safeguarding lead."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.core.pages import PageContent, PageRefusal, PageRequest
from bot.core.turn import Attachment, AttachmentProblem
from handlers.feedback.poster import SMS_LIMIT, poster_page, short_link_page, sms_text
from handlers.feedback.public import Choice, form_token, not_found, send_feedback
from storage.feedback_tables import (
    SHORT_CODE_ALPHABET,
    FeedbackEntry,
    FeedbackPoint,
    new_short_code,
    read_short_code,
)
from tests.features.test_agreement_monitoring import make_agreement
from tests.features.test_feedback_points import NOW, post, set_up_point
from tests.support.inprocess import Conversation, TestDoor

LOOK_ALIKES = "0O1IL5S2ZUV"


async def follow(door: TestDoor, code: str) -> PageContent | PageRefusal:
    asked = PageRequest(actor=None, params={"code": code}, format="html")
    return await short_link_page(asked, door.services)


@pytest.fixture
async def ready(door: TestDoor) -> tuple[Conversation, Conversation, FeedbackPoint]:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    priya = await door.sign_in("Priya Shah")
    tom = await door.sign_in("Tom Okafor")
    return priya, tom, await set_up_point(door, tom, agreement_id)


def test_codes_use_no_look_alikes_and_are_read_in_any_case() -> None:
    assert not set(LOOK_ALIKES) & set(SHORT_CODE_ALPHABET)
    codes = {new_short_code() for _ in range(500)}
    assert len(codes) > 490
    assert all(len(c) == 6 and set(c) <= set(SHORT_CODE_ALPHABET) for c in codes)
    assert read_short_code("abc-dEf") == "ABCDEF"
    assert read_short_code("ABCDE0") is None  # a zero is never in a code
    assert read_short_code("ABCDEFG") is None and read_short_code("") is None


@pytest.mark.parametrize("name_length", [5, 60, 120])
def test_the_text_message_always_fits_in_one_sms(name_length: int) -> None:
    link = "https://convene.example-council.gov.uk/s/ABC346"
    name = ("Preston youth club " * 10)[:name_length].strip()
    text = sms_text(name, link)
    assert len(text) <= SMS_LIMIT
    assert text.startswith("Tell us what you think of ") and text.endswith(f": {link}")
    if name_length <= 60:
        assert text == f"Tell us what you think of {name}: {link}"


async def test_a_new_point_has_a_short_link_that_leads_to_its_page(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    _, tom, point = ready
    assert point.short_code and set(point.short_code) <= set(SHORT_CODE_ALPHABET)
    short = f"{door.services.settings.base_url}/s/{point.short_code}"
    await tom.say(f"feedback show {point.id}")
    said = tom.text()
    assert short in said
    sms = re.search(r"Tell us what you think of Preston youth club: (\S+)", said)
    assert sms and sms.group(1) == short and len(sms.group(0)) <= SMS_LIMIT

    for typed in (point.short_code, point.short_code.lower()):
        answer = await follow(door, typed)
        assert isinstance(answer, PageContent) and answer.redirect == f"/f/{point.slug}"
    wrong = "333344" if point.short_code != "333344" else "333366"
    for typed in (wrong, "0OIl15", "toolongcode", ""):
        assert await follow(door, typed) == not_found(door.services, Choice())


async def test_the_poster_shows_the_short_link_to_type_in(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    _, _, point = ready
    tom = await door.actor(await door.person_id("Tom Okafor"))
    page = await poster_page(
        PageRequest(actor=tom, params={"point_id": str(point.id)}, format="html"), door.services
    )
    assert isinstance(page, PageContent)
    assert page.data["short_link_text"].endswith(f"/s/{point.short_code}")
    assert "://" not in page.data["short_link_text"]


async def test_no_point_yet_offers_both_sides_a_button_to_set_one_up(door: TestDoor) -> None:
    door.freeze(NOW)
    agreement_id = await make_agreement(door)
    for name in ("Priya Shah", "Tom Okafor"):
        person = await door.sign_in(name)
        await person.say(f"agreements show {agreement_id}")
        assert "No feedback point yet" in person.text()
        assert f"Set up a feedback point\ncmd.feedback\nnew agreement {agreement_id}" in (
            person.text()
        )


async def test_the_agreement_and_its_check_ins_show_its_feedback_as_each_may_see_it(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    priya, tom, point = ready
    minimum = door.services.settings.suppression_minimum
    assert minimum > 2
    await post(door, point.slug, helping="yes", anything_else="Great staff.")
    await post(door, point.slug, helping="no")
    await tom.fill(
        f"feedback yousaid {point.id}",
        {0: {"text": "You said the room was cold. We mended the heating."}},
    )
    for step in ("show", "monitoring"):
        await tom.say(f"agreements {step} {point.agreement_id}")
        said = tom.text()
        assert "Feedback from people who use the service" in said, said
        assert "Preston youth club" in said and "Answers\n2" in said
        assert "You said, we did (Monday 12 January 2026)" in said
        assert "We mended the heating." in said
        assert f"cmd.feedback\nshow {point.id}" in said
        assert "Set up a feedback point" not in said
        assert "never used to rate a member of staff" in said
        await priya.say(f"agreements {step} {point.agreement_id}")
        said = priya.text()
        assert f"Answers\nFewer than {minimum}" in said and "Answers\n2" not in said
        assert "We mended the heating." in said and f"cmd.feedback\nshow {point.id}" in said
        assert "Great staff." not in said  # no answers on the agreement's page, ever
    for _ in range(minimum - 2):
        await post(door, point.slug, helping="yes")
    await priya.say(f"agreements show {point.agreement_id}")
    assert f"Answers\n{minimum}" in priya.text()


async def test_the_feedback_is_never_in_the_performance_assessment(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    priya, tom, point = ready
    await post(door, point.slug, helping="no", anything_else="Too noisy.")
    await tom.fill(
        f"feedback yousaid {point.id}", {0: {"text": "You said it was noisy. We moved rooms."}}
    )
    await priya.say(f"agreements show {point.agreement_id}")
    assert "We moved rooms." in priya.text()  # it is on the agreement's page...
    for person in (priya, tom):
        await person.say(f"agreements assessments {point.agreement_id}")
        said = person.text()
        assert said  # ...and the assessments answer, but without the feedback
        for words in ("Preston youth club", "We moved rooms.", "Too noisy.", "Answers"):
            assert words not in said, said


async def test_harm_sent_with_a_refused_file_still_reaches_the_lead(
    door: TestDoor, ready: tuple[Conversation, Conversation, FeedbackPoint]
) -> None:
    _, _, point = ready
    fields = {
        "form_token": form_token(door.services, point.slug),
        "anything_else": "My carer hits me. Ring 07700900123",
        "service_may_see": "yes",
    }
    for file in (
        Attachment("big.jpg", "image/jpeg", problem=AttachmentProblem.TOO_BIG),
        Attachment("report.pdf", "application/pdf", data=b"%PDF-1.4\n%%EOF\n"),
    ):
        answer = await send_feedback(
            PageRequest(
                actor=None, params={"slug": point.slug}, format="html", form=fields, files=(file,)
            ),
            door.services,
        )
        assert isinstance(answer, PageContent) and answer.status == 422
        assert any("999" in line for line in answer.data["help_lines"])
    async with door.services.db.session() as session:
        assert (await session.scalars(select(FeedbackEntry))).all() == []  # nothing kept
    sent = await door.outbox(person_id=await door.person_id("Tom Okafor"))
    assert len(sent) == 2 and all("Safeguarding" in s.text for s in sent)
    assert all("My carer hits me. Ring [removed]" in s.text for s in sent)
    assert not any("07700900123" in s.text for s in sent)
