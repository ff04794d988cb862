"""Convene going into and out of Slack workspaces: OAuth installs, and removals.

With several workspaces (`SLACK_CLIENT_ID` set), a workspace admin adds Convene at
`/slack/install`; Bolt's OAuth flow keeps each workspace's bot token in our database.
When Convene is taken out again (`app_uninstalled`, or its bot token revoked), the
workspace is marked removed, so the outbox stops sending there, and its installation
is forgotten. With one workspace there is no install flow: the token is a setting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.exc import SQLAlchemyError

from bot.core.turn import Door
from bot.services import Services
from storage.workspaces import mark_workspace_installed, mark_workspace_removed

log = logging.getLogger(__name__)

#: What the code calls needs (the manifest asks for exactly these; a test checks both ways):
#: chat:write.public to post invitations in a council's channel without being invited
#: first, and channels:/groups:history for the sender to check, after a crash, whether a
#: message to a channel already landed (im:history does the same for direct messages).
BOT_SCOPES = (
    "channels:history",
    "chat:write",
    "chat:write.public",
    "commands",
    "files:read",
    "files:write",
    "groups:history",
    "im:history",
    "im:write",
    "users:read",
    "users:read.email",
)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


class SlackInstalls:
    """Installs and removals of Convene in Slack workspaces.

    `forget` is told the team id of a workspace whose token changed (installed again, or
    removed), so the sender stops using what it remembered of it.
    """

    def __init__(self, services: Services, forget: Callable[[str], None]) -> None:
        self.services = services
        self.forget = forget
        settings = services.settings
        self.store: AsyncSQLAlchemyInstallationStore | None = None
        #: Bolt's OAuth settings when there are several workspaces, None with one.
        self.oauth_settings: AsyncOAuthSettings | None = None
        if not settings.slack_multi_workspace:
            return
        assert settings.slack_client_id and settings.slack_client_secret
        self.store = AsyncSQLAlchemyInstallationStore(
            client_id=settings.slack_client_id, engine=services.db.engine
        )
        self.oauth_settings = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            scopes=list(BOT_SCOPES),
            installation_store=self.store,
            state_store=AsyncSQLAlchemyOAuthStateStore(
                expiration_seconds=600, engine=services.db.engine
            ),
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            redirect_uri=f"{settings.base_url}{REDIRECT_PATH}",
            authorization_url=settings.slack_authorize_url,
            install_page_rendering_enabled=False,
            callback_options=AsyncCallbackOptions(success=self._installed, failure=self._failed),
        )

    def mount(self, app: web.Application, flow: AsyncOAuthFlow | None) -> None:
        """The install page and Slack's redirect back, when there is an install flow."""
        if flow is None:
            return

        async def handle(request: web.Request) -> web.Response:
            bolt_request = await to_bolt_request(request)
            if request.path == flow.install_path:
                response = await flow.handle_installation(bolt_request)
            else:
                response = await flow.handle_callback(bolt_request)
            return await to_aiohttp_response(response)

        app.router.add_get(INSTALL_PATH, handle)
        app.router.add_get(REDIRECT_PATH, handle)

    async def removed(self, team_id: str, enterprise_id: str | None) -> bool:
        """Convene was taken out of a workspace: remember it, so nothing more is sent there
        (the outbox marks those messages undeliverable with the reason), and forget the
        workspace's installation. False if the database failed (Slack tells us again)."""
        try:
            await mark_workspace_removed(
                self.services.db, Door.SLACK, team_id, at=self.services.clock.now()
            )
            if self.store is not None:
                await self.store.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
        except (SQLAlchemyError, OSError) as exc:
            log.error("could not record a Slack workspace's removal (%s)", type(exc).__name__)
            return False
        finally:
            self.forget(team_id)
        log.info("Convene was removed from Slack workspace %s", word(team_id))
        return True

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
        self.forget(team_id)
        name = installation.team_name or "your workspace"
        return _html(
            200,
            "Convene is installed",
            f"Convene is now in {name}. Open Slack and type /convene help to start.",
        )

    async def _failed(self, args: AsyncFailureArgs) -> BoltResponse:
        log.warning("Slack install failed: %s", word(str(args.reason)))
        return _html(
            args.suggested_status_code,
            "Convene could not be installed",
            "Slack did not finish the install. Please go back and try again.",
        )


def word(value: str) -> str:
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
