"""The neutral parts of feedback points: the scrubber (phone numbers, emails and postcodes
out, "[removed]" in; never raises, never leaves a match), the safeguarding list (whole
words from a data file, in any case), the question bank and reading a sent form."""

from __future__ import annotations

from importlib.resources import files

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.core.feedback import BANK, DEFAULT_QUESTIONS, FeedbackProblem, chosen, read_answers
from bot.core.feedback.questions import FREE_TEXT_LIMIT, SCALE, Answered, has_words
from bot.core.feedback.safeguarding import looks_like_harm, phrases
from bot.core.feedback.scrub import EMAIL, PHONE, POSTCODE, REMOVED, has_personal_details, scrub
from bot.core.pages import PageRefusal, WebPage


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("Call 07700 900123 please", "Call [removed] please"),
        ("Call 07700900123.", "Call [removed]."),
        ("my mobile +44 7700 900 123", "my mobile [removed]"),
        ("landline (01772) 123456 ok", "landline [removed] ok"),
        ("0044 20 7946 0018", REMOVED),
        ("020-7946-0018", REMOVED),
        ("email jo.bloggs+x@mail.example.org now", "email [removed] now"),
        ("JO@EXAMPLE.CO.UK", REMOVED),
        ("I live at PR1 2AB.", "I live at [removed]."),
        ("postcode sw1a1aa", "postcode [removed]"),
        ("m1 1ae and GIR 0AA", "[removed] and [removed]"),
        ("I am 72 and come on 3 days", "I am 72 and come on 3 days"),
        ("Room 12, open 9 to 5", "Room 12, open 9 to 5"),
    ],
)
def test_personal_details_are_removed(written: str, kept: str) -> None:
    assert scrub(written) == kept
    assert not has_personal_details(scrub(written))


@given(st.text(max_size=400))
def test_the_scrubber_never_raises_and_never_leaves_a_match(text: str) -> None:
    cleaned = scrub(text)
    assert not any(p.search(cleaned) for p in (EMAIL, PHONE, POSTCODE))


@given(
    st.lists(
        st.one_of(
            st.text(alphabet="0123456789 +-().", max_size=20),
            st.from_regex(r"[a-z]{1,5}@[a-z]{1,5}\.[a-z]{2,3}", fullmatch=True),
            st.from_regex(r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", fullmatch=True),
            st.text(max_size=10),
        ),
        max_size=12,
    )
)
def test_the_scrubber_takes_out_pieces_that_look_like_details(pieces: list[str]) -> None:
    """Phone-, email- and postcode-shaped pieces, glued to other text in any order."""
    assert not has_personal_details(scrub("".join(pieces)))


def test_a_long_comment_is_scrubbed_quickly() -> None:
    """10,000 characters with no spaces, the worst shape for a pattern, in one pass."""
    assert scrub("a" * 5000 + "@" + "b" * 5000) == "a" * 5000 + "@" + "b" * 5000
    assert scrub("1" * 10_000) == REMOVED


@pytest.mark.parametrize(
    "text",
    [
        "He hits me when I am late",
        "I want to die",
        "thinking about SELF-HARM again",
        "I have been cutting myself",
        "my son takes my money every week",
        "I don\u2019t feel safe, I'm not safe at home",
    ],
)
def test_words_about_harm_are_found(text: str) -> None:
    assert looks_like_harm(text)


@pytest.mark.parametrize(
    "text",
    ["The food is great", "Ambushed by kindness!", "I hit my target", "", None, "Brilliant staff"],
)
def test_ordinary_words_are_not_taken_for_harm(text: str | None) -> None:
    assert not looks_like_harm(text)


def test_the_safeguarding_list_is_data() -> None:
    raw = yaml.safe_load(
        (files("bot.core.feedback") / "safeguarding_words.yaml").read_text(encoding="utf-8")
    )
    assert len(phrases()) == len({str(p).lower() for p in raw["phrases"]}) > 50


def test_the_default_questions_are_gateshead_three_and_a_box() -> None:
    asked = chosen([])
    assert [q.key for q in asked] == list(DEFAULT_QUESTIONS)
    assert [q.kind for q in asked] == ["scale", "scale", "scale", "text"]
    assert [p.label for p in SCALE][-1] == "I don't know"
    assert all(p.picture and p.label for p in SCALE)
    assert "better" in {q.key for q in BANK}


def test_the_setup_form_offers_exactly_the_bank() -> None:
    form = yaml.safe_load(
        (files("bot.core.forms") / "definitions" / "feedback_point.yaml").read_text("utf-8")
    )
    (questions,) = [f for f in form["pages"][0]["fields"] if f["id"] == "questions"]
    offered = {c["value"]: c["label"] for c in questions["choices"]}
    assert list(offered) == [q.key for q in BANK]
    assert all(offered[q.key].startswith(q.text) for q in BANK)


def test_reading_a_form() -> None:
    asked = chosen(list(DEFAULT_QUESTIONS))
    read = read_answers(asked, {"helping": "yes", "anything_else": "  Good \r\n\r\n\r\n\r\nfun "})
    assert isinstance(read, Answered)
    assert read.scale == {"helping": "yes"} and read.text == {"anything_else": "Good \n\nfun"}
    assert not read.harm
    too_long = read_answers(asked, {"anything_else": "x" * (FREE_TEXT_LIMIT + 1)})
    assert isinstance(too_long, FeedbackProblem) and too_long.about == "anything_else"
    ignored = read_answers(asked, {"helping": "no", "not_asked": "07700 900123"})
    assert isinstance(ignored, Answered) and ignored.text == {}
    assert has_words("ok \U0001f600") and not has_words("\U0001f600 \u2764\ufe0f !")


def test_only_a_page_for_people_with_no_account_takes_a_post() -> None:
    """A POST outside the session's CSRF check must be a feature's own anonymous form."""

    async def handler(request: object, services: object) -> PageRefusal:
        return PageRefusal(404, "Page not found")

    assert WebPage("/f/{slug}", "html", handler, anonymous=True, method="POST").anonymous
    with pytest.raises(ValueError, match="only an anonymous page takes a POST"):
        WebPage("/things/{id}", "html", handler, method="POST")
