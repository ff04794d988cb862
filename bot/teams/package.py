"""Builds the installable Teams app package: manifest.json plus the two icons, zipped."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from urllib.parse import urlparse

from bot.teams.icons import colour_icon, outline_icon

TEMPLATE = Path(__file__).resolve().parents[2] / "manifest" / "teams" / "manifest.json"


def render_manifest(*, teams_app_id: str, bot_app_id: str, public_url: str) -> dict[str, object]:
    url = public_url.rstrip("/")
    host = urlparse(url).hostname or url
    text = (
        TEMPLATE.read_text()
        .replace("{{TEAMS_APP_ID}}", teams_app_id)
        .replace("{{MICROSOFT_APP_ID}}", bot_app_id)
        .replace("{{PUBLIC_URL}}", url)
        .replace("{{PUBLIC_HOST}}", host)
    )
    manifest: dict[str, object] = json.loads(text)
    return manifest


def build_package(out: Path, *, teams_app_id: str, bot_app_id: str, public_url: str) -> Path:
    manifest = render_manifest(
        teams_app_id=teams_app_id, bot_app_id=bot_app_id, public_url=public_url
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("manifest.json", json.dumps(manifest, indent=2))
        bundle.writestr("color.png", colour_icon())
        bundle.writestr("outline.png", outline_icon())
    return out
