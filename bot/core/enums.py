"""The words every layer shares: who someone is to Convene, and which door they came in by.

They live in the neutral core so that the core never imports storage (storage builds on
the core, not the other way round); `storage.models` stores them as strings.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    COMMISSIONER = "commissioner"
    PROVIDER_MEMBER = "provider_member"
    PROVIDER_ADMIN = "provider_admin"
    ADMIN = "admin"


class Door(StrEnum):
    WEB = "web"
    SLACK = "slack"
    TEAMS = "teams"
    EMAIL = "email"
