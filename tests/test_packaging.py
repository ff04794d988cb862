"""The wheel works on its own: built, installed with the locked dependencies into a new
virtualenv outside the source tree, and run from a folder that is not the source tree.

This is what a production install does, and what the editable install used by every other
test hides: files that are not package data, and code that finds them by walking up from
its own source file, work in the tree and crash once installed. It is slow (a build and an
install, about a minute with pip's cache warm), so it runs once per CI run, on the SQLite
pass; the PostgreSQL pass would repeat the same build.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support import databases

# One worker builds the wheel once for all of them (`make test` runs `--dist loadgroup`).
pytestmark = [pytest.mark.packaging, pytest.mark.xdist_group("packaging")]

ROOT = Path(__file__).resolve().parent.parent
#: What the wheel is built from: everything packaging reads, and nothing else of the tree.
SOURCES = ["pyproject.toml", "README.md", "bot", "handlers", "storage", "manifest"]
APP_ID = "11111111-2222-3333-4444-555555555555"


def run(*command: str | Path, cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(the new virtualenv's bin folder, a working folder outside the source tree)."""
    configured = databases.configured_url()
    if configured and databases.is_postgres(configured):
        pytest.skip("the wheel is built and installed once per CI run, on the SQLite pass")
    where = tmp_path_factory.mktemp("packaging")
    # Build from a copy so the build leaves no build/ or egg-info folders in the tree.
    source = where / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "CONVENE_")) and key != "DATABASE_URL"
    }
    wheels = where / "wheels"
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        source,
        "-w",
        wheels,
        cwd=where,
        env=env,
    )
    (wheel,) = wheels.glob("convene-*.whl")
    venv = where / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=where, env=env)
    bin_dir = venv / "bin"
    pip = bin_dir / "pip"
    run(
        pip,
        "install",
        "-q",
        "--require-hashes",
        "-r",
        ROOT / "requirements.lock",
        cwd=where,
        env=env,
    )
    run(pip, "install", "-q", "--no-deps", wheel, cwd=where, env=env)
    elsewhere = where / "elsewhere"
    elsewhere.mkdir()
    yield bin_dir, elsewhere


def convene(installed: tuple[Path, Path], *args: str, **extra_env: str) -> str:
    bin_dir, cwd = installed
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(cwd), **extra_env}
    return run(bin_dir / "convene", *args, cwd=cwd, env=env, timeout=120)


def test_the_installed_code_is_the_wheel_not_the_tree(installed: tuple[Path, Path]) -> None:
    bin_dir, cwd = installed
    where = run(
        bin_dir / "python",
        "-c",
        "import bot, manifest; print(bot.__file__); print(manifest.__file__)",
        cwd=cwd,
        env={"PATH": os.environ["PATH"]},
    )
    for line in where.splitlines():
        assert "site-packages" in line and not line.startswith(str(ROOT)), line


def test_help_and_version(installed: tuple[Path, Path]) -> None:
    assert "slack-manifest" in convene(installed, "--help")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert convene(installed, "--version").strip() == f"convene {project['version']}"


def test_db_upgrade_migrates_a_new_sqlite_file_to_head(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    db = tmp_path / "convene.db"
    out = convene(installed, "db", "upgrade", DATABASE_URL=f"sqlite:///{db}")
    assert "up to date" in out
    with sqlite3.connect(db) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_slack_manifest_comes_from_the_installed_package(installed: tuple[Path, Path]) -> None:
    out = convene(installed, "slack-manifest", "--public-url", "https://example.org")
    printed = yaml.safe_load(out)
    assert printed["settings"]["event_subscriptions"]["request_url"] == (
        "https://example.org/slack/events"
    )
    assert "convene.example.org" not in out


def test_teams_package_comes_from_the_installed_package(installed: tuple[Path, Path]) -> None:
    out_zip = installed[1] / "teams.zip"
    out = convene(
        installed,
        "teams-package",
        "--app-id",
        APP_ID,
        "--public-url",
        "https://example.org",
        "--out",
        str(out_zip),
        "--version",
        "1.4.0",
        "--developer-name",
        "Riverside Council",
    )
    assert "Wrote" in out
    with zipfile.ZipFile(out_zip) as bundle:
        assert sorted(bundle.namelist()) == ["color.png", "manifest.json", "outline.png"]
        shipped = json.loads(bundle.read("manifest.json"))
    assert shipped["bots"][0]["botId"] == APP_ID
    assert shipped["validDomains"] == ["example.org"]
    assert shipped["version"] == "1.4.0"
    assert shipped["developer"]["name"] == "Riverside Council"


def test_the_legal_rules_come_from_the_installed_package(installed: tuple[Path, Path]) -> None:
    """rules.toml is package data: the installed wheel reads it, not the source tree's."""
    bin_dir, cwd = installed
    out = run(
        bin_dir / "python",
        "-c",
        "import datetime; from bot.core import law; from importlib.resources import files; "
        "print(files('bot.core.law') / 'rules.toml'); "
        "print(law.threshold_for('goods_services', datetime.date(2026, 1, 1)))",
        cwd=cwd,
        env={"PATH": os.environ["PATH"]},
    )
    where, figure = out.splitlines()
    assert "site-packages" in where and not where.startswith(str(ROOT)), where
    assert figure == "207720"
