"""The Teams door: botbuilder's CloudAdapter on our aiohttp server at `POST /api/messages`.

Works in personal chat, group chat and channels (where Teams only sends the bot
messages that @mention it). Every request's JWT is checked before anything else;
a bad one gets 401 and nothing is stored. Conversation references go into the
database so proactive messages survive restarts. Replies go out through the
outbox; card actions (`Action.Execute`) are answered in the HTTP response, which
replaces the card in place.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import requests
from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.chat_identity import ChatProfile, first_contact, known_actor
from bot.core.reply import FormView, Notice, Reply, ReplyList
from bot.core.turn import Action, Actor, Intent, Submission, Turn, parse_command
from bot.outbox.sender import OutboxSender
from bot.services import Services
from bot.teams import cards as kit
from bot.teams.auth import ReusingAuthentication
from bot.teams.sender import TeamsSender
from storage.events import first_delivery
from storage.models import ChatIdentity, Door, TeamsConversation
from storage.outbox import enqueue

log = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
WELCOME = (
    "Hello, I'm Convene. I help councils and local charities plan services together. "
    "Type help to see what I can do."
)


class TeamsDoor:
    def __init__(self, services: Services, outbox: OutboxSender) -> None:
        self.services = services
        self.outbox = outbox
        self.auth = ReusingAuthentication(services.settings)
        self.adapter = CloudAdapter(self.auth)
        self.adapter.on_turn_error = self._on_turn_error
        self.sender = TeamsSender(services, self.auth.credentials)
        outbox.register(self.sender)
        self.http: aiohttp.ClientSession | None = None
        self._references: dict[str, str] = {}  # conversation id -> service URL stored

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
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("not an object")
            activity = Activity().deserialize(body)
        except Exception:  # malformed JSON or not an activity
            return web.json_response({"error": "That is not a Bot Framework activity."}, status=400)
        header = request.headers.get("Authorization", "")
        if self.services.settings.teams_authenticated and not header.startswith("Bearer "):
            return web.json_response({"error": "unauthorised"}, status=401)
        try:
            # botbuilder reads only None as "no header" (authentication off, local trials);
            # an empty string is validated as a token, and fails.
            result = await self.auth.authenticate_request(activity, header or None)
        except requests.RequestException:
            log.warning("could not fetch the Bot Framework signing keys")
            return web.json_response({"error": "try again"}, status=503)
        except Exception as exc:
            # Whatever the validator could not accept is refused: PyJWT errors, PermissionError,
            # IndexError for an unknown kid, and a plain Exception for an unendorsed channel.
            log.info("refused a Teams request: %s", type(exc).__name__)
            return web.json_response({"error": "unauthorised"}, status=401)
        if not await self._first_time(activity):
            return web.Response(status=200)
        try:
            invoke = await self.adapter.process_activity(result, activity, self._on_turn)
        except Exception:
            log.exception("a Teams turn failed")
            return web.json_response({"error": "internal"}, status=500)
        if invoke is not None:
            return web.json_response(invoke.body, status=invoke.status)
        return web.Response(status=200)

    async def _first_time(self, activity: Activity) -> bool:
        """Teams retries an activity that took over 15 seconds: handle each id once."""
        if activity.type not in (ActivityTypes.message, ActivityTypes.invoke) or not activity.id:
            return True
        key = f"{activity.conversation.id if activity.conversation else ''}|{activity.id}"
        if not await first_delivery(self.services.db, "teams", key):
            log.info("Teams activity %s already handled; ignoring the retry", activity.id)
            return False
        return True

    async def _on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        log.exception("error in a Teams turn", exc_info=error)

    # --- a turn ----------------------------------------------------------------------------

    async def _on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        kind = activity.type
        if kind == ActivityTypes.message:
            actor = await self._actor(activity)
            if isinstance(activity.value, dict):
                await self._card_submitted(activity, actor)
            else:
                await self._message(turn_context, actor)
        elif kind == ActivityTypes.invoke and activity.name == "adaptiveCard/action":
            actor = await self._actor(activity)
            await self._card_executed(turn_context, actor)
        elif kind in (ActivityTypes.conversation_update, ActivityTypes.installation_update):
            await self._remember(activity)
            if self._bot_arrived(activity):
                await self._post(
                    activity, [Notice(text=WELCOME)], key=f"teams:welcome:{activity.id}"
                )
        else:
            log.info("ignoring a Teams activity of type %s", kind)

    def _bot_arrived(self, activity: Activity) -> bool:
        if activity.type == ActivityTypes.installation_update:
            # Teams sends a conversationUpdate naming the bot for the same install (welcome
            # there, once), and "add-upgrade" on every app upgrade (no welcome at all).
            return False
        bot_id = activity.recipient.id if activity.recipient else None
        return any(m.id == bot_id for m in activity.members_added or [])

    async def _message(self, turn_context: TurnContext, actor: Actor | None) -> None:
        activity = turn_context.activity
        text = (TurnContext.remove_recipient_mention(activity) or activity.text or "").strip()
        if not text:
            return
        _, args = parse_command(text)
        turn = Turn(
            door=Door.TEAMS,
            actor=actor,
            conversation=activity.conversation.id,
            text=text,
            args=args,
        )
        await self._post(activity, await self._dispatch(turn), key=f"teams:msg:{activity.id}")

    def _turn_for_card(
        self, actor: Actor | None, conversation: str, data: dict[str, Any], verb: str | None = None
    ) -> Turn | None:
        meta = data.get(kit.META) if isinstance(data.get(kit.META), dict) else None
        if meta is None:
            return None
        if "response_id" in meta:
            try:
                submission = Submission(
                    response_id=int(meta["response_id"]),
                    page=int(meta.get("page", 0)),
                    values=kit.submitted_values(data),
                    intent=Intent(str(meta.get("intent", "next")).replace("submit", "next")),
                )
            except (TypeError, ValueError):
                return None
            return Turn(
                door=Door.TEAMS, actor=actor, conversation=conversation, submission=submission
            )
        action = str(meta.get("action") or verb or "")
        if action == "filter":
            args = {
                k.removeprefix("filter_"): str(v)
                for k, v in data.items()
                if k.startswith("filter_") and v
            }
            return Turn(
                door=Door.TEAMS,
                actor=actor,
                conversation=conversation,
                text=str(meta.get("value", "")),
                args=args,
            )
        if action.startswith("cmd."):
            text = f"{action.removeprefix('cmd.')} {meta.get('value') or ''}".strip()
            return Turn(
                door=Door.TEAMS,
                actor=actor,
                conversation=conversation,
                text=text,
                args=parse_command(text)[1],
            )
        return Turn(
            door=Door.TEAMS,
            actor=actor,
            conversation=conversation,
            action=Action(id=action, value=str(meta.get("value") or "")),
        )

    async def _card_replies(
        self, actor: Actor | None, conversation: str, data: Any, verb: str | None = None
    ) -> list[Reply]:
        turn = self._turn_for_card(
            actor, conversation, data if isinstance(data, dict) else {}, verb
        )
        if turn is None:
            return [
                Notice(
                    text="That card is out of date, so nothing was saved. Type help to "
                    "start again.",
                    level="error",
                )
            ]
        return await self._dispatch(turn)

    async def _card_executed(self, turn_context: TurnContext, actor: Actor | None) -> None:
        """Action.Execute: answer with the card that replaces the one pressed."""
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        raw_action = value.get("action")
        action: dict[str, Any] = raw_action if isinstance(raw_action, dict) else {}
        replies = await self._card_replies(
            actor, activity.conversation.id, action.get("data"), action.get("verb")
        )
        rendered = kit.cards(replies) or [kit.card([kit.text("Done.")])]
        if not any(isinstance(r, FormView) for r in replies) and any(
            r.kind == "message" for r in replies
        ):
            # A finished form: the card shows the confirmation; keep a copy in the chat too.
            await self._post(activity, replies, key=f"teams:done:{activity.id}")
        await turn_context.send_activity(
            Activity(
                type=ActivityTypes.invoke_response,
                value=InvokeResponse(
                    status=200,
                    body={"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": rendered[0]},
                ),
            )
        )

    async def _card_submitted(self, activity: Activity, actor: Actor | None) -> None:
        """Action.Submit (older clients): replace the card through the outbox."""
        replies = await self._card_replies(actor, activity.conversation.id, activity.value)
        if activity.reply_to_id:
            await self._queue(
                activity,
                ReplyList(replies=replies, op="update", ref=activity.reply_to_id),
                key=f"teams:submit:{activity.id}",
            )
        else:
            await self._post(activity, replies, key=f"teams:submit:{activity.id}")

    async def _dispatch(self, turn: Turn) -> list[Reply]:
        return await self.services.router.dispatch_safely(turn, self.services)

    # --- people and conversations ----------------------------------------------------------

    @staticmethod
    def _tenant(activity: Activity) -> str:
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        raw_tenant = data.get("tenant")
        tenant: dict[str, Any] = raw_tenant if isinstance(raw_tenant, dict) else {}
        return str(tenant.get("id") or getattr(activity.conversation, "tenant_id", None) or "-")

    async def _actor(self, activity: Activity) -> Actor | None:
        await self._remember(activity)
        sender = activity.from_property
        if sender is None:
            return None
        user = sender.aad_object_id or sender.id
        tenant = self._tenant(activity)
        try:
            actor = await known_actor(self.services, Door.TEAMS, tenant, user)
            if actor is None:
                personal = activity.conversation.conversation_type in (None, "personal")
                data = {"teams_user": sender.id}
                if personal:
                    data["chat_address"] = activity.conversation.id
                actor = await first_contact(
                    self.services,
                    Door.TEAMS,
                    tenant,
                    user,
                    ChatProfile(name=sender.name, data=data),
                )
            return actor
        except SQLAlchemyError:
            log.exception("could not look up a Teams user")
            return None

    async def _remember(self, activity: Activity) -> None:
        """Keep the conversation reference, when this process has not stored it as it is now."""
        conversation = activity.conversation
        if conversation is None or not activity.service_url:
            return
        if self._references.get(conversation.id) == activity.service_url:
            return
        reference = TurnContext.get_conversation_reference(activity).serialize()
        kind = conversation.conversation_type or "personal"
        tenant = self._tenant(activity)
        try:
            async with self.services.db.session() as session:
                row = await session.scalar(
                    select(TeamsConversation)
                    .where(TeamsConversation.conversation_id == conversation.id)
                    .with_for_update()
                )
                if row is None:
                    row = TeamsConversation(
                        conversation_id=conversation.id,
                        kind=kind,
                        service_url=activity.service_url,
                        reference=reference,
                        tenant_id=tenant,
                    )
                    session.add(row)
                else:
                    row.service_url = activity.service_url
                    row.reference = reference
                    row.tenant_id = tenant
                sender = activity.from_property
                if kind == "personal" and sender is not None:
                    identity = await session.scalar(
                        select(ChatIdentity).where(
                            ChatIdentity.platform == Door.TEAMS,
                            ChatIdentity.workspace_id == tenant,
                            ChatIdentity.user_id == (sender.aad_object_id or sender.id),
                        )
                    )
                    if (
                        identity is not None
                        and identity.data.get("chat_address") != conversation.id
                    ):
                        identity.data = {**identity.data, "chat_address": conversation.id}
                        row.person_id = identity.person_id
        except IntegrityError:
            pass  # another replica stored it at the same moment
        self._references[conversation.id] = activity.service_url
        self.sender.forget_service_url(conversation.id)

    # --- sending ---------------------------------------------------------------------------

    async def _post(self, activity: Activity, replies: list[Reply], *, key: str) -> None:
        if replies:
            await self._queue(activity, ReplyList(replies=replies), key=key)

    async def _queue(self, activity: Activity, payload: ReplyList, *, key: str) -> None:
        """Replies go through the outbox like every message, then a send pass starts at once."""
        async with self.services.db.session() as session:
            await enqueue(
                session,
                door=Door.TEAMS,
                address=activity.conversation.id,
                workspace_id=self._tenant(activity),
                payload=payload.model_dump(mode="json"),
                idempotency_key=key[:200],
            )
        self.outbox.kick()
