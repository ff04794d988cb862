"""The short link and the agreement's feedback over real HTTP on every door. A phone opens
`/s/<code>` (typed in small letters): it is sent on (303) to the point's page with no
cookie, and a wrong code gets the friendly "not found" page. Tom prints the poster with the
short link in big letters. On the agreement's page, Tom sees the feedback point on the web
and in Slack with every count, and Priya in Teams sees "fewer than N" while few answered,
each with a button to the feedback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.app import SENDER
from bot.outbox.sender import OutboxSender
from bot.services import Services
from tests.features.test_agreement_monitoring import make_agreement
from tests.features.test_feedback_points import set_up_point
from tests.integration.test_feedback_doors import PRIYA
from tests.integration.test_feedback_web import Visitor
from tests.integration.test_opportunity_doors import TOM_SLACK
from tests.slack.conftest import SlackPoster
from tests.support.doors import chat_door_settings, flatten, link_teams, words_in_path
from tests.support.engagements import SlackPerson, TeamsPerson
from tests.support.fake_botframework import FakeBotFramework
from tests.support.fake_slack import FakeSlack
from tests.support.inprocess import TestDoor
from tests.support.servers import RunningApp
from tests.support.teams_activities import TeamsActivities
from tests.support.web import WebUser, text_of

#: Wednesday 15 December 2027, 10am in London: chat replies go at once, whatever time the
#: suite runs (in the evening, people's quiet hours would hold them). After today, since the
#: outbox stamps a message with the real time and sends it once the app's clock has passed it.
WORKING_HOURS = datetime(2027, 12, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def settings_overrides(fake_slack: FakeSlack, fake_teams: FakeBotFramework) -> dict[str, object]:
    return {**chat_door_settings(fake_slack, fake_teams), "suppression_minimum": 5}


@pytest.fixture
async def visitor(app_server: RunningApp) -> AsyncIterator[Visitor]:
    person = Visitor(app_server.url)
    yield person
    await person.client.close()


async def test_the_short_link_the_poster_and_the_agreement_on_every_door(
    door: TestDoor,
    services: Services,
    app_server: RunningApp,
    fake_slack: FakeSlack,
    fake_teams: FakeBotFramework,
    slack_poster: SlackPoster,
    visitor: Visitor,
) -> None:
    door.freeze(WORKING_HOURS)
    sender: OutboxSender = app_server.runner.app[SENDER]
    agreement_id = await make_agreement(door)
    point = await set_up_point(door, await door.sign_in("Tom Okafor"), agreement_id)
    assert point.short_code

    # A phone, from the text message: small letters, sent on, no cookie.
    status, _, headers = await visitor.request(
        "GET", f"/s/{point.short_code.lower()}", allow_redirects=False
    )
    assert status == 303 and headers["Location"] == f"/f/{point.slug}"
    assert headers["Cache-Control"] == "no-store"
    status, html, _ = await visitor.request("GET", f"/s/{point.short_code.lower()}")
    assert status == 200 and "Tell us what you think of Preston youth club" in text_of(html)
    status, html, _ = await visitor.request("GET", "/s/ABCDE0")
    assert status == 404 and "We could not find this feedback page" in text_of(html)
    await visitor.send(point.slug, helping="yes", anything_else="Good club.")

    # The web: the poster, and the agreement's page.
    tom_web = WebUser(app_server.url)
    try:
        await tom_web.sign_in_locally("Tom Okafor")
        status, html = await tom_web.get(f"/feedback/{point.id}/poster")
        short = services.settings.base_url.split("://", 1)[-1] + f"/s/{point.short_code}"
        assert status == 200 and "Or type this into your phone's web browser" in text_of(html)
        assert f'<p class="short-link">{short}</p>' in html
        status, html = await tom_web.get(words_in_path(f"agreements show {agreement_id}"))
        page = text_of(html)
        assert status == 200 and "Feedback from people who use the service" in page, page
        assert "Preston youth club" in page and "See feedback: Preston youth club" in page
    finally:
        await tom_web.close()

    # Slack: Tom, the provider, sees the count.
    fake_slack.add_user("T0001", TOM_SLACK, "Tom Okafor", email="tom@riversideyouth.example")
    tom = SlackPerson(slack_poster, fake_slack, sender, services, TOM_SLACK)
    said = await tom.say(f"agreements show {agreement_id}")
    assert "Feedback from people who use the service" in said, said
    assert "Preston youth club" in said and "See feedback: Preston youth club" in said

    # Teams: Priya, the council, sees "fewer than 5" with one answer.
    await link_teams(services, await door.person_id("Priya Shah"), fake_teams, PRIYA)
    priya = TeamsPerson(
        fake_teams, TeamsActivities.from_fake(fake_teams), app_server.url, sender, PRIYA
    )
    shown = flatten(await priya.say(f"agreements show {agreement_id}"))
    assert "Feedback from people who use the service" in shown, shown
    assert "Fewer than 5" in shown and "See feedback: Preston youth club" in shown
    assert "Good club." not in shown
