"""Database URLs as operators paste them: managed PostgreSQL with libpq's TLS settings."""

from __future__ import annotations

import ssl

import pytest

from storage.db import Database


def _connect_args(url: str) -> tuple[str, dict[str, object]]:
    database = Database(url, timeout=3.0)
    return database.engine.url.render_as_string(hide_password=False), database.connect_args


def test_sslmode_require_becomes_asyncpg_ssl_without_verification() -> None:
    url, kwargs = _connect_args("postgres://app:pw@db.example.org:5432/convene?sslmode=require")
    assert "sslmode" not in url and url.startswith("postgresql+asyncpg://")
    context = kwargs["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname
    assert kwargs["timeout"] == 3.0


def test_verify_full_checks_the_certificate_and_the_host() -> None:
    _, kwargs = _connect_args("postgresql://app@db.example.org/convene?sslmode=verify-full")
    context = kwargs["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.parametrize("mode", ["disable", "prefer"])
def test_modes_asyncpg_knows_pass_through(mode: str) -> None:
    _, kwargs = _connect_args(f"postgresql://app@db.example.org/convene?sslmode={mode}")
    assert kwargs["ssl"] == mode


def test_urls_without_tls_settings_are_unchanged() -> None:
    url, kwargs = _connect_args("postgresql://app@db.example.org/convene?application_name=x")
    assert "ssl" not in kwargs
    assert "application_name=x" in url


async def test_a_libpq_url_connects_for_real(on_postgres: bool) -> None:
    """Before, asyncpg refused the URL outright ('unexpected keyword argument sslmode')."""
    from tests.support import databases

    base = databases.configured_url()
    if not on_postgres or base is None:
        pytest.skip("needs PostgreSQL")
    database = Database(f"{base}?sslmode=disable")
    try:
        await database.check()
    finally:
        await database.dispose()
