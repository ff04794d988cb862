"""The dashboard in Slack over real HTTP: each chart is a Block Kit image whose address
Slack fetches (no cookie) as a PNG drawn from the council's rows, with the chart's
description as alt text, and its table follows as text. The Block Kit check in
conftest.py also requires an https or loopback image_url and non-empty alt_text."""

from __future__ import annotations

from typing import Any

from bot.services import Services
from tests.slack.conftest import SlackPoster
from tests.slack.helpers import eventually, text_of_blocks
from tests.support.chart_pictures import (
    DANA_EMAIL,
    PNG_SIGNATURE,
    RAG_TITLE,
    check_picture_addresses,
    expected_rag_png,
    fetch,
    seed_council,
)
from tests.support.fake_slack import FakeSlack
from tests.support.servers import RunningApp


def images_in(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b.get("type") == "image"]


async def test_slack_shows_each_chart_as_a_picture_then_its_table(
    slack: SlackPoster, fake_slack: FakeSlack, services: Services, app_server: RunningApp
) -> None:
    council = await seed_council(services)
    fake_slack.add_user("T0001", "U0009", "Dana Reid", email=DANA_EMAIL)
    status, _ = await slack.command(
        "dashboard", user_id="U0009", response_url=fake_slack.response_url("dash")
    )
    assert status == 200
    answers = await eventually(lambda: fake_slack.responses.get("dash"), timeout=60)
    blocks = [block for answer in answers for block in answer["blocks"]]
    images = images_in(blocks)
    assert len(images) >= 3, [b.get("type") for b in blocks]
    rag = next(i for i in images if i["title"]["text"] == RAG_TITLE)
    assert rag["alt_text"].startswith("For each agreement whose monitoring plan uses red")
    # The table still follows, as text.
    text = text_of_blocks(blocks)
    assert RAG_TITLE in text and "Red:" in text
    status, content_type, png = await fetch(app_server.url, rag["image_url"])
    assert status == 200 and content_type == "image/png"
    assert png.startswith(PNG_SIGNATURE)
    assert png == await expected_rag_png(services, council)
    await check_picture_addresses(app_server.url, services, rag["image_url"])
