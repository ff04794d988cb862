"""Signed unsubscribe tokens: who to turn email off for, with nothing secret inside."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "convene.email.unsubscribe"


def unsubscribe_token(signing_key: str, person_id: int) -> str:
    return str(URLSafeSerializer(signing_key, salt=SALT).dumps({"p": person_id}))


def person_in(signing_key: str, token: str) -> int | None:
    """The person an unsubscribe token names, or None if it is not one of ours."""
    if not token or len(token) > 300:
        return None
    try:
        data = URLSafeSerializer(signing_key, salt=SALT).loads(token)
        return int(data["p"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
