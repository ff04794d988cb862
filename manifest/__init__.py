"""The Slack and Teams app manifests, shipped inside Convene's wheel.

They live in this top-level folder so people can find and read them, and they are a
package so that an installed Convene finds them too: everything reads them through
`importlib.resources`, never by walking up from a source file, which breaks once the
code is in site-packages.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

#: The Slack app manifest, with https://convene.example.org where the public URL goes.
SLACK_MANIFEST: Traversable = files("manifest.slack").joinpath("manifest.yaml")

#: The Teams app manifest, with {{PLACEHOLDERS}} that bot.teams.package fills in.
TEAMS_MANIFEST: Traversable = files("manifest.teams").joinpath("manifest.json")


def slack_manifest_text() -> str:
    """The Slack app manifest as shipped."""
    return SLACK_MANIFEST.read_text(encoding="utf-8")


def teams_manifest_text() -> str:
    """The Teams app manifest template as shipped."""
    return TEAMS_MANIFEST.read_text(encoding="utf-8")
