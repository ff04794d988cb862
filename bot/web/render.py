"""Neutral replies to accessible HTML, with jinja2 (autoescaped)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from gettext import NullTranslations
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape

from bot.clock import format_when
from bot.core.areas import all_areas, area_label, split_chosen, typed_label
from bot.core.cpv import community_suggestions, widget_state
from bot.core.reply import (
    CommandRef,
    FileOffer,
    Message,
    Notice,
    Reply,
    capital,
    has_refs,
    split_refs,
)
from bot.core.turn import parse_command

TEMPLATES = Path(__file__).parent / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
# `{% trans %}` reads as written (English) unless a page passes its own translations.
environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]


def command_href(command: str, value: str = "") -> str:
    """The link for a command button: `engagements` + "show 12 for=x" becomes
    `/do/engagements?words=show+12&for=x`. Chat doors read the same value as typed text."""
    words, args = parse_command(value)
    query = {"words": " ".join(words)} if words else {}
    query.update(args)
    path = f"/do/{quote(command)}"
    return f"{path}?{urlencode(query)}" if query else path


environment.globals["command_href"] = command_href


def _changes_nothing(text: str) -> bool:
    return False


#: Whether a command changes things (the router's answer; the web door sets it). Until it
#: is set, every reference is a link: a link to a step that changes things only asks
#: "Please confirm", so nothing runs from a link alone either way.
changes_things: Callable[[str], bool] = _changes_nothing


def use_router(changes: Callable[[str], bool]) -> None:
    global changes_things
    changes_things = changes


@dataclass
class RefForm:
    """A posted command a button in the text sends (the button names it with `form=`,
    since a form cannot sit inside a paragraph)."""

    id: str
    command: str
    words: str


@dataclass
class WebWords:
    """One page's replies with each command reference (see `bot.core.reply.command_ref`)
    worded for the web: "go to" a link to its page, or "press" a button that posts it
    when the step changes things. There is nowhere on the web to type a command."""

    forms: list[RefForm] = field(default_factory=list)

    def replies(self, replies: Sequence[Reply]) -> list[Reply]:
        return [self._reply(r) for r in replies]

    def _reply(self, reply: Reply) -> Reply:
        if isinstance(reply, FileOffer):
            reply = reply.as_message()
        if isinstance(reply, Notice):
            return reply.model_copy(update={"text": self.words(reply.text)})
        if isinstance(reply, Message):
            sections = [
                s.model_copy(update={"text": self.words(s.text)}) if has_refs(s.text) else s
                for s in reply.sections
            ]
            text = self.words(reply.text) if reply.text else reply.text
            return reply.model_copy(update={"text": text, "sections": sections})
        return reply

    def words(self, text: str | None) -> str:
        if text is None or not has_refs(text):
            return text or ""
        return Markup("").join(
            escape(piece) if isinstance(piece, str) else self._ref(piece)
            for piece in split_refs(text)
        )

    def _ref(self, ref: CommandRef) -> Markup:
        command, _, rest = ref.words.partition(" ")
        if changes_things(ref.words):
            form = RefForm(f"ref-{len(self.forms) + 1}", command, rest)
            self.forms.append(form)
            return Markup(
                '{} <button type="submit" form="{}" class="link-button">{}</button>'
            ).format(capital("press", ref.starts_sentence), form.id, ref.label)
        return Markup('{} <a href="{}">{}</a>').format(
            capital("go to", ref.starts_sentence), command_href(command, rest), ref.label
        )


environment.globals["web_words"] = WebWords
# The area widget: the places already chosen, and every place for the browser's own
# searchable list (a <datalist>, which needs no JavaScript).
environment.globals["split_chosen"] = split_chosen
environment.globals["area_label"] = area_label
environment.globals["area_names"] = lambda: [typed_label(a.code) for a in all_areas()]
# The CPV widget: codes chosen, codes offered for what was typed (the server's search),
# and the short list of codes community services are most often bought under.
environment.globals["cpv_widget"] = widget_state
environment.globals["cpv_suggestions"] = community_suggestions


def when(iso: str | None) -> str:
    """An ISO time from a record, as people read it: 'Friday 6 March 2026, 5pm'."""
    return format_when(datetime.fromisoformat(iso)) if iso else "Not yet"


environment.filters["when"] = when


def translated(translations: NullTranslations) -> dict[str, Any]:
    """`gettext` and `ngettext` for one render, in Jinja's new style (`%(name)s` filled in
    and escaped), so each page can be in its own language without touching the shared
    environment."""

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        words = translations.gettext(message)
        if context.eval_ctx.autoescape:
            words = Markup(words)
        return words % variables if variables else words

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, n: int, **variables: Any) -> str:
        variables.setdefault("num", n)
        words = translations.ngettext(singular, plural, n)
        if context.eval_ctx.autoescape:
            words = Markup(words)
        return words % variables

    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}


def page(
    template: str,
    status: int = 200,
    translations: NullTranslations | None = None,
    **context: Any,
) -> web.Response:
    if translations is not None:
        context.update(translated(translations))
    html = environment.get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def title_of(replies: list[Reply]) -> str | None:
    """The page <title>. A form with errors starts with "Error:", as GOV.UK does, because the
    title is the first thing a screen reader says when the page comes back."""
    for reply in replies:
        if reply.kind == "form":
            return f"Error: {reply.page_title}" if reply.errors else reply.page_title
        if reply.kind in ("message", "file") and reply.title:
            return reply.title
    return None


def status_of(replies: list[Reply]) -> int:
    """A page that only shows a form with errors answers 422, so scripts can tell."""
    if any(r.kind == "form" and r.errors for r in replies):
        return 422
    return 200
