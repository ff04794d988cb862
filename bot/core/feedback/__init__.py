"""Feedback from people who use services (issue 16): the neutral parts.

The question bank people answer on a feedback point's page, the scrubber that takes phone
numbers, email addresses and postcodes out of what they write before anyone sees it, and
the safeguarding check that says when a message looks like someone telling us about harm.
Nothing here knows about storage, features or doors.
"""

from __future__ import annotations

from bot.core.feedback.questions import (
    BANK,
    DEFAULT_QUESTIONS,
    FREE_TEXT_LIMIT,
    Answered,
    FeedbackProblem,
    Question,
    ScalePoint,
    chosen,
    question,
    read_answers,
)
from bot.core.feedback.safeguarding import looks_like_harm
from bot.core.feedback.scrub import REMOVED, scrub

__all__ = [
    "BANK",
    "DEFAULT_QUESTIONS",
    "FREE_TEXT_LIMIT",
    "REMOVED",
    "Answered",
    "FeedbackProblem",
    "Question",
    "ScalePoint",
    "chosen",
    "looks_like_harm",
    "question",
    "read_answers",
    "scrub",
]
