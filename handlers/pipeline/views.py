"""The words of the pipeline: the team's list (with the UK1 warning), providers' advance
notice (with the plain caveat that plans change), and what each step says back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.clock import format_date, format_when
from bot.core.cpv import cpv_label
from bot.core.law import (
    ROUTE_NAMES,
    Route,
    in_pipeline,
    pipeline_contract_floor,
    pipeline_ends,
    pipeline_months,
    pipeline_publish_within_days,
    pipeline_spend_floor,
    rule,
)
from bot.core.reply import Button, Fact, Message, Notice, Reply, Section, command_ref
from handlers.opportunities.common import value_range
from handlers.opportunities.views import areas_text
from handlers.pipeline.common import COMMAND, in_window
from storage.models import Authority
from storage.pipeline_tables import PipelineEntry, PipelinePublication

#: Said under every list providers see: what a plan is, and is not.
CAVEAT = (
    "These are plans, not offers. Councils share them early so you have time to get ready, "
    "find partners and ask questions. Plans can change, move or be dropped. When a council "
    "opens one for bids, we tell the organisations it fits."
)
PROVIDERS_SEE = "Every provider using Convene can see a council's published pipeline."
TEAM_SEES = (
    "Only your team sees this list. Providers see the planned opportunities you publish, "
    "if they are expected within the next {months} months."
)


def route_words(route: str | None) -> str:
    if route in set(Route):
        return ROUTE_NAMES[Route(route)]
    return "Not decided yet"


def value_words(entry: PipelineEntry) -> str:
    return value_range(entry.value_min_pence, entry.value_max_pence)


def top_value_pounds(entry: PipelineEntry) -> Decimal | None:
    """The most it might be worth, in pounds (the least when that is all there is)."""
    pence = entry.value_max_pence if entry.value_max_pence is not None else entry.value_min_pence
    return None if pence is None else Decimal(pence) / 100


def over_uk1_floor(entry: PipelineEntry, on: date) -> bool:
    """Whether a UK1 notice must list it: worth more than the legal figure (s.93)."""
    value = top_value_pounds(entry)
    return value is not None and in_pipeline(value, on)


def entry_facts(entry: PipelineEntry) -> list[Fact]:
    facts = [
        Fact(label="Expected to be published", value=format_date(entry.publication_on)),
        Fact(
            label="Work expected to start",
            value=format_date(entry.contract_start_on)
            if entry.contract_start_on
            else "Not known yet",
        ),
        Fact(label="Rough value", value=value_words(entry)),
        Fact(label="How it will be funded or bought", value=route_words(entry.route)),
        Fact(label="Where", value=areas_text(list(entry.area_served))),
    ]
    if entry.cpv_codes:
        facts.append(
            Fact(
                label="What is being bought", value="; ".join(cpv_label(c) for c in entry.cpv_codes)
            )
        )
    return facts


def _status(entry: PipelineEntry, on: date) -> str:
    """Whether providers see it, and if not, why not and what to do."""
    if entry.publication_on < on:
        return (
            "Its expected date has passed, so providers don't see it. Change the date, "
            "make it a draft opportunity, or remove it."
        )
    if not in_window(entry, on):
        return (
            f"It is more than {pipeline_months(on)} months away, so providers don't see it "
            "yet. Publish your pipeline again when it is closer."
        )
    if entry.published_at is None:
        return "Not shown to providers yet. Press Publish pipeline to show them."
    return f"Shown to providers since {format_when(entry.published_at)}."


def uk1_warning(authority: Authority, entries: list[PipelineEntry], on: date) -> Notice | None:
    """The s.93 duty, in plain words, when any planned contract is over the UK1 figure.

    Convene does not know the council's yearly spend, so it says when the duty applies
    rather than deciding it. Every figure comes from the legal data in force today."""
    big = [e for e in entries if in_window(e, on) and over_uk1_floor(e, on)]
    if not big:
        return None
    citation = rule("pipeline.contracts_over", on).citation
    names = "; ".join(e.title for e in big)
    return Notice(
        text=f"{len(big)} planned contract{'s are' if len(big) != 1 else ' is'} worth more "
        f"than £{pipeline_contract_floor(on):,} (including VAT): {names}. If "
        f"{authority.name} expects to spend more than £{pipeline_spend_floor(on):,} "
        "(including VAT) in the coming financial year, the law says you must publish "
        f"{'them' if len(big) != 1 else 'it'} in a pipeline notice (UK1) on Find a Tender, within "
        f"{pipeline_publish_within_days(on)} days of the financial year starting "
        f"({citation}). The UK1 file ({command_ref('pipeline', 'the pipeline')}) has what the notice asks for.",
        level="warning",
    )


def team_pipeline(
    authority: Authority,
    entries: list[PipelineEntry],
    last: PipelinePublication | None,
    on: date,
    links: str,
) -> list[Reply]:
    """The team's own pipeline: every entry with what providers see, and what to do next.
    `links` is where the UK1 downloads live (the site's address, or "" on the web)."""
    replies: list[Reply] = []
    warning = uk1_warning(authority, entries, on)
    if warning is not None:
        replies.append(warning)
    published = (
        f"You last published it on {format_when(last.published_at)}."
        if last is not None
        else "You have not published it yet."
    )
    sections = [
        Section(
            heading=f"{entry.id}. {entry.title}",
            text=f"{_status(entry, on)}"
            + (
                f" It is draft opportunity {entry.opportunity_id}."
                if entry.opportunity_id is not None
                else ""
            ),
            facts=entry_facts(entry),
            buttons=[
                Button(label="Change it", action=f"cmd.{COMMAND}", value=f"edit {entry.id}"),
                Button(
                    label="Make a draft opportunity",
                    action=f"cmd.{COMMAND}",
                    value=f"draft {entry.id}",
                ),
                Button(
                    label="Remove it",
                    action=f"cmd.{COMMAND}",
                    value=f"remove {entry.id}",
                    style="danger",
                ),
            ],
        )
        for entry in entries[:30]
    ]
    for_council = f" for={authority.slug}"
    base = f"{links}/pipeline/{authority.slug}/uk1"
    replies.append(
        Message(
            title=f"{authority.name}: planned opportunities (pipeline)",
            text=(
                f"Work you plan to fund or buy. Providers see what is expected between today "
                f"and {format_date(pipeline_ends(on))} once you publish it. {published}"
                if entries
                else "You have not planned any yet. Plan one to tell providers early."
            ),
            sections=sections,
            buttons=[
                Button(
                    label="Plan one",
                    action=f"cmd.{COMMAND}",
                    value=f"plan{for_council}",
                    style="primary",
                ),
                Button(
                    label="Publish pipeline", action=f"cmd.{COMMAND}", value=f"publish{for_council}"
                ),
                Button(label="UK1 file (CSV)", action="pipeline.link", url=f"{base}.csv"),
                Button(label="UK1 file (JSON)", action="pipeline.link", url=f"{base}.json"),
            ],
            who_sees=TEAM_SEES.format(months=pipeline_months(on)),
        )
    )
    return replies


def provider_pipeline(rows: list[tuple[PipelineEntry, Authority]]) -> Message:
    """Every council's published plans within the window: advance notice for providers."""
    return Message(
        title="Councils' plans: opportunities coming up",
        text=CAVEAT if rows else "No council has published plans yet. " + CAVEAT.split(". ", 1)[1],
        sections=[
            Section(
                heading=f"{authority.name}: {entry.title}",
                text=entry.description,
                facts=entry_facts(entry),
            )
            for entry, authority in rows[:50]
        ],
        who_sees=PROVIDERS_SEE,
    )


def saved_replies(entry: PipelineEntry, *, new: bool, on: date) -> list[Reply]:
    """What the team reads after planning or changing an entry."""
    if entry.published_at is not None and in_window(entry, on):
        seen = "Providers see this change now, in your published pipeline."
    elif in_window(entry, on):
        seen = "Providers don't see it until you publish your pipeline."
    else:
        seen = _status(entry, on)
    return [
        Notice(
            text=f"{'Planned' if new else 'Changed'}: {entry.title}, expected to be published "
            f"on {format_date(entry.publication_on)}. {seen}",
            level="success",
            buttons=[
                Button(label="See the pipeline", action=f"cmd.{COMMAND}"),
                Button(label="Plan another", action=f"cmd.{COMMAND}", value="plan"),
            ],
        )
    ]
