"""Activities shaped the way Microsoft Teams POSTs them to a bot's ``/api/messages``.

Plain JSON dicts (camelCase, as on the wire), built by `TeamsActivities`, which holds
what every activity shares: the serviceUrl, the bot (``recipient``, id ``28:<app id>``)
and the tenant (``conversation.tenantId`` and ``channelData.tenant.id``). Users are
`TeamsUser` values (``from.id`` ``29:...`` plus ``from.aadObjectId``).

Typical use with the fake::

    teams = TeamsActivities.from_fake(fake)
    activity = teams.personal_message("hello")
    response = await fake.send_to_bot(bot_url, activity)
    card_id = fake.activities_in(activity["conversation"]["id"])[0]["id"]
    invoke = teams.card_execute("submit", {"name": "x"}, reply_to_id=card_id)

Scopes: ``"personal"`` (1:1 chat, conversation id ``a:...``), ``"groupChat"``
(``19:...@thread.v2``) and ``"team"`` (a channel, ``19:...@thread.tacv2``; a channel
post's conversation id carries ``;messageid=<root post id>``).
"""

from __future__ import annotations

import hashlib
import itertools
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from tests.support.fake_botframework import BOT_NAME, DEFAULT_APP_ID, DEFAULT_TENANT_ID

if TYPE_CHECKING:
    from tests.support.fake_botframework import FakeBotFramework

Json = dict[str, Any]
Scope = Literal["personal", "groupChat", "team"]

#: What a real Teams serviceUrl looks like (trailing slash included).
DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/amer/"
DEFAULT_TEAM_ID = "19:Kx3oVzQ0n5rkQ9Xv2mW8bLs7TqY1dJcH@thread.tacv2"
DEFAULT_TEAM_AAD_GROUP_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"
DEFAULT_TEAM_NAME = "Commissioning"
DEFAULT_CHANNEL_ID = "19:Pq7rS2tU4vW6xY8zA1bC3dE5fG7hJ9kL@thread.tacv2"
DEFAULT_GROUP_CHAT_ID = "19:3b6d0c1e5f4a4e2b9c8d7a6f5e4d3c2b@thread.v2"

_message_ids = itertools.count(int(time.time() * 1000))


@dataclass(frozen=True)
class TeamsUser:
    """A Teams user as activities show them (``from`` / ``members``)."""

    id: str
    name: str
    aad_object_id: str
    email: str | None = None

    def account(self) -> Json:
        """The ChannelAccount JSON Teams sends for this user."""
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}


ALICE = TeamsUser(
    id="29:1AliceQ7n3vXyZkLmN0pQrStUvWxYz12345AbCdEfGhIjKlMnOpQrSt",
    name="Alice Adeyemi",
    aad_object_id="a11ce000-0000-4000-8000-000000000001",
    email="alice@council.example.gov.uk",
)
BOB = TeamsUser(
    id="29:1BobR8m4wYzAbMnO1qRsTuVwXyZa23456BcDeFgHiJkLmNoPqRsTu",
    name="Bob Brennan",
    aad_object_id="b0b00000-0000-4000-8000-000000000002",
    email="bob@charity.example.org.uk",
)


def next_message_id() -> str:
    """A Teams-style message id (milliseconds since the epoch, increasing)."""
    return str(next(_message_ids))


def _event_id() -> str:
    # Non-message activities (invokes, conversation updates) have ids like "f:<guid>".
    return f"f:{uuid.uuid4()}"


def _now() -> tuple[str, str]:
    now = datetime.now(UTC)
    return (
        now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+00:00",
    )


@dataclass
class TeamsActivities:
    """Builds Teams activities for one bot, tenant and serviceUrl."""

    service_url: str = DEFAULT_SERVICE_URL
    bot_app_id: str = DEFAULT_APP_ID
    bot_name: str = BOT_NAME
    tenant_id: str = DEFAULT_TENANT_ID
    locale: str = "en-GB"
    timezone: str = "Europe/London"
    team_id: str = DEFAULT_TEAM_ID
    team_name: str = DEFAULT_TEAM_NAME
    channel_id: str = DEFAULT_CHANNEL_ID
    group_chat_id: str = DEFAULT_GROUP_CHAT_ID

    @classmethod
    def from_fake(cls, fake: FakeBotFramework, **overrides: Any) -> TeamsActivities:
        """Builders aimed at a `FakeBotFramework` (its serviceUrl, app id and tenant)."""
        values: dict[str, Any] = {
            "service_url": fake.service_url,
            "bot_app_id": fake.app_id,
            "tenant_id": fake.tenant_id,
        }
        values.update(overrides)
        return cls(**values)

    # ------------------------------------------------------------------ shared pieces

    @property
    def bot_id(self) -> str:
        """The bot's channel account id in Teams: ``28:<app id>``."""
        return f"28:{self.bot_app_id}"

    def bot_account(self) -> Json:
        """The ChannelAccount JSON of the bot (the ``recipient`` of inbound activities)."""
        return {"id": self.bot_id, "name": self.bot_name}

    def personal_conversation_id(self, user: TeamsUser = ALICE) -> str:
        """The 1:1 conversation id between `user` and the bot (stable, like Teams')."""
        digest = hashlib.sha256(f"{self.tenant_id}|{user.id}|{self.bot_id}".encode()).hexdigest()
        return f"a:1{digest[:60]}"

    def channel_thread_id(self, root_message_id: str, channel_id: str | None = None) -> str:
        """The conversation id of a channel thread: ``<channel id>;messageid=<root id>``."""
        return f"{channel_id or self.channel_id};messageid={root_message_id}"

    def mention_entity(self) -> Json:
        """The ``mention`` entity Teams adds when the bot is @mentioned."""
        return {
            "type": "mention",
            "text": f"<at>{self.bot_name}</at>",
            "mentioned": {"id": self.bot_id, "name": self.bot_name},
        }

    def _client_info(self) -> Json:
        return {
            "type": "clientInfo",
            "locale": self.locale,
            "country": self.locale.rsplit("-", 1)[-1],
            "platform": "Web",
            "timezone": self.timezone,
        }

    def _conversation(
        self,
        scope: Scope,
        user: TeamsUser,
        conversation_id: str | None,
        *,
        channel_id: str | None = None,
    ) -> tuple[Json, Json]:
        """(conversation, channelData) for a scope."""
        channel_data: Json = {"tenant": {"id": self.tenant_id}}
        if scope == "personal":
            conversation: Json = {
                "conversationType": "personal",
                "tenantId": self.tenant_id,
                "id": conversation_id or self.personal_conversation_id(user),
            }
        elif scope == "groupChat":
            conversation = {
                "isGroup": True,
                "conversationType": "groupChat",
                "tenantId": self.tenant_id,
                "id": conversation_id or self.group_chat_id,
            }
        else:
            channel = channel_id or self.channel_id
            conversation = {
                "isGroup": True,
                "conversationType": "channel",
                "tenantId": self.tenant_id,
                "id": conversation_id or channel,
            }
            channel_data.update(
                {
                    "teamsChannelId": channel,
                    "teamsTeamId": self.team_id,
                    "channel": {"id": channel},
                    "team": {"id": self.team_id},
                }
            )
        return conversation, channel_data

    def _base(
        self,
        activity_type: str,
        *,
        scope: Scope,
        user: TeamsUser,
        conversation_id: str | None,
        activity_id: str | None,
        channel_id: str | None = None,
    ) -> Json:
        timestamp, local_timestamp = _now()
        conversation, channel_data = self._conversation(
            scope, user, conversation_id, channel_id=channel_id
        )
        return {
            "type": activity_type,
            "id": activity_id,
            "timestamp": timestamp,
            "localTimestamp": local_timestamp,
            "localTimezone": self.timezone,
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": user.account(),
            "conversation": conversation,
            "recipient": self.bot_account(),
            "entities": [self._client_info()],
            "channelData": channel_data,
            "locale": self.locale,
        }

    # ------------------------------------------------------------------ messages

    def message(
        self,
        text: str,
        *,
        scope: Scope = "personal",
        user: TeamsUser = ALICE,
        conversation_id: str | None = None,
        mention_bot: bool | None = None,
        activity_id: str | None = None,
        attachments: list[Json] | None = None,
    ) -> Json:
        """A user's text message. Group chats and channels @mention the bot by default.

        With a mention, ``text`` is ``"<at>Convene</at> <text>"`` and a ``mention``
        entity names the bot (the bot only receives group messages that mention it).
        """
        activity_id = activity_id or next_message_id()
        if mention_bot is None:
            mention_bot = scope != "personal"
        if scope == "team" and conversation_id is None:
            # A new channel post starts a thread named after its own id.
            conversation_id = self.channel_thread_id(activity_id)
        activity = self._base(
            "message",
            scope=scope,
            user=user,
            conversation_id=conversation_id,
            activity_id=activity_id,
        )
        activity["textFormat"] = "plain"
        activity["text"] = f"<at>{self.bot_name}</at> {text}" if mention_bot else text
        if mention_bot:
            activity["entities"].insert(0, self.mention_entity())
        if attachments is not None:
            activity["attachments"] = attachments
        return activity

    def personal_message(self, text: str, *, user: TeamsUser = ALICE, **kwargs: Any) -> Json:
        """A message in the user's 1:1 chat with the bot."""
        return self.message(text, scope="personal", user=user, **kwargs)

    def group_chat_message(
        self, text: str, *, user: TeamsUser = ALICE, mention_bot: bool = True, **kwargs: Any
    ) -> Json:
        """A message in a group chat, @mentioning the bot by default."""
        return self.message(text, scope="groupChat", user=user, mention_bot=mention_bot, **kwargs)

    def channel_message(
        self,
        text: str,
        *,
        user: TeamsUser = ALICE,
        mention_bot: bool = True,
        thread_root_id: str | None = None,
        **kwargs: Any,
    ) -> Json:
        """A channel post @mentioning the bot (a new thread, or a reply in `thread_root_id`)."""
        conversation_id = self.channel_thread_id(thread_root_id) if thread_root_id else None
        return self.message(
            text,
            scope="team",
            user=user,
            mention_bot=mention_bot,
            conversation_id=kwargs.pop("conversation_id", conversation_id),
            **kwargs,
        )

    # ------------------------------------------------------------------ installation

    def install(
        self,
        *,
        scope: Scope = "personal",
        user: TeamsUser = ALICE,
        conversation_id: str | None = None,
        extra_members: list[TeamsUser] | None = None,
    ) -> Json:
        """``conversationUpdate`` with ``membersAdded`` including the bot (app installed).

        For a team, ``channelData`` has ``eventType: teamMemberAdded`` and the team, and
        the conversation is the team's General channel (whose id is the team id).
        """
        activity = self._base(
            "conversationUpdate",
            scope=scope,
            user=user,
            conversation_id=conversation_id or (self.team_id if scope == "team" else None),
            activity_id=_event_id(),
            channel_id=self.team_id if scope == "team" else None,
        )
        activity["membersAdded"] = [{"id": self.bot_id}] + [
            {"id": u.id, "aadObjectId": u.aad_object_id} for u in extra_members or []
        ]
        if scope == "team":
            activity["channelData"].update(
                {
                    "eventType": "teamMemberAdded",
                    "team": {
                        "id": self.team_id,
                        "name": self.team_name,
                        "aadGroupId": DEFAULT_TEAM_AAD_GROUP_ID,
                    },
                    "settings": {"selectedChannel": {"id": self.team_id}},
                }
            )
        return activity

    def uninstall(
        self, *, scope: Scope = "personal", user: TeamsUser = ALICE, **kwargs: Any
    ) -> Json:
        """``conversationUpdate`` with ``membersRemoved`` naming the bot."""
        activity = self.install(scope=scope, user=user, **kwargs)
        del activity["membersAdded"]
        activity["membersRemoved"] = [{"id": self.bot_id}]
        if scope == "team":
            activity["channelData"]["eventType"] = "teamMemberRemoved"
        return activity

    def installation_update(
        self,
        action: Literal["add", "remove", "add-upgrade", "remove-upgrade"] = "add",
        *,
        scope: Scope = "personal",
        user: TeamsUser = ALICE,
        conversation_id: str | None = None,
    ) -> Json:
        """``installationUpdate`` (sent alongside conversationUpdate on (un)install)."""
        activity = self._base(
            "installationUpdate",
            scope=scope,
            user=user,
            conversation_id=conversation_id or (self.team_id if scope == "team" else None),
            activity_id=_event_id(),
            channel_id=self.team_id if scope == "team" else None,
        )
        activity["action"] = action
        activity["channelData"]["source"] = {"name": "message"}
        if scope == "team":
            activity["channelData"]["team"] = {
                "id": self.team_id,
                "name": self.team_name,
                "aadGroupId": DEFAULT_TEAM_AAD_GROUP_ID,
            }
            activity["channelData"]["settings"] = {"selectedChannel": {"id": self.team_id}}
        return activity

    # ------------------------------------------------------------------ Adaptive Card actions

    def card_submit(
        self,
        data: Json,
        *,
        reply_to_id: str,
        scope: Scope = "personal",
        user: TeamsUser = ALICE,
        conversation_id: str | None = None,
    ) -> Json:
        """``Action.Submit``: a ``message`` with no text and ``value`` = data + inputs.

        `reply_to_id` is the id of the bot's card activity; Teams sends it both as
        ``replyToId`` and as ``channelData.legacy.replyToId``.
        """
        activity = self._base(
            "message",
            scope=scope,
            user=user,
            conversation_id=conversation_id,
            activity_id=next_message_id(),
        )
        activity["value"] = dict(data)
        activity["replyToId"] = reply_to_id
        activity["channelData"]["source"] = {"name": "message"}
        activity["channelData"]["legacy"] = {"replyToId": reply_to_id}
        return activity

    def card_execute(
        self,
        verb: str,
        data: Json,
        *,
        reply_to_id: str,
        scope: Scope = "personal",
        user: TeamsUser = ALICE,
        conversation_id: str | None = None,
        trigger: Literal["manual", "automatic"] = "manual",
        title: str = "Submit",
        action_id: str | None = None,
    ) -> Json:
        """``Action.Execute``: an ``invoke`` named ``adaptiveCard/action``.

        ``value`` is ``{"action": {"type": "Action.Execute", "verb", "data", "title"},
        "trigger": "manual"}`` (``"automatic"`` for a card refresh); the card's inputs
        are merged into ``data``. Teams expects an HTTP 200 InvokeResponse whose body is
        ``{"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive",
        "value": <card>}`` (or ``...activity.message`` / ``...error``).
        """
        activity = self._base(
            "invoke",
            scope=scope,
            user=user,
            conversation_id=conversation_id,
            activity_id=_event_id(),
        )
        action: Json = {"type": "Action.Execute", "title": title, "verb": verb, "data": dict(data)}
        if action_id is not None:
            action["id"] = action_id
        activity["name"] = "adaptiveCard/action"
        activity["value"] = {"action": action, "trigger": trigger}
        activity["replyToId"] = reply_to_id
        activity["channelData"]["source"] = {"name": "message"}
        activity["channelData"]["legacy"] = {"replyToId": reply_to_id}
        return activity
