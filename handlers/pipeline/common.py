"""What the pipeline's steps and views share: its command, and the window providers see."""

from __future__ import annotations

from datetime import date

from bot.clock import LONDON
from bot.core.law import pipeline_ends
from bot.services import Services
from storage.pipeline_tables import PipelineEntry

COMMAND = "pipeline"
FORM_KEY = "pipeline_entry"


def today(services: Services) -> date:
    """Today in the UK: the pipeline's window and the legal figures are dated by it."""
    return services.clock.now().astimezone(LONDON).date()


def in_window(entry: PipelineEntry, on: date) -> bool:
    """Whether providers may see this entry: expected from today to the window's end
    (18 months ahead, from the legal data in force today)."""
    return on <= entry.publication_on <= pipeline_ends(on)
