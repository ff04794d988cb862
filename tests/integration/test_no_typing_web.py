"""Nothing on the web says "type <command>": there is nowhere to type. A reply that points
at a command (`bot.core.reply.command_ref`) is a link to the page that does it on the web,
or a button that posts it when the step changes things; Slack and Teams still say
"type `profile`". Real HTTP for the web's refusal and "which one?" pages; the chat words
are checked on the chat renderers themselves (their doors' tests post them for real).
"""

from __future__ import annotations

import re
from html import unescape

from bot.core.reply import Message, Notice, Section, command_ref
from bot.slack.blocks import fallback_text, message_blocks, notice_blocks
from bot.teams.cards import message_body, notice_body
from bot.web.door import Html
from bot.web.render import WebWords, changes_things, use_router
from handlers import build_router, features
from tests.support.web import WebUser, text_of

COMMANDS = sorted({c.name for c in features().commands()} | {"help"}, key=len, reverse=True)
TYPED = re.compile(r"\btype\s+`?(" + "|".join(COMMANDS) + r")\b", re.IGNORECASE)


def says_type(visible: str) -> list[str]:
    return [m.group(0) for m in TYPED.finditer(visible)]


def links(html: str) -> dict[str, str]:
    """Link text -> where it goes."""
    return {
        unescape(re.sub(r"<[^>]+>", "", text)).strip(): unescape(href)
        for href, text in re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', html, re.S)
    }


async def test_web_refusals_and_questions_link_to_the_page_instead(web_user: WebUser) -> None:
    await web_user.sign_in_locally("Tom Okafor")  # a provider
    pages = {
        # A gate's refusal: the directory is for commissioners.
        "/do/directory": ("your profile", "/do/profile"),
        # The readiness summary is for councils; his own answers are his.
        "/do/readiness?words=summary": ("your readiness answers", "/do/readiness"),
        # A command nobody has: help.
        "/do/nonsense": ("help", "/do/help"),
        # A numbered step without its number asks which one: the list.
        "/do/engagements?words=show": ("the engagements list", "/do/engagements"),
        # An unknown step says so, and where to see the steps.
        "/do/agreements?words=frobnicate": ("the agreements list", "/do/agreements"),
    }
    for path, (label, href) in pages.items():
        status, html = await web_user.get(path)
        assert status == 200, path
        visible = text_of(html)
        assert not says_type(visible), (path, says_type(visible))
        assert f"go to {label}" in visible.lower(), (path, visible)
        assert links(html).get(label) == href, (path, links(html))
        assert "\u27e6" not in html and "\u27e7" not in html, "a marker leaked onto the page"


def test_a_step_that_changes_things_is_a_posted_button_on_the_web() -> None:
    use_router(build_router().changes_things)
    try:
        ref = command_ref("agreements assessment 3 share", "Share assessment 3")
        html = Html().render([Notice(text=f"Share it first: {ref}.")])
    finally:
        use_router(changes_things)
    visible = text_of(html)
    assert "Share it first: press Share assessment 3" in visible
    assert not says_type(visible)
    button = re.search(
        r'<button type="submit" form="(ref-\d+)"[^>]*>Share assessment 3</button>', html
    )
    assert button, html
    form = re.search(
        rf'<form id="{button.group(1)}" method="post" action="/do/agreements"(.*?)</form>',
        html,
        re.S,
    )
    assert form, html
    assert 'name="words" value="assessment 3 share"' in form.group(1)
    assert "href" not in (button.group(0))


def test_a_reference_starting_a_sentence_takes_a_capital_everywhere() -> None:
    text = f"Saved. {command_ref('profile', 'your profile')} to see it."
    assert text_of(str(WebWords().words(text))) == "Saved. Go to your profile to see it."
    assert notice_body(Notice(text=text))[0]["items"][0]["text"] == "Saved. Type profile to see it."


def test_slack_and_teams_still_say_type_and_the_words() -> None:
    ref = command_ref("engagements update 4", "the update form for engagement 4")
    notice = Notice(text=f"Publish an update instead: {ref}.")
    message = Message(text=f"See them: {ref}.", sections=[Section(text=f"Or {ref}.")])
    slack = str(notice_blocks(notice)[0].to_dict()) + str(
        [b.to_dict() for b in message_blocks(message)]
    )
    assert "Publish an update instead: type `engagements update 4`." in slack
    assert "See them: type `engagements update 4`." in slack
    assert "Or type `engagements update 4`." in slack
    assert fallback_text([notice]) == "Publish an update instead: type engagements update 4."
    teams = str(notice_body(notice)) + str(message_body(message))
    assert "Publish an update instead: type engagements update 4." in teams
    assert "Or type engagements update 4." in teams
    assert "\u27e6" not in slack + teams
