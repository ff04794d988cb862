"""Readiness areas as places, in-process on the test door (issue #13).

Providers say which places they could cover by name or postcode; the commissioners'
summary filters by a place, a county covering its councils and a council counting toward
its county, the same rule as inviting providers to an engagement; and answers given while
the question was free text keep their version and are exported by name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.core.files import TakenFile
from bot.core.forms import FieldType
from bot.core.reply import Message, Notice, Reply
from bot.services import Services
from storage.forms import (
    definition_at,
    latest_definition,
    save_definition,
    sync_shipped_definitions,
)
from storage.readiness import rebuild_readiness_facts
from tests.integration.test_exports import submit_readiness
from tests.support.areas import codes
from tests.support.inprocess import TestDoor, text_of

#: Demo providers and the places their latest answers say they could cover.
COVERING = {
    "riverside-youth-trust": ["Lancashire"],  # the county
    "asha-womens-centre": ["Preston"],  # one of its councils
    "eastgate-community-kitchen": ["Leeds"],  # somewhere else
}


async def _cover(services: Services) -> None:
    """Each provider's answers for Riverside, sent just now, with their places."""
    now = datetime.now(UTC)
    for slug, places in COVERING.items():
        await submit_readiness(services, slug, {"areas_covered": codes(*places)}, at=now)
    async with services.db.session() as session:
        await rebuild_readiness_facts(session)


def _answered(replies: Sequence[Reply]) -> str | None:
    for reply in replies:
        if isinstance(reply, Message):
            for section in reply.sections:
                for fact in section.facts:
                    if fact.label == "Organisations that answered":
                        return fact.value
    return None


async def test_a_county_covers_its_councils_and_the_other_way_round(
    services: Services, door: TestDoor
) -> None:
    await _cover(services)
    priya = await door.sign_in("Priya Shah")
    counts = {}
    for typed in ("Chorley", "Preston", "PR1 2", "lancashire", "Leeds", "Bradford"):
        replies = await priya.say("readiness", view="summary", area=typed)
        assert not [r for r in replies if isinstance(r, Notice)], text_of(replies)
        counts[typed] = _answered(replies)
    assert counts == {
        "Chorley": "1",  # in Lancashire: the county-wide provider
        "Preston": "2",  # the county-wide provider and Preston's own
        "PR1 2": "2",  # a postcode in Preston
        "lancashire": "2",  # the county: both, whatever the case typed
        "Leeds": "1",
        "Bradford": None,  # nobody: "No organisations match these filters"
    }
    replies = await priya.say("readiness", view="summary", area="Preston")
    page = text_of(replies)
    assert "said they could cover Preston, or a place that includes it or is in it" in page
    # The filter offers the places answers cover, and the counties they are in, by name.
    for name in ("Lancashire", "Preston", "Leeds", "England"):
        assert name in page
    # Small groups are still hidden after filtering.
    replies = await priya.say("readiness", view="shared", area="Preston")
    assert "Fewer than 5 organisations match, so we don't show a summary" in text_of(replies)


async def test_a_place_that_is_not_one_is_explained(services: Services, door: TestDoor) -> None:
    await _cover(services)
    priya = await door.sign_in("Priya Shah")
    for typed in ("Narnia", "North Ward"):  # no such places
        replies = await priya.say("readiness", view="summary", area=typed)
        notices = [r for r in replies if isinstance(r, Notice)]
        assert notices and f"We could not find one place called '{typed}'" in notices[0].text
        assert _answered(replies) is None  # no summary that looks like "nobody works there"


async def test_the_who_asked_list_filters_by_place_too(services: Services, door: TestDoor) -> None:
    now = datetime.now(UTC)
    await submit_readiness(
        services,
        "riverside-youth-trust",
        {"areas_covered": codes("Lancashire"), "support_wanted": ["costing"]},
        at=now,
    )
    await submit_readiness(
        services,
        "eastgate-community-kitchen",
        {"areas_covered": codes("Leeds"), "support_wanted": ["costing"]},
        at=now,
    )
    async with services.db.session() as session:
        await rebuild_readiness_facts(session)
    priya = await door.sign_in("Priya Shah")
    page = text_of(await priya.say("readiness", view="needs", area="Burnley"))
    assert "Riverside Youth Trust" in page and "Eastgate Community Kitchen" not in page


async def test_answers_from_the_free_text_version_keep_it_and_export_by_name(
    services: Services, door: TestDoor
) -> None:
    """The form as shipped before places were codes, then as shipped now: a new version.
    Answers given to the old one (turned into codes by migration 0012) keep their version."""
    async with services.db.session() as session:
        now_shipped = await latest_definition(session, "readiness")
        assert now_shipped is not None
        assert now_shipped.field("areas_covered").type == FieldType.AREA
        pages = [
            page.model_copy(
                update={
                    "fields": [
                        f.model_copy(update={"type": FieldType.SHORT_TEXT, "max_length": 500})
                        if f.id == "areas_covered"
                        else f
                        for f in page.fields
                    ]
                }
            )
            for page in now_shipped.pages
        ]
        old = now_shipped.model_copy(update={"pages": pages})
        # A version number no other test stores: versions never change, so the app caches
        # them by number for the life of the process.
        before = now_shipped.version + 712
        await save_definition(session, old, version=before, source="shipped")
    await submit_readiness(
        services,
        "asha-womens-centre",
        {"areas_covered": codes("Preston", "Lancashire")},
        at=datetime.now(UTC) - timedelta(days=1),
        version=before,
    )
    async with services.db.session() as session:
        assert await sync_shipped_definitions(session) == ["readiness"]
        newest = await latest_definition(session, "readiness")
        kept = await definition_at(session, "readiness", before)
        assert newest is not None and kept is not None
        assert newest.version == before + 1
        assert newest.field("areas_covered").type == FieldType.AREA
        assert kept.field("areas_covered").type == FieldType.SHORT_TEXT
        await rebuild_readiness_facts(session)

    priya = await door.sign_in("Priya Shah")
    # The summary reads the converted answer as places, though its version calls it text.
    assert _answered(await priya.say("readiness", view="summary", area="Chorley")) == "1"
    await priya.say("export", what="readiness", format="csv")
    taken = await priya.take_file()
    assert isinstance(taken, TakenFile)
    rows = list(csv.DictReader(io.StringIO(taken.data.decode("utf-8-sig"))))
    asha = next(r for r in rows if r["Organisation name"] == "Asha Women's Centre")
    assert asha["Form version"] == str(before)
    assert asha["Which areas could you cover?"] == "Preston; Lancashire"
