"""An outcomes framework over real HTTP through the web door: a link alone never accepts a
proposal (the confirm page asks, and only its posted form does it); Tom, for the provider,
accepts Priya's proposed outcome and it is in the framework; Grace, another provider, is
told the agreement was not found."""

from __future__ import annotations

from urllib.parse import quote_plus

from sqlalchemy import select

from storage.outcome_tables import OutcomeItem, OutcomeProposal
from tests.features.test_agreements import NOW, answers, record
from tests.support.inprocess import TestDoor
from tests.support.servers import RunningApp
from tests.support.web import WebUser, text_of


async def test_a_proposal_is_accepted_only_from_the_posted_form(
    door: TestDoor, app_server: RunningApp
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await record(priya, answers())
    await priya.say(f"agreements framework {n} add outcome Young people feel safer")
    async with door.services.db.session() as session:
        proposal = await session.scalar(select(OutcomeProposal))
        assert proposal is not None

    tom, grace = WebUser(app_server.url), WebUser(app_server.url)
    try:
        await tom.sign_in_locally("Tom Okafor")
        status, html = await tom.get(f"/do/agreements?words={quote_plus(f'outcomes {n}')}")
        assert status == 200 and "Add outcome: Young people feel safer" in text_of(html)
        words = f"framework {n} accept {proposal.id}"
        status, html = await tom.get(f"/do/agreements?words={quote_plus(words)}")
        assert "Please confirm" in text_of(html)
        async with door.services.db.session() as session:
            assert (await session.scalars(select(OutcomeItem))).all() == []
        status, html = await tom.post("/do/agreements", {"words": words})
        assert status == 200 and "Accepted proposal" in text_of(html), text_of(html)
        assert "Outcome 1: Young people feel safer" in text_of(html)

        await grace.sign_in_locally("Grace Lee")
        status, html = await grace.get(f"/do/agreements?words={quote_plus(f'outcomes {n}')}")
        assert "couldn't find that agreement" in text_of(html)
        assert "Young people" not in text_of(html)
    finally:
        await tom.close()
        await grace.close()
