"""The features. Each module takes neutral turns and returns neutral replies.

Each feature declares what it offers once, as `FEATURE` in its own module; this list is
the only other place a feature is named. Its order is the order of commands in help.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from bot.core.feature import Features
from bot.core.router import Router

if TYPE_CHECKING:
    from bot.scheduler import ReminderHandler


@cache
def features() -> Features:
    """Every feature, imported on first use so a feature module may import this package."""
    from handlers import (
        agreements,
        dashboard,
        deliveries,
        directory,
        engagements,
        exports,
        feedback,
        home,
        legal_rules,
        membership,
        notifications,
        opportunities,
        organisations,
        pipeline,
        profile,
        readiness,
    )

    return Features(
        [
            profile.FEATURE,
            directory.FEATURE,
            readiness.FEATURE,
            exports.FEATURE,
            engagements.FEATURE,
            opportunities.FEATURE,
            pipeline.FEATURE,
            agreements.FEATURE,
            feedback.FEATURE,
            notifications.FEATURE,
            home.FEATURE,
            dashboard.FEATURE,
            organisations.FEATURE,
            membership.FEATURE,
            deliveries.FEATURE,
            legal_rules.FEATURE,
        ]
    )


def build_router() -> Router:
    """Every command, action and form the product offers, on every door."""
    from handlers.forms import answer_in_chat, submit_page
    from handlers.membership import HOW_TO_JOIN

    router = Router()
    for feature in features().features:
        router.add(feature)
    router.unlinked_hint = HOW_TO_JOIN
    router.submissions = submit_page
    router.chat = answer_in_chat
    return router


def reminder_handlers() -> dict[str, ReminderHandler]:
    """Reminder kinds and the handler the due sweep calls for each."""
    return features().reminders()
