"""Agreements from award to the last key dates, with people on three doors: the acceptance
test of issue 15, with every slice built so far.

Priya Shah (Riverside Borough Council's commissioning team) works on the web and in Slack,
and reads what Convene tells her in Teams.
Tom Okafor (Riverside Youth Trust) leads a consortium with Amina Begum's Asha Women's
Centre; he uses Slack and Teams. Grace Lee (Eastgate Community Kitchen) uses the web, and
Joan Hughes (Silver Threads Befriending) Teams. Everything goes over real HTTP to one
running app: signed requests to /slack/events (slash commands and DMs, a photo shared in a
DM served by the fake Slack's file host), JWT-signed activities to /api/messages with
replies going to the fake Bot Connector, and signed-in browsers with CSRF tokens for the
web. Messages leave through the app's own outbox sender, drained by hand, and the due
sweep is run by hand (the scheduler is off in tests). Time is a `FixedClock`, from Monday
4 January 2027, 9am; stages move it on. Bank holidays are those of England and Wales.

The story (each an `async def stage_…(story)` below, called in order by the test):

 1. The opportunity closed with a confirmed consortium (Riverside leading 60%, Asha 40%).
    Priya creates the agreement from it on the web (`agreements new N`): title, route and
    value come from the opportunity, and the parties and shares are carried over.
 2. Priya proposes an outcome and then an indicator in Slack; Tom, the lead, accepts each
    in Teams. Each proposal reached the other side, and each decision the team.
 3. Monitoring plans: Tom proposes one for the consortium in Slack, Priya accepts it on the
    web; Priya proposes one each for Eastgate (light touch) and Silver Threads, and Grace
    accepts on the web, Joan in Teams. The check-in dated Monday 3 May 2027 (the early
    May bank holiday) goes on Tuesday 4 May at 8am London, to the reporters only.
 4. Tom answers in his Slack DM and shares a photo there; Grace sends her own PDF on the
    web upload page instead of the form. The team is told of each, as a prompt to talk.
 5. Joan doesn't answer the check-in of Thursday 27 May: she is chased on Wednesday 2 June
    (3 working days, skipping the spring bank holiday) and Tuesday 8 June (7), then only
    the team is told; no other provider ever hears of it.
 6. Tom asks in Teams for £40,000 more (13% of £300,000); Priya agrees and approves: over
    the s.75 limit, so the team is told to record the contract change notice, and reminded
    a week on, until Priya records its identifier. The same on Eastgate's light-touch
    contract: no notice, no reminder.
 7. Key dates of the consortium's agreement (it ends on Monday 27 December 2027, a bank
    holiday): six months before is a Sunday, so Friday 25 June; three months before is
    Monday 27 September; the end itself on Friday 24 December. Each reaches the named
    people (Priya in Teams, Tom in Slack) and nobody else.
"""

from __future__ import annotations

import itertools
import re
import time as wall
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from pathlib import Path

import aiohttp
import holidays
import pytest
from sqlalchemy import select, update

from bot.app import SWEEP
from bot.clock import LONDON, FixedClock
from bot.core.working_days import is_working_day
from bot.scheduler import DueSweep
from bot.services import Services
from handlers.agreements.key_dates import REMINDER_KIND
from handlers.agreements.monitoring import CHASE_KIND, CHECKIN_KIND
from handlers.agreements.variations import NOTICE_KIND
from storage.agreement_tables import Agreement, AgreementParty
from storage.evidence_tables import EvidenceRow
from storage.models import (
    Authority,
    Door,
    Organisation,
    OutboxMessage,
    Person,
    Reminder,
    WorkState,
)
from storage.monitoring_tables import CheckinRow, MonitoringPlanRow
from storage.opportunity_tables import Opportunity, OpportunityState
from storage.outcome_tables import OutcomeProposal
from storage.partner_tables import Consortium, ConsortiumMember
from storage.variation_tables import AgreementVariation
from tests.slack.conftest import BlockKitLog, block_kit_problems
from tests.support import databases, evidence_files
from tests.support.agreements import seed_contract
from tests.support.doors import Actor, Doors, every_door, flatten, person_id, words_in_query
from tests.support.engagements import SlackPerson, inbox_payloads, rows_like
from tests.support.fake_botframework import idempotency_key
from tests.support.polling import eventually, settle
from tests.support.teams_activities import TeamsUser
from tests.support.web import text_of
from tests.teams.conftest import CardLog, card_problems


def _teams(n: int, name: str) -> TeamsUser:
    return TeamsUser(
        id=f"29:1agreeE2E{n:02d}{'x' * 40}",
        name=name,
        aad_object_id=f"0000000{n}-0000-4000-8000-00000000a9e{n}",
    )


PRIYA = Actor(
    "priya", "Priya Shah", "priya.shah@riverside.example", "UE2EPRIYA", _teams(1, "Priya")
)
TOM = Actor("tom", "Tom Okafor", "tom@riversideyouth.example", "UE2ETOM", _teams(2, "Tom"))
AMINA = Actor("amina", "Amina Begum", "amina@ashacentre.example", "UE2EAMINA", _teams(3, "Amina"))
GRACE = Actor(
    "grace", "Grace Lee", "grace@eastgatekitchen.example", "UE2EGRACE", _teams(4, "Grace")
)
JOAN = Actor("joan", "Joan Hughes", "joan@silverthreads.example", "UE2EJOAN", _teams(5, "Joan"))
EVERYONE = (PRIYA, TOM, AMINA, GRACE, JOAN)
#: The door each person reads their messages on (their chosen door).
DOOR_OF = {
    "priya": Door.TEAMS,
    "tom": Door.SLACK,
    "amina": Door.TEAMS,
    "grace": Door.WEB,
    "joan": Door.TEAMS,
}

TITLE = "Family wellbeing in Preston"
#: Monday 4 January 2027, 9am in London: where the story's clock starts.
START = datetime(2027, 1, 4, 9, 0, tzinfo=LONDON)
ENGLAND = holidays.country_holidays("GB", subdiv="ENG")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A London wall-clock moment, in UTC (as the database gives it back)."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).astimezone(UTC)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- the web: a browser sends back every field of a form ------------------------------------

_INPUT = re.compile(r"<input\b([^>]*)>", re.S)
_TEXTAREA = re.compile(r"<textarea\b([^>]*)>(.*?)</textarea>", re.S)
_SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.S)
_OPTION = re.compile(r"<option\b([^>]*)>", re.S)


def _attr(attrs: str, name: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', attrs)
    return unescape(found.group(1)) if found else None


def form_fields(html: str) -> list[tuple[str, str]]:
    """What a browser sends for the form on `html` as it is shown: every text box with its
    value, every ticked box and every chosen option (not the CSRF token or the buttons)."""
    fields: list[tuple[str, str]] = []
    for attrs in _INPUT.findall(html):
        name, kind = _attr(attrs, "name"), (_attr(attrs, "type") or "text")
        if not name or name in ("csrf_token", "_page", "_intent") or kind == "submit":
            continue
        if kind in ("checkbox", "radio") and not re.search(r"\bchecked\b", attrs):
            continue
        fields.append((name, _attr(attrs, "value") or ""))
    for attrs, body in _TEXTAREA.findall(html):
        name = _attr(attrs, "name")
        if name:
            fields.append((name, unescape(body).strip("\n")))
    for attrs, body in _SELECT.findall(html):
        name = _attr(attrs, "name")
        chosen = [o for o in _OPTION.findall(body) if re.search(r"\bselected\b", o)]
        if name and chosen:
            fields.append((name, _attr(chosen[0], "value") or ""))
    return fields


def _form_action(html: str) -> str:
    found = re.search(r'action="(/forms/\d+)"', html)
    assert found, text_of(html)[-1500:]
    return found.group(1)


# --- the story -------------------------------------------------------------------------------


@dataclass
class Story:
    doors: Doors
    clock: FixedClock
    sweep: DueSweep
    tom_dm: SlackPerson
    ids: dict[str, int]
    opportunity_id: int = 0
    consortium: int = 0
    eastgate: int = 0
    silver: int = 0
    #: The change-notice reminder that fired before the notice was recorded.
    notice_reminder: int = 0

    @property
    def services(self) -> Services:
        return self.doors.services

    async def to(self, moment: datetime) -> int:
        """Time passes to `moment` (never back); the due sweep runs and the outbox drains."""
        now = self.clock.now()
        assert moment >= now, (moment, now)
        self.clock.advance(moment - now)
        ran = await self.sweep.run_once()
        await settle(self.doors.sender)
        return ran

    async def web(self, actor: Actor, words: str) -> str:
        """Follow a link to `agreements <words>` in the person's browser (words in the
        query, `name=value` arguments as their own fields); the page's HTML."""
        user = self.doors.browsers[actor.key]
        status, html = await user.get(self.doors.link(f"agreements {words}"))
        assert status == 200, text_of(html)
        return html

    async def web_confirm(self, actor: Actor, words: str) -> str:
        """A changing step on the web: the link asks to confirm; the person presses the
        button, which posts the confirmation form as it is shown. The page's text."""
        html = await self.web(actor, words)
        assert "Please confirm" in text_of(html), text_of(html)[-1500:]
        found = re.search(r'<form method="post" action="(/do/agreements)"(.*?)</form>', html, re.S)
        assert found, html
        user = self.doors.browsers[actor.key]
        status, html = await user.post(found.group(1), form_fields(found.group(2)))
        assert status == 200, text_of(html)
        await settle(self.doors.sender)
        return text_of(html)

    async def slack(self, actor: Actor, words: str) -> str:
        """The person types `/convene agreements <words>` in Slack."""
        return (await self.doors.slack_command(actor, f"agreements {words}")).text

    async def teams(self, actor: Actor, words: str) -> str:
        """The person types `agreements <words>` in their Teams chat with Convene."""
        return (await self.doors.teams_command(actor, f"agreements {words}")).text

    async def reached(self, pattern: str) -> dict[str, str]:
        """Every outbox row whose key matches `pattern` (SQL LIKE) was sent, and each person
        read it on their own door: who (by actor key) and what they read."""
        rows = await rows_like(self.services, pattern)
        assert all(r.state == WorkState.DONE and r.sent_at for r in rows), [
            (r.idempotency_key, r.state, r.last_error) for r in rows
        ]
        by_person = {v: k for k, v in self.ids.items()}
        seen: dict[str, str] = {}
        for row in rows:
            assert row.person_id is not None, row.idempotency_key
            who = by_person.get(row.person_id, str(row.person_id))
            actor = next((a for a in EVERYONE if a.key == who), None)
            assert actor is not None, f"{row.idempotency_key} went to someone else: {who}"
            door = DOOR_OF[who]
            assert row.door == door, (row.idempotency_key, who, row.door)
            if door == Door.SLACK:
                found = [
                    m
                    for m in self.doors.fake_slack.delivered(actor.slack)
                    if ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
                    == row.idempotency_key
                ]
                text = flatten([[m.get("text"), m.get("blocks")] for m in found])
            elif door == Door.TEAMS:
                chat = self.doors.teams.personal_conversation_id(actor.teams)
                found = [
                    a
                    for a in self.doors.fake_teams.activities_in(chat)
                    if idempotency_key(a) == row.idempotency_key
                ]
                text = flatten(found)
            else:
                found = await inbox_payloads(self.services, row.person_id, row.idempotency_key)
                text = flatten(found)
            assert len(found) == 1, (row.idempotency_key, who, len(found))
            seen[who] = seen.get(who, "") + "\n" + text
        return seen

    async def reminders(self, kind: str, *, pending: bool = True) -> list[Reminder]:
        async with self.services.db.session() as session:
            rows = (
                await session.scalars(
                    select(Reminder).where(Reminder.kind == kind).order_by(Reminder.due_at)
                )
            ).all()
        return [r for r in rows if not pending or r.state == WorkState.PENDING]


async def seed_closed_opportunity(story: Story) -> None:
    """The opportunity Priya ran (issue 14's story) closed, with a consortium both members
    confirmed: Riverside Youth Trust leading with 60%, Asha Women's Centre with 40%."""
    async with story.services.db.session() as session:
        council = await session.scalar(select(Authority).where(Authority.slug == "riverside"))
        assert council is not None
        orgs = {o.slug: o.id for o in (await session.scalars(select(Organisation))).all()}
        opportunity = Opportunity(
            authority_id=council.id,
            title=TITLE,
            purpose="Help families through hard times, sooner.",
            route="standard_contract",
            value_min_pence=25_000_000,
            value_max_pence=30_000_000,
            area_served=["Preston"],
            service_areas=["children_young_people", "mental_health"],
            state=OpportunityState.CLOSED,
            partners_wanted=True,
        )
        session.add(opportunity)
        await session.flush()
        confirmed = START - timedelta(days=30)
        consortium = Consortium(
            opportunity_id=opportunity.id,
            lead_organisation_id=orgs["riverside-youth-trust"],
            state="confirmed",
            confirmed_at=confirmed,
        )
        session.add(consortium)
        await session.flush()
        for slug, share in (("riverside-youth-trust", 60), ("asha-womens-centre", 40)):
            session.add(
                ConsortiumMember(
                    consortium_id=consortium.id,
                    opportunity_id=opportunity.id,
                    organisation_id=orgs[slug],
                    share_percent=share,
                    confirmed_at=confirmed,
                )
            )
        story.opportunity_id = opportunity.id


async def stage_agreement_from_opportunity(story: Story) -> None:
    """Priya opens `agreements new N` on the web: the form shows the opportunity's title,
    route and value and the consortium; she fills in the rest page by page."""
    await seed_closed_opportunity(story)
    n = story.opportunity_id
    html = await story.web(PRIYA, f"new {n}")
    shown = dict(form_fields(html))
    assert shown["title"] == TITLE, shown
    assert shown["route"] == "standard_contract" and shown["value"] == "£300,000", shown
    pages: list[dict[str, str]] = [
        {"vat_basis": "including"},
        {
            "council_people": "Priya Shah, contract manager",
            "provider_contacts": "Tom Okafor, service manager",
        },
        {"starts_on": "2027-02-01", "ends_on": "2027-12-27"},
        {"kpis": "Families helped; monthly log; 30 a month"},
        {"payment_terms_days": "30"},
    ]
    user = story.doors.browsers[PRIYA.key]
    for index, values in enumerate(pages):
        if index == 1:
            parties = dict(form_fields(html))
            assert parties["provider"] == "Riverside Youth Trust", parties
            assert parties["provider_share"] in ("60", "60%"), parties
            assert "Asha Women's Centre" in parties["members"], parties
        fields = [(k, v) for k, v in form_fields(html) if k not in values]
        intent = "submit" if index == len(pages) - 1 else "next"
        status, html = await user.post(
            _form_action(html),
            [*fields, *values.items(), ("_page", str(index)), ("_intent", intent)],
        )
        assert status == 200, text_of(html)
    said = text_of(html)
    assert "Recorded:" in said, said[-2000:]
    assert "Riverside Youth Trust (lead, 60%), Asha Women's Centre (40%)" in said, said
    async with story.services.db.session() as session:
        agreement = await session.scalar(select(Agreement).where(Agreement.opportunity_id == n))
        assert agreement is not None
        assert (agreement.title, agreement.route, agreement.value_pence) == (
            TITLE,
            "standard_contract",
            30_000_000,
        )
        assert (agreement.starts_on, agreement.ends_on) == (date(2027, 2, 1), date(2027, 12, 27))
        kept = {
            (p.organisation_id, p.role, p.share_percent)
            for p in (
                await session.scalars(
                    select(AgreementParty).where(AgreementParty.agreement_id == agreement.id)
                )
            ).all()
        }
        orgs = {o.slug: o.id for o in (await session.scalars(select(Organisation))).all()}
    assert kept == {
        (orgs["riverside-youth-trust"], "lead", 60),
        (orgs["asha-womens-centre"], "member", 40),
    }
    story.consortium = agreement.id
    # Both members see it on their own door; Grace (not a party) is told it was not found.
    assert TITLE in await story.teams(AMINA, f"show {agreement.id}")
    assert "couldn't find that agreement" in text_of(await story.web(GRACE, f"show {agreement.id}"))


async def latest_proposal(story: Story) -> OutcomeProposal:
    async with story.services.db.session() as session:
        found = await session.scalar(
            select(OutcomeProposal).order_by(OutcomeProposal.id.desc()).limit(1)
        )
    assert found is not None
    return found


async def stage_outcomes_framework(story: Story) -> None:
    """Priya proposes in Slack, Tom (the lead) accepts in Teams; an outcome first, then an
    indicator for it. Each proposal reached the consortium's people (Tom in Slack, Amina in
    Teams), and each acceptance reached Priya (in Teams)."""
    n = story.consortium
    proposals = (
        ("add outcome", "Families cope better with hard times", "Outcome 1"),
        ("add indicator 1", "Parents say they know where to get help", "Indicator 1.1"),
    )
    for ask, what, made in proposals:
        words = f"{ask} {what}"
        said = await story.slack(PRIYA, f"framework {n} {words}")
        assert "Proposed, number" in said and "does not change until the other side" in said, said
        proposal = await latest_proposal(story)
        assert proposal.status == "pending"
        told = await story.reached(f"outcomes:{proposal.id}:proposed:%")
        assert set(told) == {"tom", "amina"}, told
        assert all(what in t for t in told.values()), told
        said = await story.teams(TOM, f"framework {n} accept {proposal.id}")
        assert "Accepted proposal" in said and made in said, said
        async with story.services.db.session() as session:
            decided = await session.get(OutcomeProposal, proposal.id)
        assert decided is not None and decided.status == "accepted"
        assert decided.decided_by == story.ids["tom"]
        assert set(await story.reached(f"outcomes:{proposal.id}:decided:%")) == {"priya"}
    shown = text_of(await story.web(PRIYA, f"outcomes {n}"))
    assert "Families cope better with hard times" in shown, shown
    assert "Parents say they know where to get help" in shown


PLAN = 'method="A short form, and a call if either side wants one" questions=effective rag=no'


async def plan_rows(story: Story, agreement_id: int) -> list[MonitoringPlanRow]:
    async with story.services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(MonitoringPlanRow).where(MonitoringPlanRow.agreement_id == agreement_id)
                )
            ).all()
        )


async def stage_monitoring_plans(story: Story) -> None:
    """Three plans, each proposed by one side and accepted by the other, on different doors.
    The consortium's and Eastgate's first check-ins are dated Monday 3 May 2027, the early
    May bank holiday, so they go on Tuesday 4 May at 8am London."""
    # Two more contracts of the council, made before the story starts.
    story.eastgate = await seed_contract(
        story.services,
        title="Community meals",
        lead="eastgate-community-kitchen",
        value_pence=30_000_000,
    )
    story.silver = await seed_contract(
        story.services,
        title="Befriending calls",
        lead="silver-threads-befriending",
        value_pence=30_000_000,
    )
    async with story.services.db.session() as session:
        # Eastgate's is a light-touch contract (Schedule 1 services).
        await session.execute(
            update(Agreement)
            .where(Agreement.id == story.eastgate)
            .values(route="light_touch", light_touch=True)
        )
    assert not is_working_day(date(2027, 5, 3)) and date(2027, 5, 3) in ENGLAND
    n = story.consortium

    said = await story.slack(TOM, f"plan {n} dates=2027-05-03 {PLAN}")
    assert "until the council's team accepts it" in said, said
    said = await story.web_confirm(PRIYA, f"accept {n}")
    assert "Agreed: the monitoring plan" in said, said
    assert "Tuesday 4 May 2027, 8am" in said, said

    said = await story.slack(PRIYA, f"plan {story.eastgate} dates=2027-05-03 {PLAN}")
    assert "Nothing is sent until the provider accepts it" in said, said
    said = await story.web_confirm(GRACE, f"accept {story.eastgate}")
    assert "Agreed: the monitoring plan" in said, said

    said = await story.slack(PRIYA, f"plan {story.silver} dates=2027-05-27 {PLAN}")
    assert "Nothing is sent until the provider accepts it" in said, said
    said = await story.teams(JOAN, f"accept {story.silver}")
    assert "Agreed: the monitoring plan" in said, said

    for agreement_id in (n, story.eastgate, story.silver):
        (plan,) = await plan_rows(story, agreement_id)
        assert plan.state == "agreed", (agreement_id, plan.state)
    assert (await plan_rows(story, n))[0].proposed_by_side == "provider"
    assert (await plan_rows(story, story.eastgate))[0].proposed_by_side == "team"
    due = {aware(r.due_at) for r in await story.reminders(CHECKIN_KIND)}
    assert due == {at(date(2027, 5, 4), 8), at(date(2027, 5, 27), 8)}, due


async def checkins_of(story: Story, agreement_id: int) -> list[CheckinRow]:
    async with story.services.db.session() as session:
        return list(
            (
                await session.scalars(
                    select(CheckinRow)
                    .where(CheckinRow.agreement_id == agreement_id)
                    .order_by(CheckinRow.id)
                )
            ).all()
        )


_shares = itertools.count(1)


async def share_in_slack_dm(story: Story, text: str, name: str, data: bytes, kind: str) -> str:
    """Tom shares a file in his DM with Convene, with `text` as the message: Slack sends a
    signed `file_share` event, and Convene fetches the file from the fake Slack's host."""
    shared = story.doors.fake_slack.share_file(name, data, mimetype=kind)
    event_id = f"EvAgreeE2E{next(_shares):04d}"
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": f"D{TOM.slack}",
        "channel_type": "im",
        "user": TOM.slack,
        "text": text,
        "files": [shared],
        "ts": f"{wall.time():.6f}",
    }
    status, _ = await story.doors.slack.event(event, event_id=event_id)
    assert status == 200
    key = f"slack:event:{event_id}"
    await eventually(lambda: rows_like(story.services, key), timeout=10)
    await settle(story.doors.sender)
    assert story.doors.fake_slack.downloads_of(shared["id"]), "the file was never fetched"
    return story.tom_dm.read(key)


async def upload_on_the_web(story: Story, actor: Actor, checkin_id: int, **flags: str) -> str:
    """The person opens the upload page and sends a PDF with the boxes ticked, as a browser
    does (multipart, with the page's CSRF token)."""
    user = story.doors.browsers[actor.key]
    status, html = await user.get(f"/agreements/checkins/{checkin_id}/upload")
    assert status == 200, text_of(html)
    form = aiohttp.FormData()
    form.add_field("csrf_token", user.csrf(html))
    for name, value in {"words": f"upload {checkin_id}", **flags}.items():
        form.add_field(name, value)
    form.add_field(
        "files", evidence_files.PDF, filename="Our quarter.pdf", content_type="application/pdf"
    )
    async with user.client.post(f"{user.base}/do/agreements", data=form) as resp:
        assert resp.status == 200
        said = text_of(await resp.text())
    await settle(story.doors.sender)
    return said


async def stage_checkins_answered(story: Story) -> None:
    """Nothing goes on the bank holiday; on Tuesday 4 May at 8am the consortium's check-in
    goes to Tom (its lead reports, not Amina) in Slack and Eastgate's to Grace. Tom answers
    in his DM and shares a photo there; Grace sends her own PDF on the web instead of the
    form. Priya is told of each in Teams, as a prompt to talk."""
    await story.to(at(date(2027, 5, 3), 23, 59))
    assert await checkins_of(story, story.consortium) == []
    await story.to(at(date(2027, 5, 4), 8))
    (consortium,) = await checkins_of(story, story.consortium)
    (eastgate,) = await checkins_of(story, story.eastgate)
    assert aware(consortium.sent_at) == at(date(2027, 5, 4), 8), consortium.sent_at
    asked = await story.reached(f"checkin:{consortium.id}:%")
    assert set(asked) == {"tom"}, asked
    assert "(due Tuesday 4 May 2027)" in asked["tom"], asked
    assert set(await story.reached(f"checkin:{eastgate.id}:%")) == {"grace"}
    assert await checkins_of(story, story.silver) == []
    waiting = {c.target_id.split(":")[0] for c in await story.reminders(CHASE_KIND)}
    assert {str(consortium.id), str(eastgate.id)} <= waiting, "each is chased until answered"

    # Tom: a photo from the group, in his DM, then the answer typed in the same chat.
    said = await share_in_slack_dm(
        story,
        f"agreements upload {consortium.id} team=yes quote=yes people_agreed=yes",
        "group.png",
        evidence_files.PNG,
        "image/png",
    )
    assert "we kept group.png (photo)" in said, said
    said = await story.tom_dm.say(
        f'agreements answer {consortium.id} effective="Yes: 31 families came to the groups"'
    )
    assert "is sent" in said, said
    async with story.services.db.session() as session:
        row = await session.get(CheckinRow, consortium.id)
        photos = (
            await session.scalars(
                select(EvidenceRow).where(EvidenceRow.checkin_id == consortium.id)
            )
        ).all()
    assert row is not None and row.answered_at is not None
    assert row.answered_by == story.ids["tom"]
    assert row.answers["effective"] == "Yes: 31 families came to the groups"
    assert [(p.filename, p.kind, p.uploaded_by) for p in photos] == [
        ("group.png", "photo", story.ids["tom"])
    ]
    told = await story.reached(f"checkin-answer:{consortium.id}:%")
    assert set(told) == {"priya"}, told
    assert "31 families came to the groups" in told["priya"]
    assert "prompt to talk" in told["priya"] and "Riverside Youth Trust" in told["priya"]
    # The team finds the photo with the check-in, and fetches it in its browser.
    listed = await story.web(PRIYA, f"evidence {consortium.id}")
    assert f'href="/agreements/evidence/{photos[0].id}"' in listed, text_of(listed)
    user = story.doors.browsers[PRIYA.key]
    async with user.client.get(f"{user.base}/agreements/evidence/{photos[0].id}") as resp:
        assert resp.status == 200 and await resp.read() == evidence_files.PNG

    # Grace: her own report on the web upload page, as the answer.
    said = await upload_on_the_web(story, GRACE, eastgate.id, team="yes", report="yes")
    assert "your report answers your check-in" in said, said
    (eastgate,) = await checkins_of(story, story.eastgate)
    assert eastgate.answered_at is not None and eastgate.answered_by == story.ids["grace"]
    told = await story.reached(f"checkin-answer:{eastgate.id}:%")
    assert set(told) == {"priya"}, told
    assert "Our quarter.pdf" in told["priya"] and "Eastgate Community Kitchen" in told["priya"]
    # Nobody is chased for an answered check-in.
    chases = await story.reminders(CHASE_KIND)
    assert not [
        c for c in chases if c.target_id.split(":")[0] in (str(consortium.id), str(eastgate.id))
    ]


async def outbox_people(story: Story, pattern: str) -> set[str]:
    """Who (by actor key, or id) any message whose key matches `pattern` was queued for."""
    by_person = {v: k for k, v in story.ids.items()}
    return {
        by_person.get(r.person_id or 0, str(r.person_id))
        for r in await rows_like(story.services, pattern)
    }


async def stage_non_responder(story: Story) -> None:
    """Silver Threads' check-in goes to Joan on Thursday 27 May 2027 and she never answers.
    She is chased 3 working days on (Wednesday 2 June: Monday 31 May is the spring bank
    holiday) and 7 (Tuesday 8 June), then only the team is told; no other provider hears."""
    assert date(2027, 5, 31) in ENGLAND
    await story.to(at(date(2027, 5, 27), 8))
    (checkin,) = await checkins_of(story, story.silver)
    assert set(await story.reached(f"checkin:{checkin.id}:%")) == {"joan"}
    chases = [
        r for r in await story.reminders(CHASE_KIND) if r.target_id.startswith(f"{checkin.id}:")
    ]
    first, second, team = (
        at(date(2027, 6, 2), 8),
        at(date(2027, 6, 8), 8),
        at(date(2027, 6, 11), 8),
    )
    assert [aware(c.due_at) for c in chases] == [first, second, team], chases

    await story.to(first - timedelta(minutes=1))
    assert await rows_like(story.services, f"checkin-chase:{checkin.id}:%") == []
    await story.to(first)
    chased = await story.reached(f"checkin-chase:{checkin.id}:first_reminder:%")
    assert set(chased) == {"joan"} and "Reminder: " in chased["joan"], chased
    await story.to(second)
    chased = await story.reached(f"checkin-chase:{checkin.id}:second_reminder:%")
    assert set(chased) == {"joan"} and "Second reminder: " in chased["joan"], chased
    assert await rows_like(story.services, f"checkin-told:{checkin.id}:%") == []
    await story.to(team)
    told = await story.reached(f"checkin-told:{checkin.id}:%")
    assert set(told) == {"priya"}, told
    assert "Silver Threads Befriending has not answered" in told["priya"], told
    assert "No other provider is" in told["priya"]
    # Only Joan (asked) and the team ever heard of this check-in.
    for pattern in ("checkin:{}:%", "checkin-chase:{}:%", "checkin-told:{}:%"):
        assert await outbox_people(story, pattern.format(checkin.id)) <= {"joan", "priya"}
    async with story.services.db.session() as session:
        row = await session.get(CheckinRow, checkin.id)
    assert row is not None and row.answered_at is None and row.team_told_at is not None


async def latest_variation(story: Story) -> AgreementVariation:
    async with story.services.db.session() as session:
        found = await session.scalar(
            select(AgreementVariation).order_by(AgreementVariation.id.desc()).limit(1)
        )
    assert found is not None
    return found


NOTICE_ID = "UK10-2027-00042"


async def stage_variations(story: Story) -> None:
    """Monday 14 June 2027: Tom asks in Teams for £40,000 more for the consortium (13.3% of
    £300,000); Priya agrees and approves it on the web. That is over the s.75 limit for a
    contract, so the team is told to record the change notice at once and again a week on,
    until Priya records its identifier in Slack. Grace asks for £100,000 more on Eastgate's
    light-touch contract on the web; Priya agrees and approves in Slack: no notice, no
    reminder."""
    await story.to(at(date(2027, 6, 14), 9))
    n = story.consortium
    said = await story.teams(
        TOM,
        f'vary {n} what="Two more family groups" why="A waiting list of 25 families" value=£40,000',
    )
    assert "Asked: variation" in said, said
    variation = await latest_variation(story)
    assert (variation.side, variation.value_change_pence) == ("provider", 4_000_000)
    said = await story.web_confirm(PRIYA, f"variation {variation.id} agree")
    assert "agreed to" in said, said
    said = await story.web_confirm(PRIYA, f'variation {variation.id} approve reason="Good value"')
    assert f"Approved variation {variation.id}" in said, said
    assert "needs a contract change notice" in said, said
    variation = await latest_variation(story)
    assert variation.state == "approved" and variation.change_notice_required
    async with story.services.db.session() as session:
        agreement = await session.get(Agreement, n)
    assert agreement is not None and agreement.value_pence == 34_000_000
    told = await story.reached(f"variation:{variation.id}:notice-needed:%")
    assert set(told) == {"priya"} and "contract change notice is needed" in told["priya"], told

    # A week on, at 8am on a working day, the team is reminded; and the next is set.
    (reminder,) = [
        r for r in await story.reminders(NOTICE_KIND) if r.target_id == str(variation.id)
    ]
    assert aware(reminder.due_at) == at(date(2027, 6, 21), 8)
    await story.to(at(date(2027, 6, 21), 8))
    again = await story.reached(f"reminder:{reminder.id}:%")
    assert set(again) == {"priya"} and "contract change notice is needed" in again["priya"]
    (following,) = await story.reminders(NOTICE_KIND)
    assert aware(following.due_at) == at(date(2027, 6, 28), 8)
    # Recording the notice stops them.
    said = await story.slack(PRIYA, f"variation {variation.id} notice id={NOTICE_ID}")
    assert f"Recorded the change notice {NOTICE_ID}" in said, said
    assert await story.reminders(NOTICE_KIND) == []
    assert (await latest_variation(story)).change_notice_id == NOTICE_ID

    # The light-touch contract: far over the limits, and still no notice.
    said = await story.web_confirm(
        GRACE,
        f'vary {story.eastgate} what="Meals on Saturdays" why="Families asked" value=£100,000',
    )
    assert "Asked: variation" in said, said
    light = await latest_variation(story)
    assert light.agreement_id == story.eastgate and light.side == "provider"
    said = await story.slack(PRIYA, f"variation {light.id} agree")
    assert "agreed to" in said, said
    said = await story.slack(PRIYA, f'variation {light.id} approve reason="Fine"')
    assert f"Approved variation {light.id}" in said, said
    assert "contract change notice" not in said, said
    light = await latest_variation(story)
    assert light.state == "approved" and not light.change_notice_required
    assert await story.reminders(NOTICE_KIND) == []
    assert await rows_like(story.services, f"variation:{light.id}:notice-needed:%") == []
    shown = await story.slack(PRIYA, f"variations {story.eastgate}")
    assert "light-touch contract" in shown, shown
    story.notice_reminder = reminder.id


async def stage_key_dates(story: Story) -> None:
    """The consortium's agreement ends on Monday 27 December 2027 (a bank holiday). Six
    months before is Sunday 27 June, so Friday 25 June; three months before is Monday 27
    September; the end on Friday 24 December. Each reaches the named people (Priya in
    Teams, Tom in Slack) at 8am on its day, and nobody else (not Amina: Tom is named for
    Riverside's side)."""
    assert date(2027, 12, 27) in ENGLAND and date(2027, 6, 27).weekday() == 6
    n = story.consortium
    planned = {
        r.target_id.split(":", 1)[1]: aware(r.due_at)
        for r in await story.reminders(REMINDER_KIND, pending=False)
        if r.target_id.startswith(f"{n}:")
    }
    expected = {
        "end_of_term_first": date(2027, 6, 25),
        "end_of_term_second": date(2027, 9, 27),
        "end_of_term": date(2027, 12, 24),
    }
    for what, day in expected.items():
        assert planned[f"{what}:0"] == at(day, 0), (what, planned)
    for what, day in expected.items():
        key = f"agreement:{n}:key_date:{n}:{what}:%"
        # Nothing the minute before its day begins; at 8am on it, sent.
        await story.to(at(day, 0) - timedelta(minutes=1))
        assert await rows_like(story.services, key) == [], what
        await story.to(at(day, 8))
        told = await story.reached(key)
        assert set(told) == {"priya", "tom"}, (what, told)
        rows = await rows_like(story.services, key)
        assert {aware(r.next_attempt_at) for r in rows} == {at(day, 8)}, what
        assert all(TITLE in t for t in told.values()), told
        if what == "end_of_term_first":
            # A week after the last change-notice reminder: none more, the notice is in.
            await story.to(at(date(2027, 6, 28), 8))
            sent = [r.idempotency_key for r in await rows_like(story.services, "reminder:%")]
            assert sent == [f"reminder:{story.notice_reminder}:person:{story.ids['priya']}"]
    assert "The agreement ends. This is due on Monday 27 December 2027." in told["priya"], told


def valid_for_every_platform(story: Story) -> None:
    """Everything sent to Slack was valid Block Kit, and every Teams card valid; nothing
    was posted twice."""
    doors = story.doors
    problems = block_kit_problems(BlockKitLog(fakes=[doors.fake_slack]))
    problems += card_problems(CardLog(fakes=[doors.fake_teams], returned=[]))
    assert problems == []
    assert not doors.fake_slack.duplicates() and not doors.fake_teams.duplicates()


# --- the test --------------------------------------------------------------------------------


@pytest.fixture
async def story(
    backend: databases.Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Story]:
    """The app with every door open, the clock stopped on Monday 4 January 2027, 9am, and
    files shared in Slack fetched from the fake Slack's host. Each person's chosen door is
    set, as they would choose it on the `notifications` page."""
    monkeypatch.setenv("CONVENE_SLACK_FILES_HOSTS", "127.0.0.1")
    async with every_door(backend, tmp_path) as backstage:
        clock = FixedClock(START.astimezone(UTC))
        backstage.services.clock = clock
        doors = await backstage.open(list(EVERYONE), link=words_in_query)
        ids = {a.key: await person_id(doors.services, a.email) for a in EVERYONE}
        tom_dm = SlackPerson(doors.slack, doors.fake_slack, doors.sender, doors.services, TOM.slack)
        # Tom says hello in Slack: his email links him (a Slack identity of his own). Those
        # who read Convene in Teams say hello there, so Convene can write to their chat.
        assert "What I can help with" in await tom_dm.say("help")
        for actor in EVERYONE:
            if DOOR_OF[actor.key] == Door.TEAMS:
                assert "What I can help with" in (await doors.teams_command(actor, "help")).text
        async with doors.services.db.session() as session:
            for actor in EVERYONE:
                await session.execute(
                    update(Person)
                    .where(Person.id == ids[actor.key])
                    .values(preferred_door=DOOR_OF[actor.key])
                )
        yield Story(
            doors=doors,
            clock=clock,
            sweep=doors.app.runner.app[SWEEP],
            tom_dm=tom_dm,
            ids=ids,
        )


async def test_agreements_from_award_to_key_dates_across_three_doors(story: Story) -> None:
    await stage_agreement_from_opportunity(story)
    await stage_outcomes_framework(story)
    await stage_monitoring_plans(story)
    await stage_checkins_answered(story)
    await stage_non_responder(story)
    await stage_variations(story)
    await stage_key_dates(story)
    valid_for_every_platform(story)


async def test_a_photo_sent_with_a_chat_answer_is_kept_and_the_team_sees_it(story: Story) -> None:
    """Tom answers his check-in in one Slack message with a photo of the group attached, as
    people do in chat: the answer is recorded, the photo kept for that check-in, and the
    team's prompt to talk names it."""
    agreement_id = await seed_contract(story.services, title="Youth clubs in Preston")
    said = await story.slack(PRIYA, f"plan {agreement_id} dates=2027-01-05 {PLAN}")
    assert "Nothing is sent until the provider accepts it" in said, said
    assert "Agreed: the monitoring plan" in await story.teams(TOM, f"accept {agreement_id}")
    await story.to(at(date(2027, 1, 5), 8))
    (checkin,) = await checkins_of(story, agreement_id)
    assert set(await story.reached(f"checkin:{checkin.id}:%")) == {"tom"}

    said = await share_in_slack_dm(
        story,
        f'agreements answer {checkin.id} effective="Yes: look at the photo of the club"',
        "club.png",
        evidence_files.PNG,
        "image/png",
    )
    assert "is sent" in said, said
    (answered,) = await checkins_of(story, agreement_id)
    assert answered.answered_at is not None
    async with story.services.db.session() as session:
        kept = (
            await session.scalars(select(EvidenceRow).where(EvidenceRow.checkin_id == checkin.id))
        ).all()
    assert [(e.filename, e.kind) for e in kept] == [("club.png", "photo")]
    told = await story.reached(f"checkin-answer:{checkin.id}:%")
    assert "club.png" in told["priya"], told


async def messages_to(story: Story, actor: Actor) -> list[str]:
    """Everything queued for this person, in order (their words, flattened)."""
    async with story.services.db.session() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.person_id == story.ids[actor.key])
                .order_by(OutboxMessage.id)
            )
        ).all()
    return [flatten(r.payload) for r in rows]


async def test_the_other_side_is_told_of_a_proposed_monitoring_plan(story: Story) -> None:
    """Tom proposes his contract's monitoring plan in Slack: Priya's team is told, on her
    own door, what is proposed and how to accept it (as with a framework proposal)."""
    agreement_id = await seed_contract(story.services, title="Youth clubs in Preston")
    before = await messages_to(story, PRIYA)
    said = await story.slack(TOM, f"plan {agreement_id} dates=2027-03-01 {PLAN}")
    assert "until the council's team accepts it" in said, said
    (plan,) = await plan_rows(story, agreement_id)
    assert plan.state == "proposed" and plan.proposed_by_side == "provider"
    new = (await messages_to(story, PRIYA))[len(before) :]
    assert any(f"accept {agreement_id}" in text for text in new), new
