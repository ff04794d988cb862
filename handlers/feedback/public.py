"""The public page of a feedback point, `/f/<slug>`: for people who use the service, with no
account, no cookie and no tracking, working without JavaScript.

GET shows the service's name, who reads the answers and what happens next, what we do if
someone tells us about harm (before they write), the questions, and any "you said, we did"
posts. POST keeps an anonymous entry (`storage/feedback_tables.py`: no name, no address, no
time, text scrubbed) and says thank you. If the words look like someone telling us about
harm, the thank-you page shows at once who to call, and the point's safeguarding lead is
sent the scrubbed words, and nothing else, through the outbox.

No cookie means no CSRF token: the form carries its own token instead, signed with the
app's key, naming the point and valid for a few hours, so a form cannot be posted from a
page we did not serve long ago. The web door counts POSTs per client address and per page
(`WebPage.anonymous`), and a hidden "leave this empty" field catches simple robots: they
are thanked, and nothing is kept.
"""

from __future__ import annotations

import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON, format_date
from bot.core.feedback import FREE_TEXT_LIMIT, Answered, FeedbackProblem, chosen, read_answers
from bot.core.pages import PageContent, PageRefusal, PageRequest, WebPage
from bot.core.reply import Message, ReplyList, Section
from bot.services import Services
from handlers.feedback import helped, testimony
from handlers.feedback.common import COMMAND
from handlers.feedback.entries import posts_of
from storage.feedback_tables import FeedbackEntry, FeedbackPoint, PointState
from storage.outbox import send_each

#: The hidden field robots fill in and people never see.
HONEYPOT = "website"
TOKEN_FIELD = "form_token"
WITH_HELP_FIELD = "with_help"
#: How long a feedback page may stay open before it is sent.
TOKEN_MAX_AGE_SECONDS = 6 * 3600

NOT_FOUND = PageRefusal(
    404,
    "We could not find this feedback page",
    [
        "Check the link, or scan the QR code on the poster again.",
        "If you are in danger now, call 999.",
    ],
)

HELPER_LINK_OLD = PageRefusal(
    410,
    "This link for helping someone has run out",
    [
        "Nothing was saved. Links for helping someone give feedback work for one day.",
        'Get a new one in Convene: open the feedback point and look for "Help someone give '
        'feedback". Or use the page from the poster and tick that you are helping.',
    ],
)


def _serializer(services: Services) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services.settings.signing_key, salt="feedback-form")


def form_token(services: Services, slug: str) -> str:
    """A token for one point's form: signed, timed, and carrying nothing about the person."""
    return _serializer(services).dumps(slug)


def token_works(services: Services, slug: str, token: str) -> bool:
    try:
        return bool(_serializer(services).loads(token, max_age=TOKEN_MAX_AGE_SECONDS) == slug)
    except BadSignature:  # SignatureExpired is one
        return False


async def _point(session: AsyncSession, slug: str) -> FeedbackPoint | None:
    if not slug or len(slug) > 24:
        return None
    return await session.scalar(select(FeedbackPoint).where(FeedbackPoint.slug == slug))


def help_lines(services: Services) -> list[str]:
    """Who to contact about harm, straight away."""
    phone = services.settings.safeguarding_phone.strip()
    lines = ["If you or someone else is in danger now, call 999."]
    if phone:
        lines.append(
            f"To talk to the council's safeguarding team about harm to a child or an adult, "
            f"call {phone}."
        )
    else:
        lines.append(
            "To talk to someone about harm to a child or an adult, call your local council "
            "and ask for the safeguarding team."
        )
    lines.append(
        "If you want to talk about how you feel, you can call Samaritans free on 116 123, "
        "at any time."
    )
    return lines


async def _page_data(
    session: AsyncSession, services: Services, point: FeedbackPoint, helper: str | None = None
) -> dict[str, Any]:
    posts = await posts_of(session, point.id)
    return {
        "service_name": point.service_name,
        "open": point.state == PointState.OPEN,
        "questions": [
            {
                "key": q.key,
                "text": q.text,
                "hint": q.hint,
                "kind": q.kind,
                "points": [
                    {"value": p.value, "label": p.label, "picture": p.picture} for p in q.points
                ],
            }
            for q in chosen(point.question_keys)
        ],
        "posts": [
            {"day": format_date(p.posted_at.astimezone(LONDON).date()), "text": p.text}
            for p in posts
        ],
        "action": f"/f/{point.slug}/with-help/{helper}" if helper else f"/f/{point.slug}",
        "helper": helper is not None,
        "token": form_token(services, point.slug),
        "help_lines": help_lines(services),
        "limit": FREE_TEXT_LIMIT,
        "honeypot": HONEYPOT,
        "values": {},
        "problem": None,
        "minimum": services.settings.suppression_minimum,
        #: An agreement's council is beyond the service: it reads answers once there are enough.
        "council": point.agreement_id is not None,
        #: The optional photo or voice note (`testimony.py`): its words and accepted types.
        "testimony": {
            "words": testimony.page_words(services, point.service_name),
            "accept": testimony.accept_list(),
            "field": testimony.FILE_FIELD,
            "service_tick": testimony.SERVICE_TICK,
            "council_tick": testimony.COUNCIL_TICK,
        },
    }


async def feedback_page(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """GET `/f/<slug>`: the questions, or a closed point's notice and its posts."""
    async with services.db.session() as session:
        point = await _point(session, request.params.get("slug", ""))
        if point is None:
            return NOT_FOUND
        helper = request.params.get(helped.PARAM)
        if helper is not None and helped.helper_of(services, point.slug, helper) is None:
            return HELPER_LINK_OLD
        data = await _page_data(session, services, point, helper)
        if helper is not None:
            data["values"] = {WITH_HELP_FIELD: "yes"}
    return PageContent(
        title=f"Tell us what you think of {point.service_name}",
        template="feedback_point.html",
        data=data,
    )


def _again(
    point: FeedbackPoint, data: dict[str, Any], problem: FeedbackProblem, status: int = 422
) -> PageContent:
    data["problem"] = {"message": problem.message, "field": problem.about}
    data["values"] = problem.kept
    return PageContent(
        title=f"Error: tell us what you think of {point.service_name}",
        template="feedback_point.html",
        data=data,
        status=status,
    )


def _thanks(point: FeedbackPoint, services: Services, *, harm: bool) -> PageContent:
    return PageContent(
        title="Thank you",
        template="feedback_thanks.html",
        data={
            "service_name": point.service_name,
            "harm": harm,
            "help_lines": help_lines(services),
            "action": f"/f/{point.slug}",
        },
    )


async def send_feedback(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """POST `/f/<slug>`: keep one anonymous entry, or say kindly why nothing was kept."""
    form = request.form
    async with services.db.session() as session:
        point = await _point(session, request.params.get("slug", ""))
        if point is None:
            return NOT_FOUND
        if form.get(HONEYPOT, "").strip():
            return _thanks(point, services, harm=False)  # a robot: thanked, nothing kept
        helper = request.params.get(helped.PARAM)
        worker = helped.helper_of(services, point.slug, helper) if helper is not None else None
        if helper is not None and worker is None:
            return HELPER_LINK_OLD
        data = await _page_data(session, services, point, helper)
        if point.state != PointState.OPEN:
            data["values"] = {}
            return PageContent(
                title=f"{point.service_name} is not taking feedback now",
                template="feedback_point.html",
                data=data,
                status=409,
            )
        if not token_works(services, point.slug, form.get(TOKEN_FIELD, "")):
            problem = FeedbackProblem(
                "This page was open for a long time, so we did not save your answers. They are "
                "still here: please check them and send them again.",
                None,
                {k: v for k, v in form.items() if k not in (TOKEN_FIELD, HONEYPOT)},
            )
            return _again(point, data, problem)
        answered = read_answers(
            chosen(point.question_keys),
            form,
            with_help=worker is not None or form.get(WITH_HELP_FIELD, "") == "yes",
        )
        if isinstance(answered, FeedbackProblem):
            return _again(point, data, answered)
        kept = {k: v for k, v in form.items() if k not in (TOKEN_FIELD, HONEYPOT)}
        given = testimony.check_testimony(services, point, request.files, form, kept)
        if isinstance(given, testimony.TestimonyRefused):
            await testimony.record_refused(session, services, point, given.reason)
            return _again(point, data, given.problem)
        entry = await keep_entry(session, services, point, answered)
        if given is not None:
            await testimony.keep_testimony(session, entry, given)
        if worker is not None:
            await helped.record_helped(session, services, point, worker)
        if answered.harm:
            await flag_to_lead(session, point, entry)
    return _thanks(point, services, harm=answered.harm)


async def keep_entry(
    session: AsyncSession, services: Services, point: FeedbackPoint, answered: Answered
) -> FeedbackEntry:
    """Keep the entry: a random id, the day only, the scrubbed words."""
    entry = FeedbackEntry(
        id=secrets.token_hex(16),
        point_id=point.id,
        given_on=services.clock.now().astimezone(LONDON).date(),
        answers=answered.scale,
        comments=answered.text,
        with_help=answered.with_help,
        safeguarding=answered.harm,
    )
    session.add(entry)
    await session.flush()
    return entry


async def flag_to_lead(session: AsyncSession, point: FeedbackPoint, entry: FeedbackEntry) -> None:
    """Tell the point's safeguarding lead, through the outbox: the entry's scrubbed words and
    where it was given, nothing more (there is nothing more: it is anonymous)."""
    if point.safeguarding_lead_id is None:
        return
    words = "\n\n".join(entry.comments.values())
    message = Message(
        title=f"Safeguarding: please read feedback about {point.service_name}",
        text=(
            "Someone gave feedback that may be about harm. We showed them 999 and who to call. "
            "We do not know who they are, so we cannot contact them. Please read it, and "
            "follow your safeguarding policy."
        ),
        sections=[Section(heading="What they wrote (personal details removed)", text=words)],
        who_sees="Only you, as the safeguarding lead for this feedback point, get this message.",
    )
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    await send_each(
        session,
        [point.safeguarding_lead_id],
        lambda _: payload,
        f"{COMMAND}:{entry.id}:safeguarding:{{person_id}}",
    )


PAGES = (
    WebPage("/f/{slug}", "html", feedback_page, anonymous=True),
    WebPage("/f/{slug}", "html", send_feedback, anonymous=True, method="POST"),
    WebPage("/f/{slug}/with-help/{helper}", "html", feedback_page, anonymous=True),
    WebPage("/f/{slug}/with-help/{helper}", "html", send_feedback, anonymous=True, method="POST"),
)
