"""Finding partners for an opportunity, with both sides' consent before any name is shared.

- `partners N`: a provider the opportunity fits posts "looking for partners" (what it
  brings, what it needs, where, which lot), or changes its post; `takedown N` takes it down.
- `partnering N`: what this person may see. Providers it fits: the other posts without
  names (what is brought and needed, where, the organisation's size and kind), requests to
  talk waiting for their answer, and the partners they were introduced to, with contact
  details. A local infrastructure organisation (CVS) serving its places: every post, with
  names, to broker. The commissioning team: counts only, and consortia once confirmed.
- `talk P`: "we'd like to talk" about post P. `agree I` / `decline I`: an answer to
  introduction I. Names and contact details go to both only when both said yes, and each
  is told on their own door through the outbox. A no is quiet: nobody learns who said it.
- `introduce P Q`: a CVS suggests posts P and Q talk; both must still say yes.
- `consortium N`: an introduced provider says its part in a consortium (role, whether it
  leads, its share); `invite I` asks the partner of introduction I to join. When every
  member has said its part and one leads, it is confirmed, and the team is told.

The rule for names is `storage.partners`' (one place); every view here goes through it.
"""

from __future__ import annotations

from handlers.opportunities.partners.broker import introduce
from handlers.opportunities.partners.consortium import CONSORTIUM, invite
from handlers.opportunities.partners.home import home_sections
from handlers.opportunities.partners.posts import POST, take_down
from handlers.opportunities.partners.talking import agree, decline, talk
from handlers.opportunities.partners.views import show_partners

__all__ = [
    "CONSORTIUM",
    "POST",
    "agree",
    "decline",
    "home_sections",
    "introduce",
    "invite",
    "show_partners",
    "take_down",
    "talk",
]
