"""Fake Microsoft Bot Framework services on loopback, for Teams tests that mock none of our code.

`FakeBotFramework` plays the three Microsoft services a Teams bot talks to:

1. **Channel → bot authentication** (login.botframework.com): an OpenID metadata document
   and a JWKS whose RSA key carries ``endorsements`` like the real one. `issue_token`
   signs the JWT that Teams puts in ``Authorization: Bearer ...`` when it POSTs an
   activity to ``/api/messages``; botbuilder's real validator accepts it when configured
   with `botbuilder_config`. `issue_bad_token` makes the rejected variants.
2. **Bot → channel authentication** (login.microsoftonline.com): the OIDC discovery
   document and token endpoint MSAL needs for the client-credentials grant (APP_ID +
   APP_PASSWORD). MSAL insists on ``https``, so these are served with a certificate from
   a local `trustme` CA: set `trust_env` (``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE``) or use
   `client_ssl_context`. Every token request is recorded in `token_requests`.
3. **The Bot Connector service** that an activity's ``serviceUrl`` points at
   (smba.trafficmanager.net): send / reply / update / delete activities and create
   conversations under ``/v3/conversations``. Every call is recorded in `calls`; bearer
   tokens must be ones the token endpoint issued (401 otherwise). Failures, deleted or
   blocked conversations, Teams-style rate limits and latency can be injected.

The servers run on their own event loop in a background thread. That is required, not
a convenience: botbuilder fetches OpenID metadata and MSAL fetches tokens with blocking
``requests`` calls on the caller's event loop, which would deadlock a fake served on
that same loop.

Typical use::

    async with FakeBotFramework() as fake:
        for name, value in fake.trust_env.items():
            monkeypatch.setenv(name, value)
        auth = ConfigurationBotFrameworkAuthentication(fake.botbuilder_config())
        adapter = CloudAdapter(auth)
        ...  # serve the adapter at /api/messages on loopback
        response = await fake.send_to_bot(bot_url, activity)  # signed like Teams
        assert response.status == 201
        assert fake.activities_in(activity["conversation"]["id"])[0]["text"] == "..."
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import itertools
import json
import secrets
import socket
import ssl
import tempfile
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote

import aiohttp
import certifi
import jwt
import trustme
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

Json = dict[str, Any]

DEFAULT_APP_ID = "00000000-0000-4000-8000-00000000c0de"
DEFAULT_APP_PASSWORD = "fake-client-secret"
DEFAULT_TENANT_ID = "11111111-2222-4333-8444-555555555555"
BOT_NAME = "Convene"

#: The ``iss`` of channel → bot tokens, and the audience of bot → channel tokens.
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com"

#: Endorsements published on the real Bot Framework signing keys (a subset).
DEFAULT_ENDORSEMENTS = (
    "msteams",
    "skype",
    "webchat",
    "directline",
    "emulator",
    "slack",
    "email",
    "telegram",
    "facebook",
)

#: Region path Teams puts in serviceUrl (``https://smba.trafficmanager.net/amer/``).
SERVICE_REGION = "amer"

ConnectorKind = Literal[
    "send",
    "reply",
    "update",
    "delete",
    "create_conversation",
    "get_conversations",
    "get_members",
    "get_member",
    "unknown",
]
FailKind = Literal[
    "*",
    "send",
    "reply",
    "update",
    "delete",
    "create_conversation",
    "get_members",
    "get_member",
    "token",
]
BadToken = Literal[
    "expired",
    "not_yet_valid",
    "wrong_audience",
    "wrong_issuer",
    "wrong_key",
    "unknown_kid",
    "missing_serviceurl",
    "mismatched_serviceurl",
]

#: Kinds that write into a conversation (counted by the per-conversation rate limit).
_WRITES: frozenset[str] = frozenset({"send", "reply", "update", "delete"})

#: Error codes the connector answers with, by status (Teams' documented codes where known).
_ERROR_CODES: dict[int, tuple[str, str]] = {
    400: ("BadArgument", "Bad argument."),
    403: ("ConversationBlockedByUser", "User blocked the conversation with the bot."),
    404: ("ConversationNotFound", "Conversation not found."),
    405: ("MethodNotAllowed", "Method not allowed."),
    412: ("PreconditionFailed", "Potential conflict with another operation; retry later."),
    413: ("MessageSizeTooBig", "Message size too large."),
    429: ("Throttled", "Too many requests."),
    500: ("InternalServerError", "Internal server error."),
    502: ("ServiceError", "Bad gateway."),
    503: ("ServiceUnavailable", "Service unavailable."),
    504: ("GatewayTimeout", "Server timeout."),
}


# --------------------------------------------------------------------------- records


@dataclass
class TokenRequest:
    """One request to the fake AAD token endpoint.

    `granted` is False when the fake refused it (bad secret, unknown app, injected
    failure); `access_token` is the token handed out, if any.
    """

    client_id: str | None
    scope: str | None
    grant_type: str | None
    tenant: str
    at: float
    granted: bool
    status: int
    access_token: str | None = None
    error: str | None = None


@dataclass
class ConnectorCall:
    """One request to the fake Bot Connector service.

    `kind` is what the path and method mean (``send``, ``reply``, ``update``...).
    `body` is the parsed JSON body (None when there was none). `token_app_id` is the app
    the bearer token was issued to (None if the header was missing or not ours). `status`
    is the HTTP status sent and `error_code` the connector error code, if any.
    `stored` is True when the call changed the fake's conversation state (a 2xx, or an
    injected failure with ``delivered=True``). `at` is `time.monotonic()` on arrival.
    """

    method: str
    path: str
    kind: ConnectorKind
    conversation_id: str | None
    activity_id: str | None
    body: Json | None
    authorization: str | None
    at: float
    token_app_id: str | None = None
    status: int = 0
    error_code: str | None = None
    response: Any = None
    stored: bool = False
    tenant_id: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return 200 <= self.status < 300


@dataclass
class StoredActivity:
    """An activity the bot posted, as the conversation now shows it."""

    id: str
    conversation_id: str
    activity: Json
    reply_to_id: str | None
    posted_at: float
    updates: int = 0
    deleted: bool = False


@dataclass
class BotResponse:
    """What the bot's ``/api/messages`` answered to `FakeBotFramework.send_to_bot`."""

    status: int
    body: Any
    text: str
    headers: Mapping[str, str]


@dataclass
class BotFrameworkConfig:
    """The attributes botbuilder's ``ConfigurationBotFrameworkAuthentication`` reads.

    Attribute names are botbuilder's (it uses ``getattr(config, NAME, None)``); see
    ``botbuilder/integration/aiohttp/configuration_bot_framework_authentication.py``.
    """

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str | None
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str
    OAUTH_URL: str
    VALIDATE_AUTHORITY: bool = False
    CHANNEL_SERVICE: str | None = None
    CALLER_ID: str | None = None


@dataclass
class _Failure:
    status: int
    retry_after: float | str | None
    code: str | None
    message: str | None
    delivered: bool
    conversation_id: str | None
    #: Sent as it is instead of the connector's JSON error (an HTML page from a proxy).
    raw_body: str | None = None
    content_type: str = "text/html"


@dataclass(frozen=True)
class _Raw:
    """An answer that is not JSON: `text` sent with `content_type`."""

    text: str
    content_type: str


#: How the fake answers a download of a file a person sent (`inline_image`, `shared_file`).
FILE_ANSWERS = ("file", "rate_limited", "server_error", "login_page")
#: A sign-in page, as SharePoint answers a download link that no longer works.
LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>"
FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"


@dataclass
class _ServedFile:
    data: bytes
    content_type: str
    answer: str
    #: Inline images need the bot's connector token; download links need none.
    needs_token: bool


@dataclass
class FileDownload:
    """One request for a file a person sent, and how the fake answered it."""

    file_id: str
    authorization: str | None
    status: int


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float) -> float | None:
        """Take one token; return None on success or the seconds until one is free."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


@dataclass
class _AccessToken:
    app_id: str
    scope: str
    tenant: str
    expires_at: float


@dataclass
class _Key:
    private: rsa.RSAPrivateKey
    kid: str
    jwk: Json = field(default_factory=dict)


class _ConnectorError(Exception):
    def __init__(self, status: int, code: str | None = None, message: str | None = None) -> None:
        super().__init__(status)
        default_code, default_message = _ERROR_CODES.get(status, ("Error", "Error."))
        self.status = status
        self.code = code or default_code
        self.message = message or default_message


# --------------------------------------------------------------------------- keys


@functools.cache
def _rsa_key(name: str) -> _Key:
    """A per-process RSA key (generating 2048-bit keys per test would be slow)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: Json = dict(RSAAlgorithm.to_jwk(private.public_key(), as_dict=True))
    digest = hashlib.sha1(f"{jwk['n']}.{name}".encode()).digest()
    kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return _Key(private=private, kid=kid, jwk=jwk)


@functools.cache
def _ca() -> tuple[trustme.CA, trustme.LeafCert]:
    """A per-process local CA and a server certificate for 127.0.0.1 / localhost."""
    ca = trustme.CA(organization_name="Convene tests fake Microsoft CA")
    return ca, ca.issue_cert("127.0.0.1", "localhost", "::1")


def _write_ca_bundle(directory: Path, ca: trustme.CA) -> str:
    """Write certifi's roots plus `ca` to a PEM file; return its path."""
    bundle = directory / "ca-bundle.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + ca.cert_pem.bytes())
    return str(bundle)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _error_body(code: str, message: str) -> Json:
    return {"error": {"code": code, "message": message}}


def _conversation_tenant(body: Json | None) -> str | None:
    if not isinstance(body, dict):
        return None
    conversation = body.get("conversation") or {}
    channel_data = body.get("channelData") or {}
    tenant = channel_data.get("tenant") if isinstance(channel_data, dict) else None
    if not isinstance(conversation, dict):
        conversation = {}
    # botbuilder-python serializes ConversationAccount.tenant_id as "tenantID".
    return (
        conversation.get("tenantId")
        or conversation.get("tenantID")
        or body.get("tenantId")
        or (tenant.get("id") if isinstance(tenant, dict) else None)
    )


def idempotency_key(activity: Json) -> str | None:
    """The client-supplied idempotency marker of an activity, if any.

    Looked up in ``channelData.convene.key`` first, then in an entity of type
    ``convene`` (``{"type": "convene", "key": ...}``).
    """
    channel_data = activity.get("channelData")
    if isinstance(channel_data, dict):
        convene = channel_data.get("convene")
        if isinstance(convene, dict) and convene.get("key") is not None:
            return str(convene["key"])
    for entity in activity.get("entities") or []:
        if isinstance(entity, dict) and entity.get("type") == "convene" and "key" in entity:
            return str(entity["key"])
    return None


# --------------------------------------------------------------------------- the fake


class FakeBotFramework:
    """Fake Bot Framework login, AAD token endpoint and Bot Connector on 127.0.0.1.

    Public state (plain data, safe to read from tests once a request has been answered):

    - ``calls``: every `ConnectorCall`, in arrival order.
    - ``token_requests``: every `TokenRequest` to the AAD token endpoint.
    - ``discovery_requests``: how many OIDC discovery documents MSAL fetched.
    - ``metadata_requests``: how many Bot Framework OpenID metadata / JWKS fetches the
      bot's token validator made.
    - ``conversations``: conversation id -> activity id -> `StoredActivity`.
    - ``created_conversations``: bodies of successful ``POST /v3/conversations``.
    - ``latency``: seconds added to every connector and token call.

    Tokens: `app_id` / `app_password` are the registered bot (more with `register_app`).
    `access_token_lifetime` is the ``expires_in`` the token endpoint grants.
    """

    def __init__(
        self,
        *,
        app_id: str = DEFAULT_APP_ID,
        app_password: str = DEFAULT_APP_PASSWORD,
        tenant_id: str = DEFAULT_TENANT_ID,
        endorsements: tuple[str, ...] = DEFAULT_ENDORSEMENTS,
        access_token_lifetime: int = 3600,
        latency: float = 0.0,
    ) -> None:
        self.app_id = app_id
        self.app_password = app_password
        self.tenant_id = tenant_id
        self.endorsements = tuple(endorsements)
        self.access_token_lifetime = access_token_lifetime
        self.latency = latency

        self.calls: list[ConnectorCall] = []
        self.token_requests: list[TokenRequest] = []
        self.discovery_requests = 0
        self.metadata_requests = 0
        self.conversations: dict[str, dict[str, StoredActivity]] = defaultdict(dict)
        self.created_conversations: list[Json] = []
        #: Every download of a file a person sent (`inline_image`, `shared_file`).
        self.file_downloads: list[FileDownload] = []
        self._served_files: dict[str, _ServedFile] = {}

        self._apps: dict[str, str] = {app_id: app_password}
        self._access_tokens: dict[str, _AccessToken] = {}
        self._deleted: set[str] = set()
        self._blocked: dict[str, tuple[int, str, str]] = {}
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._rate_limits: tuple[float, float] | None = None
        self._conversation_buckets: dict[str, _Bucket] = {}
        self._tenant_buckets: dict[str, _Bucket] = {}
        self._conversation_tenants: dict[str, str] = {}
        self._one_on_one: dict[tuple[str, str], str] = {}
        self._ids = itertools.count(int(time.time() * 1000))
        self._lock = threading.RLock()
        # A random path segment, so botbuilder's process-wide metadata cache (keyed by
        # URL, kept a day) never serves an earlier fake's keys for a reused port.
        self._realm = secrets.token_hex(4)

        self._signing = _rsa_key("botframework")
        self._other = _rsa_key("attacker")
        self._aad = _rsa_key("aad")

        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._http_port: int | None = None
        self._https_port: int | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._bundle: str | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeBotFramework:
        """Start the servers (http and https, free ports) on a background event loop."""
        if self._thread is not None:
            return self
        ca, leaf = _ca()
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-botframework-")
        self._bundle = _write_ca_bundle(Path(self._tmp.name), ca)
        server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(server_ssl)

        http_sock, https_sock = _free_socket(), _free_socket()
        self._http_port = http_sock.getsockname()[1]
        self._https_port = https_sock.getsockname()[1]

        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="fake-botframework", daemon=True)
        self._thread.start()
        await asyncio.to_thread(ready.wait)
        await self._in_loop(self._serve(http_sock, https_sock, server_ssl))
        return self

    async def stop(self) -> None:
        """Stop the servers and the background loop (idempotent)."""
        if self._thread is None or self._loop is None:
            return
        loop, thread = self._loop, self._thread
        if self._runner is not None:
            await self._in_loop(self._runner.cleanup())
            self._runner = None
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join, 5)
        loop.close()
        self._thread = None
        self._loop = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def __aenter__(self) -> FakeBotFramework:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _in_loop(self, coro: Any) -> Any:
        assert self._loop is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    async def _serve(
        self, http_sock: socket.socket, https_sock: socket.socket, server_ssl: ssl.SSLContext
    ) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        realm = f"/{self._realm}"
        app.router.add_get(f"{realm}/v1/.well-known/openidconfiguration", self._bf_metadata)
        app.router.add_get(f"{realm}/v1/.well-known/keys", self._bf_keys)
        app.router.add_get("/common/discovery/instance", self._aad_instance_discovery)
        app.router.add_get("/{tenant}/discovery/v2.0/keys", self._aad_keys)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._aad_token)
        app.router.add_post("/{tenant}/oauth2/token", self._aad_token)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, http_sock).start()
        await web.SockSite(runner, https_sock, ssl_context=server_ssl).start()
        self._runner = runner

    # ------------------------------------------------------------------ addresses

    def _require_started(self) -> None:
        if self._http_port is None or self._https_port is None:
            raise RuntimeError("FakeBotFramework is not started")

    @property
    def http_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        self._require_started()
        return f"http://127.0.0.1:{self._http_port}"

    @property
    def https_url(self) -> str:
        """``https://127.0.0.1:PORT`` (no trailing slash), trusted via `ca_bundle`."""
        self._require_started()
        return f"https://127.0.0.1:{self._https_port}"

    @property
    def service_url(self) -> str:
        """The serviceUrl to put in activities: ``http://127.0.0.1:PORT/amer/``.

        Plain http: botbuilder does not check the scheme of a serviceUrl. It must match
        the token's ``serviceurl`` claim exactly (trailing slash included).
        """
        return f"{self.http_url}/{SERVICE_REGION}/"

    @property
    def https_service_url(self) -> str:
        """The same connector over https (needs `ca_bundle` trusted)."""
        return f"{self.https_url}/{SERVICE_REGION}/"

    @property
    def openid_metadata_url(self) -> str:
        """TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL (plain http is fine for botbuilder)."""
        return f"{self.http_url}/{self._realm}/v1/.well-known/openidconfiguration"

    @property
    def authority(self) -> str:
        """An Entra-style MSAL authority, ``https://127.0.0.1:PORT/<tenant>``.

        Usable by our own MSAL code with ``instance_discovery=False``. Bare botbuilder
        can't use it: it never passes ``validate_authority`` to MSAL, so MSAL would call
        login.microsoftonline.com for instance discovery. Use `botbuilder_login_url`.
        """
        return f"{self.https_url}/{self.tenant_id}"

    @property
    def botbuilder_login_url(self) -> str:
        """TO_CHANNEL_FROM_BOT_LOGIN_URL for an unmodified botbuilder: ``.../adfs``.

        MSAL treats an ``adfs`` authority as known to the developer and skips instance
        discovery, then fetches ``/adfs/.well-known/openid-configuration`` from the fake
        and gets its token from the fake's token endpoint.
        """
        return f"{self.https_url}/adfs"

    @property
    def token_endpoint(self) -> str:
        """The AAD v2 token endpoint for `tenant_id`."""
        return f"{self.https_url}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def ca_bundle(self) -> str:
        """Path of a PEM bundle: certifi's roots plus the fake's CA."""
        if self._bundle is None:
            raise RuntimeError("FakeBotFramework is not started")
        return self._bundle

    @property
    def trust_env(self) -> dict[str, str]:
        """Environment that makes requests (MSAL, msrest) and OpenSSL trust the fake."""
        return {"REQUESTS_CA_BUNDLE": self.ca_bundle, "SSL_CERT_FILE": self.ca_bundle}

    def client_ssl_context(self) -> ssl.SSLContext:
        """An SSL context trusting the fake (for aiohttp clients)."""
        return ssl.create_default_context(cafile=self.ca_bundle)

    @property
    def signing_kid(self) -> str:
        """The ``kid`` of the published channel-token signing key."""
        return self._signing.kid

    def botbuilder_config(
        self,
        *,
        app_id: str | None = None,
        app_password: str | None = None,
        app_type: str = "MultiTenant",
        login_url: str | None = None,
    ) -> BotFrameworkConfig:
        """Configuration for ``ConfigurationBotFrameworkAuthentication`` aimed at this fake.

        Any of these attributes being set switches botbuilder to its "parameterized"
        authentication, so all of them are set (none is left pointing at Microsoft).
        """
        return BotFrameworkConfig(
            APP_ID=app_id or self.app_id,
            APP_PASSWORD=app_password if app_password is not None else self.app_password,
            APP_TYPE=app_type,
            APP_TENANTID=self.tenant_id,
            TO_CHANNEL_FROM_BOT_LOGIN_URL=login_url or self.botbuilder_login_url,
            TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=BOT_FRAMEWORK_SCOPE,
            TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=BOT_FRAMEWORK_ISSUER,
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=self.openid_metadata_url,
            TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=(
                f"{self.https_url}/common/v2.0/.well-known/openid-configuration"
            ),
            OAUTH_URL=f"{self.http_url}/oauth",
        )

    # ------------------------------------------------------------------ channel → bot tokens

    def issue_token(
        self,
        app_id: str | None = None,
        service_url: str | None = None,
        *,
        expires_in: float = 3600,
        issuer: str = BOT_FRAMEWORK_ISSUER,
        audience: str | None = None,
        signing_key: Literal["good", "other"] = "good",
        kid: str | None = None,
        not_before: float | None = None,
        include_service_url: bool = True,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A channel → bot JWT, shaped like the ones Teams sends.

        Claims: ``serviceurl`` (`service_url`, default `service_url`; omitted when
        `include_service_url` is False), ``iss``, ``aud`` (`audience`, default the app
        id), ``nbf``/``exp``. RS256, with ``kid``/``x5t`` headers. ``signing_key="other"``
        signs with a key that is not published; `kid` defaults to the kid of the key
        used, so pass ``kid=fake.signing_kid`` to forge a known kid.

        botbuilder allows 5 minutes of clock skew: an "expired" token needs
        ``expires_in < -300``.
        """
        now = time.time()
        key = self._signing if signing_key == "good" else self._other
        claims: Json = {
            "iss": issuer,
            "aud": audience if audience is not None else (app_id or self.app_id),
            "nbf": int(not_before if not_before is not None else now - 5),
            "exp": int(now + expires_in),
        }
        if include_service_url:
            claims["serviceurl"] = service_url if service_url is not None else self.service_url
        claims.update(extra_claims or {})
        header_kid = kid or key.kid
        return jwt.encode(
            claims,
            key.private,
            algorithm="RS256",
            headers={"kid": header_kid, "x5t": header_kid, "typ": "JWT"},
        )

    def issue_bad_token(
        self, kind: BadToken, app_id: str | None = None, service_url: str | None = None
    ) -> str:
        """A token botbuilder must reject, for `kind` in `BadToken`."""
        if kind == "expired":
            return self.issue_token(app_id, service_url, expires_in=-3600)
        if kind == "not_yet_valid":
            return self.issue_token(app_id, service_url, not_before=time.time() + 3600)
        if kind == "wrong_audience":
            return self.issue_token(app_id, service_url, audience="some-other-bot")
        if kind == "wrong_issuer":
            return self.issue_token(app_id, service_url, issuer="https://evil.example.com")
        if kind == "wrong_key":
            return self.issue_token(app_id, service_url, signing_key="other", kid=self.signing_kid)
        if kind == "unknown_kid":
            return self.issue_token(app_id, service_url, signing_key="other")
        if kind == "missing_serviceurl":
            return self.issue_token(app_id, service_url, include_service_url=False)
        if kind == "mismatched_serviceurl":
            return self.issue_token(app_id, "https://smba.trafficmanager.net/emea/")
        raise ValueError(f"unknown bad token kind: {kind}")

    async def send_to_bot(
        self,
        url: str,
        activity: Json,
        *,
        token: str | None = None,
        authorization: str | None = "default",
        give_up_after: float = 15.0,
        headers: Mapping[str, str] | None = None,
    ) -> BotResponse:
        """POST `activity` to the bot's messaging endpoint the way Teams does.

        By default it is signed with a fresh good token for the activity's serviceUrl;
        `token` overrides the token, ``authorization=None`` sends no header at all and
        any other string is sent verbatim. Teams gives up after 15 s (`give_up_after`).
        `headers` are added (``X-Forwarded-For``, as a reverse proxy in front of the bot
        would add).
        """
        headers = {"Content-Type": "application/json", **(headers or {})}
        if authorization == "default":
            service_url = activity.get("serviceUrl")
            bearer = token or self.issue_token(
                self.app_id, service_url if isinstance(service_url, str) else None
            )
            headers["Authorization"] = f"Bearer {bearer}"
        elif authorization is not None:
            headers["Authorization"] = authorization
        client_timeout = aiohttp.ClientTimeout(total=give_up_after)
        async with (
            aiohttp.ClientSession(timeout=client_timeout) as session,
            session.post(url, data=json.dumps(activity), headers=headers) as resp,
        ):
            text = await resp.text()
            try:
                body: Any = json.loads(text) if text else None
            except ValueError:
                body = None
            return BotResponse(resp.status, body, text, dict(resp.headers))

    async def _bf_metadata(self, request: web.Request) -> web.Response:
        with self._lock:
            self.metadata_requests += 1
        return web.json_response(
            {
                "issuer": BOT_FRAMEWORK_ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"{self.http_url}/{self._realm}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _bf_keys(self, request: web.Request) -> web.Response:
        with self._lock:
            self.metadata_requests += 1
        jwk = dict(self._signing.jwk)
        jwk.update(
            {
                "use": "sig",
                "kid": self._signing.kid,
                "x5t": self._signing.kid,
                "endorsements": list(self.endorsements),
            }
        )
        return web.json_response({"keys": [jwk]})

    # ------------------------------------------------------------------ bot → channel tokens (AAD)

    def register_app(self, app_id: str, password: str) -> None:
        """Let another app id obtain tokens with the client-credentials grant."""
        with self._lock:
            self._apps[app_id] = password

    def revoke_access_tokens(self) -> None:
        """Make every access token issued so far unknown to the connector (401)."""
        with self._lock:
            self._access_tokens.clear()

    def expire_access_tokens(self) -> None:
        """Mark every issued access token as expired (the connector answers 401)."""
        with self._lock:
            for info in self._access_tokens.values():
                info.expires_at = 0

    def tokens_granted(self) -> int:
        """How many access tokens the token endpoint handed out."""
        return sum(1 for t in self.token_requests if t.granted)

    def _openid_configuration(self, tenant: str) -> Json:
        base = f"{self.https_url}/{tenant}"
        return {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "EU",
        }

    async def _aad_instance_discovery(self, request: web.Request) -> web.Response:
        with self._lock:
            self.discovery_requests += 1
        return web.json_response(
            {
                "tenant_discovery_endpoint": (
                    f"{self.https_url}/{self.tenant_id}/v2.0/.well-known/openid-configuration"
                ),
                "api-version": "1.1",
                "metadata": [
                    {
                        "preferred_network": f"127.0.0.1:{self._https_port}",
                        "preferred_cache": f"127.0.0.1:{self._https_port}",
                        "aliases": [f"127.0.0.1:{self._https_port}"],
                    }
                ],
            }
        )

    async def _aad_keys(self, request: web.Request) -> web.Response:
        jwk = dict(self._aad.jwk)
        jwk.update({"use": "sig", "kid": self._aad.kid, "x5t": self._aad.kid})
        return web.json_response({"keys": [jwk]})

    async def _aad_token(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        form = dict(parse_qsl((await request.read()).decode()))
        record = TokenRequest(
            client_id=form.get("client_id"),
            scope=form.get("scope"),
            grant_type=form.get("grant_type"),
            tenant=tenant,
            at=time.monotonic(),
            granted=False,
            status=0,
        )
        with self._lock:
            self.token_requests.append(record)
            failure = self._pop_failure("token", None)
        if self.latency:
            await asyncio.sleep(self.latency)
        if failure is not None:
            return self._aad_error(
                record, failure.status, failure.code or "temporarily_unavailable", "Injected."
            )
        if record.grant_type != "client_credentials":
            return self._aad_error(
                record, 400, "unsupported_grant_type", "AADSTS70003: grant type not supported."
            )
        with self._lock:
            expected = self._apps.get(record.client_id or "")
        if expected is None:
            return self._aad_error(
                record,
                400,
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{record.client_id}' was not found.",
            )
        if form.get("client_secret") != expected:
            return self._aad_error(
                record, 401, "invalid_client", "AADSTS7000215: Invalid client secret provided."
            )
        scope = record.scope or ""
        if not scope.endswith("/.default"):
            return self._aad_error(
                record,
                400,
                "invalid_scope",
                "AADSTS1002012: The provided value for scope is not valid. Client credential "
                "flows must have a scope value with /.default suffixed to the resource "
                "identifier (application ID URI).",
            )
        resource = scope[: -len("/.default")]
        now = time.time()
        access_token = jwt.encode(
            {
                "aud": resource,
                "iss": f"https://sts.windows.net/{self.tenant_id}/",
                "iat": int(now),
                "nbf": int(now),
                "exp": int(now + self.access_token_lifetime),
                "appid": record.client_id,
                "appidacr": "1",
                "tid": self.tenant_id,
                "ver": "1.0",
                "jti": uuid.uuid4().hex,
            },
            self._aad.private,
            algorithm="RS256",
            headers={"kid": self._aad.kid, "x5t": self._aad.kid},
        )
        with self._lock:
            self._access_tokens[access_token] = _AccessToken(
                app_id=record.client_id or "",
                scope=resource,
                tenant=tenant,
                expires_at=now + self.access_token_lifetime,
            )
        record.granted = True
        record.status = 200
        record.access_token = access_token
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.access_token_lifetime,
                "ext_expires_in": self.access_token_lifetime,
                "access_token": access_token,
            }
        )

    @staticmethod
    def _aad_error(record: TokenRequest, status: int, error: str, description: str) -> web.Response:
        record.status = status
        record.error = error
        return web.json_response(
            {
                "error": error,
                "error_description": description,
                "error_codes": [],
                "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
                "trace_id": str(uuid.uuid4()),
                "correlation_id": str(uuid.uuid4()),
            },
            status=status,
        )

    # ------------------------------------------------------------------ connector: controls

    def fail_next(
        self,
        kind: FailKind = "*",
        status: int = 429,
        retry_after: float | str | None = 1,
        times: int = 1,
        *,
        code: str | None = None,
        message: str | None = None,
        delivered: bool = False,
        conversation_id: str | None = None,
        raw_body: str | None = None,
        content_type: str = "text/html",
    ) -> None:
        """Answer the next `times` connector calls of `kind` (``"*"`` = any) with `status`.

        The body is the connector's error shape ``{"error": {"code", "message"}}`` with
        Teams' code for the status unless `code` is given; ``Retry-After`` is sent when
        `retry_after` is not None. With ``delivered=True`` the call takes effect anyway
        (an ambiguous failure: the message is posted but the bot sees e.g. a 504), which
        is how duplicates happen. ``kind="token"`` fails the AAD token endpoint instead.
        `conversation_id` restricts the failure to one conversation. Failures stack.

        `raw_body` answers with that text as `content_type` instead of the connector's JSON,
        the way a proxy or a load balancer in front of it does (an HTML 502 page, a plain
        text 405); with a 2xx `status` it is a "success" that is not JSON at all.
        `retry_after` may be a string, sent as it is (an HTTP date, or nonsense).
        """
        with self._lock:
            for _ in range(times):
                self._failures[kind].append(
                    _Failure(
                        status,
                        retry_after,
                        code,
                        message,
                        delivered,
                        conversation_id,
                        raw_body,
                        content_type,
                    )
                )

    def clear_failures(self) -> None:
        """Drop queued failures."""
        with self._lock:
            self._failures.clear()

    def delete_conversation(self, conversation_id: str) -> None:
        """From now on, calls into this conversation get 404 ``ConversationNotFound``."""
        with self._lock:
            self._deleted.add(conversation_id)

    def block_conversation(
        self,
        conversation_id: str,
        *,
        status: int = 403,
        code: str = "ConversationBlockedByUser",
        message: str = "User blocked the conversation with the bot.",
    ) -> None:
        """Calls into this conversation get 403 (blocked by the user / app uninstalled)."""
        with self._lock:
            self._blocked[conversation_id] = (status, code, message)

    def enforce_rate_limits(
        self, per_conversation_per_second: float = 7, per_tenant_per_second: float = 50
    ) -> None:
        """Teams-style limits: 429 with ``Retry-After`` beyond them; nothing is stored.

        Token buckets (burst = one second's worth): per conversation for writes (send,
        reply, update, delete), per tenant for every connector call. The tenant is taken
        from the body (``conversation.tenantId``, ``tenantId``, ``channelData.tenant.id``)
        or from what an earlier call said about the conversation.
        """
        with self._lock:
            self._rate_limits = (per_conversation_per_second, per_tenant_per_second)
            self._conversation_buckets.clear()
            self._tenant_buckets.clear()

    def disable_rate_limits(self) -> None:
        """Turn rate limiting off again (the default)."""
        with self._lock:
            self._rate_limits = None
            self._conversation_buckets.clear()
            self._tenant_buckets.clear()

    def clear(self) -> None:
        """Forget recorded calls and token requests (conversation state stays)."""
        with self._lock:
            self.calls.clear()
            self.token_requests.clear()
            self.discovery_requests = 0
            self.metadata_requests = 0

    # ------------------------------------------------------------------ connector: inspection

    def calls_of(self, kind: str, *, ok: bool | None = None) -> list[ConnectorCall]:
        """Recorded connector calls of `kind`; `ok` filters on a 2xx answer if given."""
        with self._lock:
            return [c for c in self.calls if c.kind == kind and (ok is None or c.ok == ok)]

    def activities_in(self, conversation_id: str, *, include_deleted: bool = False) -> list[Json]:
        """Activities the bot posted in a conversation, oldest first, as now shown.

        Each is the posted JSON with ``id`` set to the id the fake assigned; an update
        replaces the content in place (same id). Deleted ones are left out by default.
        """
        with self._lock:
            stored = list(self.conversations.get(conversation_id, {}).values())
        return [
            dict(s.activity, id=s.id)
            for s in sorted(stored, key=lambda s: (s.posted_at, s.id))
            if include_deleted or not s.deleted
        ]

    def activity(self, conversation_id: str, activity_id: str) -> StoredActivity:
        """One stored activity (KeyError if the bot never posted it)."""
        with self._lock:
            return self.conversations[conversation_id][activity_id]

    def all_activities(self) -> list[Json]:
        """Every activity the bot posted, across conversations, oldest first."""
        with self._lock:
            stored = [s for conv in self.conversations.values() for s in conv.values()]
        stored.sort(key=lambda s: (s.posted_at, s.id))
        return [dict(s.activity, id=s.id) for s in stored if not s.deleted]

    def duplicates(self) -> list[str]:
        """Idempotency keys (see `idempotency_key`) posted more than once."""
        seen: dict[str, int] = defaultdict(int)
        with self._lock:
            stored = [s for conv in self.conversations.values() for s in conv.values()]
        for s in stored:
            key = idempotency_key(s.activity)
            if key is not None:
                seen[key] += 1
        return [key for key, n in seen.items() if n > 1]

    def bearer_tokens_used(self) -> set[str]:
        """Distinct bearer tokens the connector accepted."""
        with self._lock:
            return {
                c.authorization.split(" ", 1)[1]
                for c in self.calls
                if c.token_app_id is not None and c.authorization
            }

    async def wait_for(
        self, predicate: Callable[[], bool], *, within: float = 5.0, interval: float = 0.02
    ) -> None:
        """Poll `predicate` until it is true (TimeoutError after `within` seconds)."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(interval)

    async def wait_for_activities(
        self, conversation_id: str, count: int = 1, *, within: float = 5.0
    ) -> list[Json]:
        """Wait until the conversation shows at least `count` activities; return them."""
        await self.wait_for(
            lambda: len(self.activities_in(conversation_id)) >= count, within=within
        )
        return self.activities_in(conversation_id)

    # ------------------------------------------------------------------ connector: HTTP

    def _next_id(self) -> str:
        return str(next(self._ids))

    def _pop_failure(self, kind: str, conversation_id: str | None) -> _Failure | None:
        for key in (kind, "*") if kind != "token" else ("token",):
            queue = self._failures.get(key)
            if not queue:
                continue
            for failure in list(queue):
                if failure.conversation_id in (None, conversation_id):
                    queue.remove(failure)
                    return failure
        return None

    @staticmethod
    def _route(method: str, rest: list[str]) -> tuple[ConnectorKind, str | None, str | None]:
        if not rest or rest[0] != "conversations":
            return "unknown", None, None
        if len(rest) == 1:
            if method == "POST":
                return "create_conversation", None, None
            if method == "GET":
                return "get_conversations", None, None
            return "unknown", None, None
        cid = rest[1]
        if len(rest) == 3 and rest[2] == "activities" and method == "POST":
            return "send", cid, None
        if len(rest) == 4 and rest[2] == "activities":
            kind: ConnectorKind = {"POST": "reply", "PUT": "update", "DELETE": "delete"}.get(
                method, "unknown"
            )  # type: ignore[assignment]
            return kind, cid, rest[3]
        if len(rest) == 3 and rest[2] in ("members", "pagedmembers") and method == "GET":
            return "get_members", cid, None
        if len(rest) == 4 and rest[2] == "members" and method == "GET":
            return "get_member", cid, rest[3]
        return "unknown", cid, None

    # ------------------------------------------------------------------ files people send

    def inline_image(
        self, data: bytes, *, content_type: str = "image/png", answer: str = "file"
    ) -> Json:
        """An image pasted into a Teams message: the activity attachment whose contentUrl is
        on this connector, served only with a token the token endpoint issued (401
        otherwise), answered as `answer` says (`FILE_ANSWERS`)."""
        file_id = self._serve_file(data, content_type, answer, needs_token=True)
        return {
            "contentType": "image/*",
            "contentUrl": f"{self.service_url}v3/attachments/{file_id}/views/original",
        }

    def shared_file(
        self,
        name: str,
        data: bytes,
        *,
        answer: str = "file",
        size: int | None = None,
        host: str | None = None,
    ) -> Json:
        """A file sent in a personal chat: the `file.download.info` attachment whose
        `downloadUrl` is pre-authenticated (no token), like a OneDrive link. `size` goes in
        the content when given; `host` puts another host name in the link (same port)."""
        file_id = self._serve_file(data, "application/octet-stream", answer, needs_token=False)
        base = self.http_url
        if host is not None:
            base = f"http://{host}:{self._http_port}"
        content: Json = {
            "downloadUrl": f"{base}/personal/files/{file_id}/download?tempauth=fake",
            "uniqueId": file_id,
            "fileType": name.rsplit(".", 1)[-1] if "." in name else "",
        }
        if size is not None:
            content["size"] = size
        return {
            "contentType": FILE_DOWNLOAD_INFO,
            "contentUrl": f"{base}/personal/files/{file_id}",
            "name": name,
            "content": content,
        }

    def downloads_of(self, attachment: Json) -> list[FileDownload]:
        """Every request for the file behind an attachment `inline_image`/`shared_file` made."""
        url = (attachment.get("content") or {}).get("downloadUrl") or attachment["contentUrl"]
        file_id = url.split("/files/")[-1].split("/attachments/")[-1].split("/")[0]
        with self._lock:
            return [d for d in self.file_downloads if d.file_id == file_id]

    def _serve_file(self, data: bytes, content_type: str, answer: str, *, needs_token: bool) -> str:
        if answer not in FILE_ANSWERS:
            raise ValueError(f"answer must be one of {FILE_ANSWERS}")
        file_id = secrets.token_hex(8)
        with self._lock:
            self._served_files[file_id] = _ServedFile(data, content_type, answer, needs_token)
        return file_id

    def _file_answer(self, file_id: str, authorization: str | None) -> web.Response:
        with self._lock:
            served = self._served_files.get(file_id)
        if served is None:
            response = web.json_response(_error_body("NotFound", "Not found."), status=404)
        elif served.needs_token and not self._token_ok(authorization):
            response = web.json_response(_error_body("Unauthorized", "No token."), status=401)
        elif served.answer == "rate_limited":
            response = web.Response(status=429, headers={"Retry-After": "30"})
        elif served.answer == "server_error":
            response = web.Response(status=500, text="Internal Server Error")
        elif served.answer == "login_page":
            response = web.Response(status=200, text=LOGIN_PAGE, content_type="text/html")
        else:
            response = web.Response(status=200, body=served.data, content_type=served.content_type)
        with self._lock:
            self.file_downloads.append(FileDownload(file_id, authorization, response.status))
        return response

    def _token_ok(self, authorization: str | None) -> bool:
        scheme, _, token = (authorization or "").partition(" ")
        info = self._access_tokens.get(token) if scheme == "Bearer" else None
        return (
            info is not None and info.expires_at > time.time() and info.scope == BOT_FRAMEWORK_SCOPE
        )

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.raw_path.split("?", 1)[0]
        segments = [unquote(s) for s in path.split("/")]
        if request.method == "GET" and "files" in segments and segments[1] == "personal":
            return self._file_answer(segments[segments.index("files") + 1], None)
        if request.method == "GET" and "attachments" in segments and "v3" in segments:
            where = segments.index("attachments")
            return self._file_answer(
                segments[where + 1] if len(segments) > where + 1 else "",
                request.headers.get("Authorization"),
            )
        if path.endswith("/.well-known/openid-configuration") and request.method == "GET":
            tenant = segments[1] if len(segments) > 2 else "common"
            with self._lock:
                self.discovery_requests += 1
            return web.json_response(self._openid_configuration(tenant))
        if "v3" not in segments:
            return web.json_response(_error_body("NotFound", "Not found."), status=404)
        rest = segments[segments.index("v3") + 1 :]
        kind, cid, aid = self._route(request.method, rest)
        body: Json | None = None
        raw = await request.read()
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        call = ConnectorCall(
            method=request.method,
            path=path,
            kind=kind,
            conversation_id=cid,
            activity_id=aid,
            body=body,
            authorization=request.headers.get("Authorization"),
            at=time.monotonic(),
        )
        with self._lock:
            self.calls.append(call)
        if self.latency:
            await asyncio.sleep(self.latency)
        try:
            status, payload, headers = self._handle(call)
        except _ConnectorError as err:
            status, payload = err.status, _error_body(err.code, err.message)
            headers = {}
            call.error_code = err.code
        call.status = status
        call.response = payload
        if isinstance(payload, _Raw):
            return web.Response(
                status=status, text=payload.text, content_type=payload.content_type, headers=headers
            )
        if status == 401:
            return web.json_response(payload, status=401, headers=headers)
        if payload is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(payload, status=status, headers=headers)

    def _authorize(self, call: ConnectorCall) -> None:
        header = call.authorization or ""
        scheme, _, token = header.partition(" ")
        info = self._access_tokens.get(token) if scheme == "Bearer" else None
        if info is not None:
            call.token_app_id = info.app_id
        if info is None or info.expires_at <= time.time() or info.scope != BOT_FRAMEWORK_SCOPE:
            call.token_app_id = None
            raise _ConnectorError(401)

    def _handle(self, call: ConnectorCall) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            try:
                self._authorize(call)
            except _ConnectorError:
                call.error_code = "Unauthorized"
                denied = {"message": "Authorization has been denied for this request."}
                return 401, denied, {"WWW-Authenticate": 'Bearer realm="botframework"'}
            cid = call.conversation_id
            tenant = _conversation_tenant(call.body) or (
                self._conversation_tenants.get(cid) if cid else None
            )
            if cid and tenant:
                self._conversation_tenants.setdefault(cid, tenant)
            call.tenant_id = tenant

            failure = self._pop_failure(call.kind, cid)
            if failure is not None:
                headers: dict[str, str] = {}
                if isinstance(failure.retry_after, str):
                    headers["Retry-After"] = failure.retry_after
                elif failure.retry_after is not None:
                    headers["Retry-After"] = f"{failure.retry_after:g}"
                    call.retry_after = failure.retry_after
                if failure.delivered:
                    with contextlib.suppress(_ConnectorError):
                        self._apply(call)
                if failure.raw_body is not None:
                    call.error_code = None
                    return (
                        failure.status,
                        _Raw(failure.raw_body, failure.content_type),
                        headers,
                    )
                err = _ConnectorError(failure.status, failure.code, failure.message)
                call.error_code = err.code
                return err.status, _error_body(err.code, err.message), headers

            if cid and cid in self._deleted:
                raise _ConnectorError(404)
            if cid and cid in self._blocked:
                status, code, message = self._blocked[cid]
                raise _ConnectorError(status, code, message)

            wait = self._take_rate_tokens(call, tenant)
            if wait is not None:
                retry_after = max(1, int(wait + 0.999))
                call.retry_after = retry_after
                call.error_code = "Throttled"
                return (
                    429,
                    _error_body("Throttled", "Too many requests."),
                    {"Retry-After": str(retry_after)},
                )
            status, payload = self._apply(call)
            return status, payload, {}

    def _take_rate_tokens(self, call: ConnectorCall, tenant: str | None) -> float | None:
        if self._rate_limits is None:
            return None
        per_conversation, per_tenant = self._rate_limits
        now = time.monotonic()
        buckets: list[_Bucket] = []
        if call.kind in _WRITES and call.conversation_id:
            buckets.append(
                self._conversation_buckets.setdefault(
                    call.conversation_id,
                    _Bucket(per_conversation, per_conversation, per_conversation, now),
                )
            )
        buckets.append(
            self._tenant_buckets.setdefault(
                tenant or "?", _Bucket(per_tenant, per_tenant, per_tenant, now)
            )
        )
        outcomes = [(bucket, bucket.take(now)) for bucket in buckets]
        waits = [wait for _, wait in outcomes if wait is not None]
        if waits:
            # The request is refused: give back what the other buckets granted.
            for bucket, wait in outcomes:
                if wait is None:
                    bucket.tokens = min(bucket.capacity, bucket.tokens + 1)
            return max(waits)
        return None

    def _apply(self, call: ConnectorCall) -> tuple[int, Any]:
        """Carry out a call; the caller holds the lock."""
        cid, aid, body = call.conversation_id, call.activity_id, call.body
        if call.kind in ("send", "reply"):
            if not isinstance(body, dict) or not body.get("type"):
                raise _ConnectorError(400, "BadArgument", "Activity is missing or has no type.")
            assert cid is not None
            new_id = self._next_id()
            self.conversations[cid][new_id] = StoredActivity(
                id=new_id,
                conversation_id=cid,
                activity=dict(body),
                reply_to_id=aid if call.kind == "reply" else body.get("replyToId"),
                posted_at=time.monotonic(),
            )
            call.stored = True
            return 201, {"id": new_id}
        if call.kind == "update":
            assert cid is not None and aid is not None
            stored = self.conversations.get(cid, {}).get(aid)
            if stored is None or stored.deleted:
                raise _ConnectorError(404, "ActivityNotFoundInConversation", "Activity not found.")
            if not isinstance(body, dict):
                raise _ConnectorError(400, "BadArgument", "Activity is missing.")
            stored.activity = dict(body)
            stored.updates += 1
            call.stored = True
            return 200, {"id": aid}
        if call.kind == "delete":
            assert cid is not None and aid is not None
            stored = self.conversations.get(cid, {}).get(aid)
            if stored is None or stored.deleted:
                raise _ConnectorError(404, "ActivityNotFoundInConversation", "Activity not found.")
            stored.deleted = True
            call.stored = True
            return 200, None
        if call.kind == "create_conversation":
            return self._create_conversation(call)
        if call.kind == "get_conversations":
            return 200, {"conversations": [], "continuationToken": None}
        if call.kind == "get_members":
            return 200, []
        if call.kind == "get_member":
            raise _ConnectorError(404, "MemberNotFoundInConversation", "Member not found.")
        raise _ConnectorError(404, "NotFound", "Not found.")

    def _create_conversation(self, call: ConnectorCall) -> tuple[int, Any]:
        body = call.body if isinstance(call.body, dict) else None
        if body is None:
            raise _ConnectorError(400, "BadArgument", "Conversation parameters are missing.")
        members = body.get("members") or []
        tenant = call.tenant_id or self.tenant_id
        if not body.get("isGroup") and len(members) == 1 and isinstance(members[0], dict):
            key = (tenant, str(members[0].get("id")))
            cid = self._one_on_one.get(key)
            if cid is None:
                cid = "a:1" + secrets.token_urlsafe(24)
                self._one_on_one[key] = cid
        else:
            cid = "19:" + secrets.token_hex(16) + "@thread.v2"
        self._conversation_tenants.setdefault(cid, tenant)
        if cid in self._deleted:
            raise _ConnectorError(404)
        if cid in self._blocked:
            status, code, message = self._blocked[cid]
            raise _ConnectorError(status, code, message)
        self.created_conversations.append(body)
        self.conversations.setdefault(cid, {})
        call.stored = True
        result: Json = {"id": cid}
        activity = body.get("activity")
        if isinstance(activity, dict) and activity.get("type"):
            new_id = self._next_id()
            self.conversations[cid][new_id] = StoredActivity(
                id=new_id,
                conversation_id=cid,
                activity=dict(activity),
                reply_to_id=None,
                posted_at=time.monotonic(),
            )
            result["activityId"] = new_id
        return 201, result
