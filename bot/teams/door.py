"""The Teams door: botbuilder's CloudAdapter on our aiohttp server at `POST /api/messages`.

Works in personal chat, group chat and channels (where Teams only sends the bot
messages that @mention it). Every request's JWT is checked before anything else;
a bad one gets 401 and nothing is stored, and an address that keeps sending bad
ones gets 429 for a while without any more being checked. An activity that is
signed but broken (a field missing, or of the wrong kind) gets 400.

A message or card action goes through the door pipeline (`bot.turns`): who sent it is
found there, and the mark that the activity was handled, the handler's changes and the
replies queued in the outbox commit together. So when the database fails, nothing is kept and Teams gets a 503,
and its retry is handled as if it came first; a retry of an activity that was handled
gets 200 and nothing more. Conversation references go into the database so proactive
messages survive restarts. Replies go out through the outbox; card actions
(`Action.Execute`) are answered in the HTTP response, which replaces the card in place.
Who sent an activity and its conversation reference are `identity.py`'s; what a card
asks for is `card_actions.py`'s; the token checks are `auth.py`'s.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

import aiohttp
import requests
from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes

from bot.chat_files import FileFetcher, Hosts, host_of
from bot.core.reply import FormView, Notice, Reply
from bot.core.turn import Attachment, Turn, parse_command
from bot.guard import LogOnce, client_address, too_many
from bot.services import Services
from bot.teams import cards as kit
from bot.teams.activity import UPDATES, problem, without_bot_mention
from bot.teams.auth import BadTokens, ReusingAuthentication
from bot.teams.card_actions import turn_for_card
from bot.teams.files import has_files, offered_in
from bot.teams.identity import TeamsPeople, tenant_of
from bot.teams.sender import TeamsSender
from bot.turns import (
    DatabaseDown,
    Delivery,
    DoorPipeline,
    Event,
    FollowUps,
    ReplyRoute,
    TurnOutcome,
    queue_replies,
)
from storage.models import Door

log = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
WELCOME = (
    "Hello, I'm Convene. I help councils and local charities plan services together. "
    "Type help to see what I can do."
)
NOT_AN_ACTIVITY = "That is not a Bot Framework activity."
DATABASE_DOWN = "Convene can't reach its database right now. Please try again."
OUT_OF_DATE = "That card is out of date, so nothing was saved. Type help to start again."


def is_shared(activity: Activity) -> bool:
    """Whether other people read this conversation: a channel or a group chat."""
    kind = activity.conversation.conversation_type if activity.conversation else None
    return kind in ("channel", "groupChat")


class EarlyAnswer(Exception):
    """Ends a turn with a plain HTTP answer to Teams.

    botbuilder's adapter hands a turn's errors to `on_turn_error`, where they would be
    lost, and answers an invoke that set no response with 501. A turn that can't be
    handled now (the database is down: 503, so Teams tries again) or was handled before
    (a retry: 200) raises this instead, and `TeamsDoor.handle` gives the answer.
    """

    def __init__(self, status: int, error: str | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.error = error

    def response(self) -> web.Response:
        if self.error is None:
            return web.Response(status=self.status)
        return web.json_response({"error": self.error}, status=self.status)


def database_down() -> EarlyAnswer:
    return EarlyAnswer(503, DATABASE_DOWN)


def reply_key(kind: str, conversation_id: str, activity_id: str | None) -> str:
    """The outbox key of a reply to an activity. Teams message ids are unique only within
    one conversation, so the conversation is part of it (hashed: ids are long)."""
    where = hashlib.sha256(conversation_id.encode()).hexdigest()[:16]
    return f"teams:{kind}:{where}:{activity_id}"


def _finishes_form(replies: list[Reply]) -> bool:
    return not any(isinstance(r, FormView) for r in replies) and any(
        r.kind in ("message", "file") for r in replies
    )


class AdaptiveCards:
    """The Teams door's renderer: neutral replies as Adaptive Cards, one per message."""

    def render(self, replies: Sequence[Reply]) -> list[dict[str, Any]]:
        return kit.cards(list(replies))


class TeamsDoor:
    platform = Door.TEAMS
    renderer = AdaptiveCards()

    def __init__(self, services: Services, pipeline: DoorPipeline) -> None:
        self.services = services
        self.pipeline = pipeline
        self.auth = ReusingAuthentication(services.settings)
        self.adapter = CloudAdapter(self.auth)
        self.adapter.on_turn_error = self._on_turn_error
        self.sender = TeamsSender(services, self.auth.credentials)
        self.people = TeamsPeople(pipeline, changed=self.sender.forget_service_url)
        self.http: aiohttp.ClientSession | None = None
        settings = services.settings
        self.fetcher = FileFetcher(settings.upload_max_bytes, settings.chat_file_timeout_seconds)
        self.bad_tokens = BadTokens(services.settings.bad_requests_per_minute)
        self._warn = LogOnce(log, 60.0)

    def mount(self, app: web.Application) -> None:
        app.router.add_post("/api/messages", self.handle)

    async def start(self) -> None:
        self.http = aiohttp.ClientSession()
        self.sender.use_session(self.http)

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()

    # --- the endpoint ----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        settings = self.services.settings
        address = client_address(request, settings.trusted_proxy_networks)
        wait = self.bad_tokens.wait(address)
        if wait is not None:
            self._warn.warning("too many bad Teams tokens; answering 429", address)
            return too_many(wait)
        header = request.headers.get("Authorization", "")
        if settings.teams_authenticated and not header.startswith("Bearer "):
            return self._refuse(address)
        try:
            body = await request.json()
        except Exception:  # not JSON, or not text at all
            body = None
        if not isinstance(body, dict):
            return web.json_response({"error": NOT_AN_ACTIVITY}, status=400)
        try:
            # botbuilder reads only None as "no header" (authentication off, local trials);
            # an empty string is validated as a token, and fails. The token is checked
            # against the activity's channel and service URL, and nothing else of it.
            result = await self.auth.authenticate_request(_signed_part(body), header or None)
        except requests.RequestException:
            log.warning("could not fetch the Bot Framework signing keys")
            return web.json_response({"error": "try again"}, status=503)
        except Exception:
            # Whatever the validator could not accept is refused: PyJWT errors, PermissionError,
            # IndexError for an unknown kid, and a plain Exception for an unendorsed channel.
            return self._refuse(address)
        wrong = problem(body)
        if wrong is not None:
            return web.json_response({"error": wrong}, status=400)
        try:
            activity = Activity().deserialize(body)
        except Exception:
            return web.json_response({"error": NOT_AN_ACTIVITY}, status=400)
        try:
            invoke = await self.adapter.process_activity(result, activity, self._on_turn)
        except EarlyAnswer as answer:
            return answer.response()
        except Exception:
            log.exception("a Teams turn failed")
            return web.json_response({"error": "internal"}, status=500)
        if invoke is None:
            return web.Response(status=200)
        if invoke.body is None:
            return web.Response(status=invoke.status)
        return web.json_response(invoke.body, status=invoke.status)

    def _refuse(self, address: str) -> web.Response:
        """401 for a bad token, said once a minute per address in the log, in our own words
        (never the token or the body); 429 once the address has had too many."""
        self._warn.warning("refused a Teams request with a bad token", address)
        if self.bad_tokens.refused(address):
            return too_many(self.bad_tokens.wait(address) or 1)
        return web.json_response({"error": "unauthorised"}, status=401)

    async def _on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        if isinstance(error, EarlyAnswer):
            raise error
        log.exception("error in a Teams turn", exc_info=error)

    # --- a turn ----------------------------------------------------------------------------

    async def _on_turn(self, turn_context: TurnContext) -> None:
        try:
            await self._read(turn_context)
        except DatabaseDown as exc:
            raise database_down() from exc

    async def _read(self, turn_context: TurnContext) -> None:
        """The activity as a turn for the pipeline, or the door's own answer."""
        activity = turn_context.activity
        kind = activity.type
        if kind == ActivityTypes.message:
            await self.people.remember(activity)
            if isinstance(activity.value, dict):
                await self._card_submitted(activity)
            else:
                await self._message(activity)
        elif kind == ActivityTypes.invoke and activity.name == "adaptiveCard/action":
            await self.people.remember(activity)
            await self._card_executed(turn_context)
        elif kind in UPDATES:
            await self.people.remember(activity)
            if self._bot_arrived(activity):
                key = f"teams:welcome:{activity.id or activity.conversation.id}"
                await self._queue_own(activity, [Notice(text=WELCOME)], key=key)
        elif kind == ActivityTypes.invoke:
            # Another kind of invoke (Convene's app asks for none): acknowledged like any
            # activity we don't handle, where botbuilder would answer 501 and Teams retry.
            log.info("ignoring a Teams invoke Convene does not handle")
            await turn_context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200))
            )
        else:
            log.info("ignoring a Teams activity of a type Convene does not handle")

    def _bot_arrived(self, activity: Activity) -> bool:
        if activity.type == ActivityTypes.installation_update:
            # Teams sends a conversationUpdate naming the bot for the same install (welcome
            # there, once), and "add-upgrade" on every app upgrade (no welcome at all).
            return False
        bot_id = activity.recipient.id if activity.recipient else None
        return any(m.id == bot_id for m in activity.members_added or [])

    async def _message(self, activity: Activity) -> None:
        text = without_bot_mention(activity).strip()
        with_files = has_files(activity.attachments)
        if not text and not with_files:
            return
        _, args = parse_command(text)
        turn = Turn(
            door=Door.TEAMS,
            actor=None,
            conversation=activity.conversation.id,
            text=text or None,
            args=args,
            shared=is_shared(activity),
        )
        if with_files:
            # Who sent them first: nobody else's files are fetched. A database failure is
            # a 503 (see `_on_turn`), so Teams sends the message again.
            actor = await self.pipeline.actor(Door.TEAMS, lambda: self.people.sender_of(activity))
            attachments = await self._files(activity) if actor is not None else ()
            turn = replace(turn, actor=actor, attachments=attachments)
        await self._run(activity, turn, self._route(activity, self._key("msg", activity)))

    async def _files(self, activity: Activity) -> tuple[Attachment, ...]:
        """The files sent with a message, fetched before Teams is answered (within the
        fetch time limit, well inside the 15 seconds Teams waits): downloads from the
        allowed download hosts with no token, inline images from the activity's own Bot
        Connector with the bot's token (see `bot.teams.files`)."""
        assert self.http is not None, "TeamsDoor.start() was not called"
        offered = offered_in(activity.attachments)
        downloads = Hosts.parse(self.services.settings.teams_files_hosts)
        connector = Hosts([host_of(activity.service_url)])
        token = await self._connector_headers() if any(on for _, on in offered) else {}
        pairs = [
            (replace(file, headers=token), connector) if on_connector else (file, downloads)
            for file, on_connector in offered
        ]
        return await self.fetcher.fetch_all(self.http, pairs)

    async def _connector_headers(self) -> dict[str, str]:
        """The bot's Bot Connector token, as the sender uses it; none when the bot runs
        without an app id (local trials) or the token can't be had now (the images are then
        unreadable, and the person is told)."""
        credentials = self.auth.credentials
        if not credentials.app_id:
            return {}
        try:
            token = await credentials.credentials().token()
        except Exception as exc:  # MSAL, the network: the files are unreadable, no crash
            log.warning("could not get a Bot Connector token for a file (%s)", type(exc).__name__)
            return {}
        return {"Authorization": f"Bearer {token}"}

    async def _card_executed(self, turn_context: TurnContext) -> None:
        """Action.Execute: answer with the card that replaces the one pressed."""
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        raw_action = value.get("action")
        action: dict[str, Any] = raw_action if isinstance(raw_action, dict) else {}
        data = action.get("data")
        verb = action.get("verb")
        turn = turn_for_card(
            activity.conversation.id,
            data if isinstance(data, dict) else {},
            verb if isinstance(verb, str) else None,
        )
        if turn is not None:
            turn = replace(turn, shared=is_shared(activity))
        if turn is None:
            replies: list[Reply] = [Notice(text=OUT_OF_DATE, level="error")]
        else:
            # The pressed card shows the answer (it is the HTTP response). When the answer
            # ends a form, a copy goes into the chat too, so the confirmation stays after the
            # card changes again; it is queued with the rest of the turn.
            copy = self._route(activity, self._key("done", activity))

            def chat_copy(answer: list[Reply]) -> list[tuple[ReplyRoute, list[Reply]]]:
                return [(copy, answer)] if _finishes_form(answer) else []

            outcome = await self._run(activity, turn, None, also=chat_copy)
            replies = outcome.replies
        rendered = kit.cards(replies) or [kit.card([kit.text("Done.")])]
        await turn_context.send_activity(
            Activity(
                type=ActivityTypes.invoke_response,
                value=InvokeResponse(
                    status=200,
                    body={"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": rendered[0]},
                ),
            )
        )

    async def _card_submitted(self, activity: Activity) -> None:
        """Action.Submit (older clients): replace the card through the outbox."""
        key = self._key("submit", activity)
        turn = turn_for_card(activity.conversation.id, activity.value)
        if turn is not None:
            turn = replace(turn, shared=is_shared(activity))
        if activity.reply_to_id:
            route = self._route(activity, key, op="update", ref=activity.reply_to_id)
        else:
            route = self._route(activity, key)
        if turn is None:
            await self._queue_own(activity, [Notice(text=OUT_OF_DATE, level="error")], route=route)
            return
        await self._run(activity, turn, route)

    async def _run(
        self,
        activity: Activity,
        turn: Turn,
        route: ReplyRoute | None,
        *,
        also: FollowUps | None = None,
    ) -> TurnOutcome:
        """Run the turn through the door pipeline: once, with who sent it, its replies
        queued with it. A database failure is a 503 and a retry of a handled activity a
        200, so Teams tries again or stops."""
        outcome = await self.pipeline.run(
            Delivery(
                turn,
                identify=lambda: self.people.sender_of(activity),
                event=Event("teams", f"{activity.conversation.id}|{activity.id}"),
                route=route,
                also=also,
            )
        )
        if outcome.failed:
            raise database_down()
        if outcome.duplicate:
            raise EarlyAnswer(200)
        return outcome

    @staticmethod
    def _key(kind: str, activity: Activity) -> str:
        return reply_key(kind, activity.conversation.id, activity.id)

    def _route(
        self,
        activity: Activity,
        key: str,
        *,
        op: Literal["post", "update"] = "post",
        ref: str | None = None,
    ) -> ReplyRoute:
        """Replies to the conversation the activity came from."""
        return ReplyRoute(
            door=Door.TEAMS,
            address=activity.conversation.id,
            workspace_id=tenant_of(activity),
            key=key,
            op=op,
            ref=ref,
        )

    async def _queue_own(
        self,
        activity: Activity,
        replies: list[Reply],
        *,
        key: str | None = None,
        route: ReplyRoute | None = None,
    ) -> None:
        """The door's own words (a welcome, a card that is out of date): queued on their own,
        since no handler ran. Its key makes a retry harmless."""
        route = route or self._route(activity, key or self._key("own", activity))
        if not await queue_replies(self.services, route, replies):
            raise database_down()
        self.pipeline.kick()


def _signed_part(body: dict[str, Any]) -> Activity:
    """The part of an activity its token is checked against: its channel and service URL."""
    channel = body.get("channelId")
    service_url = body.get("serviceUrl")
    return Activity(
        channel_id=channel if isinstance(channel, str) else None,
        service_url=service_url if isinstance(service_url, str) else None,
    )
