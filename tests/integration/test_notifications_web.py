"""The notification preferences page over real HTTP: linked from every page, a form that
saves a weekly digest day and quiet hours, refuses choices that don't fit, and says what
happens next."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from bot.services import Services
from storage.models import AuditEvent, Person
from storage.notification_tables import NotificationPreference
from tests.support.web import WebUser, form_action, text_of


async def test_a_provider_chooses_a_weekly_digest_and_own_hours_on_the_web(
    web_user: WebUser, services: Services
) -> None:
    await web_user.sign_in_locally("Tom Okafor")
    status, home = await web_user.get("/")
    assert status == 200
    assert 'href="/do/notifications"' in home
    assert "How we tell you about new opportunities" in text_of(home)

    status, html = await web_user.get("/do/notifications")
    assert status == 200
    page = text_of(html)
    assert "When should we tell you about a new opportunity?" in page
    assert "Once a week, all new ones in one message" in page
    action = form_action(html)

    # Own hours that start and end together: refused, named, nothing saved, on the record.
    status, html = await web_user.post(
        action,
        {
            "_page": "0",
            "_intent": "submit",
            "how_often": "weekly",
            "digest_day": "2",
            "when": "own",
            "day_starts": "09",
            "day_ends": "09",
        },
    )
    assert status == 422
    assert "same time" in text_of(html) and "Nothing was saved" in text_of(html)
    async with services.db.session() as session:
        assert await session.get(NotificationPreference, await _tom(services)) is None
        refused = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "notifications.refused")
        )
    assert refused is not None

    status, html = await web_user.post(
        form_action(html),
        {
            "_page": "0",
            "_intent": "submit",
            "how_often": "weekly",
            "digest_day": "2",
            "when": "own",
            "day_starts": "07",
            "day_ends": "21",
        },
    )
    assert status == 200, text_of(html)
    page = text_of(html)
    assert "every Wednesday" in page and "between 7am and 9pm" in page
    async with services.db.session() as session:
        row = await session.get(NotificationPreference, await _tom(services))
    assert row is not None
    assert (row.opportunities, row.digest_weekday, row.day_starts, row.day_ends) == (
        "weekly",
        2,
        time(7),
        time(21),
    )


async def _tom(services: Services) -> int:
    async with services.db.session() as session:
        found = await session.scalar(select(Person.id).where(Person.name == "Tom Okafor"))
    assert found is not None
    return int(found)
