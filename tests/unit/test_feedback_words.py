"""Which language and view a feedback page is shown in, and problems worded in it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot.core.feedback import chosen, read_answers
from bot.core.feedback.questions import FeedbackProblem
from bot.core.feedback.words import translations
from bot.core.pages import PageRequest
from handlers.feedback.public import Choice, choice_of, help_lines


def services(region: str = "ENG", welsh: bool = False, phone: str = "") -> Any:
    return SimpleNamespace(
        settings=SimpleNamespace(
            bank_holiday_region=region, feedback_welsh=welsh, safeguarding_phone=phone
        )
    )


def asked(**query: str) -> PageRequest:
    return PageRequest(actor=None, params={"slug": "abc"}, format="html", query=query)


def test_welsh_only_where_it_is_offered() -> None:
    assert choice_of(asked(lang="cy"), services("WLS")) == Choice("cy", False)
    assert choice_of(asked(lang="cy"), services("ENG", welsh=True)).language == "cy"
    assert choice_of(asked(lang="cy"), services("ENG")).language == "en"
    assert choice_of(asked(lang="fr"), services("WLS")).language == "en"
    assert choice_of(asked(view="easy"), services()) == Choice("en", True)


def test_the_links_keep_the_other_choice() -> None:
    assert Choice().query() == ""
    assert Choice().query(easy=True) == "?view=easy"
    assert Choice("cy", True).query(language="en") == "?view=easy"
    assert Choice("cy", True).query() == "?lang=cy&view=easy"


def test_a_problem_is_worded_in_the_page_language_with_its_numbers() -> None:
    problem = read_answers(chosen([]), {"anything_else": "x" * 2500})
    assert isinstance(problem, FeedbackProblem)
    assert problem.message.startswith("Your message is 2,500 characters long.")
    welsh = problem.in_words(translations("cy").gettext)
    assert welsh.startswith("Mae eich neges yn 2,500 nod o hyd.") and "2,000" in welsh


def test_help_lines_in_welsh_keep_the_councils_number() -> None:
    lines = help_lines(services("WLS", phone="029 2087 2087"), Choice("cy"))
    assert lines[0] == "Os ydych chi neu rywun arall mewn perygl nawr, ffoniwch 999."
    assert "ffoniwch 029 2087 2087" in lines[1] and "116 123" in lines[2]
    assert help_lines(services())[0].startswith("If you or someone else is in danger")
