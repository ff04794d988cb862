"""Neutral replies to accessible HTML, with jinja2 (autoescaped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.core.reply import Reply

TEMPLATES = Path(__file__).parent / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def page(template: str, status: int = 200, **context: Any) -> web.Response:
    html = environment.get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def title_of(replies: list[Reply]) -> str | None:
    """The page <title>. A form with errors starts with "Error:", as GOV.UK does, because the
    title is the first thing a screen reader says when the page comes back."""
    for reply in replies:
        if reply.kind == "form":
            return f"Error: {reply.page_title}" if reply.errors else reply.page_title
        if reply.kind == "message" and reply.title:
            return reply.title
    return None


def status_of(replies: list[Reply]) -> int:
    """A page that only shows a form with errors answers 422, so scripts can tell."""
    if any(r.kind == "form" and r.errors for r in replies):
        return 422
    return 200
