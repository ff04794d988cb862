"""Finding partners, in-process: a "looking for partners" post seen without a name by the
other providers the opportunity fits; names and contact details passed only when both
sides say yes (and then to both, on their own doors); a quiet no; the local CVS brokering
with names but still needing both yeses; the consortium each member confirms, shown to the
commissioning team only then; and the team's counts before it.

The privacy table at the end is the acceptance point of issue 14: no provider sees
another's post details (beyond the anonymous summary) or its name before both say yes, on
any door or surface.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.files import TakenFile
from bot.core.reply import FileOffer
from bot.core.turn import Door
from bot.demo import area_codes
from bot.services import Services
from storage.models import AuditEvent, ChatIdentity, Organisation, OutboxMessage, Person, Role
from storage.organisations import set_areas_served, set_service_areas
from storage.partner_tables import (
    Consortium,
    ConsortiumMember,
    PartnerIntroduction,
    PartnerPost,
)
from storage.people import grant
from tests.features.engagement_story import add_hilltop
from tests.features.opportunity_story import NOW, post_with_two_lots, refusals
from tests.support.inprocess import Conversation, TestDoor, form_in, text_of

TOM_BRINGS = "Youth workers who know the Preston estates"
TOM_NEEDS = "Counsellors who take referrals"
AMINA_BRINGS = "Trained counsellors for girls and young women"
AMINA_NEEDS = "Youth clubs to meet young people"
TRUST, TRUST_EMAIL = "Riverside Youth Trust", "tom@riversideyouth.example"
ASHA, ASHA_EMAIL = "Asha Women's Centre", "amina@ashacentre.example"


async def add_cvs(services: Services, *, area: str = "Preston", name: str = "Preston CVS") -> None:
    """A local infrastructure organisation serving `area`, and its member Carol Evans (or,
    elsewhere, Dev Rao)."""
    person = "Carol Evans" if area == "Preston" else "Dev Rao"
    async with services.db.session() as session:
        cvs = Organisation(name=name, slug=name.lower().replace(" ", "-"), is_infrastructure=True)
        set_service_areas(cvs, ["community_development"])
        set_areas_served(cvs, area_codes([area]))
        someone = Person(name=person, email=f"{person.split()[0].lower()}@cvs.example")
        session.add_all([cvs, someone])
        await session.flush()
        await grant(session, someone, Role.PROVIDER_MEMBER, organisation_id=cvs.id)


async def on_slack(services: Services, name: str) -> None:
    """Give this person a Slack account, so their messages go there."""
    async with services.db.session() as session:
        person = await session.scalar(select(Person).where(Person.name == name))
        assert person is not None
        session.add(
            ChatIdentity(
                person_id=person.id, platform="slack", workspace_id="T0COUNCIL", user_id="U0AMINA"
            )
        )


async def published(door: TestDoor) -> tuple[Conversation, int]:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    n = await post_with_two_lots(priya)
    assert "Published" in text_of(await priya.say(f"opportunities publish {n}"))
    return priya, n


async def post(person: Conversation, n: int, brings: str, needs: str, **more: Any) -> int:
    """Fill in the "looking for partners" form; the post's id."""
    await person.fill(
        f"opportunities partners {n}", {0: {"brings": brings, "needs": needs, **more}}
    )
    assert "Your post is" in person.text(), person.text()
    async with person.test_door.services.db.session() as session:
        found = await session.scalar(select(PartnerPost.id).where(PartnerPost.brings == brings))
    assert found is not None
    return int(found)


async def introduction_id(services: Services) -> int:
    async with services.db.session() as session:
        found = await session.scalar(select(func.max(PartnerIntroduction.id)))
    assert found is not None
    return int(found)


async def messages(person: Conversation) -> str:
    return "\n".join(q.text for q in await person.inbox())


async def test_a_post_is_anonymous_until_both_say_yes(door: TestDoor) -> None:
    priya, n = await published(door)
    tom = await door.sign_in("Tom Okafor")
    await on_slack(door.services, "Amina Begum")
    amina = await door.sign_in("Amina Begum", door=Door.SLACK)
    tom_post = await post(tom, n, TOM_BRINGS, TOM_NEEDS, lot="1")

    assert "Find partners" in text_of(await amina.say(f"opportunities show {n}"))
    assert "Partners" in text_of(await priya.say(f"opportunities show {n}"))
    seen = text_of(await amina.say(f"opportunities partnering {n}"))
    assert TOM_BRINGS in seen and TOM_NEEDS in seen and "North Preston" not in seen
    assert "Registered charity" in seen and "Lot" in seen  # its kind; the lot it is for
    assert TRUST not in seen and TRUST_EMAIL not in seen and "Tom" not in seen

    asked = text_of(await amina.say(f"opportunities talk {tom_post}"))
    assert "without telling them who you are" in asked
    request = await messages(tom)
    assert "would like to talk" in request and ASHA not in request and ASHA_EMAIL not in request
    waiting = text_of(await tom.say(f"opportunities partnering {n}"))
    assert "Waiting for your answer" in waiting and ASHA not in waiting
    home = text_of(await tom.say("home"))
    assert "would like to talk with you" in home and ASHA not in home

    i = await introduction_id(door.services)
    assert "would like to talk" not in text_of(await amina.say("home"))  # she asked
    made = text_of(await tom.say(f"opportunities agree {i}"))
    assert f"You can now talk with {ASHA}" in made
    assert "would like to talk with you" not in text_of(await tom.say("home"))
    # Both are told, each on their own door, with the other's details.
    assert ASHA_EMAIL in await messages(tom)
    amina_told = [q for q in await amina.inbox() if TRUST_EMAIL in q.text]
    assert len(amina_told) == 1 and amina_told[0].row.door == Door.SLACK
    assert [q.row.door for q in await tom.inbox() if ASHA_EMAIL in q.text] == [Door.WEB]
    assert TRUST_EMAIL in text_of(await amina.say(f"opportunities partnering {n}"))
    # The council knows how many, never who.
    counts = text_of(await priya.say(f"opportunities partnering {n}"))
    assert "1 provider is looking for partners" in counts and "1 introduction made" in counts
    assert TRUST not in counts and ASHA not in counts and TOM_BRINGS not in counts


async def test_a_no_is_quiet_and_cannot_be_asked_again(door: TestDoor) -> None:
    _, n = await published(door)
    tom = await door.sign_in("Tom Okafor")
    amina = await door.sign_in("Amina Begum")
    tom_post = await post(tom, n, TOM_BRINGS, TOM_NEEDS)
    await amina.say(f"opportunities talk {tom_post}")
    i = await introduction_id(door.services)
    before = len(await amina.inbox())

    said = text_of(await tom.say(f"opportunities decline {i}"))
    assert "They are not told your name" in said
    assert len(await amina.inbox()) == before  # quiet: no message at all
    ended = text_of(await amina.say(f"opportunities partnering {n}"))
    assert "A request that ended" in ended and TRUST not in ended

    again = text_of(await amina.say(f"opportunities talk {tom_post}"))
    assert "asked to talk with this provider before" in again
    late = text_of(await tom.say(f"opportunities agree {i}"))
    assert "already answered" in late
    assert [r.details["attempted"] for r in await refusals(door.services, amina.person_id)] == [
        "talk"
    ]
    async with door.services.db.session() as session:
        row = await session.get(PartnerIntroduction, i)
        assert row is not None and (row.state, row.first_answer, row.second_answer) in {
            ("declined", "yes", "no"),
            ("declined", "no", "yes"),
        }


async def test_the_local_cvs_brokers_but_both_must_say_yes(door: TestDoor) -> None:
    _, n = await published(door)
    await add_cvs(door.services)
    tom = await door.sign_in("Tom Okafor")
    amina = await door.sign_in("Amina Begum", door=Door.TEAMS)
    carol = await door.sign_in("Carol Evans")
    p = await post(tom, n, TOM_BRINGS, TOM_NEEDS)
    q = await post(amina, n, AMINA_BRINGS, AMINA_NEEDS)

    brokered = text_of(await carol.say(f"opportunities partnering {n}"))
    assert TRUST in brokered and ASHA in brokered and TOM_BRINGS in brokered
    # The CVS sees names to broker, not the council's data on who is interested.
    assert "Only the commissioning team" in text_of(
        await carol.say(f"opportunities interested {n}")
    )

    assert "Neither is told" in text_of(await carol.say(f"opportunities introduce {p} {q}"))
    for person, other, other_email in ((tom, ASHA, ASHA_EMAIL), (amina, TRUST, TRUST_EMAIL)):
        told = await messages(person)
        assert "Preston CVS" in told and other not in told and other_email not in told
    assert AMINA_BRINGS in await messages(tom)

    i = await introduction_id(door.services)
    assert "We have asked them" in text_of(await tom.say(f"opportunities agree {i}"))
    assert ASHA not in await messages(tom)
    assert f"talk with {TRUST}" in text_of(await amina.say(f"opportunities agree {i}"))
    assert ASHA_EMAIL in await messages(tom) and TRUST_EMAIL in await messages(amina)
    assert "Both said yes" in text_of(await carol.say(f"opportunities partnering {n}"))


async def test_only_a_cvs_in_the_area_may_introduce(door: TestDoor) -> None:
    _, n = await published(door)
    await add_cvs(door.services, area="Burnley", name="Burnley CVS")
    tom = await door.sign_in("Tom Okafor")
    amina = await door.sign_in("Amina Begum")
    p = await post(tom, n, TOM_BRINGS, TOM_NEEDS)
    q = await post(amina, n, AMINA_BRINGS, AMINA_NEEDS)
    for name in ("Dev Rao", "Grace Lee", "Priya Shah"):
        person = await door.sign_in(name)
        refused = text_of(await person.say(f"opportunities introduce {p} {q}"))
        assert "Only the local support organisation" in refused, name
        assert [
            r.details["attempted"] for r in await refusals(door.services, person.person_id)
        ] == ["introduce"]
        seen = text_of(await person.say(f"opportunities partnering {n}"))
        assert TRUST not in seen and TOM_BRINGS not in seen, name
    async with door.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(PartnerIntroduction)) == 0


async def test_the_asker_can_take_back_its_yes_quietly(door: TestDoor) -> None:
    _, n = await published(door)
    tom = await door.sign_in("Tom Okafor")
    amina = await door.sign_in("Amina Begum")
    tom_post = await post(tom, n, TOM_BRINGS, TOM_NEEDS)
    await amina.say(f"opportunities talk {tom_post}")
    i = await introduction_id(door.services)
    assert "would like to talk with you" in text_of(await tom.say("home"))
    assert "Take back our yes" in text_of(await amina.say(f"opportunities partnering {n}"))

    assert "you said no" in text_of(await amina.say(f"opportunities decline {i}"))
    assert "would like to talk with you" not in text_of(await tom.say("home"))
    assert "already answered" in text_of(await tom.say(f"opportunities agree {i}"))
    assert ASHA not in await messages(tom) and TRUST not in await messages(amina)


async def test_posting_checks_its_answers_and_can_be_taken_down(door: TestDoor) -> None:
    _, n = await published(door)
    tom = await door.sign_in("Tom Okafor")
    form = form_in(await tom.say(f"opportunities partners {n}"))
    refused = form_in(
        await tom.send_page(form, {"brings": TOM_BRINGS, "needs": TOM_NEEDS, "lot": "7"})
    )
    assert "has no lot 7" in refused.errors["lot"]
    async with door.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(PartnerPost)) == 0
    assert [r.details["reason"] for r in await refusals(door.services, tom.person_id)] == [
        "Youth mental health in Preston has no lot 7. Its lots are 1, 2."
    ]
    elsewhere = form_in(
        await tom.send_page(
            refused, {"brings": TOM_BRINGS, "needs": TOM_NEEDS, "area_served": "Burnley"}
        )
    )
    assert "is for Preston" in elsewhere.errors["area_served"] and "lot" not in elsewhere.errors
    again = form_in(await tom.say(f"opportunities partners {n}"))
    await tom.send_page(again, {"brings": TOM_BRINGS, "needs": TOM_NEEDS, "lot": "2"})
    assert "Your post is up" in tom.text()
    changed = await post(tom, n, TOM_BRINGS, "Counsellors and a building")
    assert "Your post is changed" in tom.text()

    grace = await door.sign_in("Grace Lee")
    assert "Only providers this opportunity fits" in text_of(
        await grace.say(f"opportunities partners {n}")
    )
    assert "Only providers this opportunity fits" in text_of(
        await grace.say(f"opportunities talk {changed}")
    )
    amina = await door.sign_in("Amina Begum")
    assert "That is your own post" in text_of(await tom.say(f"opportunities talk {changed}"))
    await amina.say(f"opportunities talk {changed}")

    down = text_of(await tom.say(f"opportunities takedown {n}"))
    assert "is taken down" in down
    assert TOM_BRINGS not in text_of(await amina.say(f"opportunities partnering {n}"))
    assert "already taken down" in text_of(await tom.say(f"opportunities takedown {n}"))
    async with door.services.db.session() as session:
        states = (await session.scalars(select(PartnerIntroduction.state))).all()
    assert list(states) == ["declined"]  # the unanswered request ended quietly


async def _introduced(door: TestDoor) -> tuple[Conversation, Conversation, Conversation, int, int]:
    priya, n = await published(door)
    tom = await door.sign_in("Tom Okafor")
    amina = await door.sign_in("Amina Begum")
    p = await post(tom, n, TOM_BRINGS, TOM_NEEDS)
    await amina.say(f"opportunities talk {p}")
    i = await introduction_id(door.services)
    await tom.say(f"opportunities agree {i}")
    return priya, tom, amina, n, i


async def test_a_consortium_each_member_confirms(door: TestDoor) -> None:
    priya, tom, amina, n, i = await _introduced(door)
    grace = await door.sign_in("Grace Lee")
    assert "once you and a partner have both said yes" in text_of(
        await grace.say(f"opportunities consortium {n}")
    )

    await tom.fill(
        f"opportunities consortium {n}",
        {0: {"role": "Runs the youth clubs", "lead": "yes", "share": "60"}},
    )
    assert "your part is saved" in tom.text()
    assert "We have asked Asha" in text_of(await tom.say(f"opportunities invite {i}"))
    assert "asks you to join its consortium" in await messages(amina)
    assert "already in a consortium" in text_of(await tom.say(f"opportunities invite {i}"))
    # Not yet confirmed: the council sees neither names nor parts.
    before = text_of(await priya.say(f"opportunities partnering {n}"))
    assert "Runs the youth clubs" not in before and TRUST not in before

    form = form_in(await amina.say(f"opportunities consortium {n}"))
    two_leads = form_in(await amina.send_page(form, {"role": "Counselling", "lead": "yes"}, page=0))
    assert "Riverside Youth Trust leads it already" in two_leads.errors["lead"]
    await amina.fill(
        f"opportunities consortium {n}", {0: {"role": "Counselling", "lead": "no", "share": "30"}}
    )
    assert "your consortium is confirmed" in amina.text()
    assert "shares add up to 90%, not 100%" in amina.text()

    after = text_of(await priya.say(f"opportunities partnering {n}"))
    assert "Riverside Youth Trust (lead)" in after and "Runs the youth clubs (60% share)" in after
    assert "Counselling" in after
    assert "A consortium is confirmed" in await messages(priya)
    assert "A consortium is confirmed" in await messages(tom)
    async with door.services.db.session() as session:
        consortium = await session.scalar(select(Consortium))
        assert consortium is not None and consortium.state == "confirmed"
        members = (await session.scalars(select(ConsortiumMember))).all()
    assert sorted((m.role, m.share_percent) for m in members) == [
        ("Counselling", 30),
        ("Runs the youth clubs", 60),
    ]


# --- the privacy table -----------------------------------------------------------------------

#: What each person may learn about Tom's post before anyone said yes:
#: `OWN` the poster; `ANON` the details without the name; `NAMES` details with the name
#: (the local CVS); `COUNT` only the count; `NOTHING` not even that there is a post.
OWN, ANON, NAMES, COUNT, NOTHING = "own", "anon", "names", "count", "nothing"
TABLE = [
    ("Tom Okafor", OWN),  # the poster
    ("Amina Begum", ANON),  # another provider the opportunity fits
    ("Carol Evans", NAMES),  # the CVS serving Preston
    ("Priya Shah", COUNT),  # the posting council's team
    ("Grace Lee", NOTHING),  # a provider it does not fit
    ("Dev Rao", NOTHING),  # a CVS elsewhere (Burnley)
    ("Yusuf Khan", NOTHING),  # another council's commissioner
    ("Alex Morgan", NOTHING),  # Convene's admin
]


@pytest.mark.parametrize("on", [Door.WEB, Door.SLACK, Door.TEAMS])
@pytest.mark.parametrize(("name", "rule"), TABLE)
async def test_who_learns_about_a_partner_post(
    door: TestDoor, name: str, rule: str, on: Door
) -> None:
    _, n = await published(door)
    await add_hilltop(door.services)
    await add_cvs(door.services)
    await add_cvs(door.services, area="Burnley", name="Burnley CVS")
    tom = await door.sign_in("Tom Okafor", door=on)
    await post(tom, n, TOM_BRINGS, TOM_NEEDS)

    person = await door.sign_in(name, door=on)
    surfaces = {
        words: text_of(await person.say(words))
        for words in (
            "opportunities",
            f"opportunities show {n}",
            f"opportunities partnering {n}",
            f"opportunities interested {n}",
            "home",
        )
    }
    surfaces["messages"] = await messages(person)
    exports = 0
    for what in ("directory", "readiness"):  # every export, as CSV, where one is offered
        replies = await person.say("export", what=what, format="csv")
        if any(isinstance(r, FileOffer) for r in replies):
            taken = await person.take_file()
            assert isinstance(taken, TakenFile)
            exported = taken.data.decode("utf-8")
            assert TOM_BRINGS not in exported and TOM_NEEDS not in exported, (name, what)
            exports += 1
    # Only commissioners export (their own council's files); none holds a post.
    assert exports == (2 if name in ("Priya Shah", "Yusuf Khan") else 0)
    everything = "\n".join(surfaces.values())
    partnering = surfaces[f"opportunities partnering {n}"]
    if rule in (OWN, ANON, NAMES):
        assert TOM_BRINGS in partnering and TOM_NEEDS in partnering
    else:
        assert TOM_BRINGS not in everything and TOM_NEEDS not in everything, name
    if rule in (OWN, NAMES):
        assert rule == OWN or TRUST in partnering
    else:
        assert TRUST not in everything and TRUST_EMAIL not in everything, name
    assert rule == OWN or TRUST_EMAIL not in everything  # contact details: nobody yet
    if rule == COUNT:
        assert "1 provider is looking for partners" in partnering
    if rule == NOTHING:
        assert "can see partner posts" in partnering or "couldn't find" in partnering
        async with door.services.db.session() as session:
            refused = await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.action == "opportunity.refused",
                    AuditEvent.actor_id == person.person_id,
                )
            )
        assert refused and refused >= 1
    async with door.services.db.session() as session:
        queued = (await session.scalars(select(OutboxMessage.payload))).all()
    assert not any(TRUST in str(p) and TOM_BRINGS in str(p) for p in queued)
