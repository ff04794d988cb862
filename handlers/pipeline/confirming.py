"""What each pipeline step that changes things asks first, in words that say what will
happen and who sees it (`SubCommand.confirm`); every door asks the same."""

from __future__ import annotations

from bot.core.feature import Confirmation

REMOVE = Confirmation(
    title="Remove this from the pipeline?",
    question="Remove this planned work from your pipeline?",
    consequence="Providers will no longer see it when you next publish the pipeline.",
    yes_label="Yes, remove it",
)
PUBLISH = Confirmation(
    title="Publish your pipeline?",
    question="Publish your pipeline of planned work now?",
    consequence="Every provider can see it straight away, and those it fits are told.",
    yes_label="Yes, publish it",
)
DRAFT = Confirmation(
    title="Start an opportunity from this?",
    question="Start a draft opportunity from this planned work?",
    consequence="Only your team sees the draft until you publish it.",
    yes_label="Yes, start a draft",
)
