"""Headless Chromium for the browser tests, from the system package (never `playwright install`).

On a developer machine without Chromium the browser tests are skipped with a reason
that says how to get it. On CI (`CI=true`) a missing browser is a failure instead:
the acceptance test must run there, and a skip would hide that it did not.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _unavailable(reason: str) -> None:
    """Skip locally, but fail on CI, where the browser tests must really run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def chromium() -> Path:
    """The system Chromium, or a skip (a failure on CI) saying how to get it."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: install Debian's chromium package (make browser)")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """A headless Chromium, closed after the test (Playwright's Python package is a dev
    dependency, so only the browser itself can be missing)."""
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (gitignored), so a person can look at what the test saw."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
