"""Web sessions and CSRF protection.

Sessions are signed cookies (itsdangerous): HttpOnly, SameSite=Lax, Secure when
the public URL is https, and they expire. Every visitor, signed in or not, has a
random session id; the CSRF token is an HMAC of it, so every POST must come from
a page we served to that browser. A signed-in session also carries the person's
session generation, so signing out (which moves the generation on) ends every copy
of the cookie, on every device. Sign-in links live in `storage.sessions`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from storage.sessions import create_sign_in_link, hash_token, redeem_sign_in_link

COOKIE = "convene_session"


@dataclass
class WebSession:
    sid: str
    person_id: int | None = None
    #: The person's session generation when they signed in (see `storage.sessions`).
    generation: int = 0
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
                generation = data.get("gen", 0)
                if not isinstance(person_id, int | None) or not isinstance(generation, int):
                    raise TypeError("not a session we made")
                # Signed in: re-sign on every response, so the session ends after
                # `max_age` of *inactivity* ("you were away for a while").
                return WebSession(
                    sid=str(data["sid"]),
                    person_id=person_id,
                    generation=generation,
                    dirty=person_id is not None,
                )
            except SignatureExpired:
                return WebSession(sid=_new_sid(), expired=True, dirty=True)
            except (BadSignature, KeyError, TypeError):
                pass
        return WebSession(sid=_new_sid(), dirty=True)

    def dump(self, session: WebSession) -> str:
        return self._serializer.dumps(
            {"sid": session.sid, "pid": session.person_id, "gen": session.generation}
        )

    def csrf_token(self, session: WebSession) -> str:
        return hmac.new(self._key, f"csrf:{session.sid}".encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, session: WebSession, token: str | None) -> bool:
        """Compared as bytes: `compare_digest` refuses str with letters outside ASCII, and
        a token with "é" in it must be a plain refusal, not a crash."""
        if not token:
            return False
        expected = self.csrf_token(session).encode()
        return hmac.compare_digest(expected, token.encode("utf-8", "replace"))


def _new_sid() -> str:
    return secrets.token_urlsafe(24)


__all__ = [
    "COOKIE",
    "SessionCodec",
    "WebSession",
    "create_sign_in_link",
    "hash_token",
    "redeem_sign_in_link",
]
