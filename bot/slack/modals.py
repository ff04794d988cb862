"""Forms in Slack modals: opened at once, filled in page by page, answered within 3 seconds.

A `trigger_id` lasts 3 seconds, so a modal is opened (showing "loading") before any
database work, and filled in with the form once the turn has run. A page that is sent
is answered in Slack's `response_action`: its errors, the next page, or the
confirmation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.reply import FormView, Notice, Reply
from bot.core.turn import Actor, Door, Intent, Submission, Turn
from bot.slack import blocks as kit
from bot.slack.errors import FAILED_CALL, error_code
from bot.slack.home import DM
from bot.turns import Delivery, DoorPipeline

log = logging.getLogger(__name__)

#: Answers through an interaction's response URL (the door's, on its shared session).
Respond = Callable[[str | None, Sequence[Reply]], Awaitable[None]]


async def open_modal(
    client: AsyncWebClient, trigger_id: str, response_url: str | None, respond: Respond
) -> dict[str, Any] | None:
    """Open a loading modal now, while the trigger id works; None (and the person told)
    if Slack would not."""
    try:
        response = await client.views_open(trigger_id=trigger_id, view=kit.loading_modal())
    except FAILED_CALL as exc:
        log.warning("views.open failed: %s", error_code(exc))
        await respond(
            response_url,
            [Notice(text="Sorry, that took too long to open. Please try again.", level="error")],
        )
        return None
    view = response.get("view")
    return view if isinstance(view, dict) else None


async def show_in_modal(
    client: AsyncWebClient, view: dict[str, Any], replies: Sequence[Reply]
) -> None:
    form = next((r for r in replies if isinstance(r, FormView)), None)
    notices = [r for r in replies if isinstance(r, Notice)]
    rendered = kit.form_modal(form, notices) if form else kit.notice_modal("Convene", replies)
    try:
        await client.views_update(view_id=view["id"], view=rendered)
    except FAILED_CALL as exc:
        log.warning("views.update failed: %s", error_code(exc))


def submission_in(view: dict[str, Any], intent: Intent) -> Submission | None:
    """The form page a modal carries, or None when its metadata is not ours any more."""
    try:
        response_id, page = kit.read_form_metadata(view.get("private_metadata", ""))
    except (ValueError, KeyError, TypeError):
        return None
    values = kit.submitted_values((view.get("state") or {}).get("values") or {})
    return Submission(response_id=response_id, page=page, values=values, intent=intent)


async def navigate_form(
    pipeline: DoorPipeline,
    client: AsyncWebClient,
    view: dict[str, Any],
    actor: Actor | None,
    intent: Intent,
) -> None:
    """Back a page, or save for later, from a button inside the modal."""
    submission = submission_in(view, intent)
    if submission is None:
        return
    outcome = await pipeline.run(
        Delivery(Turn(door=Door.SLACK, actor=actor, conversation=DM, submission=submission))
    )
    replies = outcome.replies
    form = next((r for r in replies if isinstance(r, FormView)), None)
    notices = [r for r in replies if isinstance(r, Notice)]
    rendered = kit.form_modal(form, notices) if form else kit.notice_modal("Saved", replies)
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=rendered)
    except FAILED_CALL as exc:
        log.warning("views.update failed: %s", error_code(exc))


def page_answer(replies: Sequence[Reply], page: int, first_field: str | None) -> dict[str, Any]:
    """Slack's `response_action` for a modal page that was sent: the page's errors, the
    next page, or the confirmation."""
    form = next((r for r in replies if isinstance(r, FormView)), None)
    if form is not None and form.errors and form.page_index == page:
        return {"response_action": "errors", "errors": dict(form.errors)}
    if form is not None:
        notices = [r for r in replies if isinstance(r, Notice)]
        # Sent back to another page (a problem only the whole form shows): Slack can only
        # mark errors on the page that was sent, so the problems go above the fields.
        notices += [Notice(text=words, level="error") for words in form.errors.values()]
        return {"response_action": "update", "view": kit.form_modal(form, notices)}
    only = replies[0] if len(replies) == 1 else None
    if isinstance(only, Notice) and only.level == "error" and first_field:
        # Nothing was saved (refused, closed, or the database failed): keep the modal open.
        return {"response_action": "errors", "errors": {first_field: only.text}}
    return {"response_action": "update", "view": kit.notice_modal("Saved", replies)}


def saved(replies: list[Reply], page: int, first_field: str | None) -> bool:
    """The form was sent and saved: its confirmation also goes to the person's DM."""
    answer = page_answer(replies, page, first_field)
    return answer["response_action"] == "update" and not any(
        isinstance(r, FormView) for r in replies
    )


def gone() -> Notice:
    return Notice(text="That form is no longer open, so nothing was saved.", level="error")
