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
from dataclasses import dataclass
from gettext import NullTranslations
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import LONDON, format_date
from bot.core.feedback import FREE_TEXT_LIMIT, Answered, FeedbackProblem, chosen, read_answers
from bot.core.feedback.words import N_, NAMES, TAGS, translations
from bot.core.pages import PageContent, PageRefusal, PageRequest, WebPage
from bot.core.reply import Message, ReplyList, Section
from bot.core.uploads import size_words
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

#: The hidden field that carries the page's language in the form too (the form's address
#: carries it as well, so a refusal before the form is read is in the same language).
LANGUAGE_FIELD = "lang"

#: Why a page was refused, in words marked for the catalogue: a title and its lines.
NOT_FOUND_WORDS = (
    N_("We could not find this feedback page"),
    N_("Check the link, or scan the QR code on the poster again."),
    N_("If you are in danger now, call 999."),
)
TOO_MUCH_WORDS = (
    N_("That was too much to send"),
    N_("Nothing was saved."),
    N_(
        "Please make your message shorter. A photo or voice note can be up to %(size)s: "
        "send a smaller one, or send your answers without it."
    ),
)
TOO_MANY_WORDS = (
    N_("Too many messages"),
    N_(
        "Thank you for wanting to tell us. We have had a lot of messages from here in the "
        "last hour, so we did not save this one."
    ),
    N_("Please try again in an hour. If you or someone else is in danger now, call 999."),
)
UNREADABLE_WORDS = (
    N_("We could not read that form"),
    N_("Nothing was saved. Please try again."),
)
DOWN_WORDS = (
    N_("Sorry, something went wrong on our side"),
    N_("We could not reach our database, so nothing was saved."),
    N_("Please try again in a few minutes."),
)
DOOR_WORDS = {413: TOO_MUCH_WORDS, 429: TOO_MANY_WORDS, 400: UNREADABLE_WORDS, 503: DOWN_WORDS}


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


@dataclass(frozen=True)
class Choice:
    """How the page is shown: its language and whether it is the easy read version. Both
    travel in the link (`?lang=cy&view=easy`), never in a cookie, and change only the words
    and the layout: the questions and what is kept are the same."""

    language: str = "en"
    easy: bool = False

    @property
    def words(self) -> NullTranslations:
        return translations(self.language)

    def query(self, **changed: Any) -> str:
        """The query string for this choice with some parts changed ("" for the default)."""
        language = changed.get("language", self.language)
        easy = changed.get("easy", self.easy)
        fields = {}
        if language != "en":
            fields["lang"] = language
        if easy:
            fields["view"] = "easy"
        return f"?{urlencode(fields)}" if fields else ""


def welsh_offered(services: Services) -> bool:
    """Welsh is offered where the council is in Wales (its nation, `bank_holiday_region`
    WLS), or where the council chooses to offer it (`feedback_welsh`)."""
    settings = services.settings
    return settings.bank_holiday_region == "WLS" or settings.feedback_welsh


def choice_of(request: PageRequest, services: Services) -> Choice:
    """The language and view asked for in the link (or the form); Welsh only where it is
    offered."""
    wanted = request.query.get("lang") or request.form.get(LANGUAGE_FIELD) or "en"
    language = "cy" if wanted == "cy" and welsh_offered(services) else "en"
    return Choice(language=language, easy=request.query.get("view") == "easy")


def help_lines(services: Services, choice: Choice | None = None) -> list[str]:
    """Who to contact about harm, straight away, in the page's language."""
    _ = (choice or Choice()).words.gettext
    phone = services.settings.safeguarding_phone.strip()
    lines = [_("If you or someone else is in danger now, call 999.")]
    if phone:
        lines.append(
            _(
                "To talk to the council's safeguarding team about harm to a child or an "
                "adult, call %(phone)s."
            )
            % {"phone": phone}
        )
    else:
        lines.append(
            _(
                "To talk to someone about harm to a child or an adult, call your local "
                "council and ask for the safeguarding team."
            )
        )
    lines.append(
        _(
            "If you want to talk about how you feel, you can call Samaritans free on "
            "116 123, at any time."
        )
    )
    return lines


def refused(
    services: Services,
    choice: Choice,
    status: int,
    words: tuple[str, ...],
    back: str | None = None,
    **values: str,
) -> PageRefusal:
    """A refusal page in the person's language: `words` is its title and lines (marked for
    the catalogue), `back` the feedback page to go back to (None: the start)."""
    _ = choice.words.gettext
    title, *lines = (_(w) % values if values else _(w) for w in words)
    return PageRefusal(
        status,
        title,
        lines,
        html_lang=TAGS[choice.language],  # type: ignore[index]
        next_url=back + choice.query() if back else None,
        next_label=_("Back to the feedback page") if back else _("Go to the start"),
    )


def door_refusal(status: int, request: PageRequest, services: Services) -> PageRefusal | None:
    """The web door's own refusals on these pages (too much, too many, unreadable, database
    down), in the page's language (`WebPage.refusals`)."""
    words = DOOR_WORDS.get(status)
    if words is None:
        return None
    choice = choice_of(request, services)
    slug = request.params.get("slug", "")
    back = f"/f/{slug}" if slug and len(slug) <= 24 else None
    size = size_words(services.settings.upload_max_bytes)
    return refused(services, choice, status, words, back, size=size)


def not_found(services: Services, choice: Choice) -> PageRefusal:
    return refused(services, choice, 404, NOT_FOUND_WORDS)


def helper_link_old(services: Services, choice: Choice, slug: str) -> PageRefusal:
    return refused(services, choice, 410, helped.LINK_OLD_WORDS, f"/f/{slug}")


def _switches(point: FeedbackPoint, services: Services, choice: Choice) -> dict[str, Any]:
    """The links that change the language or the view, each keeping the other choice."""
    base = f"/f/{point.slug}"
    other = "en" if choice.language == "cy" else "cy"
    return {
        "language_switch": (
            {
                "href": base + choice.query(language=other),
                "label": NAMES[other],  # type: ignore[index]
                "lang": TAGS[other],  # type: ignore[index]
            }
            if welsh_offered(services)
            else None
        ),
        "view_switch": base + choice.query(easy=not choice.easy),
        "html_lang": TAGS[choice.language],  # type: ignore[index]
        "language": choice.language,
        "easy": choice.easy,
        "body_class": "easy-read" if choice.easy else None,
    }


async def _page_data(
    session: AsyncSession,
    services: Services,
    point: FeedbackPoint,
    choice: Choice,
    helper: str | None = None,
) -> dict[str, Any]:
    posts = await posts_of(session, point.id)
    _ = choice.words.gettext
    return {
        **_switches(point, services, choice),
        "service_name": point.service_name,
        "open": point.state == PointState.OPEN,
        "questions": [
            {
                "key": q.key,
                "text": _(q.text),
                "hint": _(q.hint),
                "easy": [_(line) for line in q.easy],
                "picture": q.picture,
                "kind": q.kind,
                "points": [
                    {"value": p.value, "label": _(p.label), "picture": p.picture} for p in q.points
                ],
            }
            for q in chosen(point.question_keys)
        ],
        "posts": [
            {"day": format_date(p.posted_at.astimezone(LONDON).date()), "text": p.text}
            for p in posts
        ],
        "action": (f"/f/{point.slug}/with-help/{helper}" if helper else f"/f/{point.slug}")
        + choice.query(),
        "helper": helper is not None,
        "token": form_token(services, point.slug),
        "help_lines": help_lines(services, choice),
        "limit": FREE_TEXT_LIMIT,
        "honeypot": HONEYPOT,
        "language_field": LANGUAGE_FIELD,
        "values": {},
        "problem": None,
        "minimum": services.settings.suppression_minimum,
        #: An agreement's council is beyond the service: it reads answers once there are enough.
        "council": point.agreement_id is not None,
        #: The optional photo or voice note (`testimony.py`): its words and accepted types.
        "testimony": {
            "words": testimony.page_words(services, point.service_name, choice.words),
            "accept": testimony.accept_list(),
            "field": testimony.FILE_FIELD,
            "service_tick": testimony.SERVICE_TICK,
            "council_tick": testimony.COUNCIL_TICK,
        },
    }


async def feedback_page(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """GET `/f/<slug>`: the questions, or a closed point's notice and its posts."""
    choice = choice_of(request, services)
    async with services.db.session() as session:
        point = await _point(session, request.params.get("slug", ""))
        if point is None:
            return not_found(services, choice)
        helper = request.params.get(helped.PARAM)
        if helper is not None and helped.helper_of(services, point.slug, helper) is None:
            return helper_link_old(services, choice, point.slug)
        data = await _page_data(session, services, point, choice, helper)
        if helper is not None:
            data["values"] = {WITH_HELP_FIELD: "yes"}
    return _shown(point, choice, data)


def _shown(
    point: FeedbackPoint, choice: Choice, data: dict[str, Any], status: int = 200
) -> PageContent:
    """The page in its language and view: the easy read template or the standard one."""
    _ = choice.words.gettext
    title = _("Tell us what you think of %(service)s") % {"service": point.service_name}
    if status == 409:
        title = _("%(service)s is not taking feedback now") % {"service": point.service_name}
    elif data.get("problem"):
        title = _("Error: %(title)s") % {"title": title}
    return PageContent(
        title=title,
        template="feedback_easy.html" if choice.easy else "feedback_point.html",
        data=data,
        status=status,
        translations=choice.words,
    )


def _again(
    point: FeedbackPoint,
    choice: Choice,
    data: dict[str, Any],
    problem: FeedbackProblem,
    status: int = 422,
) -> PageContent:
    data["problem"] = {"message": problem.in_words(choice.words.gettext), "field": problem.about}
    data["values"] = problem.kept
    return _shown(point, choice, data, status)


def _thanks(point: FeedbackPoint, services: Services, choice: Choice, *, harm: bool) -> PageContent:
    return PageContent(
        title=choice.words.gettext("Thank you"),
        template="feedback_thanks.html",
        data={
            **_switches(point, services, choice),
            "language_switch": None,  # the choice is made; the page links back in it
            "service_name": point.service_name,
            "harm": harm,
            "help_lines": help_lines(services, choice),
            "action": f"/f/{point.slug}" + choice.query(),
        },
        translations=choice.words,
    )


async def send_feedback(request: PageRequest, services: Services) -> PageContent | PageRefusal:
    """POST `/f/<slug>`: keep one anonymous entry, or say kindly why nothing was kept."""
    form = request.form
    choice = choice_of(request, services)
    async with services.db.session() as session:
        point = await _point(session, request.params.get("slug", ""))
        if point is None:
            return not_found(services, choice)
        if form.get(HONEYPOT, "").strip():
            return _thanks(point, services, choice, harm=False)  # a robot: nothing kept
        helper = request.params.get(helped.PARAM)
        worker = helped.helper_of(services, point.slug, helper) if helper is not None else None
        if helper is not None and worker is None:
            return helper_link_old(services, choice, point.slug)
        data = await _page_data(session, services, point, choice, helper)
        if point.state != PointState.OPEN:
            data["values"] = {}
            return _shown(point, choice, data, status=409)
        if not token_works(services, point.slug, form.get(TOKEN_FIELD, "")):
            problem = FeedbackProblem(
                N_(
                    "This page was open for a long time, so we did not save your answers. "
                    "They are still here: please check them and send them again."
                ),
                None,
                {k: v for k, v in form.items() if k not in (TOKEN_FIELD, HONEYPOT)},
            )
            return _again(point, choice, data, problem)
        answered = read_answers(
            chosen(point.question_keys),
            form,
            with_help=worker is not None or form.get(WITH_HELP_FIELD, "") == "yes",
        )
        if isinstance(answered, FeedbackProblem):
            return _again(point, choice, data, answered)
        kept = {k: v for k, v in form.items() if k not in (TOKEN_FIELD, HONEYPOT)}
        given = testimony.check_testimony(services, point, request.files, form, kept)
        if isinstance(given, testimony.TestimonyRefused):
            await testimony.record_refused(session, services, point, given.reason)
            if answered.harm:  # nothing is kept, but the lead must still be told at once
                await flag_words_to_lead(session, point, answered.text, secrets.token_hex(16))
            return _again(point, choice, data, given.problem)
        entry = await keep_entry(session, services, point, answered)
        if given is not None:
            await testimony.keep_testimony(session, entry, given)
        if worker is not None:
            await helped.record_helped(session, services, point, worker)
        if answered.harm:
            await flag_to_lead(session, point, entry)
    return _thanks(point, services, choice, harm=answered.harm)


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
    await flag_words_to_lead(session, point, entry.comments, entry.id)


async def flag_words_to_lead(
    session: AsyncSession, point: FeedbackPoint, comments: dict[str, str], ref: str
) -> None:
    """The same, for scrubbed words that were not kept (a refused file sent the form back):
    `ref` is a random reference for the message, never anything about the person."""
    if point.safeguarding_lead_id is None:
        return
    words = "\n\n".join(comments.values())
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
        f"{COMMAND}:{ref}:safeguarding:{{person_id}}",
    )


PAGES = (
    WebPage("/f/{slug}", "html", feedback_page, anonymous=True, refusals=door_refusal),
    WebPage(
        "/f/{slug}", "html", send_feedback, anonymous=True, method="POST", refusals=door_refusal
    ),
    WebPage(
        "/f/{slug}/with-help/{helper}",
        "html",
        feedback_page,
        anonymous=True,
        refusals=door_refusal,
    ),
    WebPage(
        "/f/{slug}/with-help/{helper}",
        "html",
        send_feedback,
        anonymous=True,
        method="POST",
        refusals=door_refusal,
    ),
)
