"""Joining an organisation over the web door: a join request an admin approves from their
web inbox (the outbox delivers the news there), and a link alone never joins anyone.

Joining with an admin's code is tested in-process in tests/features/test_membership.py.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.app import SENDER
from bot.services import Services
from storage.models import AuditEvent, InboxItem, JoinRequest, Membership, Role
from tests.features.test_membership import _newcomer
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of


async def test_join_request_is_approved_by_an_admin_only(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    newcomer_id = await _newcomer(services, "Ria Patel")
    newcomer = WebUser(app_server.url)
    try:
        await newcomer.sign_in_locally("Ria Patel")
        _, html = await newcomer.post("/do/join", {"request": "asha women's centre"})
        assert "We asked the admins of Asha Women's Centre" in text_of(html)
        _, html = await newcomer.post("/do/join", {"request": "Asha Women's Centre"})
        assert "already asked" in text_of(html)
    finally:
        await newcomer.close()
    await app_server.runner.app[SENDER].drain()
    async with services.db.session() as session:
        request = await session.scalar(select(JoinRequest))
        assert request is not None and request.state == "pending"

    # Another organisation's admin can't let them in.
    await web_user.sign_in_locally("Tom Okafor")
    _, html = await web_user.post("/actions/join.approve", {"value": str(request.id)})
    assert "Only an admin of that organisation" in text_of(html)

    admin = WebUser(app_server.url)
    try:
        await admin.sign_in_locally("Amina Begum")
        _, html = await admin.get("/inbox")
        assert "Ria Patel asked to join Asha Women's Centre" in text_of(html)
        _, html = await admin.post("/actions/join.approve", {"value": str(request.id)})
        assert "Ria Patel can now use Convene" in text_of(html)
        _, html = await admin.post("/actions/join.approve", {"value": str(request.id)})
        assert "already answered" in text_of(html)
    finally:
        await admin.close()
    await app_server.runner.app[SENDER].drain()
    async with services.db.session() as session:
        assert await session.scalar(
            select(Membership).where(
                Membership.person_id == newcomer_id, Membership.role == Role.PROVIDER_MEMBER
            )
        )
        told = (
            await session.scalars(select(InboxItem).where(InboxItem.person_id == newcomer_id))
        ).all()
        assert len(told) == 1 and "You are now part of" in str(told[0].payload)
        actions = (await session.scalars(select(AuditEvent.action))).all()
        assert "membership.decision_refused" in actions and "membership.approved" in actions


async def test_a_link_alone_never_joins_anyone(
    app_server: RunningApp, services: Services, web_user: WebUser
) -> None:
    """Another site could send a signed-in person to /do/join?code=…: it must only ask."""
    await web_user.sign_in_locally("Tom Okafor")
    _, html = await web_user.get("/do/invite")
    code = re.search(r"Share this code: ([A-Z0-9]{4}-[A-Z0-9]{4})", text_of(html))
    assert code
    newcomer_id = await _newcomer(services, "Lee Visitor")
    visitor = WebUser(app_server.url)
    try:
        await visitor.sign_in_locally("Lee Visitor")
        status, html = await visitor.get("/do/join", params={"code": code.group(1)})
        assert status == 200 and "Please confirm" in text_of(html)
        async with services.db.session() as session:
            assert not (
                await session.scalars(select(Membership).where(Membership.person_id == newcomer_id))
            ).all()
        # A forged form post without this browser's token is refused too.
        status, _ = await visitor.post("/do/join", {"code": code.group(1)}, csrf=False)
        assert status == 403
        # Confirming, from the page we served, does it.
        await visitor.get("/do/join", params={"code": code.group(1)})
        _, html = await visitor.post("/do/join", {"code": code.group(1)})
        assert "You are now part of Riverside Youth Trust" in text_of(html)
    finally:
        await visitor.close()
