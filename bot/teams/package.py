"""Builds the installable Teams app package: manifest.json plus the two icons, zipped."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from urllib.parse import urlparse

from bot.teams.icons import colour_icon, outline_icon
from manifest import TEAMS_MANIFEST, teams_manifest_text

#: The shipped template, read through importlib.resources so an installed wheel finds it.
TEMPLATE = TEAMS_MANIFEST

#: Teams takes only three plain numbers as an app's version, and a new upload must be higher.
APP_VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
#: The longest `developer.name` the Teams manifest schema allows.
DEVELOPER_NAME_MAX = 32


class PackageError(ValueError):
    """An option the Teams app package cannot carry; the message says what to use instead."""


def render_manifest(
    *,
    teams_app_id: str,
    bot_app_id: str,
    public_url: str,
    version: str | None = None,
    developer_name: str | None = None,
) -> dict[str, object]:
    """The manifest with our ids and address; `version` and `developer_name` replace the
    template's when given (Teams only updates an installed app whose version went up)."""
    url = public_url.rstrip("/")
    host = urlparse(url).hostname or url
    text = (
        teams_manifest_text()
        .replace("{{TEAMS_APP_ID}}", teams_app_id)
        .replace("{{MICROSOFT_APP_ID}}", bot_app_id)
        .replace("{{PUBLIC_URL}}", url)
        .replace("{{PUBLIC_HOST}}", host)
    )
    manifest: dict[str, object] = json.loads(text)
    if version is not None:
        if not APP_VERSION.fullmatch(version):
            raise PackageError(
                f"--version must be three numbers like 1.2.0 (Teams needs it), not {version!r}."
            )
        manifest["version"] = version
    if developer_name is not None:
        name = developer_name.strip()
        if not name or len(name) > DEVELOPER_NAME_MAX:
            raise PackageError(
                f"--developer-name must be 1 to {DEVELOPER_NAME_MAX} characters "
                f"(Teams' limit), not {developer_name!r}."
            )
        developer = manifest["developer"]
        assert isinstance(developer, dict)
        developer["name"] = name
    return manifest


def build_package(
    out: Path,
    *,
    teams_app_id: str,
    bot_app_id: str,
    public_url: str,
    version: str | None = None,
    developer_name: str | None = None,
) -> Path:
    manifest = render_manifest(
        teams_app_id=teams_app_id,
        bot_app_id=bot_app_id,
        public_url=public_url,
        version=version,
        developer_name=developer_name,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("manifest.json", json.dumps(manifest, indent=2))
        bundle.writestr("color.png", colour_icon())
        bundle.writestr("outline.png", outline_icon())
    return out
