"""An agreement's outcomes framework, agreed by both sides (issue 15).

Outcomes (the change that matters; 8-12 is typical, each with 3-6 indicators) are kept
apart from outputs (counts of activity). Nothing in a framework changes until the other
side agrees: the council's team or a member of a provider party proposes adding, changing
or removing one outcome, indicator or output; the other side accepts it, or declines it
with a reason. Every proposal and decision stays on the record with who and when.

    agreements outcomes 4                            the framework and what is waiting
    agreements framework 4 add outcome Young people feel safer
    agreements framework 4 add indicator 1 Young people say they feel safe
    agreements framework 4 add output Sessions run each month
    agreements framework 4 change outcome 1 Young people feel safe where they live
    agreements framework 4 remove indicator 1.2
    agreements framework 4 accept 7
    agreements framework 4 decline 7 We count this already in the KPIs

Gentle guidance, never a refusal: more than 12 outcomes, more than 6 indicators for one
outcome, or an "outcome" that reads like an output (it starts with a number or "number
of") each get a plain warning that says why. Bad requests change nothing and are on the
record; anyone who is neither the team nor a party is told the agreement was not found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import format_when
from bot.core.reply import Button, Fact, Message, Notice, Reply, Section, command_ref
from bot.core.turn import Turn
from bot.services import Services
from handlers.agreements.common import (
    COMMAND,
    Refused,
    load_for_viewer,
    refuse,
    runs_it,
)
from handlers.agreements.telling import tell
from handlers.agreements.views import parties_words
from handlers.steps import load_locked
from storage import audit
from storage.agreement_tables import Agreement
from storage.agreements import parties_of
from storage.engagements import commissioning_team
from storage.models import Person
from storage.outcome_tables import (
    ItemKind,
    OutcomeItem,
    OutcomeProposal,
    ProposalAction,
    ProposalStatus,
    Side,
)
from storage.variations import party_people

SHOW_STEP = "outcomes"
CHANGE_STEP = "framework"

#: Beyond these, a gentle warning (004: 8-12 outcomes, 3-6 indicators each).
MOST_OUTCOMES = 12
MOST_INDICATORS = 6
LONGEST = 500

_OUTPUT_LIKE = re.compile(r"^\s*(\d|number\s+of\b|no\.\s+of\b)", re.IGNORECASE)


def how(agreement_id: int) -> str:
    """How to propose or answer, with this agreement's number."""
    return (
        "To propose a change, use the form that asks step by step: "
        + command_ref(f"{COMMAND} propose {agreement_id}", "the form to propose a change")
        + ". In chat you can also give it all at once, like "
        f"{COMMAND} {CHANGE_STEP} {agreement_id} add outcome Young people feel safer. "
        "You can add, change or remove an outcome, an indicator or an "
        "output. For an indicator, give its outcome's number (add indicator 1 ...) or its own "
        "number (change indicator 1.2 ...). To answer a proposal: accept and its number, or "
        "decline, its number and your reason."
    )


OUTCOME_VS_OUTPUT = (
    "An outcome is the change that matters, like 'young people feel safer'. An output is a "
    "count of activity, like 'number of sessions run'."
)


# --- reading what was typed (pure) --------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    """A proposal as typed: `add indicator 1 words`, `remove output 2`."""

    action: ProposalAction
    kind: ItemKind
    #: The outcome (and indicator) numbers, or the output number, as shown.
    ref: tuple[int, ...]
    text: str | None


@dataclass(frozen=True)
class Decide:
    """`accept 7` or `decline 7 reason`."""

    accept: bool
    proposal_id: int
    reason: str


def _ref(word: str, kind: ItemKind) -> tuple[int, ...] | None:
    parts = word.split(".")
    if not all(p.isdigit() and 0 < int(p) < 10_000 for p in parts):
        return None
    want = 2 if kind == ItemKind.INDICATOR else 1
    return tuple(int(p) for p in parts) if len(parts) == want else None


def read_request(words: list[str]) -> Ask | Decide | str:
    """The words after `framework N` (case kept), or the problem in plain words."""
    if not words:
        return "Say what you propose."
    verb = words[0].lower()
    if verb in ("accept", "decline"):
        number = words[1] if len(words) > 1 else ""
        if not number.isdigit() or int(number) > 2**31:
            return f"Give the proposal's number after {verb}, for example {verb} 7."
        reason = " ".join(words[2:]).strip()
        if verb == "decline" and not reason:
            return (
                "Say why you decline it, after its number, for example: decline 7 we count "
                "this in the KPIs already. The other side sees your reason."
            )
        return Decide(verb == "accept", int(number), reason[:LONGEST])
    try:
        action = ProposalAction(verb)
    except ValueError:
        return f'"{words[0]}" is not something we can do with a framework.'
    kind_word = words[1].lower().rstrip("s") if len(words) > 1 else ""
    try:
        kind = ItemKind(kind_word)
    except ValueError:
        return "Say which: an outcome, an indicator or an output."
    rest = words[2:]
    ref: tuple[int, ...] = ()
    if action != ProposalAction.ADD or kind == ItemKind.INDICATOR:
        want = "outcome's number" if action == ProposalAction.ADD else f"{kind}'s number"
        found = _ref(rest[0], kind) if rest else None
        if action == ProposalAction.ADD and rest and rest[0].isdigit() and int(rest[0]) > 0:
            found = (int(rest[0]),)
        if found is None:
            example = "1.2" if kind == ItemKind.INDICATOR and action != ProposalAction.ADD else "1"
            return f"Give the {want} as shown in the framework, like {example}."
        ref, rest = found, rest[1:]
    text = " ".join(rest).strip().strip("\"'“”").strip()
    if action == ProposalAction.REMOVE:
        return Ask(action, kind, ref, None)
    if not text:
        return f"Write the words of the {kind} after its kind and number."
    if len(text) > LONGEST:
        return f"Keep it under {LONGEST} letters. Say the one change or count it is about."
    return Ask(action, kind, ref, text)


def reads_like_output(text: str) -> bool:
    return bool(_OUTPUT_LIKE.match(text))


# --- the framework as it stands -----------------------------------------------------------------


@dataclass(frozen=True)
class Framework:
    agreement: Agreement
    #: Each outcome with its indicators, in order.
    outcomes: list[tuple[OutcomeItem, list[OutcomeItem]]]
    outputs: list[OutcomeItem]
    pending: list[OutcomeProposal]
    decided: list[OutcomeProposal]
    names: dict[int, str]

    def label(self, item_id: int | None) -> str | None:
        """An item's number as shown ("2", "2.3"), or None when it has gone."""
        for number, (outcome, indicators) in enumerate(self.outcomes, start=1):
            if outcome.id == item_id:
                return str(number)
            for inner, indicator in enumerate(indicators, start=1):
                if indicator.id == item_id:
                    return f"{number}.{inner}"
        for number, output in enumerate(self.outputs, start=1):
            if output.id == item_id:
                return str(number)
        return None


async def framework_of(session: AsyncSession, agreement: Agreement) -> Framework:
    items = list(
        (
            await session.scalars(
                select(OutcomeItem)
                .where(OutcomeItem.agreement_id == agreement.id)
                .order_by(OutcomeItem.position, OutcomeItem.id)
            )
        ).all()
    )
    outcomes = [
        (o, [i for i in items if i.kind == ItemKind.INDICATOR and i.outcome_id == o.id])
        for o in items
        if o.kind == ItemKind.OUTCOME
    ]
    outputs = [i for i in items if i.kind == ItemKind.OUTPUT]
    proposals = list(
        (
            await session.scalars(
                select(OutcomeProposal)
                .where(OutcomeProposal.agreement_id == agreement.id)
                .order_by(OutcomeProposal.id)
            )
        ).all()
    )
    people = {p.proposed_by for p in proposals} | {p.decided_by for p in proposals}
    ids = [i for i in people if i is not None]
    names = (
        {p.id: p.name for p in (await session.scalars(select(Person).where(Person.id.in_(ids))))}
        if ids
        else {}
    )
    return Framework(
        agreement,
        outcomes,
        outputs,
        [p for p in proposals if p.status == ProposalStatus.PENDING],
        [p for p in proposals if p.status != ProposalStatus.PENDING],
        names,
    )


def _find(framework: Framework, kind: ItemKind, ref: tuple[int, ...]) -> OutcomeItem | None:
    if kind == ItemKind.OUTPUT:
        index = ref[0] - 1
        return framework.outputs[index] if index < len(framework.outputs) else None
    if ref[0] - 1 >= len(framework.outcomes):
        return None
    outcome, indicators = framework.outcomes[ref[0] - 1]
    if kind == ItemKind.OUTCOME:
        return outcome
    index = ref[1] - 1
    return indicators[index] if index < len(indicators) else None


# --- the service steps ----------------------------------------------------------------------


class NoSuchItem(Refused):
    """The outcome, indicator or output named is not in the framework."""


class BadRequest(Refused):
    """What was typed could not be read."""


class NotYourTurn(Refused):
    """The proposal is not for this side to decide, or is already decided."""


@dataclass(frozen=True)
class Proposed:
    proposal: OutcomeProposal
    framework: Framework
    others: str
    warnings: list[str]


@dataclass(frozen=True)
class Decided:
    proposal: OutcomeProposal
    framework: Framework
    others: str


def side_of(turn: Turn, agreement: Agreement) -> Side:
    """The team when this person is on the council's team, else a provider party's."""
    return Side.TEAM if runs_it(turn, agreement) else Side.PROVIDER


async def _others(session: AsyncSession, agreement: Agreement, side: Side) -> str:
    """Who the other side is, in words."""
    if side == Side.PROVIDER:
        return "the council's commissioning team"
    return parties_words(await parties_of(session, agreement.id))


def guidance(framework: Framework, ask: Ask) -> list[str]:
    """Gentle warnings for a proposal: never a refusal."""
    out: list[str] = []
    if ask.action == ProposalAction.ADD and ask.kind == ItemKind.OUTCOME:
        count = len(framework.outcomes) + 1
        if count > MOST_OUTCOMES:
            out.append(
                f"This would make {count} outcomes. Most frameworks have 8 to 12: with more, "
                "it gets hard to keep track of what matters. Could two be joined, or one be "
                "an indicator? You can still go ahead."
            )
    if ask.action == ProposalAction.ADD and ask.kind == ItemKind.INDICATOR:
        count = len(framework.outcomes[ask.ref[0] - 1][1]) + 1
        if count > MOST_INDICATORS:
            out.append(
                f"This would give outcome {ask.ref[0]} {count} indicators. 3 to 6 is usual: "
                "more means more to report for the same outcome. You can still go ahead."
            )
    if ask.kind == ItemKind.OUTCOME and ask.text and reads_like_output(ask.text):
        out.append(
            f'"{ask.text}" reads like an output, not an outcome. {OUTCOME_VS_OUTPUT} If it is '
            f"a count, propose it as an output instead. You can still go ahead."
        )
    return out


async def propose(
    session: AsyncSession, turn: Turn, agreement: Agreement, ask: Ask, now: datetime
) -> Proposed:
    """Record a proposal from this side; the framework itself does not change."""
    framework = await framework_of(session, agreement)
    item: OutcomeItem | None = None
    outcome: OutcomeItem | None = None
    if ask.action == ProposalAction.ADD and ask.kind == ItemKind.INDICATOR:
        outcome = _find(framework, ItemKind.OUTCOME, ask.ref)
        if outcome is None:
            await refuse(session, turn, agreement, "outcomes propose", "no such outcome")
            raise NoSuchItem(_missing(framework, ItemKind.OUTCOME, ask.ref))
    elif ask.action != ProposalAction.ADD:
        item = _find(framework, ask.kind, ask.ref)
        if item is None:
            await refuse(session, turn, agreement, "outcomes propose", f"no such {ask.kind}")
            raise NoSuchItem(_missing(framework, ask.kind, ask.ref))
        if ask.action == ProposalAction.CHANGE and item.text == ask.text:
            await refuse(session, turn, agreement, "outcomes propose", "same words")
            raise BadRequest(f"That {ask.kind} already says that. Nothing was proposed.")
        outcome = (
            await session.get(OutcomeItem, item.outcome_id) if item.outcome_id is not None else None
        )
    side = side_of(turn, agreement)
    assert turn.actor is not None
    proposal = OutcomeProposal(
        agreement_id=agreement.id,
        action=ask.action,
        kind=ask.kind,
        item_id=item.id if item else None,
        outcome_id=outcome.id if outcome else None,
        text=ask.text,
        was_text=item.text if item else None,
        status=ProposalStatus.PENDING,
        proposed_side=side,
        proposed_by=turn.actor.person_id,
        proposed_at=now,
    )
    session.add(proposal)
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        "outcomes.proposed",
        object_type="agreement",
        object_id=agreement.id,
        authority_id=agreement.authority_id,
        proposal_id=proposal.id,
        change=f"{ask.action} {ask.kind}",
    )
    warnings = guidance(framework, ask)
    changed = await framework_of(session, agreement)
    await tell(
        session,
        await _other_side_people(session, agreement, side, turn.actor.person_id),
        proposed_message(changed, proposal),
        f"outcomes:{proposal.id}:proposed:{{person_id}}",
        now,
    )
    return Proposed(
        proposal,
        changed,
        await _others(session, agreement, side),
        warnings,
    )


def _missing(framework: Framework, kind: ItemKind, ref: tuple[int, ...]) -> str:
    number = ".".join(str(r) for r in ref)
    return (
        f"There is no {kind} {number} in this framework. See the numbers: "
        + command_ref(f"{COMMAND} {SHOW_STEP} {framework.agreement.id}", "the outcomes")
        + ". Nothing was changed."
    )


async def decide(
    session: AsyncSession, turn: Turn, agreement: Agreement, decision: Decide, now: datetime
) -> Decided:
    """Accept (the framework changes) or decline (with a reason) the other side's proposal."""
    proposal = await load_locked(session, OutcomeProposal, decision.proposal_id)
    verb = "accept" if decision.accept else "decline"
    if proposal is None or proposal.agreement_id != agreement.id:
        await refuse(session, turn, agreement, f"outcomes {verb}", "no such proposal")
        raise NoSuchItem(
            f"There is no proposal {decision.proposal_id} for this agreement. See the ones "
            "waiting: "
            + command_ref(f"{COMMAND} {SHOW_STEP} {agreement.id}", "the outcomes")
            + ". Nothing was changed."
        )
    if proposal.status != ProposalStatus.PENDING:
        await refuse(session, turn, agreement, f"outcomes {verb}", "already decided")
        refusal = NotYourTurn(
            f"Proposal {proposal.id} was already {proposal.status} on "
            f"{format_when(proposal.decided_at or now)}. Nothing was changed."
        )
        refusal.level = "info"
        raise refusal
    side = side_of(turn, agreement)
    if proposal.proposed_side == side:
        await refuse(session, turn, agreement, f"outcomes {verb}", "own side's proposal")
        raise NotYourTurn(
            f"Your side proposed this, so the other side ({await _others(session, agreement, side)}) "
            "decides. Nothing was changed."
        )
    if decision.accept:
        await _apply(session, turn, agreement, proposal, now)
        proposal.status = ProposalStatus.ACCEPTED
    else:
        proposal.status = ProposalStatus.DECLINED
        proposal.decline_reason = decision.reason
    assert turn.actor is not None
    proposal.decided_by = turn.actor.person_id
    proposal.decided_at = now
    await session.flush()
    await audit.record_turn(
        session,
        turn,
        f"outcomes.{proposal.status}",
        object_type="agreement",
        object_id=agreement.id,
        authority_id=agreement.authority_id,
        proposal_id=proposal.id,
    )
    changed = await framework_of(session, agreement)
    if proposal.proposed_by is not None:
        await tell(
            session,
            [proposal.proposed_by],
            decision_message(changed, proposal),
            f"outcomes:{proposal.id}:decided:{{person_id}}",
            now,
        )
    return Decided(proposal, changed, await _others(session, agreement, side))


async def _other_side_people(
    session: AsyncSession, agreement: Agreement, side: Side, asker: int
) -> list[int]:
    """Who decides a proposal from `side`: the provider parties' people, or the team."""
    if side == Side.TEAM:
        return await party_people(session, agreement.id)
    return [
        p.id for p in await commissioning_team(session, agreement.authority_id) if p.id != asker
    ]


def proposed_message(framework: Framework, proposal: OutcomeProposal) -> Message:
    """To the other side, at once: a change to the framework waits for their answer."""
    agreement = framework.agreement
    who = "The council" if proposal.proposed_side == Side.TEAM else "The provider"
    base = f"{CHANGE_STEP} {agreement.id}"
    return Message(
        title=f"A change to the outcomes framework: {agreement.title}",
        text=(
            f"{who} proposes a change to what agreement {agreement.id} measures. Proposal "
            f"{proposal.id}: {proposal_words(framework, proposal)}. Nothing changes unless you "
            "accept it. Press Accept, or Decline and then say why. They are told what you "
            "decide."
        ),
        buttons=[
            Button(label="Accept", action=f"cmd.{COMMAND}", value=f"{base} accept {proposal.id}"),
            Button(label="Decline", action=f"cmd.{COMMAND}", value=f"{base} decline {proposal.id}"),
            Button(
                label="See the framework",
                action=f"cmd.{COMMAND}",
                value=f"{SHOW_STEP} {agreement.id}",
            ),
        ],
        who_sees="The council's commissioning team and the organisations party to this "
        "agreement see the framework and every proposal. No other provider does.",
    )


def decision_message(framework: Framework, proposal: OutcomeProposal) -> Message:
    """To whoever proposed it: accepted (the framework changed) or declined, and why."""
    agreement = framework.agreement
    words = proposal_words(framework, proposal)
    if proposal.status == ProposalStatus.ACCEPTED:
        text = f"Your proposal {proposal.id} ({words}) was accepted. The framework has changed."
    else:
        text = (
            f"Your proposal {proposal.id} ({words}) was declined, so the framework has not "
            f"changed. Their reason: {proposal.decline_reason}. You can propose something else."
        )
    return Message(
        title=f"Your framework proposal: {agreement.title}",
        text=text,
        buttons=[
            Button(
                label="See the framework",
                action=f"cmd.{COMMAND}",
                value=f"{SHOW_STEP} {agreement.id}",
            )
        ],
        who_sees="Only you get this. Both sides can see the framework and the decision.",
    )


async def _apply(
    session: AsyncSession,
    turn: Turn,
    agreement: Agreement,
    proposal: OutcomeProposal,
    now: datetime,
) -> None:
    """Make the accepted change. An item that has gone since is a refusal."""
    if proposal.action == ProposalAction.ADD:
        if proposal.kind == ItemKind.INDICATOR and proposal.outcome_id is None:
            await refuse(session, turn, agreement, "outcomes accept", "outcome gone")
            raise NoSuchItem(
                f"The outcome this indicator was for has been removed since, so proposal "
                f"{proposal.id} can't be accepted. Decline it, with that as the reason. "
                "Nothing was changed."
            )
        last = await session.scalar(
            select(func.max(OutcomeItem.position)).where(
                OutcomeItem.agreement_id == agreement.id,
                OutcomeItem.kind == proposal.kind,
                OutcomeItem.outcome_id == proposal.outcome_id
                if proposal.outcome_id is not None
                else OutcomeItem.outcome_id.is_(None),
            )
        )
        session.add(
            OutcomeItem(
                agreement_id=agreement.id,
                kind=proposal.kind,
                outcome_id=proposal.outcome_id,
                position=(last or 0) + 1,
                text=proposal.text or "",
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
        return
    item = await session.get(OutcomeItem, proposal.item_id) if proposal.item_id else None
    if item is None:
        await refuse(session, turn, agreement, "outcomes accept", "item gone")
        raise NoSuchItem(
            f"The {proposal.kind} this proposal was about has been removed since, so proposal "
            f"{proposal.id} can't be accepted. Decline it, with that as the reason. Nothing "
            "was changed."
        )
    if proposal.action == ProposalAction.CHANGE:
        item.text = proposal.text or item.text
        item.updated_at = now
    else:
        if item.kind == ItemKind.OUTCOME:
            for indicator in (
                await session.scalars(select(OutcomeItem).where(OutcomeItem.outcome_id == item.id))
            ).all():
                await session.delete(indicator)
        await session.delete(item)
    await session.flush()


# --- the words ------------------------------------------------------------------------------


def _who(framework: Framework, person_id: int | None, side: str) -> str:
    name = framework.names.get(person_id or 0, "someone no longer in Convene")
    return f"{name} ({'the council' if side == Side.TEAM else 'the provider'})"


def proposal_words(framework: Framework, proposal: OutcomeProposal) -> str:
    """'Add outcome: Young people feel safer' / 'Change indicator 1.2 from ... to ...'."""
    where = framework.label(proposal.item_id)
    what = f"{proposal.kind} {where}" if where else proposal.kind
    if proposal.action == ProposalAction.ADD:
        if proposal.kind == ItemKind.INDICATOR:
            of = framework.label(proposal.outcome_id)
            what = f"indicator to outcome {of}" if of else "indicator (its outcome has gone)"
        return f"Add {what}: {proposal.text}"
    if proposal.action == ProposalAction.CHANGE:
        return f'Change {what} from "{proposal.was_text}" to "{proposal.text}"'
    return f'Remove {what}: "{proposal.was_text}"'


def framework_sections(framework: Framework, *, side: Side) -> list[Section]:
    """The framework and the proposals waiting, for `outcomes N` and `show N`."""
    sections: list[Section] = []
    if framework.outcomes:
        for number, (outcome, indicators) in enumerate(framework.outcomes, start=1):
            sections.append(
                Section(
                    heading=f"Outcome {number}: {outcome.text}",
                    text=None if indicators else "No indicators yet.",
                    facts=[
                        Fact(label=f"Indicator {number}.{inner}", value=i.text)
                        for inner, i in enumerate(indicators, start=1)
                    ],
                )
            )
    else:
        sections.append(Section(heading="Outcomes", text="None agreed yet."))
    sections.append(
        Section(
            heading="Outputs (counts of activity)",
            text=None if framework.outputs else "None agreed yet.",
            facts=[
                Fact(label=f"Output {n}", value=o.text)
                for n, o in enumerate(framework.outputs, start=1)
            ],
        )
    )
    waiting = [
        Section(
            heading=f"Proposal {p.id}, waiting for "
            + ("you" if p.proposed_side != side else "the other side"),
            text=proposal_words(framework, p),
            facts=[
                Fact(
                    label="Proposed by",
                    value=f"{_who(framework, p.proposed_by, p.proposed_side)}, "
                    f"{format_when(p.proposed_at)}",
                )
            ],
            buttons=[
                Button(
                    label="Accept",
                    action=f"cmd.{COMMAND}",
                    value=f"{CHANGE_STEP} {framework.agreement.id} accept {p.id}",
                )
            ]
            if p.proposed_side != side
            else [],
        )
        for p in framework.pending
    ]
    sections.extend(waiting)
    return sections


def framework_notes(framework: Framework) -> list[str]:
    """Gentle guidance on the framework as it stands."""
    notes: list[str] = []
    if len(framework.outcomes) > MOST_OUTCOMES:
        notes.append(f"This framework has {len(framework.outcomes)} outcomes. Most have 8 to 12.")
    for number, (outcome, indicators) in enumerate(framework.outcomes, start=1):
        if len(indicators) > MOST_INDICATORS:
            notes.append(f"Outcome {number} has {len(indicators)} indicators. 3 to 6 is usual.")
        if reads_like_output(outcome.text):
            notes.append(f"Outcome {number} reads like an output. {OUTCOME_VS_OUTPUT}")
    return notes


def framework_message(framework: Framework, *, side: Side) -> list[Reply]:
    agreement = framework.agreement
    sections = framework_sections(framework, side=side)
    history = [
        Fact(
            label=f"Proposal {p.id}",
            value=f"{proposal_words(framework, p)}. Proposed by "
            f"{_who(framework, p.proposed_by, p.proposed_side)}, "
            f"{format_when(p.proposed_at)}. {str(p.status).capitalize()} by "
            f"{_who(framework, p.decided_by, Side.TEAM if p.proposed_side == Side.PROVIDER else Side.PROVIDER)}"
            f", {format_when(p.decided_at or p.proposed_at)}"
            + (f'. Their reason: "{p.decline_reason}"' if p.decline_reason else "")
            + ".",
        )
        for p in framework.decided
    ]
    if history:
        sections.append(Section(heading="Decided", facts=history))
    replies: list[Reply] = [
        Message(
            title=f"Outcomes framework: {agreement.title} (number {agreement.id})",
            text="Outcomes are the change that matters; outputs are counts of activity. "
            "Either side can propose a change; it only happens when the other side "
            f"accepts it. {how(agreement.id)}",
            sections=sections,
            who_sees=(
                "Your council's commissioning team and each organisation party to the "
                "agreement see this framework and every proposal. No other provider sees it."
                if side == Side.TEAM
                else "Your organisation, the other organisations party to the agreement and "
                "the council's commissioning team see this framework and every proposal. No "
                "other provider sees it."
            ),
        )
    ]
    replies.extend(Notice(text=note, level="warning") for note in framework_notes(framework))
    return replies


def proposed_replies(result: Proposed, side: Side) -> list[Reply]:
    proposal = result.proposal
    replies: list[Reply] = [
        Notice(
            text=f"Proposed, number {proposal.id}: "
            f"{proposal_words(result.framework, proposal)}. The framework does not change "
            f"until the other side ({result.others}) accepts it. They have been sent it now, "
            "with buttons to accept or decline, and you will be told what they decide.",
            level="success",
        )
    ]
    replies.extend(Notice(text=w, level="warning") for w in result.warnings)
    replies.extend(framework_message(result.framework, side=side))
    return replies


def decided_replies(result: Decided, side: Side) -> list[Reply]:
    proposal = result.proposal
    if proposal.status == ProposalStatus.ACCEPTED:
        said = (
            f"Accepted proposal {proposal.id}. The framework has changed, and both sides "
            "see the new version."
        )
    else:
        said = (
            f"Declined proposal {proposal.id}. The framework has not changed. Your reason "
            "is on the record, and both sides can see it."
        )
    return [
        Notice(text=f"{said} Whoever proposed it has been told.", level="success"),
        *framework_message(result.framework, side=side),
    ]


# --- the entry points -----------------------------------------------------------------------


def raw_words(turn: Turn) -> list[str]:
    """The typed words after `agreements framework N`, with their capitals kept."""
    words = (turn.text or "").split()
    lowered = [w.lower() for w in words]
    start = lowered.index(CHANGE_STEP) + 1 if CHANGE_STEP in lowered else len(words)
    if start < len(words) and words[start].isdigit():
        start += 1  # the agreement's number (else it came as id=N)
    return [w for w in words[start:] if not w.lower().startswith("id=")]


async def show_framework(turn: Turn, services: Services, agreement_id: int | None) -> list[Reply]:
    """`agreements outcomes 4`: for the team and the agreement's parties only."""
    async with services.db.session() as session:
        try:
            agreement = await load_for_viewer(session, turn, agreement_id, SHOW_STEP)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
        return framework_message(
            await framework_of(session, agreement), side=side_of(turn, agreement)
        )


async def summary_sections(session: AsyncSession, turn: Turn, agreement: Agreement) -> list[Reply]:
    """The framework and pending proposals, for `agreements show N` (already allowed)."""
    return framework_message(await framework_of(session, agreement), side=side_of(turn, agreement))


async def change_framework(turn: Turn, services: Services, agreement_id: int | None) -> list[Reply]:
    """`agreements framework 4 add outcome ...`, `... accept 7`, `... decline 7 reason`."""
    now = services.clock.now()
    async with services.db.session() as session:
        try:
            agreement = await load_for_viewer(session, turn, agreement_id, CHANGE_STEP)
            request = read_request(raw_words(turn))
            if isinstance(request, str):
                await refuse(session, turn, agreement, CHANGE_STEP, "request does not parse")
                raise BadRequest(f"{request} Nothing was changed. {how(agreement.id)}")
            side = side_of(turn, agreement)
            if isinstance(request, Decide):
                return decided_replies(await decide(session, turn, agreement, request, now), side)
            return proposed_replies(await propose(session, turn, agreement, request, now), side)
        except Refused as refusal:
            return [Notice(text=refusal.message, level=refusal.level)]
