"""Nothing on the list and detail pages says "type <command>", for a provider and for a
commissioner, over real HTTP; and each step that needs a reason (disagree with, approve or
reject a variation) has a button on the variations page that opens a one-question form.

The form's answer running the same step as the typed reason is tested in-process in
tests/features/test_agreement_variations.py and test_agreement_assessments.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from sqlalchemy import select

from bot.services import Services
from storage.agreement_tables import Agreement, AgreementParty
from storage.models import Authority, Organisation, Person
from storage.variation_tables import AgreementVariation, Side, VariationState
from tests.integration.test_no_typing_web import says_type
from tests.support.web import WebUser, text_of


async def _seed(services: Services) -> tuple[int, int, int]:
    """An agreement between the council and Riverside, with a change Tom asked for (the
    council answers it) and a change the provider agreed to (the council decides it)."""
    today = services.clock.now().date()
    async with services.db.session() as session:
        riverside = await session.scalar(
            select(Organisation).where(Organisation.slug == "riverside-youth-trust")
        )
        council = await session.scalar(select(Authority).order_by(Authority.id))
        tom = await session.scalar(select(Person).where(Person.name == "Tom Okafor"))
        assert riverside is not None and council is not None and tom is not None
        agreement = Agreement(
            authority_id=council.id,
            title="Youth clubs in Preston",
            route="standard_contract",
            vat_basis="including",
            value_pence=25_000_000,
            starts_on=today - timedelta(days=30),
            ends_on=today + timedelta(days=700),
            payment_terms_days=30,
        )
        session.add(agreement)
        await session.flush()
        session.add(
            AgreementParty(agreement_id=agreement.id, organisation_id=riverside.id, role="sole")
        )
        asked = AgreementVariation(
            agreement_id=agreement.id,
            side=Side.PROVIDER,
            requested_by=tom.id,
            requested_for_organisation_id=riverside.id,
            what_changes="A new hall",
            why="The old one closed",
            state=VariationState.REQUESTED,
        )
        agreed = AgreementVariation(
            agreement_id=agreement.id,
            side=Side.COUNCIL,
            what_changes="Two more clubs",
            why="Demand",
            state=VariationState.AGREED,
            other_side_agreed=True,
        )
        session.add_all([asked, agreed])
        await session.flush()
        return agreement.id, asked.id, agreed.id


def _pages(agreement_id: int) -> list[str]:
    return [
        "/do/agreements",
        f"/do/agreements?words=show+{agreement_id}",
        f"/do/agreements?words=variations+{agreement_id}",
        f"/do/agreements?words=assessments+{agreement_id}",
        "/do/opportunities",
        "/do/engagements",
    ]


def _action_targets(html: str) -> set[str]:
    """Every step a page's links and buttons run, as `words` (`variation 4 approve`)."""
    found = {unescape(w) for w in re.findall(r'name="words" value="([^"]+)"', html)}
    for href in re.findall(r'href="/do/agreements\?words=([^"&]+)', html):
        found.add(unescape(href).replace("+", " "))
    return found


async def test_no_page_says_type_and_each_reason_opens_a_form(
    web_user: WebUser, services: Services
) -> None:
    agreement_id, asked, agreed = await _seed(services)
    for person in ("Tom Okafor", "Priya Shah"):
        await web_user.sign_in_locally(person)
        for path in _pages(agreement_id):
            status, html = await web_user.get(path)
            assert status == 200, (person, path)
            visible = text_of(html)
            assert not says_type(visible), (person, path, says_type(visible))
            assert "\u27e6" not in html, (person, path)

    # The council answers Tom's change and decides the agreed one: each needs a reason.
    status, html = await web_user.get(f"/do/agreements?words=variations+{agreement_id}")
    assert status == 200
    targets = _action_targets(html)
    for words in (
        f"variation {asked} disagree",
        f"variation {agreed} approve",
        f"variation {agreed} reject",
    ):
        assert words in targets, (words, targets)
        # Pressing it (and saying yes on the confirm page) opens the reason form.
        status, page = await web_user.post("/do/agreements", {"words": words})
        assert status == 200, words
        assert re.search(r'<textarea[^>]*name="reason"', page), (words, text_of(page))
        assert not says_type(text_of(page)), words
