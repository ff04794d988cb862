"""The services a handler may use: database, clock, settings, router, files, pages.

Passed explicitly to every handler (never imported as globals) so tests can build
the whole app on any database and clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.actors import ActorCache
from bot.clock import Clock
from bot.core.feature import NavLink
from bot.core.files import FileDesk
from bot.core.pages import WebPage
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
    #: Where doors redeem the tickets of files features offer (see bot/core/files.py).
    files: FileDesk = field(default_factory=FileDesk)
    #: Web pages features offer, served by the web door (see bot/core/pages.py).
    pages: tuple[WebPage, ...] = ()
    #: Links features declare for the web door's main navigation (see bot/core/feature.py).
    nav: tuple[NavLink, ...] = ()

    def __post_init__(self) -> None:
        # Storage stamps what it writes "now" with this app's clock, whichever clock is set
        # later (tests freeze it), so the outbox and the sender always agree on the time.
        self.db.now = lambda: self.clock.now()

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz
