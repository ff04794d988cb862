"""The container: what can be checked without a container engine, and the image itself
where one runs.

No Docker engine runs on the development machines or in CI (the `docker` client is there,
the daemon is not, and no container registry is reachable for the base image), so the
image build test skips there. Everything else runs: the entrypoint script does for real
what it does in the container (migrate with `convene db upgrade`, then `convene serve` on
0.0.0.0 with settings from the environment) against the local PostgreSQL; the Dockerfile
installs from the lock with hashes, runs as a user of its own and checks `/readyz`; and
compose.yaml parses and names only settings Convene reads.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml
from sqlalchemy import func, select

from bot.settings import Settings
from storage.db import Database
from storage.models import Person
from tests.support import databases
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "scripts" / "entrypoint.sh"
LOCAL_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def setting_names() -> set[str]:
    """Every environment variable `Settings` reads."""
    names: set[str] = set()
    prefix = Settings.model_config.get("env_prefix", "")
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        if choices:
            names.update(str(choice) for choice in choices)
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


# --- the Dockerfile, .dockerignore and compose.yaml ------------------------------------------


def dockerfile() -> str:
    # Joined continuation lines, no comments: one instruction a line.
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n\s*", " ", text)
    return "\n".join(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def test_the_dockerfile_installs_the_lock_with_hashes_then_convene_without_deps() -> None:
    text = dockerfile()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert re.search(r"^COPY requirements\.lock ", text, re.M)
    assert re.search(r"pip install --require-hashes -r \S*requirements\.lock", text)
    assert re.search(r"pip install --no-deps \.", text)
    # Nothing else is installed by pip (an unpinned `pip install x` would dodge the lock).
    installs = re.findall(r"pip install [^&\n]*", text)
    assert len(installs) == 2, installs


def test_the_image_runs_as_a_user_of_its_own_and_checks_readyz() -> None:
    text = dockerfile()
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users, "no USER: the image would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert re.search(rf"useradd [^\n]*\b{user}\b", text), "the user is made in the image"
    healthcheck = re.findall(r"^HEALTHCHECK .*", text, re.M)
    assert len(healthcheck) == 1 and "/readyz" in healthcheck[0]
    assert re.search(r"^ENTRYPOINT \[\"convene-entrypoint\"\]", text, re.M)
    assert re.search(r"^COPY scripts/entrypoint\.sh /usr/local/bin/convene-entrypoint", text, re.M)
    assert "CONVENE_HOST=0.0.0.0" in text


def test_dockerignore_lets_through_exactly_what_the_dockerfile_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore, "everything else (.venv, databases, secrets) stays out"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = set()
    for line in dockerfile().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied.update(line.split()[1:-1])
    assert copied == allowed


def test_compose_has_postgres_with_a_healthcheck_and_convene_with_demo_data() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    db, convene = compose["services"]["db"], compose["services"]["convene"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert convene["depends_on"]["db"]["condition"] == "service_healthy"
    assert convene["command"] == ["--demo-if-empty"]
    assert all(port.startswith("127.0.0.1:") for port in convene["ports"]), "this computer only"
    env = convene["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@db:5432/" in env["DATABASE_URL"]
    for needed in ("CONVENE_SECRET_KEY", "CONVENE_HOST", "CONVENE_PUBLIC_URL"):
        assert env.get(needed), needed
    unknown = set(env) - setting_names()
    assert not unknown, f"compose.yaml sets variables Convene does not read: {unknown}"


# --- the entrypoint, for real, on the local PostgreSQL ---------------------------------------


@pytest.fixture
async def fresh_postgres() -> AsyncIterator[str]:
    """A new empty database beside the local PostgreSQL's `test` (or TEST_DATABASE_URL's)."""
    configured = databases.configured_url()
    base = configured if configured and databases.is_postgres(configured) else LOCAL_POSTGRES
    try:
        url = await databases.create_postgres_database(base)
    except Exception as exc:  # any failure to reach it
        if os.environ.get("CONVENE_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"no PostgreSQL at {base}: {exc}")
    yield url
    await databases.drop_postgres_database(base, url)


def entrypoint_env(url: str, port: int) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
        "DATABASE_URL": url,
        "CONVENE_HOST": "0.0.0.0",
        "CONVENE_PORT": str(port),
        "CONVENE_PUBLIC_URL": "https://convene.example.org",
        "CONVENE_SECRET_KEY": "entrypoint-test-secret-key-0123456789abcdef",
        "CONVENE_LOG_FORMAT": "json",
        "CONVENE_METRICS": "true",
    }


async def test_the_entrypoint_migrates_then_serves_on_all_addresses(
    fresh_postgres: str, tmp_path: Path
) -> None:
    port = free_port()
    out, err = (tmp_path / "stdout").open("wb"), (tmp_path / "stderr").open("wb")
    proc = subprocess.Popen(  # noqa: ASYNC220 - starting it is instant
        ["sh", str(ENTRYPOINT), "--demo-if-empty"],
        env=entrypoint_env(fresh_postgres, port),
        cwd=tmp_path,
        stdout=out,
        stderr=err,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        ready = None
        async with aiohttp.ClientSession() as client:
            while time.monotonic() < deadline and ready is None:
                assert proc.poll() is None, (tmp_path / "stderr").read_text()
                try:
                    async with client.get(url + "/readyz") as resp:
                        if resp.status == 200:
                            ready = resp.headers.get("X-Request-Id")
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
            assert ready, "ready, with a request id echoed"
            async with client.get(url + "/metrics") as resp:
                assert resp.status == 200
                assert 'convene_requests_total{door="web",status="200"}' in await resp.text()
    finally:
        proc.terminate()
        proc.wait(30)
        out.close()
        err.close()

    stdout = (tmp_path / "stdout").read_text()
    stderr = (tmp_path / "stderr").read_text()
    assert "The database is up to date." in stdout, "`convene db upgrade` ran first"
    assert stderr.index("bringing the database up to date") < stderr.index("starting convene")
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any("PRODUCTION" in line["message"] for line in lines), "settings from the env"
    assert any(
        line["logger"] == "convene.access" and line.get("request_id") == ready for line in lines
    ), "the access log names the request id it echoed"
    database = Database(fresh_postgres)
    try:
        async with database.session() as session:
            assert (await session.scalar(select(func.count()).select_from(Person))) > 0, "demo"
    finally:
        await database.dispose()


def test_the_entrypoint_runs_another_command_instead_without_migrating(tmp_path: Path) -> None:
    done = subprocess.run(
        ["sh", str(ENTRYPOINT), "convene", "--version"],
        env=entrypoint_env("postgresql+asyncpg://nobody@127.0.0.1:1/none", free_port()),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("convene ")
    assert "database" not in done.stderr


# --- the image itself, where a container engine runs -----------------------------------------


def _engine() -> str | None:
    for tool in ("docker", "podman"):
        if shutil.which(tool):
            info = subprocess.run([tool, "info"], capture_output=True, timeout=30)
            if info.returncode == 0:
                return tool
    return None


@pytest.mark.xdist_group("container")
def test_the_image_builds_and_is_set_up_as_the_dockerfile_says() -> None:
    engine = _engine()
    if engine is None:
        pytest.skip("no container engine runs here (docker or podman)")
    tag = "convene:test-build"
    built = subprocess.run(
        [engine, "build", "-t", tag, str(ROOT)], capture_output=True, text=True, timeout=1800
    )
    assert built.returncode == 0, built.stderr[-4000:]
    inspect = subprocess.run(
        [engine, "image", "inspect", tag], capture_output=True, text=True, check=True
    )
    config = json.loads(inspect.stdout)[0]["Config"]
    assert config["User"].split(":")[0] == "convene"
    assert "/readyz" in " ".join(config["Healthcheck"]["Test"])
    version = subprocess.run(
        [engine, "run", "--rm", tag, "convene", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert version.returncode == 0 and version.stdout.startswith("convene "), version.stderr
