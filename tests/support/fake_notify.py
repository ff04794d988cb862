"""A fake GOV.UK Notify API on loopback: checks the JWT each request carries (signed with
the key's secret, issued by its service, fresh) and answers with the statuses asked for."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from aiohttp import web

from tests.support.servers import RunningApp, start_app

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"convene_test-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"


class FakeNotify:
    def __init__(self) -> None:
        self.answers: list[int] = []
        self.sent: list[dict[str, Any]] = []
        self.tries = 0
        self.bad_tokens = 0
        self.running: RunningApp | None = None

    @property
    def url(self) -> str:
        assert self.running is not None
        return self.running.url

    async def start(self) -> FakeNotify:
        app = web.Application()
        app.router.add_post("/v2/notifications/email", self.email)
        self.running = await start_app(app)
        return self

    async def stop(self) -> None:
        if self.running is not None:
            await self.running.stop()

    def _token_ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return False
        try:
            claims = jwt.decode(header.removeprefix("Bearer "), SECRET, algorithms=["HS256"])
        except jwt.PyJWTError:
            return False
        return claims.get("iss") == SERVICE_ID and abs(time.time() - claims["iat"]) < 30

    async def email(self, request: web.Request) -> web.Response:
        self.tries += 1
        if not self._token_ok(request):
            self.bad_tokens += 1
            return _error(403, "AuthError", "Invalid token: signature, api token not found")
        body = await request.json()
        status = self.answers.pop(0) if self.answers else 201
        if status == 400:
            return _error(400, "ValidationError", "email_address Not a valid email address")
        if status == 429:
            return _error(429, "RateLimitError", "Exceeded rate limit for key type LIVE")
        if status >= 500:
            return _error(status, "Exception", "Internal server error")
        assert body["template_id"] == TEMPLATE_ID
        self.sent.append(body)
        return web.json_response(
            {"id": str(uuid.uuid4()), "reference": body.get("reference"), "content": {}},
            status=201,
        )


def _error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response(
        {"status_code": status, "errors": [{"error": kind, "message": message}]}, status=status
    )
