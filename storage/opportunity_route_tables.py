"""An opportunity's route and its checklist, on the record.

The route is chosen from the guided questions (the form `opportunity_route`): the answers
are kept, so the decision can be shown again, worked out again on the procurement's start
date, and the questions asked again with the answers filled in. The route's key is also
copied onto `opportunities.route`, where everything else reads it.

The checklist itself is worked out from the law each time it is shown
(`bot.core.law.route_checklist`); only what the team recorded is stored: one row per
opportunity and step done, with the notice's identifier (a Find a Tender notice id). Undoing
a step deletes its row; both are in the audit log.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.types import JSONType


class OpportunityRoute(Base):
    """The route chosen for one opportunity, with the answers that chose it."""

    __tablename__ = "opportunity_routes"

    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), primary_key=True
    )
    #: A `bot.core.law.Route` value.
    route: Mapped[str] = mapped_column(String(40))
    #: The answers as the form stored them (choices as their values, the value in pence).
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: The procurement start date the rules were taken from when it was chosen.
    started_on: Mapped[date]
    chosen_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    chosen_at: Mapped[datetime] = mapped_column(default=utcnow)


class OpportunityChecklistStep(Base):
    """One step of an opportunity's checklist the team recorded as done."""

    __tablename__ = "opportunity_checklist_steps"

    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), primary_key=True
    )
    #: A `bot.core.law.StepKey` value, or "contract_signed".
    step: Mapped[str] = mapped_column(String(60), primary_key=True)
    #: The day it was done (published, signed), as the team said.
    done_on: Mapped[date]
    #: When it was recorded.
    done_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    #: The notice's identifier on Find a Tender, for a notice step.
    notice_id: Mapped[str | None] = mapped_column(String(120))
    #: For the contract award notice: the organisation given the contract, if it is in
    #: Convene (the three-year rule for public service mutuals reads it).
    awarded_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
