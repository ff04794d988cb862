"""What each agreement step that changes things asks first, in words that say what will
happen and who sees it. Declared on the steps (`SubCommand.confirm`); every door asks the
same. Agreements are private to their parties and the council's team, so these words name
the step and its number, never what is in the agreement."""

from __future__ import annotations

from bot.core.feature import Confirmation
from bot.core.turn import Turn, parse_command
from bot.services import Services


def _what(turn: Turn) -> str:
    """The word after the number (`agreements variation 5 approve` -> `approve`)."""
    words, _ = parse_command(turn.text or "")
    return words[3].lower() if len(words) > 3 else ""


_VARIATION = {
    "agree": Confirmation(
        title="Agree to this change?",
        question="Agree to variation {n}?",
        consequence="The council's team is told you agree, and then decides. Both sides see "
        "what you said.",
        yes_label="Yes, agree",
    ),
    "disagree": Confirmation(
        title="Disagree with this change?",
        question="Disagree with variation {n}?",
        consequence="The council's team is told you disagree, with your reason, before it decides.",
        yes_label="Yes, disagree",
    ),
    "approve": Confirmation(
        title="Approve this change?",
        question="Approve variation {n}?",
        consequence="The agreement changes as the variation says, and both sides are told. "
        "This cannot be undone here.",
        yes_label="Yes, approve it",
    ),
    "reject": Confirmation(
        title="Reject this change?",
        question="Reject variation {n}?",
        consequence="Nothing about the agreement changes. Both sides are told, with your reason.",
        yes_label="Yes, reject it",
    ),
    "notice": Confirmation(
        title="Record the change notice?",
        question="Record the contract change notice for variation {n}?",
        consequence="The weekly reminders about it stop.",
        yes_label="Yes, record it",
    ),
}

_ASSESSMENT = {
    "share": Confirmation(
        title="Share this assessment?",
        question="Share assessment {n} with the provider?",
        consequence="The provider is told and can respond before you decide.",
        yes_label="Yes, share it",
    ),
    "respond": Confirmation(
        title="Send your response?",
        question="Send your response to assessment {n}?",
        consequence="The council's team reads it before deciding. Only they and your "
        "organisation see it.",
        yes_label="Yes, send it",
    ),
    "decide": Confirmation(
        title="Decide this assessment?",
        question="Decide assessment {n} now?",
        consequence="The provider is told your decision and your reason. It cannot be "
        "changed here afterwards.",
        yes_label="Yes, decide it",
    ),
    "notice": Confirmation(
        title="Record the performance notice?",
        question="Record the contract performance notice for assessment {n}?",
        consequence="The weekly reminders about it stop.",
        yes_label="Yes, record it",
    ),
}


def _numbered(chosen: Confirmation | None, number: int) -> Confirmation | None:
    if chosen is None:
        return None
    return Confirmation(
        title=chosen.title,
        question=chosen.question.format(n=number),
        consequence=chosen.consequence,
        yes_label=chosen.yes_label,
    )


async def variation(turn: Turn, services: Services, variation_id: int) -> Confirmation | None:
    return _numbered(_VARIATION.get(_what(turn)), variation_id)


async def assessment(turn: Turn, services: Services, assessment_id: int) -> Confirmation | None:
    return _numbered(_ASSESSMENT.get(_what(turn)), assessment_id)


async def termination(turn: Turn, services: Services, agreement_id: int) -> Confirmation:
    return Confirmation(
        title="Record the termination notice?",
        question=f"Record the contract termination notice for agreement {agreement_id}?",
        consequence="It goes on the agreement's record, and the reminders about it stop.",
        yes_label="Yes, record it",
    )


async def accept(turn: Turn, services: Services, agreement_id: int) -> Confirmation:
    return Confirmation(
        title="Agree this monitoring plan?",
        question=f"Agree the monitoring plan proposed for agreement {agreement_id}?",
        consequence="The check-ins are set up as the plan says, and the other side is told.",
        yes_label="Yes, agree the plan",
    )


# The next steps open a form when their answers are not given yet (a web link, a chat
# button), or send what was typed with them; the words fit both.
PLAN = Confirmation(
    title="Propose a monitoring plan?",
    question="Carry on to propose a monitoring plan?",
    consequence="If it is not filled in yet, the form opens next. When it is sent, the other "
    "side is asked to agree it. Nothing is set up until they do.",
    yes_label="Yes, carry on",
)
ANSWER = Confirmation(
    title="Answer this check-in?",
    question="Carry on to answer this check-in?",
    consequence="If the answers are not written yet, the questions open next. When you send "
    "them, only the council's team and your organisation see them.",
    yes_label="Yes, carry on",
)
REPLY = Confirmation(
    title="Reply about this check-in?",
    question="Carry on to reply about this check-in?",
    consequence="If it is not written yet, a box opens next. When you send it, the other "
    "side is told and can read it. Only the two sides see it.",
    yes_label="Yes, carry on",
)
CALL = Confirmation(
    title="Offer a call?",
    question="Carry on to offer times for a call?",
    consequence="If the times are not chosen yet, the form opens next. When you send them, "
    "the provider is asked to pick one, or say none suit.",
    yes_label="Yes, carry on",
)
PICK = Confirmation(
    title="Answer the call offer?",
    question="Send your choice of time for the call?",
    consequence="Both sides are told the outcome.",
    yes_label="Yes, send it",
)
AWAY = Confirmation(
    title="Change your away dates?",
    question="Change when you are away?",
    consequence="Check-in reminders to you pause while you are away, and start again after.",
    yes_label="Yes, change it",
)
UPLOAD = Confirmation(
    title="Keep these files?",
    question="Keep these files as evidence for the check-in?",
    consequence="The council's team and your organisation can see them.",
    yes_label="Yes, keep them",
)
FRAMEWORK = Confirmation(
    title="Change the outcomes?",
    question="Carry on to change the outcomes this agreement reports on?",
    consequence="If the changes are not made yet, the form opens next. When they are saved, "
    "the other side is told, and check-ins from then on ask about the new outcomes.",
    yes_label="Yes, carry on",
)
VARY = Confirmation(
    title="Propose a change to the agreement?",
    question="Carry on to propose a change to the agreement?",
    consequence="If it is not filled in yet, the form opens next. When it is sent, the other "
    "side is asked to agree it, and then the council's team decides. Nothing changes until "
    "it is approved.",
    yes_label="Yes, carry on",
)
RATE = Confirmation(
    title="Save these ratings?",
    question="Save these ratings as a draft assessment?",
    consequence="Only the council's team sees it until you share it.",
    yes_label="Yes, save them",
)
INVOICE = Confirmation(
    title="Record the invoice?",
    question="Record that this invoice came in?",
    consequence="Both sides can see it on the agreement's payments.",
    yes_label="Yes, record it",
)
PAID = Confirmation(
    title="Mark as paid?",
    question="Mark this payment as paid?",
    consequence="The provider is told, and the reminders about it stop.",
    yes_label="Yes, mark it paid",
)
