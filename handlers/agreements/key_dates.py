"""Key-date reminders for agreements (issue 15): each key date of an agreement, as the
monitoring core works it out (`bot.core.monitoring.key_dates`), is one reminder row.

Scheduled when an agreement is saved, new or changed (`schedule_key_dates`, called from the
register's save step). A change that moves a date moves its reminder; a date the agreement
no longer has, or one already past, has none. Each reminder goes on the working day on or
before its date (never after: a date on Boxing Day is reminded of on the working day
before Christmas). The due sweep wakes at the start of that day in the council's zone and
queues one message per person, each due at the start of *their* working day in their own
zone (8am unless they chose another hour), moved on by their quiet hours.

The agreement's own dates (`storage/agreement_detail_tables.py`) add the signing day (the
contract details notice counts from it), reviews and price uplifts (repeating each year
when set so), a TUPE transfer (employee liability information 28 days before) and one
payment date per invoice received and not yet paid (ss.68, 73), reminded of a few working
days before its pay-by day.

Who is told, on each side a date is for: the Convene people named on the agreement with the
role for that kind of date (finance for payments; the contract manager for the end, an
extension, a break, notices; both for a price rise; the monitoring contact too for reviews
and assessments); when nobody named has that role, everyone named on that side; when
nobody is named on that side, the council's commissioning team or the members of every
provider party, as before. A consortium's lead paying a member (s.73) is the lead's people
only. Named people who are not on Convene are never sent anything. The sweep checks again
before sending: the agreement must still have this date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.monitoring import (
    PAYMENT_KINDS,
    AgreementDates,
    Audience,
    BreakClause,
    KeyDate,
    KeyDateKind,
    KeyDatesError,
    every_year,
    key_dates,
    reminder_day,
    start_of_working_day,
)
from bot.core.quiet_hours import next_waking_moment
from bot.core.reply import ReplyList
from bot.services import Services
from handlers.agreements.key_date_views import key_date_reminder
from storage import audit
from storage.agreement_detail_tables import (
    AgreementDate,
    AgreementPayment,
    AgreementPerson,
    DatedItemKind,
    Payer,
    PersonRole,
    Side,
)
from storage.agreement_details import members_of, named_people, own_dates, payments_of
from storage.agreement_tables import Agreement, PartyRole
from storage.agreements import kpis_of, parties_of
from storage.engagements import commissioning_team
from storage.models import Reminder
from storage.notification_preferences import preferences_for
from storage.outbox import send_to_people
from storage.people import zones_of
from storage.reminders import cancel_reminders, pending_reminders, schedule_reminder

REMINDER_KIND = "agreement.key_date"
TARGET_TYPE = "agreement"
#: The due sweep wakes at the very start of the reminder's day (council's zone); each
#: person's message then waits for the start of their own working day.
WAKE = time(0, 0)


@dataclass(frozen=True)
class Planned:
    """One key date with its stable reminder target ("4:break_notice:0"), the day its
    reminder goes, and for a payment date the payment it is for."""

    target: str
    key_date: KeyDate
    remind_on: date
    payment_id: int | None = None


@dataclass(frozen=True)
class Recorded:
    """What the agreement's own tables hold: its dates and its payments."""

    dates: list[AgreementDate] = field(default_factory=list)
    payments: list[AgreementPayment] = field(default_factory=list)

    def unpaid_invoices(self, payer: Payer) -> list[AgreementPayment]:
        """Payments by this payer whose invoice came and that are not paid yet, in the
        order the key dates list them (by the day the invoice came)."""
        found = [
            p
            for p in self.payments
            if p.payer == payer and p.invoice_received_on is not None and p.paid_on is None
        ]
        return sorted(found, key=lambda p: (p.invoice_received_on or p.due_on, p.id))


async def recorded_of(session: AsyncSession, agreement: Agreement) -> Recorded:
    return Recorded(
        await own_dates(session, agreement.id), await payments_of(session, agreement.id)
    )


def dates_of(
    agreement: Agreement, kpi_count: int, recorded: Recorded | None = None
) -> AgreementDates | None:
    """The agreement's dates as the monitoring core reads them; None when they contradict
    (the register's form does not let that happen). A break clause with no notice period
    has no notice deadline, so it is left out. Yearly reviews and uplifts repeat to the end."""
    recorded = recorded or Recorded()
    breaks = tuple(
        BreakClause(date.fromisoformat(c["on"]), int(c["notice_days"]))
        for c in agreement.break_clauses or []
        if c.get("on") and c.get("notice_days") is not None
    )

    def days(kind: DatedItemKind) -> tuple[date, ...]:
        """This kind's days inside the term: an end moved earlier by a variation leaves a
        later review or transfer behind, and that one has no reminder (the rest keep theirs)."""
        found: list[date] = []
        for item in recorded.dates:
            if item.kind == kind:
                found += every_year(item.on, agreement.ends_on) if item.yearly else [item.on]
        inside = [d for d in found if d <= agreement.ends_on]
        if kind in (DatedItemKind.REVIEW, DatedItemKind.PRICE_UPLIFT):
            inside = [d for d in inside if d >= agreement.starts_on]
        return tuple(sorted(set(inside)))

    signed = days(DatedItemKind.SIGNED)
    transfer = days(DatedItemKind.TUPE_TRANSFER)
    try:
        return AgreementDates(
            starts=agreement.starts_on,
            ends=agreement.ends_on,
            entered_on=signed[0] if signed else None,
            break_clauses=breaks,
            uplift_dates=days(DatedItemKind.PRICE_UPLIFT),
            review_dates=days(DatedItemKind.REVIEW),
            light_touch=agreement.light_touch,
            grant=agreement.grant_funded,
            kpis_set=kpi_count > 0,
            transfer_on=transfer[0] if transfer else None,
            invoices=tuple(
                p.invoice_received_on or p.due_on for p in recorded.unpaid_invoices(Payer.COUNCIL)
            ),
            member_invoices=tuple(
                p.invoice_received_on or p.due_on for p in recorded.unpaid_invoices(Payer.LEAD)
            ),
            payment_terms_days=agreement.payment_terms_days,
        )
    except KeyDatesError:
        return None


def plan(agreement: Agreement, kpi_count: int, recorded: Recorded | None = None) -> list[Planned]:
    """Every key date of the agreement with its reminder target and day, in date order.
    The target numbers dates of one kind in date order, so a moved date keeps its row."""
    recorded = recorded or Recorded()
    dates = dates_of(agreement, kpi_count, recorded)
    if dates is None:
        return []
    invoices = {
        KeyDateKind.PAYMENT_DUE: recorded.unpaid_invoices(Payer.COUNCIL),
        KeyDateKind.MEMBER_PAYMENT_DUE: recorded.unpaid_invoices(Payer.LEAD),
    }
    counts: dict[str, int] = {}
    planned = []
    for key_date in key_dates(dates):
        n = counts.get(key_date.kind, 0)
        counts[key_date.kind] = n + 1
        payment = invoices[key_date.kind][n] if key_date.kind in PAYMENT_KINDS else None
        planned.append(
            Planned(
                f"{agreement.id}:{key_date.kind}:{n}",
                key_date,
                reminder_day(key_date, dates.rules_on),
                payment.id if payment is not None else None,
            )
        )
    return planned


async def planned_for(session: AsyncSession, agreement: Agreement) -> list[Planned]:
    return plan(
        agreement, len(await kpis_of(session, agreement.id)), await recorded_of(session, agreement)
    )


def upcoming(planned: list[Planned], today: date, *, for_team: bool) -> list[KeyDate]:
    """The key dates from today on: all of them for the team; a provider's own for a party."""
    return [
        p.key_date
        for p in planned
        if p.key_date.on >= today and (for_team or p.key_date.audience != Audience.TEAM)
    ]


async def schedule_key_dates(
    session: AsyncSession, agreement: Agreement, services: Services
) -> list[Planned]:
    """Schedule (or move) one reminder per key date of the agreement still to come, and drop
    the pending ones it no longer has. The key dates scheduled."""
    now = services.clock.now()
    tz = services.tz
    today = now.astimezone(tz).date()
    scheduled: list[Planned] = []
    for planned in await planned_for(session, agreement):
        if planned.key_date.on < today:
            continue  # already past
        wake = datetime.combine(planned.remind_on, WAKE, tzinfo=tz)
        await schedule_reminder(
            session,
            kind=REMINDER_KIND,
            due_at=max(wake, now),
            target_type=TARGET_TYPE,
            target_id=planned.target,
            payload={
                "agreement_id": agreement.id,
                "kind": str(planned.key_date.kind),
                "on": planned.key_date.on.isoformat(),
            },
        )
        scheduled.append(planned)
    wanted = {p.target for p in scheduled}
    stale = [
        r.target_id
        for r in await pending_reminders(
            session, kind=REMINDER_KIND, target_type=TARGET_TYPE, target_prefix=f"{agreement.id}:"
        )
        if r.target_id not in wanted
    ]
    await cancel_reminders(session, kind=REMINDER_KIND, target_type=TARGET_TYPE, target_ids=stale)
    return scheduled


#: Who, among the people named on an agreement, each kind of date is for.
ROLES_FOR: dict[KeyDateKind, frozenset[PersonRole]] = {
    KeyDateKind.PAYMENT_DUE: frozenset({PersonRole.FINANCE}),
    KeyDateKind.MEMBER_PAYMENT_DUE: frozenset({PersonRole.FINANCE}),
    KeyDateKind.PRICE_UPLIFT: frozenset({PersonRole.FINANCE, PersonRole.CONTRACT_MANAGER}),
    KeyDateKind.REVIEW: frozenset({PersonRole.CONTRACT_MANAGER, PersonRole.MONITORING_CONTACT}),
    KeyDateKind.PERFORMANCE_ASSESSMENT: frozenset(
        {PersonRole.CONTRACT_MANAGER, PersonRole.MONITORING_CONTACT}
    ),
}
#: Every other kind (the end, an extension, a break, notices, TUPE): the contract manager.
DEFAULT_ROLES = frozenset({PersonRole.CONTRACT_MANAGER})


def chosen_from(named: list[AgreementPerson], kind: KeyDateKind) -> list[int]:
    """The Convene people named with the role for this kind of date; when none has it,
    every Convene person named. Someone not on Convene is never chosen."""
    on_convene = [p for p in named if p.person_id is not None]
    roles = ROLES_FOR.get(kind, DEFAULT_ROLES)
    with_role = [p for p in on_convene if p.role in roles]
    return [p.person_id for p in (with_role or on_convene) if p.person_id is not None]


async def people_for(
    session: AsyncSession, agreement: Agreement, key_date: KeyDate | Audience
) -> list[int]:
    """Who a key date is for, on each side it is for: the people named on the agreement
    for that kind of date, or (nobody named on that side) the council's commissioning team
    or the members of every provider party. For a lead paying a member (s.73), the lead's
    side only. Nobody else."""
    audience = key_date if isinstance(key_date, Audience) else key_date.audience
    kind = None if isinstance(key_date, Audience) else key_date.kind
    named = await named_people(session, agreement.id)
    parties = await parties_of(session, agreement.id)
    if kind == KeyDateKind.MEMBER_PAYMENT_DUE:
        organisations = [o.id for p, o in parties if p.role != PartyRole.MEMBER]
    else:
        organisations = [o.id for _, o in parties]
    people: list[int] = []
    if audience in (Audience.TEAM, Audience.BOTH):
        council = [p for p in named if p.side == Side.COUNCIL]
        chosen = chosen_from(council, kind) if kind and council else []
        people += chosen or [
            p.id for p in await commissioning_team(session, agreement.authority_id)
        ]
    if audience in (Audience.PROVIDER, Audience.BOTH):
        provider = [
            p for p in named if p.side == Side.PROVIDER and p.organisation_id in organisations
        ]
        chosen = chosen_from(provider, kind) if kind and provider else []
        people += chosen or await members_of(session, organisations)
    return list(dict.fromkeys(people))


async def send_key_date(
    session: AsyncSession, agreement: Agreement, target: str, services: Services
) -> int | None:
    """Queue the reminder for this key date to everyone it is for, each at the start of their
    own working day. None when it must not go: the agreement no longer has this date, or
    it has passed. How many people it was queued for."""
    now = services.clock.now()
    tz = services.tz
    today = now.astimezone(tz).date()
    planned = next((p for p in await planned_for(session, agreement) if p.target == target), None)
    if planned is None or planned.key_date.on < today:
        return None
    key_date = planned.key_date
    person_ids = await people_for(session, agreement, key_date)
    zones = await zones_of(session, person_ids, tz)
    preferences = await preferences_for(session, person_ids)
    due: dict[int, datetime] = {}
    for person_id in person_ids:
        zone: ZoneInfo = zones[person_id]
        chosen = preferences[person_id]
        start = start_of_working_day(planned.remind_on, zone, chosen)
        due[person_id] = next_waking_moment(max(start, now), zone, chosen)
    named = bool(await named_people(session, agreement.id))
    message = key_date_reminder(
        agreement, key_date, today=today, payment_id=planned.payment_id, named=named
    )
    payload = ReplyList(replies=[message]).model_dump(mode="json")
    key = f"agreement:{agreement.id}:key_date:{target}:{key_date.on.isoformat()}:{{person_id}}"
    sent = await send_to_people(session, list(due), payload, key, not_before=due)
    await audit.record(
        session,
        "agreement.key_date_reminded",
        actor_id=None,
        object_type="agreement",
        object_id=agreement.id,
        authority_id=agreement.authority_id,
        at=now,
        key_date=str(key_date.kind),
        on=key_date.on.isoformat(),
        audience=str(key_date.audience),
        people_told=len(sent),
    )
    return len(sent)


async def remind_of_key_date(reminder: Reminder, services: Services) -> None:
    """The due sweep's job for `REMINDER_KIND`."""
    agreement_id = int(reminder.payload.get("agreement_id") or reminder.target_id.split(":")[0])
    async with services.db.session() as session:
        agreement = await session.get(Agreement, agreement_id)
        if agreement is None:
            return
        await send_key_date(session, agreement, reminder.target_id, services)
