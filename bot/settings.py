"""Runtime configuration, read from the environment (and an optional `.env` file).

Every knob the service has lives here so the README can list them in one place and
so nothing reads `os.environ` ad hoc. Secrets are `SecretStr` so they never end up
in a log line or a repr.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./convene.db"
SECRET_FILE = ".convene-secret"


class Settings(BaseSettings):
    """All configuration. Names without the `CONVENE_` prefix follow platform conventions."""

    model_config = SettingsConfigDict(env_prefix="CONVENE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL, validation_alias=AliasChoices("DATABASE_URL", "CONVENE_DATABASE_URL")
    )
    #: PostgreSQL connections each process keeps open (10 more are opened when busy).
    database_pool_size: int = 40
    host: str = "127.0.0.1"
    port: int = 3978
    public_url: str | None = None
    secret_key: SecretStr | None = None
    timezone: str = "Europe/London"
    auto_migrate: bool = True
    local_mode: bool | None = None
    session_max_age_seconds: int = 8 * 3600
    signin_link_ttl_seconds: int = 24 * 3600
    outbox_interval_seconds: float = 1.0
    sweep_interval_seconds: float = 30.0
    #: Reminders the due sweep claims at a time. Small, so a process that dies strands few
    #: (they wait for their lease); a full batch is followed at once by the next.
    sweep_batch_size: int = Field(25, ge=1)
    #: Reminders one process handles at once, each in its own unit of work (and so its own
    #: database connection): well under `database_pool_size`, so people's requests still get
    #: one. SQLite has one writer, so there the sweep handles one at a time.
    sweep_concurrency: int = Field(8, ge=1)
    lease_seconds: int = 60
    outbox_max_attempts: int = 8
    outbox_batch_size: int = 50
    outbox_concurrency: int = 8
    scheduler_enabled: bool = True
    suppression_minimum: int = 5
    #: The largest file a person may send (a report, a photo, a voice note), in bytes. Doors
    #: refuse bigger files before fetching them; features check it again on the bytes.
    upload_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    #: How long a chat door may spend fetching one file a person sent in Slack or Teams.
    #: Teams waits 15 s for an answer and the files are fetched before it gets one.
    chat_file_timeout_seconds: float = Field(10.0, gt=0)
    #: The only hosts Slack files are fetched from (with the bot token), comma-separated;
    #: `.example.com` allows any host under example.com. Files on any other host are
    #: never fetched.
    slack_files_hosts: str = "files.slack.com"
    #: Hosts Teams file downloads come from (pre-authenticated links to the person's
    #: OneDrive or SharePoint), comma-separated, `.` at the start for any host under it.
    #: Inline images are fetched, with the bot's token, only from the activity's serviceUrl.
    teams_files_hosts: str = ".sharepoint.com"
    #: Engagement guardrail: warn when an engagement is open for fewer days than this. It is
    #: the council's own choice, not the law: no Act sets a length for pre-market engagement
    #: (seed 004's six weeks is for tender windows, which opportunities will check). Four
    #: weeks gives small groups, who meet monthly, one chance to talk about it.
    engagement_minimum_days: int = Field(28, ge=0)
    #: Guardrail: warn when an engagement asks more questions than this.
    engagement_max_questions: int = 15
    #: Closing reminders go this many working days (UK bank holidays excluded) before close.
    engagement_reminder_working_days: int = 3
    #: Bank holidays of this UK nation count as non-working days (a typo fails at start-up,
    #: not when a commissioner publishes).
    bank_holiday_region: Literal["ENG", "WLS", "SCT", "NIR"] = "ENG"
    log_level: str = "INFO"
    #: `text` (one readable line each, the default) or `json` (one JSON object a line, with
    #: the request id: recommended in production, for a log store to index).
    log_format: Literal["text", "json"] = "text"
    #: Serve Prometheus metrics at `/metrics`.
    metrics: bool = False
    #: When set, `/metrics` asks for `Authorization: Bearer <this token>`.
    metrics_token: SecretStr | None = None
    #: Reverse proxies whose `X-Forwarded-For` we believe (comma-separated addresses or
    #: networks). Requests from anywhere else are counted under their own address.
    trusted_proxies: str = "127.0.0.1,::1"
    #: Sign-in attempts (links and the local list) allowed per client address per minute.
    signin_attempts_per_minute: int = 10
    #: Requests with a bad Slack signature or a bad Teams token allowed per client address
    #: per minute before the door answers 429 without checking any more of them.
    bad_requests_per_minute: int = 30
    #: Feedback sent from one client address, per hour, to any feedback point's page (the
    #: address is counted in memory, never stored with the feedback).
    feedback_per_client_per_hour: int = Field(10, ge=1)
    #: Feedback one feedback point's page takes per hour, from everyone together.
    feedback_per_point_per_hour: int = Field(120, ge=1)
    #: The council's safeguarding phone line, shown at once to anyone whose feedback looks
    #: like telling us about harm (beside 999 in an emergency). Empty: only 999 and the
    #: local council are named.
    safeguarding_phone: str = ""
    #: Offer the feedback pages in Welsh ("Cymraeg" link) even though the council is not in
    #: Wales. A council in Wales (`bank_holiday_region` WLS) always offers Welsh.
    feedback_welsh: bool = False
    #: How long a request may wait for the database (a pool connection, SQLite's lock)
    #: before it gets a plain "can't reach the database" answer: well under Slack's 3 s
    #: acknowledgement and Teams' 15 s retry.
    database_timeout_seconds: float = 2.0
    #: The publisher prefix at the start of every OCDS ocid this Convene publishes. The Open
    #: Contracting Partnership gives each publisher its own (``ocds-`` and 6 letters or
    #: numbers; Find a Tender's is ``ocds-h6vhtk``). ``ocds-xxxxxx`` means "not registered
    #: yet": fine for trying the export, not for publishing it.
    ocid_prefix: str = Field("ocds-xxxxxx", pattern=r"^ocds-[a-z0-9]{6}$")
    #: Each council's organisation identifier in open data (from org-id.guide: GB-LAE for
    #: English councils, GB-WAL, GB-SLA, GB-NIA for the other nations), as `slug=id` pairs
    #: separated by commas: `riverside=GB-LAE-RIV`. 360Giving needs it for the funder; OCDS
    #: names the buyer with it when given.
    open_data_org_ids: str = ""
    #: The 360Giving prefix registered for this Convene's grant identifiers (360Giving gives
    #: each publisher its own). The default means "not registered yet".
    grants_prefix: str = Field("360G-convene", pattern=r"^360G-[A-Za-z0-9_-]+$")
    #: Who runs this Convene, named on the privacy notice, terms and accessibility statement.
    operator_name: str = "the council that runs this service"
    #: Where people write about privacy or accessibility (shown on those pages).
    operator_email: str | None = None

    # Email: the fourth door, for notices to people on neither Slack nor Teams.
    #: `none` (no email), `smtp` (any mail server) or `notify` (GOV.UK Notify).
    email_backend: Literal["none", "smtp", "notify"] = "none"
    #: The address emails come from (SMTP; Notify uses the service's own).
    email_from: str = "convene@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    #: Upgrade the connection with STARTTLS before sending (port 587).
    smtp_starttls: bool = True
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(15.0, gt=0)
    #: A Notify API key (`name-service_id-secret`); never logged.
    notify_api_key: SecretStr | None = None
    #: A Notify email template whose subject is `((subject))` and body is `((body))`.
    notify_template_id: str | None = None
    #: Notify's API address (tests point it at a fake on loopback).
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    #: Emails sent per second, all together (Notify allows 3,000 a minute).
    email_per_second: float = Field(20.0, gt=0)
    #: How long the sign-in link in an email works.
    email_signin_link_ttl_seconds: int = Field(2 * 3600, ge=60)

    # Slack. Single workspace: bot token + signing secret. Several workspaces: client id and
    # secret (OAuth installs stored in our database). Socket Mode: add an app-level token.
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_authorize_url: str = Field(
        "https://slack.com/oauth/v2/authorize", validation_alias="SLACK_AUTHORIZE_URL"
    )
    slack_channel_per_second: float = 1.0
    slack_workspace_per_second: float = 50.0
    #: Looks at a conversation's history (to check a message after a crash) per workspace
    #: per minute. Slack allows apps outside its Marketplace one a minute; an app built for
    #: one organisation keeps the usual allowance (about 50) and can raise this.
    slack_history_per_minute: float = 1.0

    # Microsoft Teams (Bot Framework). Without an app id the endpoint is unauthenticated,
    # which is only allowed when bound to loopback (local trials).
    microsoft_app_id: str | None = Field(None, validation_alias="MICROSOFT_APP_ID")
    microsoft_app_password: SecretStr | None = Field(
        None, validation_alias="MICROSOFT_APP_PASSWORD"
    )
    microsoft_app_tenant_id: str | None = Field(None, validation_alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: str | None = Field(None, validation_alias="MICROSOFT_APP_TYPE")
    teams_openid_metadata_url: str = Field(
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        validation_alias="TEAMS_OPENID_METADATA_URL",
    )
    teams_token_issuer: str = Field(
        "https://api.botframework.com", validation_alias="TEAMS_TOKEN_ISSUER"
    )
    teams_login_url: str | None = Field(None, validation_alias="TEAMS_LOGIN_URL")
    teams_oauth_scope: str = Field(
        "https://api.botframework.com", validation_alias="TEAMS_OAUTH_SCOPE"
    )
    teams_conversation_per_second: float = 7.0
    teams_tenant_per_second: float = 50.0

    @property
    def slack_enabled(self) -> bool:
        return self.slack_signing_secret is not None and (
            self.slack_bot_token is not None or self.slack_client_id is not None
        )

    @property
    def slack_multi_workspace(self) -> bool:
        return self.slack_client_id is not None and self.slack_client_secret is not None

    @property
    def teams_authenticated(self) -> bool:
        return bool(self.microsoft_app_id)

    @property
    def teams_enabled(self) -> bool:
        """Teams with real JWT checks, or unauthenticated for a plain local trial only."""
        return self.teams_authenticated or self.is_local_trial

    @property
    def teams_login_authority(self) -> str:
        """Where the bot gets tokens for its own calls to the Bot Connector."""
        if self.teams_login_url:
            return self.teams_login_url.rstrip("/")
        tenant = self.microsoft_app_tenant_id or "botframework.com"
        return f"https://login.microsoftonline.com/{tenant}"

    def org_id_of(self, slug: str) -> str | None:
        """The council's open data identifier from `open_data_org_ids`, or None."""
        for pair in self.open_data_org_ids.split(","):
            key, _, value = pair.partition("=")
            if key.strip() == slug and value.strip():
                return value.strip()
        return None

    @property
    def email_enabled(self) -> bool:
        return self.email_backend != "none"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_url(self) -> str:
        """Where people reach the web door; used in sign-in links and messages."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        return self.host in {"127.0.0.1", "localhost", "::1"}

    @property
    def is_local_trial(self) -> bool:
        """Plainly a trial on this computer: bound to loopback and not published anywhere.

        Behind a reverse proxy Convene also binds to loopback, but then it has a public
        URL; that is production, never a trial.
        """
        if not self.is_loopback:
            return False
        if not self.public_url:
            return True
        host = (urlsplit(self.public_url).hostname or "").lower()
        return host in {"127.0.0.1", "localhost", "::1"}

    @property
    def local_mode_enabled(self) -> bool:
        """Local mode lists demo people on the sign-in page. Only in a plain local trial."""
        if self.local_mode is None:
            return self.is_local_trial
        return self.local_mode and self.is_local_trial

    @cached_property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        from bot.guard import parse_networks

        return parse_networks(self.trusted_proxies)

    @cached_property
    def signing_key(self) -> str:
        """The key that signs session cookies and CSRF tokens.

        Without `CONVENE_SECRET_KEY` a random key is kept in `.convene-secret` so that a
        local restart does not sign everybody out.
        """
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = Path(SECRET_FILE)
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides (used by tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]
