"""The Teams manifest names the bot we run, in the scopes we serve, with the commands we answer."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from bot.teams.package import TEMPLATE, render_manifest
from handlers import build_router

APP_ID = "11111111-2222-3333-4444-555555555555"


def test_command_list_matches_the_router_both_ways() -> None:
    manifest = json.loads(TEMPLATE.read_text())
    (bot,) = manifest["bots"]
    listed = {c["title"] for lst in bot["commandLists"] for c in lst["commands"]}
    router = build_router()
    assert listed == set(router.commands) | {"help"}
    for lst in bot["commandLists"]:
        assert len(lst["commands"]) <= 10
        for command in lst["commands"]:
            assert len(command["title"]) <= 32 and len(command["description"]) <= 128


def test_rendered_manifest_uses_our_bot_id_scopes_and_host() -> None:
    manifest = render_manifest(
        teams_app_id=APP_ID, bot_app_id=APP_ID, public_url="https://convene.council.example/"
    )
    (bot,) = manifest["bots"]  # type: ignore[index]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    # People send files (testimony, photos) in their personal chat; the Teams door fetches them.
    assert bot["supportsFiles"] is True
    assert manifest["validDomains"] == ["convene.council.example"]
    assert "{{" not in json.dumps(manifest)
    assert manifest["manifestVersion"] == "1.22"
    assert len(manifest["name"]["short"]) <= 30  # type: ignore[index]
    assert len(manifest["description"]["short"]) <= 80  # type: ignore[index]


def test_cli_writes_an_installable_zip(tmp_path: Path) -> None:
    out = tmp_path / "app.zip"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "teams-package",
            "--app-id",
            APP_ID,
            "--public-url",
            "https://convene.council.example",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    with zipfile.ZipFile(out) as bundle:
        assert sorted(bundle.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(bundle.read("manifest.json"))
        assert manifest["bots"][0]["botId"] == APP_ID
        colour, outline = bundle.read("color.png"), bundle.read("outline.png")
    assert colour[:8] == b"\x89PNG\r\n\x1a\n" and outline[:8] == b"\x89PNG\r\n\x1a\n"
    assert (
        int.from_bytes(colour[16:20], "big") == 192 and int.from_bytes(outline[16:20], "big") == 32
    )


def test_cli_refuses_an_app_id_that_is_not_a_guid(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "teams-package",
            "--app-id",
            "my-bot",
            "--out",
            str(tmp_path / "x.zip"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "GUID" in done.stderr
    assert not (tmp_path / "x.zip").exists()
