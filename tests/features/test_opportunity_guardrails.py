"""The guardrails the team sees at preview and publishing: the law's minimum tendering period
(a refusal, cited, nothing sent, on the record), six weeks as good practice, a lot bigger
than most local providers say they can take on (in aggregate, never named, only when
enough answered), and social value "additionality" asked for but not paid for."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.core.reply import Notice
from bot.demo import AUTHORITY
from storage.models import Authority, Organisation, ReadinessAnswer
from storage.opportunity_tables import Opportunity
from tests.features.opportunity_story import (
    NOW,
    add_lot,
    choose_route,
    pages,
    post,
    refusals,
    state_of,
)
from tests.support.inprocess import Conversation, TestDoor, text_of

#: Route answers for an above-threshold contract that is not for care or community
#: services (a standard contract: s.54's minimum applies), and for a light-touch one.
A_CONTRACT_UNDER_THE_ACT = {"service_kind": "other_services", "value": "£300,000"}
A_LIGHT_TOUCH_CONTRACT = {"service_kind": "people_services", "value": "£700,000"}

#: Monday 12 January 2026 + 18 days: Friday 30 January.
EIGHTEEN_DAYS = "2026-01-30"
FOUR_WEEKS = "2026-02-09"


def _notices(replies: list[Any], level: str) -> list[str]:
    return [r.text for r in replies if isinstance(r, Notice) and r.level == level]


async def test_below_the_laws_minimum_is_refused_with_the_section_cited(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(
        priya, submission_deadline=EIGHTEEN_DAYS, clarification_deadline="2026-01-26", route=False
    )
    await choose_route(priya, opportunity_id, **A_CONTRACT_UNDER_THE_ACT)
    preview = await priya.say(f"opportunities preview {opportunity_id}")
    [error] = _notices(preview, "error")
    assert "Before you can publish" in error and "18 days" in error
    assert "at least 25 days" in error and "Procurement Act 2023 s.54" in error
    before = await state_of(door.services)
    answer = text_of(await priya.say(f"opportunities publish {opportunity_id}"))
    assert "Nothing was sent" in answer and "Procurement Act 2023 s.54" in answer
    assert await state_of(door.services) == before
    assert await door.outbox() == []
    [refused] = await refusals(door.services, priya.person_id)
    assert refused.details["attempted"] == "publish" and "s.54" in refused.details["reason"]


async def test_a_light_touch_contract_has_no_legal_minimum_but_six_weeks_is_still_advised(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(
        priya, submission_deadline=EIGHTEEN_DAYS, clarification_deadline="2026-01-26", route=False
    )
    await choose_route(priya, opportunity_id, **A_LIGHT_TOUCH_CONTRACT)
    published = await priya.say(f"opportunities publish {opportunity_id}")
    assert "Published" in text_of(published)
    warnings = _notices(published, "warning")
    assert any("18 days" in w and "six weeks" in w for w in warnings)
    assert not any("s.54" in w for w in warnings)


async def test_an_undecided_route_gets_the_laws_minimum_as_a_warning(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(
        priya, submission_deadline=EIGHTEEN_DAYS, clarification_deadline="2026-01-26", route=False
    )
    preview = await priya.say(f"opportunities preview {opportunity_id}")
    # The route must still be chosen before publishing, but the time limit is not yet a
    # refusal: it may turn out to be a light-touch contract, with no legal minimum.
    assert not any("s.54" in e for e in _notices(preview, "error"))
    assert any("s.54" in w for w in _notices(preview, "warning"))


async def test_under_six_weeks_is_a_warning_within_the_law(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(
        priya, submission_deadline=FOUR_WEEKS, clarification_deadline="2026-01-26"
    )
    published = await priya.say(f"opportunities publish {opportunity_id}")
    assert "Published" in text_of(published)
    assert any("28 days" in w and "six weeks" in w for w in _notices(published, "warning"))
    # Eight weeks (the story's own deadline) needs no warning about time.
    other = await post(priya)
    assert not any(
        "days to bid" in w
        for w in _notices(await priya.say(f"opportunities preview {other}"), "warning")
    )


async def _providers_say_largest(door: TestDoor, pounds: list[int]) -> list[str]:
    """Providers tell the demo council the largest yearly contract they could take on (as
    their readiness answers' typed facts); their names."""
    names: list[str] = []
    async with door.services.db.session() as session:
        council = await session.scalar(select(Authority).where(Authority.slug == AUTHORITY[1]))
        assert council is not None
        start = int(await session.scalar(select(func.count()).select_from(Organisation)) or 0)
        for n, amount in enumerate(pounds):
            name = f"Guardrail Group {start + n}"
            organisation = Organisation(name=name, slug=f"guardrail-group-{start + n}")
            session.add(organisation)
            await session.flush()
            for question, number in (("*", None), ("largest_value", amount * 100)):
                session.add(
                    ReadinessAnswer(
                        organisation_id=organisation.id,
                        authority_id=council.id,
                        response_id=0,
                        question=question,
                        number=number,
                    )
                )
            names.append(name)
    return names


async def _two_lots(priya: Conversation) -> int:
    opportunity_id = await post(priya)  # 24 months long
    await add_lot(priya, opportunity_id, "North Preston", "£20,000", "£30,000")  # £15,000 a year
    await add_lot(priya, opportunity_id, "South Preston", "£30,000", "£50,000")  # £25,000 a year
    return opportunity_id


async def test_a_lot_larger_than_most_providers_can_take_on_is_a_warning(door: TestDoor) -> None:
    door.freeze(NOW)
    names = await _providers_say_largest(door, [20_000, 20_000, 18_000, 22_000, 100_000, 250_000])
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await _two_lots(priya)
    preview = await priya.say(f"opportunities preview {opportunity_id}")
    warnings = [w for w in _notices(preview, "warning") if "largest contract" in w]
    assert warnings == [
        "Lot 2, South Preston, is worth up to £25,000 a year. That is more than most of the "
        "6 providers who told us their largest contract said they could take on. Think about "
        "smaller lots, or welcome bids from groups working together."
    ]
    assert not any(name in text_of(preview) for name in names)
    published = await priya.say(f"opportunities publish {opportunity_id}")
    assert "Published" in text_of(published) and any(
        "Lot 2, South Preston" in w for w in _notices(published, "warning")
    )


async def test_no_lot_warning_when_fewer_than_five_providers_answered(door: TestDoor) -> None:
    door.freeze(NOW)
    await _providers_say_largest(door, [1_000, 1_000, 1_000, 1_000])
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await _two_lots(priya)
    preview = await priya.say(f"opportunities preview {opportunity_id}")
    assert not any("largest contract" in w for w in _notices(preview, "warning"))


async def _post_pages(priya: Conversation, changed: dict[int, dict[str, Any]]) -> int:
    await priya.fill("opportunities new", changed)
    assert "Preview" in priya.text(), priya.text()
    async with priya.test_door.services.db.session() as session:
        found = await session.scalar(select(func.max(Opportunity.id)))
    assert found is not None
    return int(found)


async def test_additionality_asked_for_but_not_paid_for_is_a_warning(door: TestDoor) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    asks = pages()
    asks[1]["outcomes"] = "Fewer crises. We also expect additional social value, like volunteering."
    asks[0]["funding_sources"] = "The public health grant."
    opportunity_id = await _post_pages(priya, asks)
    warned = [
        w
        for w in _notices(await priya.say(f"opportunities preview {opportunity_id}"), "warning")
        if "additionality" in w
    ]
    assert len(warned) == 1 and "Scoring social value (10%) does not pay for it" in warned[0]
    # Said to be paid for, in where the money comes from: no warning.
    paid = pages()
    paid[1]["outcomes"] = asks[1]["outcomes"]
    paid[0]["funding_sources"] = "The public health grant, with £5,000 set aside for social value."
    other = await _post_pages(priya, paid)
    preview = await priya.say(f"opportunities preview {other}")
    assert not any("additionality" in w for w in _notices(preview, "warning"))


async def test_an_amendment_cannot_bring_the_deadline_below_the_laws_minimum(
    door: TestDoor,
) -> None:
    door.freeze(NOW)
    priya = await door.sign_in("Priya Shah")
    opportunity_id = await post(priya, clarification_deadline="2026-01-20", route=False)
    await choose_route(priya, opportunity_id, **A_CONTRACT_UNDER_THE_ACT)
    assert "Published" in text_of(await priya.say(f"opportunities publish {opportunity_id}"))
    before = await state_of(door.services)
    # Eighteen days after it was published: too short for a contract under the Act.
    await priya.fill(
        f"opportunities amend {opportunity_id}",
        {0: {"what_changed": "Sooner.", "submission_deadline": EIGHTEEN_DAYS}},
    )
    assert "Procurement Act 2023 s.54" in priya.text() and "Nothing was sent" in priya.text()
    after = await state_of(door.services)
    assert after["opportunities"] == before["opportunities"]
    assert after["amendments"] == before["amendments"] and after["outbox"] == before["outbox"]
    [refused] = await refusals(door.services, priya.person_id)
    assert refused.details["attempted"] == "amend" and "s.54" in refused.details["reason"]
    # Four weeks after publishing is within the law: the change goes out.
    await priya.fill(
        f"opportunities amend {opportunity_id}",
        {0: {"what_changed": "Sooner.", "submission_deadline": FOUR_WEEKS}},
    )
    assert "on its way" in priya.text()
