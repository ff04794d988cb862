"""Feedback given with help (issue 16): a support worker enters someone's feedback with them.

A person who looks after a point (a provider's member, say, who supports people who use the
service) gets a link of their own from `feedback show N`: the point's public page at
`/f/<slug>/with-help/<token>`, the token signed with the app's key, naming the point and
the worker, valid for a day. An entry sent through it is marked "with help", like the
tick on the ordinary page, and nothing else about it changes: still no name of the person
helped.

The worker is not stored on the entry either, on purpose: the entry must not link to any
person, and a worker's name beside an answer would say whom they support, and often who
wrote it. What is kept is the act, on the record: "feedback entered with help" at this
point by this worker, on this day (the time is cut to the day, like the entry), without
the entry's id.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON
from bot.core.feedback.words import N_
from bot.core.reply import Button, Message
from bot.core.turn import Door, Turn
from bot.services import Services
from handlers.feedback.common import COMMAND, base_of
from storage import audit
from storage.feedback_tables import FeedbackPoint

#: A link for one working day: long enough for a session with someone, short if it leaks.
HELPER_MAX_AGE_SECONDS = 24 * 3600
PARAM = "helper"

#: The page for a helper's link that has run out: its title and lines, marked for the
#: feedback catalogue, so a Welsh page refuses in Welsh (`public.helper_link_old`).
LINK_OLD_WORDS = (
    N_("This link for helping someone has run out"),
    N_("Nothing was saved. Links for helping someone give feedback work for one day."),
    N_(
        'Get a new one in Convene: open the feedback point and look for "Help someone give '
        'feedback". Or use the page from the poster and tick that you are helping.'
    ),
)


def _serializer(services: Services) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services.settings.signing_key, salt="feedback-with-help")


def helper_path(services: Services, point: FeedbackPoint, person_id: int) -> str:
    token = _serializer(services).dumps([point.slug, person_id])
    return f"/f/{point.slug}/with-help/{token}"


def helper_of(services: Services, slug: str, token: str) -> int | None:
    """The worker the link was made for, if it is a live link for this point."""
    try:
        found = _serializer(services).loads(token, max_age=HELPER_MAX_AGE_SECONDS)
    except BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(found, list) or len(found) != 2 or found[0] != slug:
        return None
    return found[1] if isinstance(found[1], int) else None


def helper_message(turn: Turn, services: Services, point: FeedbackPoint) -> Message:
    """`feedback show N`: the worker's own link for helping someone give feedback."""
    assert turn.actor is not None
    link = base_of(turn, services) + helper_path(services, point, turn.actor.person_id)
    return Message(
        title="Help someone give feedback",
        text=(
            "If you support someone who uses this service, open this link with them and help "
            'them answer. Their answers are marked "with help". We do not keep their name, '
            "and we do not put your name on their answers. We only note that you helped "
            "someone on that day. The link works for one day and is only for you."
        ),
        buttons=[Button(label="Open the page with help", action=f"{COMMAND}.with_help", url=link)],
        who_sees="Only you see this link.",
    )


async def record_helped(
    session: AsyncSession, services: Services, point: FeedbackPoint, person_id: int
) -> None:
    """On the record: this worker entered feedback with help at this point on this day
    (no entry id, no time of day)."""
    day = services.clock.now().astimezone(LONDON).replace(hour=0, minute=0, second=0, microsecond=0)
    await audit.record(
        session,
        "feedback.entered_with_help",
        actor_id=person_id,
        door=Door.WEB,
        object_type="feedback_point",
        object_id=point.id,
        authority_id=point.authority_id,
        at=day,
    )
