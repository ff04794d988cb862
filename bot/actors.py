"""A short-lived in-process cache of who people are on chat doors.

Every Slack or Teams interaction needs the actor (person and roles). Looking it up
costs three queries, which under load was the largest cost of a turn. Identities
(platform user -> person) never change, so they are kept; the roles are kept for a
few seconds and dropped at once when this process changes someone's memberships.
Other replicas see a change within `ttl` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.core.turn import Actor


class ActorCache:
    def __init__(self, ttl: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._people: dict[tuple[str, str, str], int] = {}
        self._actors: dict[int, tuple[float, Actor]] = {}

    def person_for(self, platform: str, workspace: str, user: str) -> int | None:
        return self._people.get((platform, workspace, user))

    def remember_identity(self, platform: str, workspace: str, user: str, person_id: int) -> None:
        self._people[(platform, workspace, user)] = person_id

    def actor(self, person_id: int) -> Actor | None:
        entry = self._actors.get(person_id)
        if entry is None or self._clock() - entry[0] > self.ttl:
            return None
        return entry[1]

    def remember(self, actor: Actor) -> Actor:
        self._actors[actor.person_id] = (self._clock(), actor)
        return actor

    def forget(self, person_id: int) -> None:
        """Roles changed (joined, approved, removed): look them up again next time."""
        self._actors.pop(person_id, None)
