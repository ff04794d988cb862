"""The services a handler may use: database, clock, settings, router.

Passed explicitly to every handler (never imported as globals) so tests can build
the whole app on any database and clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.actors import ActorCache
from bot.clock import Clock
from bot.core.router import Router
from bot.settings import Settings
from storage.db import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    router: Router
    clock: Clock = field(default_factory=Clock)
    actors: ActorCache = field(default_factory=ActorCache)

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz
