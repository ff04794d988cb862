"""How an email leaves: SMTP (`aiosmtplib`) or GOV.UK Notify (`notifications-python-client`).

Each backend raises the outbox's own exceptions: `RetryLater` for a busy or unreachable
service (SMTP 4xx, Notify 429 or 5xx, a dropped connection), `Undeliverable` with a plain
reason for an address that will never work (SMTP 5xx, Notify 400). Neither ever puts the
API key, the password or a sign-in link in a log or a reason.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol

import aiosmtplib
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient
from requests.exceptions import RequestException

from bot.outbox.sender import Deferred, RetryLater, Undeliverable
from bot.settings import Settings


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str
    #: The outbox key: the Message-ID and Notify's reference, so a repeat can be spotted.
    key: str
    unsubscribe_url: str
    attachments: list[Attachment] = field(default_factory=list)


class EmailBackend(Protocol):
    async def send(self, email: OutgoingEmail) -> str:
        """Send it; return the service's id for it."""
        ...


def mime_message(email: OutgoingEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    domain = sender.rpartition("@")[2] or "convene.local"
    message["Message-ID"] = f"<{uuid.uuid5(uuid.NAMESPACE_URL, email.key)}@{domain}>"
    message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    for attached in email.attachments:
        main, _, sub = attached.content_type.partition(";")[0].partition("/")
        message.add_attachment(
            attached.data, maintype=main, subtype=sub, filename=attached.filename
        )
    return message


class SmtpBackend:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, email: OutgoingEmail) -> str:
        settings = self.settings
        message = mime_message(email, settings.email_from)
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                start_tls=settings.smtp_starttls,
                username=settings.smtp_user,
                password=password,
                timeout=settings.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refusal.code for refusal in exc.recipients]
            if any(code >= 500 for code in codes):
                raise Undeliverable(
                    f"The mail server refused the address {email.to} "
                    f"({', '.join(str(c) for c in codes)}): check it is right."
                ) from None
            raise RetryLater(f"the mail server asked us to wait ({codes[0]})") from None
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise Undeliverable(
                    f"The mail server would not take the email ({exc.code}): it will not "
                    "work if we try again."
                ) from None
            raise RetryLater(f"the mail server asked us to wait ({exc.code})") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise RetryLater(f"could not reach the mail server: {type(exc).__name__}") from None
        return str(message["Message-ID"])


#: Notify's words for an address that will never work: the email is dead, not retried.
BAD_ADDRESS = ("not a valid email", "email_address", "team-only", "trial mode")


class NotifyBackend:
    """GOV.UK Notify, through its own Python client (which is synchronous, so it runs in a
    thread). The template's subject is `((subject))` and its body `((body))`."""

    def __init__(self, settings: Settings) -> None:
        if settings.notify_api_key is None or not settings.notify_template_id:
            raise ValueError("CONVENE_NOTIFY_API_KEY and CONVENE_NOTIFY_TEMPLATE_ID are needed")
        self.template_id = settings.notify_template_id
        self.client = NotificationsAPIClient(
            settings.notify_api_key.get_secret_value(), base_url=settings.notify_base_url
        )
        self.client.timeout = int(settings.smtp_timeout_seconds)

    async def send(self, email: OutgoingEmail) -> str:
        personalisation: dict[str, Any] = {"subject": email.subject, "body": email.text}
        try:
            answer = await asyncio.to_thread(
                self.client.send_email_notification,
                email_address=email.to,
                template_id=self.template_id,
                personalisation=personalisation,
                reference=email.key,
            )
        except HTTPError as exc:
            status = exc.status_code
            said = _words(exc.message)
            if status == 429:
                raise Deferred(5.0, "GOV.UK Notify asked us to slow down (429)") from None
            if status >= 500 or status in (408,):
                raise RetryLater(f"GOV.UK Notify answered {status}") from None
            if status == 400 and any(words in said for words in BAD_ADDRESS):
                raise Undeliverable(
                    f"GOV.UK Notify cannot send to {email.to}: {said}. Check the address."
                ) from None
            raise Undeliverable(f"GOV.UK Notify refused the email ({status}): {said}") from None
        except RequestException as exc:
            raise RetryLater(f"could not reach GOV.UK Notify: {type(exc).__name__}") from None
        return str(answer.get("id", "")) if isinstance(answer, dict) else ""


def _words(message: object) -> str:
    """Notify's error messages as one line ("email_address Not a valid email address")."""
    if isinstance(message, list):
        return "; ".join(
            str(m.get("message", "")) if isinstance(m, dict) else str(m) for m in message
        )
    return str(message or "")


def backend_for(settings: Settings) -> EmailBackend | None:
    if settings.email_backend == "smtp":
        return SmtpBackend(settings)
    if settings.email_backend == "notify":
        return NotifyBackend(settings)
    return None
