"""The Slack door: two slack-bolt `AsyncApp`s behind one gate, mounted on our aiohttp server.

Events, slash commands and interactivity all arrive at `POST /slack/events` (or over
Socket Mode, when `SLACK_APP_TOKEN` is set). The gate (`bot/slack/gate.py`) checks the
size, the signature and the shape of every request before anything is parsed or stored;
Bolt's own check is off. Then the request goes to one of two Bolt apps, which share one
Web API client:

- Slash commands and interactivity are answered first (`ack`) and worked on after, as
  Slack wants an answer within 3 seconds and a modal's trigger id expires in 3 seconds.
- Events (a direct message, the Home tab opened, the app removed) are handled *before*
  Slack is answered. Each message goes through the door pipeline (`bot.turns`): the mark
  that the event was handled, the handler's changes and the reply queued in the outbox
  commit together. If that fails, Slack gets 503 and sends the event again later, and
  the retry is handled as if it were the first delivery.

This module only reads Slack's payloads into turns and shows the replies; installs
(`install.py`), who is acting (`identity.py`), the Home tab (`home.py`) and modals
(`modals.py`) have their own. Replies in a DM go through the outbox like every other
outbound message.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.exc import SQLAlchemyError

from bot.chat_files import FileFetcher, Hosts
from bot.core.reply import FormView, Notice, Reply, file_offer_in
from bot.core.router import Router
from bot.core.turn import Action, Actor, Door, Intent, Turn, parse_command
from bot.services import Services
from bot.slack import blocks as kit
from bot.slack import modals
from bot.slack.files import has_files, offered_in
from bot.slack.gate import SlackGate
from bot.slack.home import DM, SlackHome, try_again_later
from bot.slack.identity import acting
from bot.slack.install import BOT_SCOPES as BOT_SCOPES
from bot.slack.install import SlackInstalls, word
from bot.slack.sender import SlackSender, SlackTokens
from bot.turns import (
    DATABASE_DOWN,
    DatabaseDown,
    Delivery,
    DoorPipeline,
    Event,
    ReplyRoute,
    TurnOutcome,
    database_down,
)

log = logging.getLogger(__name__)

COMMAND = "/convene"
#: app_uninstalled and tokens_revoked tell us to stop sending to a workspace.
BOT_EVENTS = ("app_home_opened", "app_uninstalled", "message.im", "tokens_revoked")

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


class BlockKit:
    """The Slack door's renderer: neutral replies as Block Kit messages (one list of
    blocks per message Slack is sent)."""

    def render(self, replies: Sequence[Reply]) -> list[list[dict[str, Any]]]:
        return kit.messages(replies)


class SlackDoor:
    """Builds the gate and both Bolt apps for our settings, and registers every listener."""

    platform = Door.SLACK
    renderer = BlockKit()

    def __init__(self, services: Services, pipeline: DoorPipeline) -> None:
        self.services = services
        self.pipeline = pipeline
        settings = services.settings
        assert settings.slack_signing_secret is not None
        signing_secret = settings.slack_signing_secret.get_secret_value()
        self.installs = SlackInstalls(services, forget=self._forget_workspace)
        oauth_settings = self.installs.oauth_settings
        single_token = (
            settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
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
        self.sender = SlackSender(services, SlackTokens(services, self.installs.store))
        self.home = SlackHome(pipeline)
        self.http: aiohttp.ClientSession | None = None
        self.fetcher = FileFetcher(settings.upload_max_bytes, settings.chat_file_timeout_seconds)
        self.file_hosts = Hosts.parse(settings.slack_files_hosts)
        #: DMs with files, worked on after Slack was answered (see `_on_message`).
        self._file_turns: set[asyncio.Task[None]] = set()
        self._socket_mode: Any = None
        self._register()

    def _forget_workspace(self, team_id: str) -> None:
        self.sender.forget_workspace(team_id)

    async def start(self) -> None:
        """One pooled HTTP session for every call to Slack (slack_sdk opens one per call
        otherwise, which costs a new connection each time); and, with an app-level token,
        the Socket Mode connection that brings Slack's requests without a public address."""
        self.http = aiohttp.ClientSession()
        self.client.session = self.http
        self.sender.use_session(self.http)
        app_token = self.services.settings.slack_app_token
        if app_token is not None:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            self._socket_mode = AsyncSocketModeHandler(self.app, app_token.get_secret_value())
            await self._socket_mode.connect_async()
            log.info("Slack Socket Mode connected")

    async def stop(self) -> None:
        await self.files_done()
        if self._socket_mode is not None:
            await self._socket_mode.close_async()
            self._socket_mode = None
        if self.http is not None:
            await self.http.close()

    async def files_done(self) -> None:
        """Wait for the DMs with files being worked on (each is bounded by the fetch time
        limit), so none is cut off half way when the app stops."""
        while self._file_turns:
            await asyncio.gather(*self._file_turns, return_exceptions=True)

    # --- mounting -------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        app.router.add_post("/slack/events", self.handle_events)
        self.installs.mount(app, self.app.oauth_flow)

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
        events.event("app_home_opened")(self.home.opened)
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
            log.info("Unhandled Slack request (type %s)", word(str(body.get("type") or "-")))
            return None
        if isinstance(error, (SQLAlchemyError, OSError)):
            log.error("the database failed on a Slack request (%s)", type(error).__name__)
            if response is None:  # already acknowledged
                return None
            response_url = request.context.response_url
            if isinstance(response_url, str) and response_url:
                await self._respond(response_url, database_down())
                return BoltResponse(status=200, body="")
            return try_again_later()
        log.error("a Slack listener failed (%s)", type(error).__name__, exc_info=error)
        return None

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
        """Run a turn through the door pipeline, its replies queued to `route`.

        Sometimes whether the replies go to the DM depends on what they are (`to_dm`): an
        export's file does (a response URL can't carry a file), and so does a saved form's
        confirmation, but an answer or the next page of a form does not. The pipeline
        decides that from the handler's answer, inside the same transaction, so the
        handling and the reply still commit together or not at all.
        """
        if to_dm is None:
            return await self.pipeline.run(Delivery(turn, event=event, route=route))
        assert route is not None
        dm = route

        def follow_ups(replies: list[Reply]) -> list[tuple[ReplyRoute, Sequence[Reply]]]:
            return [(dm, replies)] if to_dm(replies) else []

        return await self.pipeline.run(Delivery(turn, event=event, also=follow_ups))

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
            opened = await modals.open_modal(client, trigger_id, response_url, self._respond)
            if opened is None:
                return
            try:
                actor = await acting(self.pipeline, context)
            except DatabaseDown:
                await modals.show_in_modal(client, opened, database_down())
                return
            turn = Turn(door=Door.SLACK, actor=actor, conversation=DM, text=text, args=args)
            await modals.show_in_modal(client, opened, (await self._run(turn)).replies)
            return
        try:
            actor = await acting(self.pipeline, context)
        except DatabaseDown:
            await self._respond(response_url, database_down())
            return
        turn = Turn(door=Door.SLACK, actor=actor, conversation=DM, text=text, args=args)
        route = self._dm(context, actor, f"slack:cmd:{trigger_id}")
        if turn.wants_chat and actor is not None:
            outcome = await self._run(turn, route)
            if outcome.queued:
                await self._respond(
                    response_url,
                    [Notice(text="I've sent you a direct message with the first question.")],
                )
            else:
                await self._respond(response_url, outcome.replies)
            return
        outcome = await self._run(turn, route, to_dm=_files(actor))
        await self._respond(response_url, _sending_file() if outcome.queued else outcome.replies)

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
        Slack is answered; if it can't be, Slack is asked to send it again later.

        A DM with files is the exception: fetching them may take longer than the 3 seconds
        Slack waits, so Slack is answered at once and the files are fetched and the turn
        run after (`_with_files`)."""
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return None
        if event.get("subtype") not in (None, "file_share"):
            return None
        text = (event.get("text") or "").strip()
        if has_files(event):
            work = asyncio.create_task(self._with_files(event, dict(context), body, text))
            self._file_turns.add(work)
            work.add_done_callback(self._file_turns.discard)
            return None
        if not text:
            return None
        event_id = str(body.get("event_id"))
        try:
            actor = await acting(self.pipeline, context)
        except DatabaseDown:
            return try_again_later()
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
            return try_again_later()
        return None

    async def _with_files(
        self, event: dict[str, Any], context: dict[str, Any], body: dict[str, Any], text: str
    ) -> None:
        """A DM with files, after Slack was answered: who sent it, then their files (only
        for somebody Convene knows: nobody else's files are fetched), then the turn with
        the files on it, handled once like any DM.

        Slack will not send this event again, so when the database fails the person is
        told straight away in their DM rather than through the outbox (which is in the
        database too)."""
        event_id = str(body.get("event_id"))
        try:
            try:
                actor = await acting(self.pipeline, context)
            except DatabaseDown:
                await self._apologise(event, context)
                return
            attachments: tuple[Any, ...] = ()
            if actor is not None:
                token = context.get("bot_token") or await self.sender.tokens.bot_token(
                    context.get("team_id")
                )
                assert self.http is not None, "SlackDoor.start() was not called"
                offered = [(file, self.file_hosts) for file in offered_in(event, token)]
                attachments = await self.fetcher.fetch_all(self.http, offered)
            _, args = parse_command(text)
            turn = Turn(
                door=Door.SLACK,
                actor=actor,
                conversation=DM,
                text=text or None,
                args=args,
                prefers_chat=True,
                attachments=attachments,
            )
            outcome = await self._run(
                turn,
                self._dm(context, actor, f"slack:event:{event_id}"),
                event=Event("slack", event_id),
            )
            if outcome.failed:
                await self._apologise(event, context)
        except Exception:  # a task nobody awaits: say what failed here, never lose it silently
            log.exception("a Slack DM with files failed")

    async def _apologise(self, event: dict[str, Any], context: dict[str, Any]) -> None:
        """Nothing was saved and Slack won't send the message again: say so in the DM."""
        channel = event.get("channel")
        token = context.get("bot_token") or await self.sender.tokens.bot_token(
            context.get("team_id")
        )
        if not isinstance(channel, str) or not token:
            return
        try:
            await self.client.chat_postMessage(channel=channel, text=DATABASE_DOWN, token=token)
        except Exception as exc:  # Slack's side; nothing more we can do
            log.warning("could not tell a person their file was not saved (%s)", type(exc).__name__)

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
        """Convene was taken out of a workspace (see `SlackInstalls.removed`). If the
        database fails, Slack tells us again later."""
        team_id = context.get("team_id")
        if not team_id:
            return None
        if not await self.installs.removed(team_id, context.get("enterprise_id")):
            return try_again_later()
        return None

    async def _on_form_page(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], context: dict[str, Any]
    ) -> None:
        """A modal page was sent: answer within Slack's 3 seconds with errors, the next page,
        or the confirmation."""
        view = body.get("view") or {}
        submission = modals.submission_in(view, Intent.NEXT)
        if submission is None:
            await ack(response_action="update", view=kit.notice_modal("Convene", [modals.gone()]))
            return
        response_id, page = submission.response_id, submission.page
        first_field = next(iter(submission.values), None)
        try:
            actor = await acting(self.pipeline, context)
        except DatabaseDown:
            await ack(**modals.page_answer(database_down(), page, first_field))
            return
        turn = Turn(door=Door.SLACK, actor=actor, conversation=DM, submission=submission)
        route = self._dm(context, actor, f"slack:submitted:{response_id}:{view.get('id')}")
        outcome = await self._run(
            turn, route, to_dm=lambda replies: modals.saved(replies, page, first_field)
        )
        await ack(**modals.page_answer(outcome.replies, page, first_field))
        if not outcome.failed and modals.saved(outcome.replies, page, first_field):
            await self.home.refresh(context)

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
            actor = await acting(self.pipeline, context)
        except DatabaseDown:
            await self._respond(response_url, database_down())
            return
        name = kit.action_name(action.get("action_id", ""))
        view = body.get("view") or {}
        in_modal = view.get("type") == "modal"
        if name in ("form.back", "form.save") and in_modal:
            await modals.navigate_form(
                self.pipeline,
                client,
                view,
                actor,
                Intent.BACK if name == "form.back" else Intent.SAVE,
            )
            if name == "form.save":  # a saved draft shows on Home; going back changes nothing
                await self.home.refresh(context)
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
                opened = await modals.open_modal(client, trigger_id, response_url, self._respond)
                if opened is not None:
                    await modals.show_in_modal(client, opened, (await self._run(turn)).replies)
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
        replies = outcome.replies
        form = next((r for r in replies if isinstance(r, FormView)), None)
        if outcome.queued and file_offer_in(replies) is not None:
            await self._respond(response_url, _sending_file())
        elif form is not None:
            opened = await modals.open_modal(client, trigger_id, response_url, self._respond)
            if opened is not None:
                await modals.show_in_modal(client, opened, replies)
        elif response_url:
            await self._respond(response_url, replies)
        if view.get("type") == "home" or _may_change_home(name, turn, self.services.router):
            await self.home.refresh(context)


def _may_change_home(name: str, turn: Turn, router: Router) -> bool:
    """Whether a button may have changed what Home shows, so it is published again.

    A filter or a command that only shows something changes nothing; a command that
    changes things, or a feature's own button (a decision, an attendance mark), may. A
    press on the Home tab itself always publishes it again, so the tab answers the press.
    """
    if name == "filter":
        return False
    if name.startswith("cmd."):
        return router.changes_things(turn.text or "")
    return True


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
