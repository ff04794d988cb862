"""The app manifests are package data, and the CLI options that go with packaging work.

An installed wheel has no `manifest/` folder beside `bot/`, so the manifests must be read
through importlib.resources (tests/test_packaging.py proves it on a real install).
"""

from __future__ import annotations

import json
import zipfile
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import manifest
from bot.cli import app
from bot.teams.package import PackageError, render_manifest

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "11111111-2222-3333-4444-555555555555"


def test_manifests_are_read_from_the_manifest_package() -> None:
    assert manifest.slack_manifest_text() == (ROOT / "manifest/slack/manifest.yaml").read_text()
    assert manifest.teams_manifest_text() == (ROOT / "manifest/teams/manifest.json").read_text()
    assert str(manifest.SLACK_MANIFEST) == str(files("manifest.slack") / "manifest.yaml")
    assert str(manifest.TEAMS_MANIFEST) == str(files("manifest.teams") / "manifest.json")


def test_no_code_finds_a_manifest_by_walking_up_from_its_own_file() -> None:
    """The walk that crashed an installed `convene slack-manifest` must not come back."""
    for source in [ROOT / "bot" / "cli.py", ROOT / "bot" / "teams" / "package.py"]:
        text = source.read_text()
        assert '"manifest" /' not in text and '/ "manifest"' not in text, source


def test_slack_manifest_prints_the_shipped_manifest_with_the_url() -> None:
    ran = CliRunner().invoke(app, ["slack-manifest", "--public-url", "https://example.org/"])
    assert ran.exit_code == 0, ran.output
    printed = yaml.safe_load(ran.output)
    assert printed["settings"]["event_subscriptions"]["request_url"] == (
        "https://example.org/slack/events"
    )
    assert "convene.example.org" not in ran.output


def test_teams_package_takes_the_app_version_and_developer_name(tmp_path: Path) -> None:
    out = tmp_path / "teams.zip"
    ran = CliRunner().invoke(
        app,
        [
            "teams-package",
            "--app-id",
            APP_ID,
            "--public-url",
            "https://example.org",
            "--out",
            str(out),
            "--version",
            "2.3.4",
            "--developer-name",
            "Riverside Council",
        ],
    )
    assert ran.exit_code == 0, ran.output
    with zipfile.ZipFile(out) as bundle:
        shipped = json.loads(bundle.read("manifest.json"))
    assert shipped["version"] == "2.3.4"
    assert shipped["developer"]["name"] == "Riverside Council"
    assert shipped["developer"]["websiteUrl"] == "https://example.org/"


def test_teams_package_keeps_the_templates_version_and_name_by_default() -> None:
    template = json.loads(manifest.teams_manifest_text())
    rendered = render_manifest(teams_app_id=APP_ID, bot_app_id=APP_ID, public_url="https://x.org")
    assert rendered["version"] == template["version"]
    assert rendered["developer"] == {
        **template["developer"],
        "websiteUrl": "https://x.org/",
        "privacyUrl": "https://x.org/privacy",
        "termsOfUseUrl": "https://x.org/terms",
    }


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--version", "2.3", "three numbers"),
        ("--version", "v1.0.0", "three numbers"),
        ("--version", "1.02.0", "three numbers"),
        ("--developer-name", "   ", "1 to 32 characters"),
        ("--developer-name", "x" * 33, "1 to 32 characters"),
    ],
)
def test_teams_package_refuses_what_teams_would_refuse(
    tmp_path: Path, option: str, value: str, says: str
) -> None:
    out = tmp_path / "teams.zip"
    ran = CliRunner().invoke(
        app, ["teams-package", "--app-id", APP_ID, "--out", str(out), option, value]
    )
    assert ran.exit_code == 1
    assert says in ran.output
    assert not out.exists()


def test_render_manifest_refuses_a_bad_version() -> None:
    with pytest.raises(PackageError):
        render_manifest(teams_app_id=APP_ID, bot_app_id=APP_ID, public_url="https://x", version="1")


def test_version_option_prints_the_installed_version() -> None:
    ran = CliRunner().invoke(app, ["--version"])
    assert ran.exit_code == 0, ran.output
    assert ran.output.strip() == f"convene {version('convene')}"


def test_no_arguments_still_shows_the_help() -> None:
    ran = CliRunner().invoke(app, [])
    assert "Usage" in ran.output and "slack-manifest" in ran.output
