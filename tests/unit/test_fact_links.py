"""A fact with a link (a registration number and its public register entry) is a link on
every door, and the text around it stays escaped."""

from __future__ import annotations

from typing import Any

from bot.core.reply import Fact, Message, Section
from bot.slack.blocks import message_blocks
from bot.teams.cards import message_body
from bot.web.render import environment

URL = "https://register-of-charities.charitycommission.gov.uk/charity-details/?regid=1&subid=0"
MESSAGE = Message(
    title="Asha <Women's> Centre",
    sections=[
        Section(
            facts=[
                Fact(label="Charity number (England and Wales)", value="1100003", url=URL),
                Fact(label="Kind", value="Charity & <friends>"),
            ]
        )
    ],
)


def _fields(blocks: list[Any]) -> list[str]:
    return [f.text for b in blocks for f in (getattr(b, "fields", None) or [])]


def test_slack_links_the_value_and_escapes_the_url() -> None:
    fields = _fields(message_blocks(MESSAGE))
    assert fields[0] == (
        "*Charity number (England and Wales)*\n<" + URL.replace("&", "&amp;") + "|1100003>"
    )
    assert fields[1] == "*Kind*\nCharity &amp; &lt;friends&gt;"


def test_teams_links_the_value_in_markdown() -> None:
    facts = next(e for e in message_body(MESSAGE) if e["type"] == "FactSet")["facts"]
    assert facts[0] == {"title": "Charity number (England and Wales)", "value": f"[1100003]({URL})"}
    assert facts[1] == {"title": "Kind", "value": "Charity & <friends>"}


def test_the_web_links_the_value_and_escapes_it() -> None:
    module: Any = environment.get_template("widgets.html").module
    html = str(module.message(MESSAGE, "token"))
    assert (
        f'<dd><a href="{URL.replace("&", "&amp;")}" rel="external noopener">1100003</a></dd>'
        in html
    )
    assert "<dd>Charity &amp; &lt;friends&gt;</dd>" in html
