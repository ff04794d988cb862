"""The agreements register's form and its checks: `agreements new [N]` (N: the opportunity
it came from) and `agreements edit N`, by the council's commissioning team only.

Every bad answer (a value that doesn't parse, dates that contradict, shares that don't add
up to 100, payment terms longer than the law allows, an organisation not in the directory)
sends the form back with a plain message, saves nothing, and is on the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import format_date
from bot.core.forms import Field, FieldType, FormDefinition
from bot.core.forms.kinds import kind_of
from bot.core.forms.kinds.common import AnswerError
from bot.core.law import LawError, payment_days, rule
from bot.core.reply import Notice, Reply, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.agreements.assessments import plan_assessments
from handlers.agreements.common import (
    COMMAND,
    FORM_KEY,
    Refused,
    load_for_team,
    refuse,
    regime_of,
    today,
)
from handlers.agreements.details import (
    check_payees,
    details_answers,
    load_details,
    match_people,
    read_details,
    save_details,
)
from handlers.agreements.key_dates import schedule_key_dates
from handlers.agreements.views import saved_replies
from handlers.engagements.common import number_at, words_of
from handlers.forms import Subject, topic_number
from handlers.opportunities.common import load_for_team as load_opportunity_for_team
from handlers.opportunities.common import money
from handlers.opportunities.setup import TeamForm
from storage import audit
from storage.agreement_tables import Agreement, AgreementKpi, AgreementParty, PartyRole
from storage.agreements import kpis_of, organisation_named, parties_of
from storage.models import Authority, FormResponse, Organisation
from storage.opportunity_tables import Opportunity
from storage.partners import confirmed_consortia, members_of_consortium
from storage.visibility import Refusal

_VALUE_FIELD = Field(
    id="value", type=FieldType.MONEY, label="How much it is worth", example="£250,000"
)


# --- topics: which agreement (or which opportunity a new one comes from) --------------------


def topic_for(agreement_id: int | None, opportunity_id: int | None = None) -> str:
    if agreement_id is not None:
        return f"agreement:{agreement_id}"
    return f"agreement:new:{opportunity_id}" if opportunity_id else "agreement:new"


def agreement_of_topic(topic: str | None) -> int | None:
    return topic_number(topic)


def opportunity_of_topic(topic: str | None) -> int | None:
    return topic_number(topic, 2)


# --- reading the answers (pure) ---------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    name: str
    share: int | None


@dataclass(frozen=True)
class Kpi:
    name: str
    measure: str
    target: str


@dataclass
class Reading:
    """The answers made sense of, and the problems found (field id -> plain words)."""

    value_pence: int | None = None
    lead_share: int | None = None
    members: list[Member] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    breaks: list[dict[str, Any]] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    #: Short reasons for the record, one per problem.
    reasons: list[str] = field(default_factory=list)

    def problem(self, field_id: str, words: str, reason: str) -> None:
        self.problems.setdefault(field_id, words)
        self.reasons.append(reason)


def _lines(text: Any) -> list[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def read_member(line: str) -> Member | None:
    """'Eastgate Community Kitchen, 40%' or just the name; None when the share is not a
    whole number from 0 to 100."""
    name, _, last = line.rpartition(",")
    share_text = last.strip().rstrip("%").strip()
    if name.strip() and share_text and share_text.replace(" ", "").isdigit():
        share = int(share_text.replace(" ", ""))
        return Member(name.strip(), share) if share <= 100 else None
    if name.strip() and last.strip().endswith("%"):
        return None
    return Member(line.strip(), None)


def read_answers(answers: dict[str, Any]) -> Reading:
    """Everything that can be checked without the records: the value, the dates, the
    members and shares, the KPIs."""
    reading = Reading()
    raw_value = str(answers.get("value") or "").strip()
    if raw_value:
        try:
            reading.value_pence = kind_of(FieldType.MONEY).parse(_VALUE_FIELD, raw_value)
        except AnswerError:
            reading.problem(
                "value",
                f'We could not read "{raw_value}" as an amount of money. Write it in pounds, '
                "like £250,000 or £1.2 million.",
                "value does not parse",
            )
    starts, ends = answers.get("starts_on"), answers.get("ends_on")
    start_day = date.fromisoformat(starts) if starts else None
    end_day = date.fromisoformat(ends) if ends else None
    if start_day and end_day and end_day < start_day:
        reading.problem(
            "ends_on",
            f"The agreement can't end ({format_date(end_day)}) before it starts "
            f"({format_date(start_day)}). Check the two dates.",
            "ends before it starts",
        )
    for number in (1, 2):
        on, notice = answers.get(f"break_{number}_on"), answers.get(f"break_{number}_notice_days")
        if not on:
            if notice is not None:
                reading.problem(
                    f"break_{number}_on",
                    "You gave a notice period for a break clause but not its day. Give the "
                    "day, or leave both blank.",
                    "break notice without a day",
                )
            continue
        day = date.fromisoformat(on)
        if end_day and day > end_day:
            reading.problem(
                f"break_{number}_on",
                f"A break clause on {format_date(day)} is after the agreement ends "
                f"({format_date(end_day)}). A break must come before the end.",
                "break after the end",
            )
        elif start_day and day < start_day:
            reading.problem(
                f"break_{number}_on",
                f"A break clause on {format_date(day)} is before the agreement starts "
                f"({format_date(start_day)}).",
                "break before the start",
            )
        reading.breaks.append({"on": day.isoformat(), "notice_days": notice})
    for line in _lines(answers.get("members")):
        member = read_member(line)
        if member is None:
            reading.problem(
                "members",
                f'We could not read "{line}". Write the name, a comma, then the share as a '
                "whole number from 0 to 100, like: Eastgate Community Kitchen, 40%",
                "member line does not parse",
            )
        else:
            reading.members.append(member)
    raw_share = answers.get("provider_share")
    lead_share = None if raw_share is None else float(raw_share)
    if lead_share is not None and not lead_share.is_integer():
        reading.problem(
            "provider_share",
            "Give the lead's share as a whole number, like 60%.",
            "share not a whole number",
        )
    reading.lead_share = None if lead_share is None else int(lead_share)
    if reading.members or lead_share is not None:
        shares = [lead_share, *(m.share for m in reading.members)]
        given = [s for s in shares if s is not None]
        if given and len(given) != len(shares):
            reading.problem(
                "members",
                "Give a share for the lead and every member, or for none of them.",
                "shares given for some members only",
            )
        elif given and sum(int(s) for s in given) != 100:
            reading.problem(
                "members",
                f"The shares add up to {sum(int(s) for s in given)}%. They must add up to "
                "100%. Check the lead's share and each member's.",
                "shares do not add up to 100",
            )
    for line in _lines(answers.get("kpis")):
        parts = [p.strip() for p in line.split(";")]
        if len(parts) != 3 or not all(parts):
            reading.problem(
                "kpis",
                f'We could not read "{line}". Write the name, how it is measured and the '
                "target, with a semicolon (;) between each.",
                "KPI line does not parse",
            )
        else:
            reading.kpis.append(Kpi(parts[0][:200], parts[1], parts[2]))
    return reading


# --- the form ------------------------------------------------------------------------------


class NotAnOpportunity(Refused):
    """The opportunity named for a new agreement is missing or another council's."""


class AgreementForm(TeamForm):
    """`agreements new [N]` and `agreements edit N`, by the team."""

    form_key = FORM_KEY
    command = COMMAND

    async def subject(
        self, session: AsyncSession, turn: Turn, services: Services
    ) -> Subject | Refusal:
        assert turn.actor is not None
        words = words_of(turn)
        try:
            if words[:1] == ["edit"]:
                agreement_id = number_at(turn, 1)
                if agreement_id is None:
                    return Refusal(
                        f"Which one? Find it in the list: "
                        f"{command_ref(COMMAND, f'the {COMMAND} list')}."
                    )
                agreement = await load_for_team(session, turn, agreement_id, "edit")
                return Subject(None, agreement.authority_id, topic=topic_for(agreement.id))
            mine = sorted(turn.actor.commissioner_for())
            opportunity_id = number_at(turn, 1)
            if opportunity_id is not None:
                opportunity = await load_opportunity_for_team(
                    session, turn, opportunity_id, "agreement from opportunity"
                )
                return Subject(
                    None, opportunity.authority_id, topic=topic_for(None, opportunity.id)
                )
            wanted = turn.args.get("for")
            authorities = [
                a
                for a in [await session.get(Authority, i) for i in mine]
                if a is not None and (not wanted or a.slug == wanted)
            ]
            if len(authorities) != 1:
                await refuse(
                    session,
                    turn,
                    None,
                    "new",
                    "which council" if mine else "not a commissioner",
                )
                if not mine:
                    return Refusal(
                        "Only a council's commissioning team can record an agreement. See the agreements "
                        f"your organisation is party to: {command_ref(COMMAND, 'your agreements')}."
                    )
                names = ", ".join(
                    f"{a.name} ({command_ref(f'{COMMAND} new for={a.slug}', f'a new agreement for {a.name}')})"
                    for a in [await session.get(Authority, i) for i in mine]
                    if a is not None
                )
                return Refusal(f"Which council is this for? {names}")
            authority = authorities[0]
        except Refused as refused:
            return Refusal(refused.message)
        return Subject(None, authority.id, label=authority.name, topic=topic_for(None))

    async def prefill(self, session: AsyncSession, subject: Subject) -> dict[str, Any]:
        agreement_id = agreement_of_topic(subject.topic)
        if agreement_id is not None:
            agreement = await session.get(Agreement, agreement_id)
            assert agreement is not None
            return await answers_of(session, agreement)
        answers: dict[str, Any] = {}
        opportunity_id = opportunity_of_topic(subject.topic)
        opportunity = await session.get(Opportunity, opportunity_id) if opportunity_id else None
        if opportunity is None:
            return answers
        top = opportunity.value_max_pence or opportunity.value_min_pence
        answers.update(
            {
                "title": opportunity.title,
                "route": opportunity.route,
                "value": money(top) if top is not None else None,
                "area_served": list(opportunity.area_served) or None,
            }
        )
        consortia = await confirmed_consortia(session, opportunity.id)
        if len(consortia) == 1:
            answers.update(await _consortium_answers(session, consortia[0].id, consortia[0]))
        return answers

    async def check_against_records(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        answers: dict[str, Any],
    ) -> dict[str, str]:
        reading = read_answers(answers)
        terms = answers.get("payment_terms_days")
        starts = answers.get("starts_on")
        if terms is not None and starts:
            try:
                most = payment_days(date.fromisoformat(starts))
                citation = rule("payment.days", date.fromisoformat(starts)).citation
            except LawError:
                most, citation = None, ""
            if most is not None and int(terms) > most:
                reading.problem(
                    "payment_terms_days",
                    f"The law says a correct invoice must be paid within {most} days "
                    f"({citation}). Give {most} days or fewer.",
                    "payment terms longer than the law allows",
                )
        names = [str(answers.get("provider") or ""), *(m.name for m in reading.members)]
        seen: set[int] = set()
        found: list[Organisation] = []
        for index, name in enumerate(names):
            where = "provider" if index == 0 else "members"
            organisation = await organisation_named(session, name)
            if organisation is None:
                reading.problem(
                    where,
                    f'We could not find "{name}" in Convene\'s directory. Use the name as it '
                    "is shown there.",
                    "organisation not found",
                )
            elif organisation.id in seen:
                reading.problem(
                    where,
                    f"{organisation.name} is named twice. Name each organisation once.",
                    "organisation named twice",
                )
            else:
                seen.add(organisation.id)
                found.append(organisation)
        details = read_details(answers)
        assert response.authority_id is not None
        await match_people(session, details, response.authority_id, found)
        check_payees(details, names[0], names[1:])
        for field_id, words in details.problems.items():
            reading.problems.setdefault(field_id, words)
        reading.reasons += details.reasons
        if reading.problems:
            agreement = await session.get(Agreement, agreement_of_topic(response.topic) or 0)
            await refuse(
                session,
                turn,
                agreement,
                "edit" if agreement else "new",
                "; ".join(reading.reasons),
                authority_id=response.authority_id,
            )
        return reading.problems

    async def on_submit(
        self,
        session: AsyncSession,
        turn: Turn,
        services: Services,
        response: FormResponse,
        definition: FormDefinition,
    ) -> list[Reply]:
        assert turn.actor is not None and response.authority_id is not None
        now = services.clock.now()
        answers = response.answers
        reading = read_answers(answers)
        agreement_id = agreement_of_topic(response.topic)
        try:
            agreement = (
                await load_for_team(session, turn, agreement_id, "edit", lock=True)
                if agreement_id is not None
                else None
            )
        except Refused as refused:
            return [Notice(text=refused.message, level=refused.level)]
        new = agreement is None
        if agreement is None:
            agreement = Agreement(
                authority_id=response.authority_id,
                opportunity_id=opportunity_of_topic(response.topic),
                created_by=turn.actor.person_id,
                created_at=now,
            )
            session.add(agreement)
        regime = regime_of(answers["route"])
        agreement.title = answers["title"]
        agreement.route = answers["route"]
        agreement.light_touch = regime.light_touch
        agreement.below_threshold = regime.below_threshold
        agreement.reserved = regime.reserved
        agreement.framework_call_off = regime.framework_call_off
        agreement.grant_funded = regime.grant
        agreement.value_pence = reading.value_pence
        agreement.vat_basis = answers["vat_basis"]
        agreement.area_served = list(answers.get("area_served") or [])
        agreement.starts_on = date.fromisoformat(answers["starts_on"])
        agreement.ends_on = date.fromisoformat(answers["ends_on"])
        agreement.extension_options = answers.get("extension_options")
        agreement.break_clauses = reading.breaks
        agreement.payment_terms_days = payment_terms(answers, services)
        agreement.notes = answers.get("notes")
        agreement.updated_at = now
        await session.flush()
        await session.execute(
            delete(AgreementParty).where(AgreementParty.agreement_id == agreement.id)
        )
        await session.execute(delete(AgreementKpi).where(AgreementKpi.agreement_id == agreement.id))
        lead = await organisation_named(session, str(answers["provider"]))
        assert lead is not None  # checked before submitting
        consortium = bool(reading.members)
        session.add(
            AgreementParty(
                agreement_id=agreement.id,
                organisation_id=lead.id,
                role=PartyRole.LEAD if consortium else PartyRole.SOLE,
                share_percent=reading.lead_share if consortium else None,
            )
        )
        organisations = [lead]
        payees: dict[str | None, int] = {None: lead.id}
        for member in reading.members:
            organisation = await organisation_named(session, member.name)
            assert organisation is not None
            organisations.append(organisation)
            payees[member.name.lower()] = organisation.id
            session.add(
                AgreementParty(
                    agreement_id=agreement.id,
                    organisation_id=organisation.id,
                    role=PartyRole.MEMBER,
                    share_percent=member.share,
                )
            )
        for position, kpi in enumerate(reading.kpis, start=1):
            session.add(
                AgreementKpi(
                    agreement_id=agreement.id,
                    position=position,
                    name=kpi.name,
                    measure=kpi.measure,
                    target=kpi.target,
                )
            )
        await session.flush()
        details = read_details(answers)
        matched = await match_people(session, details, agreement.authority_id, organisations)
        await save_details(session, agreement, details, matched, payees)
        await schedule_key_dates(session, agreement, services)
        await plan_assessments(session, agreement, services)
        response.topic = topic_for(agreement.id)
        await audit.record_turn(
            session,
            turn,
            "agreement.recorded" if new else "agreement.changed",
            object_type="agreement",
            object_id=agreement.id,
            authority_id=agreement.authority_id,
            opportunity_id=agreement.opportunity_id,
        )
        return saved_replies(
            agreement,
            await parties_of(session, agreement.id),
            await kpis_of(session, agreement.id),
            await load_details(session, agreement),
            new=new,
            on=today(services),
        )


def payment_terms(answers: dict[str, Any], services: Services) -> int:
    """The days given, or (left blank) the law's figure on the start day (s.68)."""
    given = answers.get("payment_terms_days")
    if given is not None:
        return int(given)
    try:
        return payment_days(date.fromisoformat(answers["starts_on"]))
    except LawError:  # started before the Act: today's figure
        return payment_days(today(services))


async def _consortium_answers(
    session: AsyncSession, consortium_id: int, consortium: Any
) -> dict[str, Any]:
    """A confirmed consortium as the form's answers: its lead, the members and shares."""
    rows = await members_of_consortium(session, consortium_id)
    lead: Organisation | None = None
    lead_share: int | None = None
    lines: list[str] = []
    for member, organisation in rows:
        if organisation.id == consortium.lead_organisation_id:
            lead, lead_share = organisation, member.share_percent
        else:
            share = f", {member.share_percent}%" if member.share_percent is not None else ""
            lines.append(f"{organisation.name}{share}")
    if lead is None:
        return {}
    return {"provider": lead.name, "provider_share": lead_share, "members": "\n".join(lines)}


async def answers_of(session: AsyncSession, agreement: Agreement) -> dict[str, Any]:
    """An agreement as the form's answers, to change it."""
    parties = await parties_of(session, agreement.id)
    lead = next((o for p, o in parties if p.role != PartyRole.MEMBER), None)
    lead_share = next((p.share_percent for p, _ in parties if p.role == PartyRole.LEAD), None)
    members = [
        f"{o.name}, {p.share_percent}%" if p.share_percent is not None else o.name
        for p, o in parties
        if p.role == PartyRole.MEMBER
    ]
    kpis = await kpis_of(session, agreement.id)
    breaks = list(agreement.break_clauses or [])
    answers: dict[str, Any] = {
        "title": agreement.title,
        "route": agreement.route,
        "value": money(agreement.value_pence) if agreement.value_pence is not None else None,
        "vat_basis": agreement.vat_basis,
        "area_served": list(agreement.area_served) or None,
        "provider": lead.name if lead else None,
        "provider_share": lead_share,
        "members": "\n".join(members) or None,
        "starts_on": agreement.starts_on.isoformat(),
        "ends_on": agreement.ends_on.isoformat(),
        "extension_options": agreement.extension_options,
        "payment_terms_days": agreement.payment_terms_days,
        "kpis": "\n".join(f"{k.name}; {k.measure}; {k.target}" for k in kpis) or None,
    }
    for number, clause in enumerate(breaks[:2], start=1):
        answers[f"break_{number}_on"] = clause.get("on")
        answers[f"break_{number}_notice_days"] = clause.get("notice_days")
    answers.update(await details_answers(session, agreement, {o.id: o.name for _, o in parties}))
    return answers


FORM = AgreementForm()
