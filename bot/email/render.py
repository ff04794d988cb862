"""Neutral replies as an email: a subject, a plain-text body and an accessible HTML body.

Both bodies come from the same blocks, so they say the same. Command references become
"go to <label>" with a link to the web page that does it; buttons become links (a link
that changes things only asks "Please confirm" on the web, so nothing runs from an email).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.core.reply import (
    Button,
    Chart,
    CommandRef,
    FileOffer,
    FormView,
    Message,
    Notice,
    Reply,
    capital,
    split_refs,
)
from bot.web.render import command_href

TEMPLATES = Path(__file__).parent / "templates"

_html = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
_text = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False, trim_blocks=True)

#: Where a notice sends people when it names no page of its own: their messages.
INBOX = "/inbox"


@dataclass(frozen=True)
class Link:
    label: str
    href: str


@dataclass
class Block:
    heading: str | None = None
    lines: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


def _absolute(base_url: str, href: str) -> str:
    return href if href.startswith(("http://", "https://")) else f"{base_url}{href}"


def _ref_href(ref: CommandRef) -> str:
    command, _, rest = ref.words.partition(" ")
    return command_href(command, rest)


def words(text: str) -> tuple[str, list[Link]]:
    """Text with each command reference as email says it ("go to the open engagements"),
    and the links those references point at."""
    out: list[str] = []
    links: list[Link] = []
    for piece in split_refs(text):
        if isinstance(piece, str):
            out.append(piece)
        else:
            out.append(f"{capital('go to', piece.starts_sentence)} {piece.label}")
            links.append(Link(capital(piece.label, True), _ref_href(piece)))
    return "".join(out), links


def button_href(button: Button) -> str | None:
    """Where a button's link goes on the web, or None for a button only a page can press."""
    if button.url:
        return button.url
    if button.action.startswith("cmd."):
        return command_href(button.action.removeprefix("cmd."), button.value)
    return None


def _add_text(block: Block, text: str | None) -> None:
    if not text:
        return
    said, links = words(text)
    block.lines.extend(line for line in said.split("\n") if line.strip())
    block.links.extend(links)


def _add_buttons(block: Block, buttons: list[Button]) -> None:
    for button in buttons:
        href = button_href(button)
        if href is not None:
            block.links.append(Link(button.label, href))


def blocks_of(replies: list[Reply]) -> tuple[str | None, list[Block]]:
    """The title (the first one any reply has) and the blocks of the email."""
    title: str | None = None
    blocks: list[Block] = []
    for reply in replies:
        message: Message | None = None
        if isinstance(reply, Message):
            message = reply
        elif isinstance(reply, FileOffer | Chart):
            message = reply.as_message()
        if message is not None:
            title = title or message.title
            block = Block()
            _add_text(block, message.text)
            _add_buttons(block, message.buttons)
            blocks.append(block)
            for section in message.sections:
                part = Block(heading=section.heading)
                _add_text(part, section.text)
                part.lines.extend(f"{f.label}: {f.value}" for f in section.facts)
                _add_buttons(part, section.buttons)
                blocks.append(part)
            if message.who_sees:
                blocks.append(Block(lines=[message.who_sees]))
        elif isinstance(reply, Notice):
            block = Block()
            _add_text(block, reply.text)
            _add_buttons(block, reply.buttons)
            blocks.append(block)
        elif isinstance(reply, FormView):
            title = title or reply.title
            blocks.append(Block(lines=[f"{reply.title}: {reply.page_title}"]))
    return title, [b for b in blocks if b.heading or b.lines or b.links]


def act_path(replies: list[Reply]) -> str:
    """The web page where the person acts on this message: the first link it has to a page
    of ours, else their messages page (which keeps a copy, with every button)."""
    _, blocks = blocks_of(replies)
    for block in blocks:
        for link in block.links:
            if link.href.startswith("/") and not link.href.startswith("//"):
                return link.href
    return INBOX


def render(
    replies: list[Reply],
    *,
    base_url: str,
    act_href: str,
    unsubscribe_href: str,
    link_hours: str,
    attachments: list[str] | None = None,
) -> Email:
    title, blocks = blocks_of(replies)
    if title is None and blocks and blocks[0].lines:
        title = blocks[0].lines[0][:120]
    heading = title or "A message from Convene"
    for block in blocks:
        block.links = [Link(link.label, _absolute(base_url, link.href)) for link in block.links]
    context = {
        "heading": heading,
        "blocks": blocks,
        "act_label": "Open this in Convene",
        "act_href": act_href,
        "unsubscribe_href": unsubscribe_href,
        "link_hours": link_hours,
        "attachments": attachments or [],
    }
    return Email(
        subject=heading,
        text=_text.get_template("email.txt").render(context),
        html=_html.get_template("email.html").render(context),
    )
