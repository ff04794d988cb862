"""Feedback from people who use services (issue 16, first slice).

A commissioner or provider sets up a feedback point for an agreement, an engagement or a
service: a public page (`/f/<slug>`, no account, no cookie), a short link, a QR code and a
printable poster. People answer a few plain questions with faces to pick, and may write a
few words; what they write is scrubbed of phone numbers, emails and postcodes before it is
kept, and a message that looks like harm shows them who to call and is sent to the point's
safeguarding lead.

Steps of `feedback`, the same on Slack, Teams and the web:
- `feedback`: the points you look after, with how many answered;
- `feedback new agreement N` / `new engagement N` / `new service`: set one up (a form);
- `feedback show N`: links, poster, a summary and the answers (see `entries.py` for who
  sees what: the provider first; the council's team once enough people answered);
- `feedback close N`, `feedback reopen N`;
- `feedback hide REF reason`: take an answer out of every view (on the record);
- `feedback yousaid N`: post "you said, we did" on the point's public page.

Feedback is never used to rate a member of staff, nor in a contract's performance
assessment, and help says so. Each point also has a short link (`/s/<code>`, see
`poster.py`) for a text message or to type in. An agreement's page and its check-ins show
its points in brief (`handlers/agreements/feedback.py`, reading `storage.feedback_summary`).
"""

from __future__ import annotations

from bot.core.feature import Command, Feature, NavLink, SubCommand, link_pressed, run_step
from bot.core.reply import Reply
from bot.core.turn import Turn
from bot.services import Services
from handlers.feedback import confirming, entries, points, poster, public, testimony
from handlers.feedback.common import COMMAND

STEPS: tuple[SubCommand, ...] = (
    SubCommand("new", points.new, opens_form=True),
    SubCommand("show", entries.show, numbered=True),
    SubCommand("close", points.close, numbered=True, changes_things=True, confirm=confirming.close),
    SubCommand(
        "reopen", points.reopen, numbered=True, changes_things=True, confirm=confirming.reopen
    ),
    SubCommand("hide", entries.hide, changes_things=True, confirm=confirming.HIDE),
    SubCommand("yousaid", entries.you_said, opens_form=True),
)
_STEPS = {step.name: step for step in STEPS}


async def feedback(turn: Turn, services: Services) -> list[Reply]:
    """Route `feedback <step> …` to the step; a bare `feedback` lists the points."""
    return await run_step(COMMAND, _STEPS, turn, services, listing=points.list_points)


FEATURE = Feature(
    name="feedback",
    nav=(NavLink("Feedback", COMMAND, "commissioners", order=70),),
    commands=(
        Command(
            COMMAND,
            "feedback from people who use services: a page, QR code and poster (never used "
            "to rate staff or in performance assessments)",
            feedback,
            subcommands=STEPS,
            teams_scopes=frozenset({"personal"}),
            private=True,
        ),
    ),
    actions={f"{COMMAND}.": link_pressed},
    form_purposes=(points.NEW_POINT, entries.YOU_SAID, entries.HIDE),
    pages=public.PAGES + poster.PAGES + testimony.PAGES,
)
