"""Neutral replies to accessible HTML, with jinja2 (autoescaped)."""

from __future__ import annotations

from datetime import datetime
from gettext import NullTranslations
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from bot.clock import format_when
from bot.core.areas import all_areas, area_label, split_chosen, typed_label
from bot.core.cpv import community_suggestions, widget_state
from bot.core.reply import Reply
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
