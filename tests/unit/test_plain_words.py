"""Every question Convene ships reads at a reading age of about 9 (US grade 9 or below by the
Flesch-Kincaid formula, via textstat), so a two-person charity and a resident can answer it.

Short labels score erratically ("Organisation name" comes out at grade 20), so each question
is scored as a person reads it: its label with its hint and help text together. The scorer
must load offline (textstat is pinned to a release that carries its word lists): if it can't,
this test fails rather than skips.
"""

from __future__ import annotations

import re
from importlib.resources import files

import pytest
import textstat
from babel.messages.pofile import read_po

from bot.core.feedback import BANK
from bot.core.forms.model import FormDefinition, load_definition

#: US school grade 9: a reading age of about 14 on the formula, which GOV.UK's own
#: readability guidance treats as the ceiling for plain English; most of ours sit far below.
MAX_GRADE = 9.0


def shipped_definitions() -> list[FormDefinition]:
    folder = files("bot.core.forms") / "definitions"
    return [
        load_definition(entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    ]


def as_read(*parts: str | None) -> str:
    """The parts as one text, each ending as a sentence does (a label is read as one)."""
    return " ".join(
        part if part.rstrip().endswith((".", "?", "!", ":")) else f"{part.rstrip()}."
        for part in parts
        if part
    )


def question_texts() -> list[tuple[str, str]]:
    return [
        (f"{form.key}:{field.id}", as_read(field.label, field.hint, field.help))
        for form in shipped_definitions()
        for page in form.pages
        for field in page.fields
    ]


def feedback_question_texts() -> list[tuple[str, str]]:
    """The feedback points' question bank (bot/core/feedback), read by people who use
    services: each question with its hint, and each point of the picture scale."""
    texts = [(f"feedback:{q.key}", as_read(q.text, q.hint)) for q in BANK]
    texts += [
        (f"feedback:{q.key}:scale", as_read(q.text, *(p.label for p in q.points)))
        for q in BANK
        if q.points
    ]
    return texts


def easy_read_texts() -> list[tuple[str, str]]:
    """The easy read version of each question of the bank: its lines together, and its
    first line with the scale's words."""
    texts = [(f"easy:{q.key}", as_read(*q.easy)) for q in BANK]
    texts += [
        (f"easy:{q.key}:scale", as_read(q.easy[0], *(p.label for p in q.points)))
        for q in BANK
        if q.points and q.easy
    ]
    return texts


def feedback_page_sentences() -> list[tuple[str, str]]:
    """Every sentence of the feedback pages' catalogue (the standard and easy read pages,
    thank-you, problems, safeguarding help) long enough to score: eight words or more,
    with markup and `%(name)s` gaps taken out."""
    with (files("bot.core.feedback") / "locale" / "feedback.pot").open("rb") as source:
        catalog = read_po(source)
    texts = []
    for message in catalog:
        words = re.sub(r"<[^>]+>|%\(\w+\)s", "it", str(message.id or ""))
        if len(words.split()) >= 8:
            texts.append((f"catalogue:{words[:30]}", words))
    return texts


def test_the_scorer_works_offline() -> None:
    """A sanity check of the scorer itself: plain words score low, dense ones high."""
    assert textstat.flesch_kincaid_grade("Is this service helping you? Tell us why.") < 4
    dense = (
        "Notwithstanding contractual obligations, organisational accountability necessitates "
        "comprehensive documentation of procurement irregularities and remediation."
    )
    assert textstat.flesch_kincaid_grade(dense) > 15


def test_there_are_questions_to_score() -> None:
    assert len(question_texts()) > 150
    assert len(easy_read_texts()) >= 2 * len(BANK) - 2
    assert len(feedback_page_sentences()) > 25


@pytest.mark.parametrize(
    ("where", "text"),
    question_texts() + feedback_question_texts() + easy_read_texts() + feedback_page_sentences(),
    ids=lambda v: v[:40],
)
def test_every_shipped_question_reads_at_grade_9_or_below(where: str, text: str) -> None:
    grade = textstat.flesch_kincaid_grade(text)
    assert grade <= MAX_GRADE, f"{where} reads at grade {grade:.1f}: {text!r}"
