"""The questions a feedback point asks, and reading what someone sent.

By default Gateshead's three questions (is it effective, efficient, sustainable?) in words a
nine-year-old can read, each on a three-point picture scale with "I don't know", then one
box to write in. The owner of a point can choose others from the small bank here. Nothing is
required: an answer on the scale, or a few words, is enough.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.core.feedback.safeguarding import looks_like_harm
from bot.core.feedback.scrub import scrub
from bot.core.feedback.words import N_

#: The longest comment we keep. A longer one is sent back with a clear message, unsaved.
FREE_TEXT_LIMIT = 2000
DONT_KNOW = "dont_know"


@dataclass(frozen=True)
class ScalePoint:
    """One point of a picture scale: the stored value, the words, and the picture."""

    value: str
    label: str
    picture: str


#: Three faces and "I don't know". Words always sit beside the picture, so the scale reads
#: the same to a screen reader, in black and white print, and to someone who skips emoji.
SCALE: tuple[ScalePoint, ...] = (
    ScalePoint("yes", N_("Yes"), "\U0001f600"),
    ScalePoint("a_bit", N_("A bit"), "\U0001f610"),
    ScalePoint("no", N_("No"), "\U0001f641"),
    ScalePoint(DONT_KNOW, N_("I don't know"), "\U0001f937"),
)
SCALE_VALUES = frozenset(point.value for point in SCALE)


@dataclass(frozen=True)
class Question:
    """A question of the bank: `scale` (the faces) or `text` (a box to write in)."""

    key: str
    text: str
    hint: str
    kind: Literal["scale", "text"]
    #: What it asks about, in Gateshead's words, for the owner choosing questions.
    about: str
    #: The easy read version: short sentences, one idea a line, beside `picture`.
    easy: tuple[str, ...] = ()
    #: The name of the question's picture on the easy read page (`_feedback_pictures.html`).
    picture: str = "speech"

    @property
    def points(self) -> tuple[ScalePoint, ...]:
        return SCALE if self.kind == "scale" else ()


BANK: tuple[Question, ...] = (
    Question(
        "helping",
        N_("Is this service helping you?"),
        N_("Think about why you came here."),
        "scale",
        "does it work (is it effective)",
        easy=(
            N_("Does this service help you?"),
            N_("Think about why you came."),
        ),
        picture="helping",
    ),
    Question(
        "run_well",
        N_("Is it run well?"),
        N_("For example, is it open when it says it will be? Is it easy to get help?"),
        "scale",
        "is it run well (is it efficient)",
        easy=(
            N_("Is it run well?"),
            N_("Is it open when it should be?"),
            N_("Is it easy to get help?"),
        ),
        picture="clock",
    ),
    Question(
        "keep_going",
        N_("Will it keep going?"),
        N_("Do you think it will still be here next year?"),
        "scale",
        "will it last (is it sustainable)",
        easy=(
            N_("Will it keep going?"),
            N_("Will it still be here next year?"),
        ),
        picture="calendar",
    ),
    Question(
        "anything_else",
        N_("Anything else you want to tell us?"),
        N_("Please do not write your name or anyone else's name."),
        "text",
        "anything else, in their own words",
        easy=(
            N_("Do you want to tell us more?"),
            N_("You can write it here."),
            N_("Do not write any names."),
        ),
        picture="speech",
    ),
    Question(
        "better",
        N_("What would make it better?"),
        N_("Please do not write your name or anyone else's name."),
        "text",
        "what would make it better, in their own words",
        easy=(
            N_("What would make it better?"),
            N_("You can write it here."),
            N_("Do not write any names."),
        ),
        picture="star",
    ),
    Question(
        "easy_to_reach",
        N_("Is it easy to get to?"),
        N_("Think about where it is, when it is open and what it costs you."),
        "scale",
        "is it easy to reach",
        easy=(
            N_("Is it easy to get to?"),
            N_("Think about where it is."),
            N_("Think about when it is open."),
            N_("Think about what it costs."),
        ),
        picture="bus",
    ),
    Question(
        "feel_safe",
        N_("Do you feel safe here?"),
        N_("Think about the place and the people around you."),
        "scale",
        "do people feel safe",
        easy=(
            N_("Do you feel safe here?"),
            N_("Think about the place."),
            N_("Think about the people."),
        ),
        picture="shield",
    ),
    Question(
        "listened_to",
        N_("Do you feel listened to here?"),
        N_("Do they ask what you think, and act on it?"),
        "scale",
        "do people feel listened to",
        easy=(
            N_("Do they listen to you?"),
            N_("Do they ask what you think?"),
            N_("Do they do something about it?"),
        ),
        picture="ear",
    ),
    Question(
        "tell_a_friend",
        N_("Would you tell a friend to come here?"),
        N_("Think about someone who needs the same help as you."),
        "scale",
        "would they recommend it",
        easy=(N_("Would you tell a friend to come here?"),),
        picture="friends",
    ),
)
_BY_KEY = {q.key: q for q in BANK}
DEFAULT_QUESTIONS: tuple[str, ...] = ("helping", "run_well", "keep_going", "anything_else")


def question(key: str) -> Question | None:
    return _BY_KEY.get(key)


def chosen(keys: Sequence[str]) -> list[Question]:
    """The bank's questions for these keys, in the bank's order (unknown keys are skipped);
    the defaults when none are known."""
    wanted = set(keys)
    picked = [q for q in BANK if q.key in wanted]
    return picked or [_BY_KEY[k] for k in DEFAULT_QUESTIONS]


@dataclass(frozen=True)
class Answered:
    """What someone sent, ready to keep: scale answers, text already scrubbed of personal
    details (the original is not kept), whether a support worker helped, and whether the
    words looked like someone telling us about harm."""

    scale: dict[str, str]
    text: dict[str, str]
    with_help: bool
    harm: bool


@dataclass(frozen=True)
class FeedbackProblem:
    """Why nothing was saved, in kind words, and which question it is about (for the
    error summary's link), if one. `wording` is the English, marked for the catalogue, with
    `%(name)s` gaps filled from `values`, so a page can show it in the person's language."""

    wording: str
    about: str | None = None
    #: The answers as sent, to put back in the form so nothing has to be typed again.
    kept: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The problem in English."""
        return self.in_words(lambda words: words)

    def in_words(self, gettext: Callable[[str], str]) -> str:
        """The problem in the language `gettext` translates into."""
        words = gettext(self.wording)
        return words % self.values if self.values else words


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> str:
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def has_words(text: str) -> bool:
    """Whether `text` has a letter or a digit in it (not only emoji, marks or spaces)."""
    return any(unicodedata.category(ch)[0] in ("L", "N") for ch in text)


def read_answers(
    questions: Sequence[Question], form: Mapping[str, str], *, with_help: bool = False
) -> Answered | FeedbackProblem:
    """Read a sent form against the point's questions. Answers to questions the point does
    not ask are ignored; a value that is not on the scale is a problem (a changed page)."""
    scale: dict[str, str] = {}
    text: dict[str, str] = {}
    kept = {q.key: str(form.get(q.key, ""))[: 5 * FREE_TEXT_LIMIT] for q in questions}
    for q in questions:
        raw = str(form.get(q.key, "") or "")
        if q.kind == "scale":
            if not raw:
                continue
            if raw not in SCALE_VALUES:
                return FeedbackProblem(N_("Choose one of the answers on the list."), q.key, kept)
            scale[q.key] = raw
            continue
        cleaned = _clean(raw)
        if not cleaned:
            continue
        if len(cleaned) > FREE_TEXT_LIMIT:
            return FeedbackProblem(
                N_(
                    "Your message is %(length)s characters long. We can take up to "
                    "%(limit)s. Please make it shorter and send it again. Nothing was saved."
                ),
                q.key,
                kept,
                {"length": f"{len(cleaned):,}", "limit": f"{FREE_TEXT_LIMIT:,}"},
            )
        if not has_words(cleaned):
            return FeedbackProblem(
                N_(
                    "We could not find any words in your message. Please write a few words, "
                    "or use the faces above to tell us. Nothing was saved."
                ),
                q.key,
                kept,
            )
        text[q.key] = cleaned
    if not scale and not text:
        first = questions[0].key if questions else None
        return FeedbackProblem(
            N_(
                "You have not answered anything yet. Choose an answer, or write a few words, "
                "then send it."
            ),
            first,
            kept,
        )
    harm = any(looks_like_harm(t) for t in text.values())
    return Answered(
        scale=scale,
        text={key: scrub(value) for key, value in text.items()},
        with_help=with_help,
        harm=harm,
    )
