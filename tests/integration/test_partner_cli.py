"""`convene infrastructure SLUG` marks a local infrastructure organisation (a CVS), and
`--off` unmarks it; an unknown short name is one clear line and changes nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.services import Services
from storage.models import Organisation
from tests.integration.test_cli import convene


async def flags(services: Services) -> dict[str, bool]:
    async with services.db.session() as session:
        rows = (
            await session.execute(select(Organisation.slug, Organisation.is_infrastructure))
        ).all()
    return {slug: bool(flag) for slug, flag in rows}


async def test_an_organisation_is_marked_as_the_local_cvs_and_back(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url}
    before = await flags(services)
    assert not any(before.values())

    ran = await convene("infrastructure", "asha-womens-centre", cwd=tmp_path, env=env)
    assert ran.code == 0, ran.err
    assert "Asha Women's Centre is now a local infrastructure organisation" in ran.out
    assert await flags(services) == {**before, "asha-womens-centre": True}

    ran = await convene("infrastructure", "no-such-group", cwd=tmp_path, env=env)
    assert ran.code != 0 and "Traceback" not in ran.out + ran.err
    assert ran.err_lines == [
        "No organisation has the short name 'no-such-group'. Nothing was changed."
    ]
    assert await flags(services) == {**before, "asha-womens-centre": True}

    ran = await convene("infrastructure", "asha-womens-centre", "--off", cwd=tmp_path, env=env)
    assert ran.code == 0 and "no longer marked" in ran.out, ran.err
    assert await flags(services) == before
