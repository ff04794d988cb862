"""Bot Framework authentication for the Teams door, built on botbuilder's own validators.

Inbound: every request's JWT is checked by botbuilder's `ConfigurationBotFrameworkAuthentication`
(issuer, audience, expiry, signature from the OpenID metadata keys, service URL claim).
We call it ourselves before the adapter, so every bad token gets a 401 (a bare
CloudAdapter answers 500 to most of them).

Outbound: a bare CloudAdapter builds new credentials, a new MSAL app (so a new token
request), a new ConnectorClient and a new TokenApiClient for every activity; that was
most of its CPU. Here one credentials object per scope keeps MSAL's token cache for
the life of the process, and connector and token clients are reused across turns.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from botframework.connector.auth.app_credentials import AppCredentials
from botframework.connector.skills import BotFrameworkClient
from msal import ConfidentialClientApplication

from bot.guard import MAX_KEYS, Throttle
from bot.settings import Settings

MICROSOFT_LOGIN_HOSTS = ("login.microsoftonline.com", "login.microsoftonline.us")


class BotConfig:
    """The attributes `ConfigurationBotFrameworkAuthentication` reads, from our settings."""

    def __init__(self, settings: Settings) -> None:
        password = settings.microsoft_app_password
        self.APP_ID = settings.microsoft_app_id or ""
        self.APP_PASSWORD = password.get_secret_value() if password else ""
        self.APP_TYPE = settings.microsoft_app_type or (
            "SingleTenant" if settings.microsoft_app_tenant_id else "MultiTenant"
        )
        self.APP_TENANTID = settings.microsoft_app_tenant_id or ""
        self.TO_CHANNEL_FROM_BOT_LOGIN_URL = settings.teams_login_authority
        self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = settings.teams_oauth_scope
        self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = settings.teams_token_issuer
        self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.teams_openid_metadata_url
        self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = settings.teams_openid_metadata_url


class ProcessCredentials(MicrosoftAppCredentials):
    """App credentials whose MSAL app, and so token cache, lives as long as the process."""

    def __init__(self, app_id: str, password: str, authority: str, scope: str) -> None:
        super().__init__(app_id, password, oauth_scope=scope)
        self.oauth_endpoint = authority
        host = urlparse(authority).hostname or ""
        self._msal = ConfidentialClientApplication(
            client_id=app_id,
            client_credential=password,
            authority=authority,
            # Instance discovery asks Microsoft about other hosts; a private or test
            # authority answers for itself.
            instance_discovery=host in MICROSOFT_LOGIN_HOSTS,
        )
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    def _scopes(self) -> list[str]:
        scope = self.oauth_scope
        return [scope if scope.endswith("/.default") else f"{scope}/.default"]

    def get_access_token(self, force_refresh: bool = False) -> str:
        """Used by botbuilder's own (blocking) connector client; MSAL answers from its cache."""
        if not force_refresh and self._token and time.time() < self._expires_at - 300:
            return self._token
        if force_refresh:
            # MSAL answers acquire_token_for_client from its own cache: drop the token the
            # connector refused there too, or the same one would come straight back.
            cache = self._msal.token_cache
            for item in list(cache.search(cache.CredentialType.ACCESS_TOKEN)):
                cache.remove_at(item)
        result: dict[str, Any] = self._msal.acquire_token_for_client(scopes=self._scopes())
        if "access_token" not in result:
            raise PermissionError(
                f"Could not get a Bot Framework token: {result.get('error', 'unknown error')}"
            )
        self._token = str(result["access_token"])
        self._expires_at = time.time() + float(result.get("expires_in", 3600))
        return self._token

    async def token(self, *, force_refresh: bool = False) -> str:
        """For our own async sender: a fresh token is fetched off the event loop, once."""
        if not force_refresh and self._token and time.time() < self._expires_at - 300:
            return self._token
        async with self._lock:
            if not force_refresh and self._token and time.time() < self._expires_at - 300:
                return self._token
            return await asyncio.to_thread(self.get_access_token, force_refresh)


class ProcessCredentialsFactory(ServiceClientCredentialsFactory):
    """One `ProcessCredentials` per scope, for our single bot app id."""

    def __init__(self, settings: Settings) -> None:
        password = settings.microsoft_app_password
        self.app_id = settings.microsoft_app_id or ""
        self._password = password.get_secret_value() if password else ""
        self._authority = settings.teams_login_authority
        self._default_scope = settings.teams_oauth_scope
        self._by_scope: dict[str, ProcessCredentials] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self.app_id

    def credentials(self, scope: str | None = None) -> ProcessCredentials:
        scope = scope or self._default_scope
        if scope not in self._by_scope:
            self._by_scope[scope] = ProcessCredentials(
                self.app_id, self._password, self._authority, scope
            )
        return self._by_scope[scope]

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        if not self.app_id:
            return MicrosoftAppCredentials.empty()
        if app_id != self.app_id:
            raise PermissionError("That app id is not this bot's")
        return self.credentials(oauth_scope)


class _ReusedConnectors(ConnectorFactory):
    def __init__(self, inner: ConnectorFactory, cache: dict[tuple[str, str | None], Any]) -> None:
        self._inner = inner
        self._cache = cache

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (service_url, audience)
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            client.config.retry_policy.retries = 0  # the outbox owns retries
            self._cache[key] = client
        return client


def _expiry(result: AuthenticateRequestResult) -> float | None:
    """When a verified token stops being valid (its `exp` claim), if it has one."""
    identity = getattr(result, "claims_identity", None)
    claims = getattr(identity, "claims", None) or {}
    try:
        return float(claims["exp"])
    except (KeyError, TypeError, ValueError):
        return None


class ReusingAuthentication(BotFrameworkAuthentication):
    """botbuilder's configuration-driven authentication, with clients reused across turns."""

    def __init__(self, settings: Settings) -> None:
        self.credentials = ProcessCredentialsFactory(settings)
        self.inner = ConfigurationBotFrameworkAuthentication(
            BotConfig(settings), credentials_factory=self.credentials
        )
        self._connectors: dict[tuple[str, str | None], Any] = {}
        self._user_token_client: UserTokenClient | None = None
        self._verified: dict[
            tuple[str | None, str | None, str | None], tuple[float, AuthenticateRequestResult]
        ] = {}

    async def authenticate_request(
        self, activity: Any, auth_header: str | None
    ) -> AuthenticateRequestResult:
        """botbuilder's full check, remembered for the token's own lifetime.

        The channel signs one token and reuses it for many requests. A token that passed
        every check (signature, issuer, audience, expiry, service URL claim) for this
        service URL passes them again until it expires, so the RSA verification runs once
        per token rather than once per request.
        """
        # Everything botbuilder's check reads: the channel decides which keys are endorsed.
        key = (
            auth_header,
            getattr(activity, "channel_id", None),
            getattr(activity, "service_url", None),
        )
        cached = self._verified.get(key)
        now = time.time()
        if cached is not None and cached[0] > now:
            return cached[1]
        result = await self.inner.authenticate_request(activity, auth_header)
        result.connector_factory = _ReusedConnectors(result.connector_factory, self._connectors)
        expires = _expiry(result)
        if expires is not None and auth_header:
            if len(self._verified) > 1000:
                self._verified = {k: v for k, v in self._verified.items() if v[0] > now}
            self._verified[key] = (expires, result)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self.inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _ReusedConnectors(
            self.inner.create_connector_factory(claims_identity), self._connectors
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        # Convene does not use Teams single sign-on; one client serves every turn.
        if self._user_token_client is None:
            self._user_token_client = await self.inner.create_user_token_client(claims_identity)
        return self._user_token_client

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self.inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self.inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self.inner.authenticate_channel_request(auth_header)


class BadTokens:
    """Refused tokens per client address. Past `limit` a minute, the address gets 429
    for a while without any more of its tokens being checked: checking a token costs
    an RSA verification, which a flood of forged ones must not be able to buy."""

    def __init__(self, limit: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._throttle = Throttle(limit, 60.0, clock=clock)
        self._clock = clock
        self._shut: OrderedDict[str, float] = OrderedDict()  # address -> refused until

    def wait(self, address: str) -> int | None:
        """Seconds this address must wait before a token of theirs is checked again."""
        until = self._shut.get(address)
        if until is None:
            return None
        left = until - self._clock()
        if left <= 0:
            del self._shut[address]
            return None
        return max(1, math.ceil(left))

    def refused(self, address: str) -> bool:
        """Count one refused token; True when it was one too many (answer 429)."""
        if self._throttle.allow(address):
            return False
        self._shut.pop(address, None)
        self._shut[address] = self._clock() + self._throttle.retry_after()
        while len(self._shut) > MAX_KEYS:
            self._shut.popitem(last=False)
        return True
