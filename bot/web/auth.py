"""Web sessions, CSRF protection and one-time sign-in links.

Sessions are signed cookies (itsdangerous): HttpOnly, SameSite=Lax, Secure when
the public URL is https, and they expire. Every visitor, signed in or not, has a
random session id; the CSRF token is an HMAC of it, so every POST must come from
a page we served to that browser. Sign-in links are random tokens of which only
a SHA-256 hash is stored; each works once and expires.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SignInToken

COOKIE = "convene_session"


@dataclass
class WebSession:
    sid: str
    person_id: int | None = None
    expired: bool = False  # a signed-in session ran out: say so, show nothing
    dirty: bool = False


class SessionCodec:
    def __init__(self, key: str, max_age: int) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="convene.web.session")
        self._key = key.encode()
        self.max_age = max_age

    def load(self, cookie: str | None) -> WebSession:
        if cookie:
            try:
                data = self._serializer.loads(cookie, max_age=self.max_age)
                person_id = data.get("pid")
                # Signed in: re-sign on every response, so the session ends after
                # `max_age` of *inactivity* ("you were away for a while").
                return WebSession(
                    sid=str(data["sid"]), person_id=person_id, dirty=person_id is not None
                )
            except SignatureExpired:
                return WebSession(sid=_new_sid(), expired=True, dirty=True)
            except (BadSignature, KeyError, TypeError):
                pass
        return WebSession(sid=_new_sid(), dirty=True)

    def dump(self, session: WebSession) -> str:
        return self._serializer.dumps({"sid": session.sid, "pid": session.person_id})

    def csrf_token(self, session: WebSession) -> str:
        return hmac.new(self._key, f"csrf:{session.sid}".encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, session: WebSession, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session), token or "")


def _new_sid() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_sign_in_link(
    session: AsyncSession, person_id: int, *, now: datetime, ttl: timedelta
) -> str:
    """A new one-time token for this person. Returns the token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        SignInToken(
            token_hash=hash_token(token), person_id=person_id, created_at=now, expires_at=now + ttl
        )
    )
    await session.flush()
    return token


async def redeem_sign_in_link(session: AsyncSession, token: str, *, now: datetime) -> int | None:
    """The person this token signs in, once. Unknown, used or expired tokens give None."""
    if not token or len(token) > 200:
        return None
    row = await session.scalar(
        select(SignInToken).where(SignInToken.token_hash == hash_token(token)).with_for_update()
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    row.used_at = now
    return row.person_id
