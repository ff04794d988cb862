"""Taking personal details out of what people write, before it is stored or seen.

Feedback is anonymous, but people write their phone number, email address or postcode into
a comment to be helpful. Each is replaced with "[removed]" before the text is kept, and the
original is never stored. The patterns are wide on purpose: taking out a number that was
not a phone number costs little; keeping one that was costs a lot.
"""

from __future__ import annotations

import re

REMOVED = "[removed]"

#: An email address as written, with an @ and a dot after it. Each part is bounded, so a
#: 10,000-character comment is still read in one quick pass.
EMAIL = re.compile(r"[\w.+'\-]{1,64}@[\w\-]{1,63}(?:\.[\w\-]{1,63})+")

#: A UK phone number: 0 or +44 (or 0044) then 9 or 10 more digits, with spaces, dots,
#: dashes or brackets between them. Any run of 10 or more digits is taken too.
PHONE = re.compile(
    r"(?:(?:\+|00)\s*44\s*\(?0?\)?|\(?0)(?:[\s().\-]*\d){9,10}"
    r"|(?:\d[\s.\-]*){10,}\d?",
)

#: A UK postcode (GIR 0AA, and every area, district and sector shape), with or without the
#: space, in any case. The outward code alone (SW1A) is too common in ordinary words to take.
POSTCODE = re.compile(
    r"\b(?:GIR\s*0AA|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})\b",
    re.IGNORECASE,
)

_PATTERNS = (EMAIL, PHONE, POSTCODE)


def scrub(text: str) -> str:
    """`text` with every email address, UK phone number and postcode replaced by
    "[removed]". Runs until nothing matches, since a replacement can join two pieces of
    text into a new match. Never raises."""
    for _ in range(10):
        before = text
        for pattern in _PATTERNS:
            text = pattern.sub(REMOVED, text)
        if text == before:
            return text
    # Still changing after ten passes: take out every digit and @ so nothing can match.
    return re.sub(r"[\d@]", "", text)


def has_personal_details(text: str) -> bool:
    """Whether anything the scrubber takes out is still in `text` (for tests and checks)."""
    return any(pattern.search(text) for pattern in _PATTERNS)
