"""The Slack door: a slack-bolt `AsyncApp` mounted on our aiohttp server.

Events, slash commands and interactivity all arrive at `POST /slack/events`; Bolt
verifies every signature (5-minute window). Each payload becomes a neutral `Turn`;
replies come back as Block Kit messages, modals and the App Home.

Ack first, always: a slash command that shows a form opens a "loading" modal with
the trigger id straight away (it expires in 3 seconds), then does the database work
and replaces the modal. Replies in a DM go through the outbox like every other
outbound message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.core.reply import FormView, Notice, Reply, ReplyList
from bot.core.turn import Action, Actor, Door, Intent, Submission, Turn, parse_command
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.slack import blocks as kit
from bot.slack.identity import slack_actor
from bot.slack.sender import SlackSender, SlackTokens
from handlers.exports import export_in
from storage.events import first_delivery
from storage.models import WorkspaceLink
from storage.outbox import enqueue

log = logging.getLogger(__name__)

COMMAND = "/convene"
BOT_SCOPES = (
    "chat:write",
    "commands",
    "files:write",
    "im:history",
    "im:write",
    "users:read",
    "users:read.email",
)
BOT_EVENTS = ("app_home_opened", "message.im")
DM = "dm"  # chat-mode conversations with the bot live in the person's DM


class SlackDoor:
    """Builds the Bolt app for our settings and registers every listener."""

    def __init__(self, services: Services, outbox: OutboxSender) -> None:
        self.services = services
        self.outbox = outbox
        settings = services.settings
        assert settings.slack_signing_secret is not None
        single_token = (
            settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        )
        self.installation_store: AsyncSQLAlchemyInstallationStore | None = None
        oauth_settings = None
        if settings.slack_multi_workspace:
            assert settings.slack_client_id and settings.slack_client_secret
            self.installation_store = AsyncSQLAlchemyInstallationStore(
                client_id=settings.slack_client_id, engine=services.db.engine
            )
            oauth_settings = AsyncOAuthSettings(
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret.get_secret_value(),
                scopes=list(BOT_SCOPES),
                installation_store=self.installation_store,
                state_store=AsyncSQLAlchemyOAuthStateStore(
                    expiration_seconds=600, engine=services.db.engine
                ),
                install_path="/slack/install",
                redirect_uri_path="/slack/oauth_redirect",
                redirect_uri=f"{settings.base_url}/slack/oauth_redirect",
                authorization_url=settings.slack_authorize_url,
                install_page_rendering_enabled=False,
                callback_options=AsyncCallbackOptions(
                    success=self._installed, failure=self._install_failed
                ),
            )
        # Bolt takes the single-workspace token from the client it is given.
        self.client = AsyncWebClient(
            base_url=settings.slack_api_url, token=None if oauth_settings else single_token
        )
        self.app = AsyncApp(
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            client=self.client,
            oauth_settings=oauth_settings,
            process_before_response=False,
            raise_error_for_unhandled_request=False,
            logger=logging.getLogger("convene.slack"),
        )
        self.sender = SlackSender(services, SlackTokens(services, self.installation_store))
        outbox.register(self.sender)
        self.http: aiohttp.ClientSession | None = None
        self._register()

    async def start(self) -> None:
        """One pooled HTTP session for every call to Slack (slack_sdk opens one per call
        otherwise, which costs a new connection each time)."""
        self.http = aiohttp.ClientSession()
        self.client.session = self.http
        self.sender.use_session(self.http)

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()

    # --- mounting -------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        app.router.add_post("/slack/events", self.handle_events)
        if self.app.oauth_flow is not None:
            app.router.add_get("/slack/install", self.handle_oauth)
            app.router.add_get("/slack/oauth_redirect", self.handle_oauth)

    async def handle_events(self, request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
        except ValueError:  # Bolt parses the body before checking the signature
            log.warning("Slack request with a body that is not valid JSON; refused")
            return web.Response(status=400, text="bad request")
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def handle_oauth(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None
        bolt_request = await to_bolt_request(request)
        if request.path == flow.install_path:
            response = await flow.handle_installation(bolt_request)
        else:
            response = await flow.handle_callback(bolt_request)
        return await to_aiohttp_response(response)

    async def _installed(self, args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        async with self.services.db.session() as session:
            link = await session.scalar(
                select(WorkspaceLink).where(
                    WorkspaceLink.platform == Door.SLACK,
                    WorkspaceLink.workspace_id == installation.team_id,
                )
            )
            if link is None:
                session.add(
                    WorkspaceLink(
                        platform=Door.SLACK,
                        workspace_id=installation.team_id or "",
                        name=installation.team_name,
                    )
                )
        name = installation.team_name or "your workspace"
        return _html(
            200,
            "Convene is installed",
            f"Convene is now in {name}. Open Slack and type /convene help to start.",
        )

    async def _install_failed(self, args: AsyncFailureArgs) -> BoltResponse:
        log.warning("Slack install failed: %s", args.reason)
        return _html(
            args.suggested_status_code,
            "Convene could not be installed",
            "Slack did not finish the install. Please go back and try again.",
        )

    # --- listeners ------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.use(self._process_once)
        app.command(COMMAND)(self._on_command)
        app.event("app_home_opened")(self._on_home_opened)
        app.event("message")(self._on_message)
        app.view(kit.FORM_CALLBACK)(self._on_form_page)
        app.view_closed(kit.FORM_CALLBACK)(self._on_form_closed)
        app.action(re.compile(r".+"))(self._on_action)

    async def _process_once(
        self, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Slack retries events it thinks we missed; each `event_id` is handled once."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await first_delivery(self.services.db, "slack", str(event_id)):
            log.info("Slack event %s already handled; ignoring the retry", event_id)
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def _actor(self, context: dict[str, Any]) -> Actor | None:
        """Who is acting. Called after the ack: first contact may ask Slack for a profile."""
        if "actor" in context:
            return context["actor"]
        user_id, team_id = context.get("user_id"), context.get("team_id")
        actor = None
        if user_id and team_id:
            try:
                actor = await slack_actor(self.services, context["client"], team_id, user_id)
            except SQLAlchemyError:
                log.exception("could not look up a Slack user")
        context["actor"] = actor
        return actor

    async def _dispatch(self, turn: Turn) -> list[Reply]:
        return await self.services.router.dispatch_safely(turn, self.services)

    async def _on_command(
        self,
        ack: Callable[..., Awaitable[None]],
        body: dict[str, Any],
        client: AsyncWebClient,
        context: dict[str, Any],
    ) -> None:
        await ack()
        text = (body.get("text") or "").strip() or "help"
        if self.services.router.opens_form(text):
            # The trigger id lasts 3 seconds: open the modal before any database work.
            opened = await self._open_modal(
                client, body.get("trigger_id", ""), body.get("response_url")
            )
            if opened is None:
                return
            _, args = parse_command(text)
            actor = await self._actor(context)
            turn = Turn(door=Door.SLACK, actor=actor, conversation=DM, text=text, args=args)
            await self._show_in_modal(client, opened, await self._dispatch(turn))
            return
        actor = await self._actor(context)
        _, args = parse_command(text)
        turn = Turn(door=Door.SLACK, actor=actor, conversation=DM, text=text, args=args)
        replies = await self._dispatch(turn)
        if await self._file_to_dm(
            context, body, replies, key=f"slack:cmd:{body.get('trigger_id')}"
        ):
            return
        if turn.wants_chat and actor is not None:
            await self._to_dm(context, replies, key=f"slack:cmd:{body.get('trigger_id')}")
            await self._respond(
                body.get("response_url"),
                [Notice(text="I've sent you a direct message with the first question.")],
            )
            return
        await self._respond(body.get("response_url"), replies)

    async def _open_modal(
        self, client: AsyncWebClient, trigger_id: str, response_url: str | None
    ) -> dict[str, Any] | None:
        try:
            response = await client.views_open(trigger_id=trigger_id, view=kit.loading_modal())
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            await self._respond(
                response_url,
                [
                    Notice(
                        text="Sorry, that took too long to open. Please try again.", level="error"
                    )
                ],
            )
            return None
        view: dict[str, Any] = response["view"]
        return view

    async def _show_in_modal(
        self, client: AsyncWebClient, view: dict[str, Any], replies: Sequence[Reply]
    ) -> None:
        form = next((r for r in replies if isinstance(r, FormView)), None)
        notices = [r for r in replies if isinstance(r, Notice)]
        rendered = kit.form_modal(form, notices) if form else kit.notice_modal("Convene", replies)
        try:
            await client.views_update(view_id=view["id"], view=rendered)
        except SlackApiError as exc:
            log.warning("views.update failed: %s", exc.response.get("error"))

    async def _respond(self, response_url: str | None, replies: Sequence[Reply]) -> None:
        """Answer through the interaction's response URL (ephemeral), on the shared session."""
        if not response_url:
            return
        webhook = AsyncWebhookClient(url=response_url, session=self.http)
        text = kit.fallback_text(replies)
        for part in kit.messages(replies):
            try:
                await webhook.send(text=text, blocks=part, response_type="ephemeral")
            except Exception:  # the response URL is Slack's; a failure there must not crash us
                log.exception("could not answer through the response URL")
                return

    async def _to_dm(self, context: dict[str, Any], replies: Sequence[Reply], *, key: str) -> None:
        """Queue replies into the person's DM with the bot, and start a send pass now."""
        actor: Actor | None = context.get("actor")
        if not replies:
            return
        async with self.services.db.session() as session:
            await enqueue(
                session,
                door=Door.SLACK,
                address=str(context.get("user_id")),
                workspace_id=context.get("team_id"),
                person_id=actor.person_id if actor else None,
                payload=ReplyList(replies=list(replies)).model_dump(mode="json"),
                idempotency_key=key,
            )
        self.outbox.kick()

    async def _file_to_dm(
        self, context: dict[str, Any], body: dict[str, Any], replies: Sequence[Reply], *, key: str
    ) -> bool:
        """A file (an export) goes to the person's DM, where the sender uploads it: a reply
        through the response URL cannot carry one. Says so where they asked."""
        if export_in(replies) is None or context.get("actor") is None:
            return False
        await self._to_dm(context, replies, key=key)
        await self._respond(
            body.get("response_url"),
            [
                Notice(
                    text="I'm sending the file to our direct messages. It will be there in a "
                    "moment.",
                    level="success",
                )
            ],
        )
        return True

    async def _on_message(
        self, event: dict[str, Any], context: dict[str, Any], body: dict[str, Any]
    ) -> None:
        """A DM to the bot: a command, or the next answer of a chat-mode form."""
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return
        text = (event.get("text") or "").strip()
        if not text:
            return
        _, args = parse_command(text)
        turn = Turn(
            door=Door.SLACK,
            actor=await self._actor(context),
            conversation=DM,
            text=text,
            args=args,
            prefers_chat=True,
        )
        replies = await self._dispatch(turn)
        await self._to_dm(context, replies, key=f"slack:event:{body.get('event_id')}")

    async def _on_home_opened(self, event: dict[str, Any], context: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        await self.refresh_home(context)

    async def refresh_home(self, context: dict[str, Any]) -> None:
        """Publish the person's App Home: their open tasks, fresh from the database."""
        actor = await self._actor(context)
        turn = Turn(door=Door.SLACK, actor=actor, conversation=DM, text="home")
        replies = await self._dispatch(turn)
        client: AsyncWebClient = context["client"]
        try:
            await client.views_publish(user_id=context["user_id"], view=kit.home_view(replies))
        except SlackApiError as exc:
            log.warning("views.publish failed: %s", exc.response.get("error"))

    async def _on_form_page(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], context: dict[str, Any]
    ) -> None:
        """A modal page was sent: answer within Slack's 3 seconds with errors, the next page,
        or the confirmation."""
        view = body.get("view") or {}
        try:
            response_id, page = kit.read_form_metadata(view.get("private_metadata", ""))
        except (ValueError, KeyError, TypeError):
            await ack(response_action="update", view=kit.notice_modal("Convene", [_gone()]))
            return
        values = kit.submitted_values((view.get("state") or {}).get("values") or {})
        submission = Submission(
            response_id=response_id, page=page, values=values, intent=Intent.NEXT
        )
        turn = Turn(
            door=Door.SLACK,
            actor=await self._actor(context),
            conversation=DM,
            submission=submission,
        )
        replies = await self._dispatch(turn)
        form = next((r for r in replies if isinstance(r, FormView)), None)
        if form is not None and form.errors and form.page_index == page:
            await ack(response_action="errors", errors=dict(form.errors))
            return
        if form is not None:
            notices = [r for r in replies if isinstance(r, Notice)]
            await ack(response_action="update", view=kit.form_modal(form, notices))
            return
        only = replies[0] if len(replies) == 1 else None
        first_field = next(iter(values), None)
        if isinstance(only, Notice) and only.level == "error" and first_field:
            # Nothing was saved (refused, closed, or the database failed): keep the modal open.
            await ack(response_action="errors", errors={first_field: only.text})
            return
        await ack(response_action="update", view=kit.notice_modal("Saved", replies))
        await self._to_dm(context, replies, key=f"slack:submitted:{response_id}:{view.get('id')}")
        await self.refresh_home(context)

    async def _on_form_closed(self, ack: Callable[..., Awaitable[None]]) -> None:
        await ack()

    async def _on_action(
        self,
        ack: Callable[..., Awaitable[None]],
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        context: dict[str, Any],
    ) -> None:
        await ack()
        actor = await self._actor(context)
        name = kit.action_name(action.get("action_id", ""))
        view = body.get("view") or {}
        in_modal = view.get("type") == "modal"
        if name in ("form.back", "form.save") and in_modal:
            await self._navigate_form(
                client, view, actor, Intent.BACK if name == "form.back" else Intent.SAVE
            )
            await self.refresh_home(context)
            return
        if name == "filter":
            _, command, filter_name = action["action_id"].split(kit.ACTION_SEPARATOR)
            chosen = (action.get("selected_option") or {}).get("value", "-")
            args = {} if chosen == "-" else {filter_name: chosen}
            turn = Turn(door=Door.SLACK, actor=actor, conversation=DM, text=command, args=args)
        elif name.startswith("cmd."):
            text = f"{name.removeprefix('cmd.')} {action.get('value') or ''}".strip()
            if actor is not None and self.services.router.opens_form(text):
                opened = await self._open_modal(
                    client, body.get("trigger_id", ""), body.get("response_url")
                )
                if opened is not None:
                    _, args = parse_command(text)
                    turn = Turn(door=Door.SLACK, actor=actor, conversation=DM, text=text, args=args)
                    await self._show_in_modal(client, opened, await self._dispatch(turn))
                return
            _, args = parse_command(text)
            turn = Turn(door=Door.SLACK, actor=actor, conversation=DM, text=text, args=args)
        else:
            turn = Turn(
                door=Door.SLACK,
                actor=actor,
                conversation=DM,
                action=Action(id=name, value=action.get("value") or ""),
            )
        replies = await self._dispatch(turn)
        if await self._file_to_dm(
            context, body, replies, key=f"slack:action:{body.get('trigger_id')}"
        ):
            await self.refresh_home(context)
            return
        form = next((r for r in replies if isinstance(r, FormView)), None)
        if form is not None:
            opened = await self._open_modal(
                client, body.get("trigger_id", ""), body.get("response_url")
            )
            if opened is not None:
                await self._show_in_modal(client, opened, replies)
        elif body.get("response_url"):
            await self._respond(body["response_url"], replies)
        else:
            await self._to_dm(context, replies, key=f"slack:action:{body.get('trigger_id')}")
        await self.refresh_home(context)

    async def _navigate_form(
        self, client: AsyncWebClient, view: dict[str, Any], actor: Actor | None, intent: Intent
    ) -> None:
        try:
            response_id, page = kit.read_form_metadata(view.get("private_metadata", ""))
        except (ValueError, KeyError, TypeError):
            return
        values = kit.submitted_values((view.get("state") or {}).get("values") or {})
        submission = Submission(response_id=response_id, page=page, values=values, intent=intent)
        replies = await self._dispatch(
            Turn(door=Door.SLACK, actor=actor, conversation=DM, submission=submission)
        )
        form = next((r for r in replies if isinstance(r, FormView)), None)
        notices = [r for r in replies if isinstance(r, Notice)]
        rendered = kit.form_modal(form, notices) if form else kit.notice_modal("Saved", replies)
        try:
            await client.views_update(view_id=view["id"], hash=view.get("hash"), view=rendered)
        except SlackApiError as exc:
            log.warning("views.update failed: %s", exc.response.get("error"))


def _gone() -> Notice:
    return Notice(text="That form is no longer open, so nothing was saved.", level="error")


def _html(status: int, heading: str, text: str) -> BoltResponse:
    from html import escape

    body = (
        "<!doctype html><html lang='en-GB'><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(heading)}</title><body style='font-family:Arial,sans-serif;"
        f"max-width:40rem;margin:2rem auto;padding:1rem'><h1>{escape(heading)}</h1>"
        f"<p>{escape(text)}</p></body></html>"
    )
    return BoltResponse(
        status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"}
    )
