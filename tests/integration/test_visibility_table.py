"""Who can reach provider A's answers and details: a table of (actor, thing, door), all asserted.

The rules, from the domain: a provider's readiness answers (sent, or a draft) are for its
own members and for the commissioning team of the authority they answered for, nobody
else; not other providers, not another authority's commissioners, and not Convene's
admins, who manage deliveries, not answers. A profile's name, areas and services are
public; the rest (charity number, income...) is for the organisation and commissioners.

Every case goes over real HTTP to one running app: the web door with a signed-in browser,
Slack with signed requests and the fake Slack Web API (people found by email, as on first
contact), Teams with JWT-signed activities and the fake Bot Framework (each Teams user
linked to their person by a chat identity). A case runs the surface a person would use
and looks for a marker only provider A's data contains: in pages, modals, cards, direct
messages and downloaded files.

`SEES` means the marker must be there (so a hidden case is not passing by accident: the
surface works), `HIDDEN` that it must not be, and `MAY` that the rules allow it but do not
require it (then the surface must simply answer without an error).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import delete

from bot.services import Services
from storage.forms import latest_definition, start_draft
from storage.models import FormResponse, ResponseState
from storage.organisations import set_areas_served
from tests.support import databases
from tests.support.areas import codes
from tests.support.doors import every_door, words_in_path
from tests.support.visibility_tables import TableWorld, cast, set_the_scene, table_cases

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Markers only provider A's data holds.
# In A's sent readiness answers (and so in its draft): the one place A says it could cover,
# which no other demo data names.
SENT = "Isles of Scilly"
DRAFT = "DRAFT-ONLY-A-5K9"  # only in A's unsent draft
CHARITY = "CN-A-4471"  # A's charity number: a private profile field
INCOME = "£1 million to £10 million"  # A's income band (no other demo provider has it)
AREA = "Kingsmead Estate"  # an area A serves: a public profile field
A_INCOME_IN_LIST = re.compile(r"Riverside Youth Trust\W.{0,600}?£1 million to £10 million", re.S)


# --- the actors ------------------------------------------------------------------------------


ACTORS = cast(teams_tag="Visibility", teams_tail="a11c")
BY_KEY = {a.key: a for a in ACTORS}

# --- the table -------------------------------------------------------------------------------

SEES, HIDDEN, MAY = "sees", "hidden", "may see"
S, H = SEES, HIDDEN

#: thing -> what each actor gets, in the order of ACTORS:
#:                      A member  A admin  B member  comm. X  comm. Y  admin
TABLE: dict[str, tuple[str, str, str, str, str, str]] = {
    # A's sent answers, shown back on its readiness form: for its own people to change.
    # Commissioners read answers in summaries and exports, never on a provider's form.
    "readiness form": (S, S, H, H, H, H),
    # A's unsent draft: the organisation's own until it presses Send.
    "draft": (S, S, H, H, H, H),
    # Sending A's form: the confirmation lists what was saved, to whoever sent it.
    "confirmation": (S, S, H, H, H, H),
    # Changing a page of A's form (POST /forms/<id>, a modal, a card): members only.
    "form post": (S, S, H, H, H, H),
    # The readiness summary: the commissioning team of the authority asked may see A's
    # answers there; nobody else sees them (a wider view would be aggregated).
    "readiness summary": (H, H, H, MAY, H, H),
    # Public profile fields: anyone signed in.
    "public profile": (S, S, S, S, S, S),
    # Private profile fields: the organisation and council commissioners (any council:
    # profiles are not given to one authority). Not admins: the form promises that.
    "private profile": (S, S, H, S, S, H),
    # The directory shows private size facts: a commissioning tool.
    "directory": (H, H, H, S, S, H),
    # A's answers in a readiness export (everyone asks for Riverside's): only the authority
    # A answered. Commissioner Y is told they can only export their own council's.
    "readiness export": (H, H, H, S, H, H),
    # Profiles in a directory export: commissioners.
    "directory export": (H, H, H, S, S, H),
}
CASES = table_cases(TABLE, ACTORS)


# --- the world -------------------------------------------------------------------------------


@dataclass(kw_only=True)
class World(TableWorld):
    """One running app with every door (`doors`), the people above, and provider A's data."""

    async def reset(self) -> None:
        """Provider A as every case expects it: its sent answers, and one draft."""
        async with self.services.db.session() as session:
            await session.execute(
                delete(FormResponse).where(
                    FormResponse.organisation_id == self.a_id, FormResponse.id != self.sent_id
                )
            )
            sent = await session.get(FormResponse, self.sent_id)
            definition = await latest_definition(session, "readiness")
            assert sent is not None and definition is not None
            draft = await start_draft(
                session,
                definition,
                organisation_id=self.a_id,
                authority_id=self.x_id,
                respondent_id=None,
                answers={**sent.answers, "social_value": DRAFT},
            )
            draft.current_page = 3  # "What you can do": both markers are on this page
            self.draft_id = draft.id


# --- the world, built once for the module ----------------------------------------------------


async def _seed(services: Services) -> tuple[int, int, int]:
    """The people of the table; provider A's private and public details and its sent
    answers; B's answers."""
    now = datetime.now(UTC)
    async with services.db.session() as session:
        places = await set_the_scene(session)
        a, b, x = places.a, places.b, places.x
        a.charity_number = CHARITY
        a.income_band = "1m_10m"
        set_areas_served(a, ["North Ward", "Riverside", AREA])
        definition = await latest_definition(session, "readiness")
        assert definition is not None
        answers = {
            "annual_cost": 4_500_000,
            "main_risks": "Short contracts.",
            "areas_covered": codes(SENT),
            "support_wanted": ["costing"],
        }
        sent = await start_draft(
            session,
            definition,
            organisation_id=a.id,
            authority_id=x.id,
            respondent_id=None,
            answers=answers,
            now=now - timedelta(days=2),
        )
        sent.state, sent.submitted_at = ResponseState.SUBMITTED, now - timedelta(days=2)
        theirs = await start_draft(
            session,
            definition,
            organisation_id=b.id,
            authority_id=x.id,
            respondent_id=None,
            answers={"areas_covered": codes("Preston"), "main_risks": "Finding volunteers."},
        )
        theirs.state, theirs.submitted_at = ResponseState.SUBMITTED, now - timedelta(days=1)
        return a.id, x.id, sent.id


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    backend: databases.Backend, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    async with every_door(backend, tmp_path_factory.mktemp("visibility")) as backstage:
        a_id, x_id, sent_id = await _seed(backstage.services)
        doors = await backstage.open(ACTORS, link=words_in_path)
        yield World(doors=doors, a_id=a_id, x_id=x_id, sent_id=sent_id)


# --- the cases -------------------------------------------------------------------------------

COMMANDS = {
    "readiness form": "readiness for=riverside",
    "draft": "readiness for=riverside",
    "readiness summary": "readiness summary",
    "public profile": "organisation Riverside Youth Trust",
    "private profile": "organisation Riverside Youth Trust",
    "directory": "directory",
    # Everyone asks for Riverside's answers by name, as a curious outsider would.
    "readiness export": "export readiness csv for=riverside",
    "directory export": "export directory xlsx",
}
MARKERS = {
    "readiness form": [SENT],
    "draft": [DRAFT],
    "confirmation": [SENT, DRAFT],
    "readiness summary": [SENT, DRAFT],
    "public profile": [AREA],
    "private profile": [CHARITY],
    "readiness export": [SENT, DRAFT],
    "directory export": [CHARITY],
}
LAST_PAGE = 5
CAPACITY_PAGE = 3


@pytest.mark.parametrize(("actor_key", "thing", "door", "expected"), CASES)
async def test_visibility(
    world: World, actor_key: str, thing: str, door: str, expected: str
) -> None:
    actor = BY_KEY[actor_key]
    await world.reset()

    if thing == "form post":
        await world.change_a_page(
            actor,
            door,
            allowed=expected == SEES,
            page=CAPACITY_PAGE,
            field="social_value",
            unchanged=DRAFT,
        )
        return

    if thing == "confirmation":
        seen = await world.send_the_draft(
            actor, door, allowed=expected == SEES, page=LAST_PAGE, values={"respond_how": "writing"}
        )
        found = [m for m in MARKERS[thing] if m in seen.everything]
    else:
        seen = await world.doors.command(actor, door, COMMANDS[thing])
        if thing == "directory":
            found = ["income"] if A_INCOME_IN_LIST.search(seen.everything) else []
        else:
            found = [m for m in MARKERS[thing] if m in seen.everything]

    if expected == SEES:
        assert found, f"{actor_key} should see {thing} through {door}: {seen.everything[-3000:]}"
        if thing.endswith("export"):
            assert seen.files, "the export should be a file"
    elif expected == HIDDEN:
        assert not found, f"LEAK: {actor_key} sees {thing} ({found}) through {door}"
        if thing == "readiness export" or (
            thing.endswith("export") and actor_key != "commissioner_y"
        ):
            refusals = ("Exports are for the council's commissioning team", "your own council")
            assert any(r in seen.text for r in refusals), seen.text[-2000:]
            assert not seen.files
    else:
        assert seen.everything.strip()
        assert "Sorry, something went wrong" not in seen.everything
