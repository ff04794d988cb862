"""What the who-can-see-what tables share: their six people, their cases, and provider A.

A table asks what each person can see of provider A (Riverside Youth Trust), which answers
to council X (Riverside). Each of the six stands somewhere else from A, and the tables'
columns follow this order: a member of A, an admin of A, a member of provider B (Silver
Threads), a commissioner of X, a commissioner of council Y (Hilltop), and a Convene admin.
The demo data holds them all but Sam Patel (A's member), Hilltop and Yusuf Khan (its
commissioner): `set_the_scene` adds those.

Every cell of a table is a case on each door (`table_cases`), run against a `TableWorld`:
the app behind every door, and a draft of A's answers that each case starts from.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from storage.models import Authority, FormResponse, Organisation, Person, ResponseState, Role
from storage.people import grant
from tests.support.doors import Actor, Doors, Seen
from tests.support.teams_activities import TeamsUser

A_SLUG = "riverside-youth-trust"
B_SLUG = "silver-threads-befriending"

DOORS = ("web", "slack", "teams")


# --- the people ------------------------------------------------------------------------------


def cast(*, teams_tag: str, teams_tail: str) -> list[Actor]:
    """The six, in the order of the tables' columns. Their Teams ids carry `teams_tag` and
    end in `teams_tail`, so that each test module's people are its own."""

    def teams(n: int, name: str) -> TeamsUser:
        return TeamsUser(
            id=f"29:1{teams_tag}{n:02d}{'x' * 40}",
            name=name,
            aad_object_id=f"0000000{n}-0000-4000-8000-{teams_tail:0>12}",
        )

    return [
        Actor("a_member", "Sam Patel", "sam@riversideyouth.example", "UAMEMBER", teams(1, "Sam")),
        Actor("a_admin", "Tom Okafor", "tom@riversideyouth.example", "UAADMIN", teams(2, "Tom")),
        Actor(
            "b_member", "Joan Hughes", "joan@silverthreads.example", "UBMEMBER", teams(3, "Joan")
        ),
        Actor(
            "commissioner_x",
            "Priya Shah",
            "priya.shah@riverside.example",
            "UCOMMX",
            teams(4, "Priya"),
        ),
        Actor("commissioner_y", "Yusuf Khan", "yusuf@hilltop.example", "UCOMMY", teams(5, "Yusuf")),
        Actor("admin", "Alex Morgan", "alex@convene.example", "UADMIN", teams(6, "Alex")),
    ]


@dataclass
class Places:
    """Where the six belong: providers A and B, council X, and council Y."""

    a: Organisation
    b: Organisation
    x: Authority
    y: Authority


async def set_the_scene(session: AsyncSession) -> Places:
    """Finds A, B and X in the demo data, and adds what it lacks: council Y (Hilltop) with
    its commissioner Yusuf Khan, and Sam Patel as A's second member."""
    a = await session.scalar(select(Organisation).where(Organisation.slug == A_SLUG))
    b = await session.scalar(select(Organisation).where(Organisation.slug == B_SLUG))
    x = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
    assert a is not None and b is not None and x is not None
    y = Authority(name="Hilltop District Council", slug="hilltop")
    sam = Person(name="Sam Patel", email="sam@riversideyouth.example", is_demo=True)
    yusuf = Person(name="Yusuf Khan", email="yusuf@hilltop.example", is_demo=True)
    session.add_all([y, sam, yusuf])
    await session.flush()
    await grant(session, sam, Role.PROVIDER_MEMBER, organisation_id=a.id)
    await grant(session, yusuf, Role.COMMISSIONER, authority_id=y.id)
    return Places(a, b, x, y)


# --- the cases -------------------------------------------------------------------------------


def table_cases(
    table: Mapping[str, Sequence[str]],
    actors: Sequence[Actor],
    *,
    web_only: Collection[str] = (),
) -> list[Any]:
    """One case for each thing, person and door, with what the table says of that person
    and thing (`table` gives it in the order of `actors`): the parameters
    `actor_key, thing, door, expected`, known as `<actor>-<thing>-<door>`. The things in
    `web_only` are asked of the web door alone."""
    return [
        pytest.param(actor.key, thing, door, expected[index], id=f"{actor.key}-{thing}-{door}")
        for thing, expected in table.items()
        for index, actor in enumerate(actors)
        for door in DOORS
        if door == "web" or thing not in web_only
    ]


@dataclass(kw_only=True)
class TableWorld:
    """One running app with every door (`doors`), and provider A's sent answers (`sent_id`,
    for council `x_id`) with the draft of them each case starts from (`draft_id`: a test
    module's `reset` makes it)."""

    doors: Doors
    a_id: int
    x_id: int
    sent_id: int
    draft_id: int = 0

    @property
    def services(self) -> Services:
        return self.doors.services

    async def send_form(
        self, actor: Actor, door: str, page: int, values: dict[str, str], intent: str
    ) -> Seen:
        """This person sends a page of A's draft on this door."""
        return await self.doors.send_form(actor, door, self.draft_id, page, values, intent)

    async def draft(self) -> FormResponse:
        async with self.services.db.session() as session:
            found = await session.get(FormResponse, self.draft_id)
            assert found is not None
            return found

    async def change_a_page(
        self, actor: Actor, door: str, *, allowed: bool, page: int, field: str, unchanged: str
    ) -> Seen:
        """This person changes `field` on a page of A's draft. If they are `allowed` to, it is
        changed; if not, it stays `unchanged` and they are told the form belongs to another
        organisation."""
        changed = f"CHANGED-BY-{actor.key}-{door}"
        seen = await self.send_form(actor, door, page, {field: changed}, "next")
        stored = (await self.draft()).answers.get(field)
        if allowed:
            assert stored == changed, seen.text[-2000:]
        else:
            assert stored == unchanged, f"{actor.key} changed A's draft through {door}"
            assert "belongs to another organisation" in seen.text, seen.text[-2000:]
        return seen

    async def send_the_draft(
        self, actor: Actor, door: str, *, allowed: bool, page: int, values: dict[str, str]
    ) -> Seen:
        """This person presses Send on the last page of A's draft. If they are `allowed` to,
        A's answers are sent and the confirmation shows what was saved; if not, they stay a
        draft."""
        seen = await self.send_form(actor, door, page, values, "submit")
        state = (await self.draft()).state
        if allowed:
            assert state == ResponseState.SUBMITTED
            assert "What you told us" in seen.everything
        else:
            assert state == ResponseState.DRAFT, f"{actor.key} sent A's answers through {door}"
        return seen
