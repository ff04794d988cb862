"""The Slack door: two slack-bolt `AsyncApp`s behind one gate, mounted on our aiohttp server.

Events, slash commands and interactivity all arrive at `POST /slack/events`. The gate
(`bot/slack/gate.py`) checks the size, the signature and the shape of every request
before anything is parsed or stored; Bolt's own check is off. Then the request goes to
one of two Bolt apps, which share one Web API client:

- Slash commands and interactivity are answered first (`ack`) and worked on after, as
  Slack wants an answer within 3 seconds and a modal's trigger id expires in 3 seconds.
- Events (a direct message, the Home tab opened, the app removed) are handled *before*
  Slack is answered. Each message is one unit of work (`bot.turns.run_turn`): the mark
  that the event was handled, the handler's changes and the reply queued in the outbox
  commit together. If that fails, Slack gets 503 and sends the event again later, and
  the retry is handled as if it were the first delivery.

When the database can't be reached, a person is told so plainly (`DATABASE_DOWN`) and
nothing is saved; they are never told "we don't know who you are" because of it.
Replies in a DM go through the outbox like every other outbound message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from html import escape
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.exc import SQLAlchemyError

from bot.core.reply import FormView, Notice, Reply, file_offer_in
from bot.core.turn import Action, Actor, Door, Intent, Submission, Turn, parse_command
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.slack import blocks as kit
from bot.slack.errors import FAILED_CALL, error_code
from bot.slack.gate import SlackGate
from bot.slack.identity import slack_actor
from bot.slack.sender import SlackSender, SlackTokens
from bot.turns import Event, ReplyRoute, TurnOutcome, database_down, run_turn
from storage.workspaces import mark_workspace_installed, mark_workspace_removed

log = logging.getLogger(__name__)

COMMAND = "/convene"
#: What the code calls needs (the manifest asks for exactly these; a test checks both ways):
#: chat:write.public to post invitations in a council's channel without being invited
#: first, and channels:/groups:history for the sender to check, after a crash, whether a
#: message to a channel already landed (im:history does the same for direct messages).
BOT_SCOPES = (
    "channels:history",
    "chat:write",
    "chat:write.public",
    "commands",
    "files:write",
    "groups:history",
    "im:history",
    "im:write",
    "users:read",
    "users:read.email",
)
#: app_uninstalled and tokens_revoked tell us to stop sending to a workspace.
BOT_EVENTS = ("app_home_opened", "app_uninstalled", "message.im", "tokens_revoked")
DM = "dm"  # chat-mode conversations with the bot live in the person's DM

#: Bolt's own log lines can carry a request's payload (an unhandled request's fields, a
#: dialog's submission). They go to this logger, which says only errors; Convene logs
#: what it needs in its own words (see `SlackDoor._bolt_failed`).
BOLT_LOGGER = "convene.slack.bolt"
#: What Bolt shows a person whose workspace has no installation any more.
NOT_INSTALLED = (
    "Convene is not installed in this Slack workspace any more. "
    "Ask your Slack admin to add it again."
)
#: Where a person's reply goes, worked out from the replies once they are made.
Destination = Callable[[list[Reply]], bool]


class DatabaseDown(Exception):
    """The database failed while finding out who is acting: say so, do nothing else."""


class SlackDoor:
    """Builds the gate and both Bolt apps for our settings, and registers every listener."""

    def __init__(self, services: Services, outbox: OutboxSender) -> None:
        self.services = services
        self.outbox = outbox
        settings = services.settings
        assert settings.slack_signing_secret is not None
        signing_secret = settings.slack_signing_secret.get_secret_value()
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
        self.gate = SlackGate(settings, signing_secret)
        bolt_logger = logging.getLogger(BOLT_LOGGER)
        bolt_logger.setLevel(logging.ERROR)
        shared: dict[str, Any] = {
            "signing_secret": signing_secret,
            "client": self.client,
            "oauth_settings": oauth_settings,
            "request_verification_enabled": False,  # the gate has checked it
            "raise_error_for_unhandled_request": True,  # so `_bolt_failed` logs it, not Bolt
            "logger": bolt_logger,
            "user_facing_authorize_error_message": NOT_INSTALLED,
        }
        #: Slash commands and interactivity: acknowledged first, then worked on.
        self.app = AsyncApp(process_before_response=False, **shared)
        #: The Events API: handled before Slack is answered, so a failure gets a retry.
        self.events = AsyncApp(process_before_response=True, **shared)
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
        """Every request from Slack: through the gate, then to the app for its kind."""
        admitted = await self.gate.admit(request)
        if isinstance(admitted, web.Response):
            return admitted
        bolt_request = AsyncBoltRequest(
            body=admitted.text,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]
        )
        app = self.events if admitted.is_event else self.app
        try:
            answer = await app.async_dispatch(bolt_request)
        except (TypeError, AttributeError, KeyError, IndexError, ValueError):
            # The gate checks every field Convene and Bolt are known to read; should Bolt
            # still trip over a signed body's shape, it is the body that is wrong (400),
            # and what it said stays out of the log.
            log.warning("Slack sent a signed request Bolt could not read; refused")
            return web.Response(status=400, text="That request could not be read.")
        return await to_aiohttp_response(answer)

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
        team_id = installation.team_id or ""
        await mark_workspace_installed(
            self.services.db,
            Door.SLACK,
            team_id,
            name=installation.team_name,
            at=self.services.clock.now(),
        )
        self.sender.forget_workspace(team_id)
        name = installation.team_name or "your workspace"
        return _html(
            200,
            "Convene is installed",
            f"Convene is now in {name}. Open Slack and type /convene help to start.",
        )

    async def _install_failed(self, args: AsyncFailureArgs) -> BoltResponse:
        log.warning("Slack install failed: %s", _word(str(args.reason)))
        return _html(
            args.suggested_status_code,
            "Convene could not be installed",
            "Slack did not finish the install. Please go back and try again.",
        )

    # --- listeners ------------------------------------------------------------------------

    def _register(self) -> None:
        app, events = self.app, self.events
        app.use(self._events_to_events_app)
        app.command(COMMAND)(self._on_command)
        app.view(kit.FORM_CALLBACK)(self._on_form_page)
        app.view_closed(kit.FORM_CALLBACK)(self._on_form_closed)
        app.action(re.compile(r".+"))(self._on_action)
        app.error(self._bolt_failed)
        events.event("message")(self._on_message)
        events.event("app_home_opened")(self._on_home_opened)
        events.event("app_uninstalled")(self._on_app_uninstalled)
        events.event("tokens_revoked")(self._on_tokens_revoked)
        events.error(self._bolt_failed)

    async def _events_to_events_app(
        self, req: AsyncBoltRequest, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Over HTTP the gate sends events to the events app. Socket Mode hands everything to
        `self.app`, so events are passed on from here."""
        if body.get("type") == "event_callback":
            return await self.events.async_dispatch(req)
        await next()
        return None

    async def _bolt_failed(
        self,
        error: Exception,
        request: AsyncBoltRequest,
        response: BoltResponse | None,
    ) -> BoltResponse | None:
        """Whatever Bolt could not handle, logged in our words (never the payload).

        A database failure before a listener ran (finding a workspace's installation, in
        several-workspace mode) is told to the person through the response URL, or answered
        503 for an event so that Slack tries again later.
        """
        body = request.body if isinstance(request.body, dict) else {}
        if isinstance(error, BoltUnhandledRequestError):
            log.info("Unhandled Slack request (type %s)", _word(str(body.get("type") or "-")))
            return None
        if isinstance(error, (SQLAlchemyError, OSError)):
            log.error("the database failed on a Slack request (%s)", type(error).__name__)
            if response is None:  # already acknowledged
                return None
            response_url = request.context.response_url
            if isinstance(response_url, str) and response_url:
                await self._respond(response_url, database_down())
                return BoltResponse(status=200, body="")
            return _try_again_later()
        log.error("a Slack listener failed (%s)", type(error).__name__, exc_info=error)
        return None

    async def _actor(self, context: dict[str, Any]) -> Actor | None:
        """Who is acting, or None for somebody Convene does not know and can't place.
        Called after the ack: first contact may ask Slack for a profile.

        Raises `DatabaseDown` when the database fails, so that the person is told that,
        not that we don't know who they are."""
        if "actor" in context:
            actor: Actor | None = context["actor"]
            return actor
        user_id, team_id = context.get("user_id"), context.get("team_id")
        actor = None
        if user_id and team_id:
            try:
                actor = await slack_actor(self.services, context["client"], team_id, user_id)
            except (SQLAlchemyError, OSError) as exc:
                log.error(
                    "could not look up a Slack user: the database failed (%s)", type(exc).__name__
                )
                raise DatabaseDown from exc
        context["actor"] = actor
        return actor

    def _dm(self, context: dict[str, Any], actor: Actor | None, key: str) -> ReplyRoute:
        """The person's DM with the bot, as an outbox address."""
        return ReplyRoute(
            door=Door.SLACK,
            address=str(context.get("user_id")),
            workspace_id=context.get("team_id"),
            person_id=actor.person_id if actor else None,
            key=key,
        )

    async def _run(
        self,
        turn: Turn,
        route: ReplyRoute | None = None,
        *,
        event: Event | None = None,
        to_dm: Destination | None = None,
    ) -> TurnOutcome:
        """Run a turn as one unit of work, its replies queued to `route` in the same one.

        Sometimes whether the replies go to the DM depends on what they are (`to_dm`): an
        export's file does (a response URL can't carry a file), and so does a saved form's
        confirmation, but an answer or the next page of a form does not. `run_turn` decides
        that from the handler's answer, inside the same transaction, so the handling and
        the reply still commit together or not at all.
        """
        if to_dm is None:
            return await run_turn(self.services, turn, event=event, route=route)
        assert route is not None
        dm = route

        def follow_ups(replies: list[Reply]) -> list[tuple[ReplyRoute, Sequence[Reply]]]:
            return [(dm, replies)] if to_dm(replies) else []

        return await run_turn(self.services, turn, event=event, also=follow_ups)

    def _sent(self, outcome: TurnOutcome) -> None:
        if outcome.queued:
            self.outbox.kick()

    async def _on_command(
        self,
        ack: Callable[..., Awaitable[None]],
        body: dict[str, Any],
        client: AsyncWebClient,
        context: dict[str, Any],
    ) -> None:
        await ack()
        text = (body.get("text") or "").strip() or "help"
        response_url = body.get("response_url")
        trigger_id = str(body.get("trigger_id") or "")
        _, args = parse_command(text)
        if self.services.router.opens_form(text):
            # The trigger id lasts 3 seconds: open the modal before any database work.
            opened = await self._open_modal(client, trigger_id, response_url)
            if opened is None:
                return
            try:
                actor = await self._actor(context)
            except DatabaseDown:
                await self._show_in_modal(client, opened, database_down())
                return
            turn = Turn(door=Door.SLACK, actor=actor, conversation=DM, text=text, args=args)
            await self._show_in_modal(client, opened, (await self._run(turn)).replies)
            return
        try:
            actor = await self._actor(context)
        except DatabaseDown:
            await self._respond(response_url, database_down())
            return
        turn = Turn(door=Door.SLACK, actor=actor, conversation=DM, text=text, args=args)
        route = self._dm(context, actor, f"slack:cmd:{trigger_id}")
        if turn.wants_chat and actor is not None:
            outcome = await self._run(turn, route)
            self._sent(outcome)
            if outcome.queued:
                await self._respond(
                    response_url,
                    [Notice(text="I've sent you a direct message with the first question.")],
                )
            else:
                await self._respond(response_url, outcome.replies)
            return
        outcome = await self._run(turn, route, to_dm=_files(actor))
        self._sent(outcome)
        await self._respond(response_url, _sending_file() if outcome.queued else outcome.replies)

    async def _open_modal(
        self, client: AsyncWebClient, trigger_id: str, response_url: str | None
    ) -> dict[str, Any] | None:
        try:
            response = await client.views_open(trigger_id=trigger_id, view=kit.loading_modal())
        except FAILED_CALL as exc:
            log.warning("views.open failed: %s", error_code(exc))
            await self._respond(
                response_url,
                [
                    Notice(
                        text="Sorry, that took too long to open. Please try again.", level="error"
                    )
                ],
            )
            return None
        view = response.get("view")
        return view if isinstance(view, dict) else None

    async def _show_in_modal(
        self, client: AsyncWebClient, view: dict[str, Any], replies: Sequence[Reply]
    ) -> None:
        form = next((r for r in replies if isinstance(r, FormView)), None)
        notices = [r for r in replies if isinstance(r, Notice)]
        rendered = kit.form_modal(form, notices) if form else kit.notice_modal("Convene", replies)
        try:
            await client.views_update(view_id=view["id"], view=rendered)
        except FAILED_CALL as exc:
            log.warning("views.update failed: %s", error_code(exc))

    async def _respond(self, response_url: str | None, replies: Sequence[Reply]) -> None:
        """Answer through the interaction's response URL (ephemeral), on the shared session."""
        if not response_url:
            return
        webhook = AsyncWebhookClient(url=response_url, session=self.http)
        text = kit.fallback_text(replies)
        for part in kit.messages(replies):
            try:
                await webhook.send(text=text, blocks=part, response_type="ephemeral")
            except (
                Exception
            ) as exc:  # the response URL is Slack's; a failure there must not crash us
                log.warning("could not answer through the response URL (%s)", type(exc).__name__)
                return

    async def _on_message(
        self, event: dict[str, Any], context: dict[str, Any], body: dict[str, Any]
    ) -> BoltResponse | None:
        """A DM to the bot: a command, or the next answer of a chat-mode form. Handled before
        Slack is answered; if it can't be, Slack is asked to send it again later."""
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return None
        text = (event.get("text") or "").strip()
        if not text:
            return None
        event_id = str(body.get("event_id"))
        try:
            actor = await self._actor(context)
        except DatabaseDown:
            return _try_again_later()
        _, args = parse_command(text)
        turn = Turn(
            door=Door.SLACK,
            actor=actor,
            conversation=DM,
            text=text,
            args=args,
            prefers_chat=True,
        )
        outcome = await self._run(
            turn,
            self._dm(context, actor, f"slack:event:{event_id}"),
            event=Event("slack", event_id),
        )
        if outcome.failed:
            return _try_again_later()
        self._sent(outcome)
        return None

    async def _on_home_opened(
        self, event: dict[str, Any], context: dict[str, Any]
    ) -> BoltResponse | None:
        if event.get("tab", "home") != "home":
            return None
        return None if await self.refresh_home(context) else _try_again_later()

    async def refresh_home(self, context: dict[str, Any]) -> bool:
        """Publish the person's App Home: their open tasks, fresh from the database.
        False if the database failed (Slack's own failures are only logged: the next
        visit to the tab publishes it again)."""
        try:
            actor = await self._actor(context)
        except DatabaseDown:
            return False
        outcome = await self._run(Turn(door=Door.SLACK, actor=actor, conversation=DM, text="home"))
        if outcome.failed:
            return False
        client: AsyncWebClient = context["client"]
        try:
            await client.views_publish(
                user_id=context["user_id"], view=kit.home_view(outcome.replies)
            )
        except FAILED_CALL as exc:
            log.warning("views.publish failed: %s", error_code(exc))
        return True

    async def _on_app_uninstalled(self, context: dict[str, Any]) -> BoltResponse | None:
        return await self._removed(context)

    async def _on_tokens_revoked(
        self, event: dict[str, Any], context: dict[str, Any]
    ) -> BoltResponse | None:
        """Only the bot's token matters: Convene asks for no person's token."""
        if not (event.get("tokens") or {}).get("bot"):
            return None
        return await self._removed(context)

    async def _removed(self, context: dict[str, Any]) -> BoltResponse | None:
        """Convene was taken out of a workspace: remember it, so nothing more is sent there
        (the outbox marks those messages undeliverable with the reason), and forget the
        workspace's installation. If the database fails, Slack tells us again later."""
        team_id = context.get("team_id")
        if not team_id:
            return None
        try:
            await mark_workspace_removed(
                self.services.db, Door.SLACK, team_id, at=self.services.clock.now()
            )
            if self.installation_store is not None:
                await self.installation_store.async_delete_all(
                    enterprise_id=context.get("enterprise_id"), team_id=team_id
                )
        except (SQLAlchemyError, OSError) as exc:
            log.error("could not record a Slack workspace's removal (%s)", type(exc).__name__)
            return _try_again_later()
        finally:
            self.sender.forget_workspace(team_id)
        log.info("Convene was removed from Slack workspace %s", _word(team_id))
        return None

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
        first_field = next(iter(values), None)
        try:
            actor = await self._actor(context)
        except DatabaseDown:
            await ack(**_page_answer(database_down(), page, first_field))
            return
        submission = Submission(
            response_id=response_id, page=page, values=values, intent=Intent.NEXT
        )
        turn = Turn(door=Door.SLACK, actor=actor, conversation=DM, submission=submission)
        route = self._dm(context, actor, f"slack:submitted:{response_id}:{view.get('id')}")
        outcome = await self._run(
            turn, route, to_dm=lambda replies: _saved(replies, page, first_field)
        )
        await ack(**_page_answer(outcome.replies, page, first_field))
        self._sent(outcome)
        if not outcome.failed and _saved(outcome.replies, page, first_field):
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
        response_url = body.get("response_url")
        trigger_id = str(body.get("trigger_id") or "")
        try:
            actor = await self._actor(context)
        except DatabaseDown:
            await self._respond(response_url, database_down())
            return
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
            _, args = parse_command(text)
            turn = Turn(door=Door.SLACK, actor=actor, conversation=DM, text=text, args=args)
            if actor is not None and self.services.router.opens_form(text):
                opened = await self._open_modal(client, trigger_id, response_url)
                if opened is not None:
                    await self._show_in_modal(client, opened, (await self._run(turn)).replies)
                return
        else:
            turn = Turn(
                door=Door.SLACK,
                actor=actor,
                conversation=DM,
                action=Action(id=name, value=action.get("value") or ""),
            )
        to_dm = _files(actor) if response_url else _files_or_all_but_forms(actor)
        outcome = await self._run(
            turn, self._dm(context, actor, f"slack:action:{trigger_id}"), to_dm=to_dm
        )
        self._sent(outcome)
        replies = outcome.replies
        form = next((r for r in replies if isinstance(r, FormView)), None)
        if outcome.queued and file_offer_in(replies) is not None:
            await self._respond(response_url, _sending_file())
        elif form is not None:
            opened = await self._open_modal(client, trigger_id, response_url)
            if opened is not None:
                await self._show_in_modal(client, opened, replies)
        elif response_url:
            await self._respond(response_url, replies)
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
        outcome = await self._run(
            Turn(door=Door.SLACK, actor=actor, conversation=DM, submission=submission)
        )
        replies = outcome.replies
        form = next((r for r in replies if isinstance(r, FormView)), None)
        notices = [r for r in replies if isinstance(r, Notice)]
        rendered = kit.form_modal(form, notices) if form else kit.notice_modal("Saved", replies)
        try:
            await client.views_update(view_id=view["id"], hash=view.get("hash"), view=rendered)
        except FAILED_CALL as exc:
            log.warning("views.update failed: %s", error_code(exc))


def _files(actor: Actor | None) -> Destination:
    """Replies go to the DM only if they offer a file (and we know who for)."""
    return lambda replies: actor is not None and file_offer_in(replies) is not None


def _files_or_all_but_forms(actor: Actor | None) -> Destination:
    """With no response URL (a button on the Home tab), everything but a form (which opens
    in a modal) is answered in the DM."""
    return lambda replies: (
        _files(actor)(replies) or not any(isinstance(r, FormView) for r in replies)
    )


def _sending_file() -> list[Reply]:
    return [
        Notice(
            text="I'm sending the file to our direct messages. It will be there in a moment.",
            level="success",
        )
    ]


def _page_answer(replies: Sequence[Reply], page: int, first_field: str | None) -> dict[str, Any]:
    """Slack's `response_action` for a modal page that was sent: the page's errors, the
    next page, or the confirmation."""
    form = next((r for r in replies if isinstance(r, FormView)), None)
    if form is not None and form.errors and form.page_index == page:
        return {"response_action": "errors", "errors": dict(form.errors)}
    if form is not None:
        notices = [r for r in replies if isinstance(r, Notice)]
        return {"response_action": "update", "view": kit.form_modal(form, notices)}
    only = replies[0] if len(replies) == 1 else None
    if isinstance(only, Notice) and only.level == "error" and first_field:
        # Nothing was saved (refused, closed, or the database failed): keep the modal open.
        return {"response_action": "errors", "errors": {first_field: only.text}}
    return {"response_action": "update", "view": kit.notice_modal("Saved", replies)}


def _saved(replies: list[Reply], page: int, first_field: str | None) -> bool:
    """The form was sent and saved: its confirmation also goes to the person's DM."""
    answer = _page_answer(replies, page, first_field)
    return answer["response_action"] == "update" and not any(
        isinstance(r, FormView) for r in replies
    )


def _try_again_later() -> BoltResponse:
    """Slack sends an event again (after a minute, then five) when it gets anything but 200."""
    return BoltResponse(status=503, body="Convene can't handle this right now.")


def _gone() -> Notice:
    return Notice(text="That form is no longer open, so nothing was saved.", level="error")


def _word(value: str) -> str:
    """Something Slack sent, made safe for a log line: short, one word, printable."""
    return "".join(ch for ch in value[:40] if ch.isalnum() or ch in "_-.:") or "-"


def _html(status: int, heading: str, text: str) -> BoltResponse:
    body = (
        "<!doctype html><html lang='en-GB'><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        # The site's own stylesheet: the Content-Security-Policy allows no inline styles.
        "<link rel='stylesheet' href='/static/convene.css'>"
        f"<title>{escape(heading)}</title><body><main><h1>{escape(heading)}</h1>"
        f"<p>{escape(text)}</p></main></body></html>"
    )
    return BoltResponse(
        status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"}
    )
