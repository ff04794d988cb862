"""Who can learn that Riverside Youth Trust (A) is interested in an opportunity: a table of
(person, door), each checked on every surface an opportunity has.

The rule, from the domain and issue 14: interest is seen by the commissioning team of the
council that posted the opportunity (in aggregate, and by name), and by A itself. Never by
another provider, another council's commissioners, or Convene's admins, on any door: not in
the list, the details, the interest view (refused, and the attempt audited), Home, or any
message they were sent (the announcement, an amendment).

`SEES`: the marker must be on the team's interest view (so a hidden case is not passing
because the surface is broken). `HIDDEN`: the marker is on no surface. The in-process door
plays each door's turn; tests/integration/test_opportunity_doors.py checks the same rule
over real HTTP on Slack, Teams and the web.
"""

from __future__ import annotations

import pytest

from bot.core.turn import Door
from tests.features.engagement_story import add_hilltop
from tests.features.opportunity_story import NOW, post_with_two_lots
from tests.support.inprocess import TestDoor, text_of

MARKER = "Riverside Youth Trust"
SEES, HIDDEN = "sees", "hidden"
TABLE = [
    ("Priya Shah", SEES),  # the posting council's team
    ("Amina Begum", HIDDEN),  # another provider it was announced to
    ("Grace Lee", HIDDEN),  # a provider it does not fit
    ("Yusuf Khan", HIDDEN),  # another council's commissioner
    ("Alex Morgan", HIDDEN),  # Convene's admin
]


@pytest.mark.parametrize("on", [Door.WEB, Door.SLACK, Door.TEAMS])
@pytest.mark.parametrize(("name", "rule"), TABLE)
async def test_who_learns_that_a_provider_is_interested(
    door: TestDoor, name: str, rule: str, on: Door
) -> None:
    door.freeze(NOW)
    await add_hilltop(door.services)
    priya = await door.sign_in("Priya Shah")
    n = await post_with_two_lots(priya)
    await priya.say(f"opportunities publish {n}")
    tom = await door.sign_in("Tom Okafor", door=on)
    assert MARKER in text_of(await tom.say(f"opportunities interest {n}"))
    await priya.fill(
        f"opportunities amend {n}",
        {0: {"what_changed": "A new contact.", "submission_deadline": ""}},
    )

    person = await door.sign_in(name, door=on)
    surfaces = {
        words: text_of(await person.say(words))
        for words in (
            "opportunities",
            f"opportunities show {n}",
            f"opportunities interested {n}",
            "home",
        )
    }
    surfaces["messages"] = "\n".join(q.text for q in await person.inbox())
    if rule == SEES:
        assert MARKER in surfaces[f"opportunities interested {n}"]
        assert "1 organisation is interested" in surfaces[f"opportunities interested {n}"]
    else:
        for surface, text in surfaces.items():
            assert MARKER not in text, (name, surface)
        refused = surfaces[f"opportunities interested {n}"]
        assert "Only the commissioning team" in refused
