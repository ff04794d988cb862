"""Neutral replies to Slack Block Kit, built with `slack_sdk.models` so Slack's limits are checked.

One neutral description, rendered here for Slack; `bot/web` and `bot/teams` render the
same replies as HTML and Adaptive Cards. Slack limits we design around:
50 blocks a message, 100 a view, 3000 characters a text block, 75 a button or
option label, 10 options for radio buttons and checkboxes, 24 for a modal title.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core.areas import typed_text
from bot.core.cpv import typed_text as typed_cpv
from bot.core.forms import Field, FieldType
from bot.core.reply import (
    Button,
    Chart,
    Fact,
    FileOffer,
    FilterBar,
    FormView,
    Message,
    Notice,
    Reply,
    chat_words,
    plain_text,
)

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
TEXT_LIMIT = 3000
LABEL_LIMIT = 75
FEW_OPTIONS = 10
FORM_CALLBACK = "convene_form"
ACTION_SEPARATOR = "|"

LEVEL_MARK = {"success": ":white_check_mark:", "warning": ":warning:", "error": ":x:", "info": ""}


def escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters. A command a reply points at
    is worded "type `engagements update 4`", in code formatting (see `command_ref`)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return chat_words(escaped, code=lambda words: f"`{words}`")


def clip(text: str, limit: int) -> str:
    """For labels only (titles, buttons): say there is more rather than break Slack's limit."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def chunks(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split long text at line or word boundaries so nothing is cut off."""
    out: list[str] = []
    remaining = text
    while len(remaining) > limit:
        cut = remaining.rfind("\n", 0, limit)
        if cut <= 0:
            cut = remaining.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        out.append(remaining[:cut])
        remaining = remaining[cut:].lstrip("\n ")
    if remaining:
        out.append(remaining)
    return out


def action_id(action: str, index: int) -> str:
    """Slack needs unique action ids in a block; the suffix is dropped when the action comes back."""
    return f"{action}{ACTION_SEPARATOR}{index}"


def action_name(slack_action_id: str) -> str:
    return slack_action_id.split(ACTION_SEPARATOR, 1)[0]


def _button(button: Button, index: int) -> ButtonElement:
    style = button.style if button.style in ("primary", "danger") else None
    return ButtonElement(
        text=clip(button.label, LABEL_LIMIT),
        action_id=action_id(button.action, index),
        value=button.value or None,
        url=button.url,
        style=style,
    )


def _actions(buttons: Sequence[Button], start: int = 0) -> list[Block]:
    blocks: list[Block] = []
    for offset in range(0, len(buttons), 25):
        group = buttons[offset : offset + 25]
        blocks.append(
            ActionsBlock(elements=[_button(b, start + offset + i) for i, b in enumerate(group)])
        )
    return blocks


def _text_sections(text: str) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=part)) for part in chunks(text)]


def _fact_value(fact: Fact) -> str:
    """A fact's value in mrkdwn: a link when it has one (Slack's ``<url|text>``)."""
    if fact.url:
        return f"<{escape(fact.url)}|{escape(fact.value).replace('|', '¦')}>"
    return escape(fact.value)


def message_blocks(message: Message) -> list[Block]:
    blocks: list[Block] = []
    if message.title:
        blocks.append(HeaderBlock(text=PlainTextObject(text=clip(message.title, 150))))
    if message.text:
        blocks.extend(_text_sections(escape(message.text)))
    counter = 0
    for section in message.sections:
        head = f"*{escape(section.heading)}*" if section.heading else ""
        body = escape(section.text) if section.text else ""
        if head or body:
            blocks.extend(_text_sections("\n".join(p for p in (head, body) if p)))
        for offset in range(0, len(section.facts), 10):
            fields = [
                MarkdownTextObject(text=clip(f"*{escape(f.label)}*\n{_fact_value(f)}", 2000))
                for f in section.facts[offset : offset + 10]
            ]
            blocks.append(SectionBlock(fields=fields))
        blocks.extend(_actions(section.buttons, counter))
        counter += len(section.buttons)
    blocks.extend(_actions(message.buttons, counter))
    if message.who_sees:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=escape(message.who_sees))]))
    return blocks


def notice_blocks(notice: Notice) -> list[Block]:
    mark = LEVEL_MARK.get(notice.level, "")
    text = f"{mark} {escape(notice.text)}".strip()
    return [*_text_sections(text), *_actions(notice.buttons)]


def filter_blocks(bar: FilterBar) -> list[Block]:
    """Each filter is a menu; choosing an option runs the command again with that filter."""
    elements = []
    for flt in bar.filters:
        options = [Option(value="-", text="Any")] + [
            Option(value=o.value, text=clip(o.label, LABEL_LIMIT)) for o in flt.options[:99]
        ]
        initial = next((o for o in options if o.value == flt.selected), None)
        elements.append(
            StaticSelectElement(
                action_id=f"filter{ACTION_SEPARATOR}{bar.command}{ACTION_SEPARATOR}{flt.name}",
                placeholder=clip(flt.label, 150),
                options=options,
                initial_option=initial,
            )
        )
    return [ActionsBlock(elements=elements[i : i + 25]) for i in range(0, len(elements), 25)]


def chart_blocks(chart: Chart) -> list[Block]:
    """The chart's picture (a PNG Slack fetches from its signed address), the chart's
    description as its alternative text, then its table as text: the same numbers for
    anyone who cannot see the picture, or once its address has expired."""
    table = message_blocks(chart.as_message())
    if not chart.chat_image_url:
        return table
    picture = ImageBlock(
        image_url=chart.chat_image_url,
        alt_text=clip(chart.description, 2000),
        title=clip(chart.title, 2000),
    )
    return [picture, *table]


def reply_blocks(reply: Reply) -> list[Block]:
    if isinstance(reply, FileOffer):  # the sender uploads the file; this is its link
        return message_blocks(reply.as_message())
    if isinstance(reply, Chart):
        return chart_blocks(reply)
    if isinstance(reply, Message):
        return message_blocks(reply)
    if isinstance(reply, Notice):
        return notice_blocks(reply)
    if isinstance(reply, FilterBar):
        return filter_blocks(reply)
    return _text_sections(f"*{escape(reply.title)}*: {escape(reply.page_title)}")


#: How many distinct replies keep their rendered blocks (see `rendered_blocks`).
RENDERED_KEPT = 512
_rendered: OrderedDict[str, str] = OrderedDict()


def _kept(key: str, render: Callable[[], Any]) -> Any:
    """Rendered Slack JSON for `key`, made by `render` the first time. The same replies come
    back again and again (help, menus, "saved"), and turning `slack_sdk` models into JSON
    checks every limit each time, which was a fifth of the work of answering a slash
    command. So the JSON of the last `RENDERED_KEPT` renderings is kept, and each call gets
    its own fresh copy to change as it likes."""
    text = _rendered.get(key)
    if text is None:
        text = json.dumps(render())
        _rendered[key] = text
        if len(_rendered) > RENDERED_KEPT:
            _rendered.popitem(last=False)
    else:
        _rendered.move_to_end(key)
    return json.loads(text)


def _key(replies: Iterable[Reply]) -> str:
    return "\n".join(f"{type(r).__name__}:{r.model_dump_json()}" for r in replies)


def rendered_blocks(reply: Reply) -> list[dict[str, Any]]:
    """A reply's blocks as Slack JSON (kept, see `_kept`)."""
    blocks: list[dict[str, Any]] = _kept(
        f"blocks\n{_key([reply])}", lambda: [block.to_dict() for block in reply_blocks(reply)]
    )
    return blocks


def messages(replies: Iterable[Reply]) -> list[list[dict[str, Any]]]:
    """Replies as one or more messages' blocks, each within Slack's 50-block limit."""
    out: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    for reply in replies:
        for block in rendered_blocks(reply):
            if len(current) == MESSAGE_BLOCKS:
                out.append(current)
                current = []
            current.append(block)
    if current:
        out.append(current)
    return out


def fallback_text(replies: Iterable[Reply]) -> str:
    """Plain text for notifications and screen readers (Slack's `text` beside `blocks`)."""
    return clip(plain_text(list(replies)) or "Convene", 3000)


# --- Forms as modals ------------------------------------------------------------------------


def _options(field: Field) -> list[Option]:
    return [
        Option(
            value=c.value,
            text=clip(c.label, LABEL_LIMIT),
            description=clip(c.hint, LABEL_LIMIT) if c.hint else None,
        )
        for c in field.choices
    ]


def _one_choice(field: Field, value: Any) -> Any:
    options = _options(field)
    initial = next((o for o in options if o.value == value), None)
    if len(options) <= FEW_OPTIONS:
        return RadioButtonsElement(action_id=field.id, options=options, initial_option=initial)
    return StaticSelectElement(
        action_id=field.id, options=options, initial_option=initial, placeholder="Choose one"
    )


def _many_choices(field: Field, value: Any) -> Any:
    options = _options(field)
    chosen = set(value if isinstance(value, list) else [value] if value else [])
    initial_many = [o for o in options if o.value in chosen] or None
    if len(options) <= FEW_OPTIONS:
        return CheckboxesElement(action_id=field.id, options=options, initial_options=initial_many)
    return StaticMultiSelectElement(
        action_id=field.id,
        options=options,
        initial_options=initial_many,
        placeholder="Choose all that fit",
    )


def _date(field: Field, value: Any) -> Any:
    return DatePickerElement(action_id=field.id, initial_date=value or None)


def _typed(field: Field, value: Any, *, multiline: bool = False) -> Any:
    """A typed answer, with the example as a placeholder.

    That includes a date with a time: Slack's datetimepicker works in each
    person's Slack zone, but forms read times as UK time, and typed text reads
    back through the same parser on every door.
    """
    example = field.effective_example
    return PlainTextInputElement(
        action_id=field.id,
        multiline=multiline,
        initial_value=str(value) if value not in (None, "") else None,
        placeholder=clip(f"For example, {example}", 150) if example else None,
        max_length=min(field.effective_max_length or TEXT_LIMIT, TEXT_LIMIT),
    )


def _long_text(field: Field, value: Any) -> Any:
    return _typed(field, value, multiline=True)


def _areas(field: Field, value: Any) -> Any:
    """Places typed as names or postcodes, pre-filled with the names chosen so far.

    Slack's external_select would need an options endpoint; typed names read back through
    the same parser as chat, and one that matches nothing or two places names the near
    matches in the error.
    """
    return _typed(field, typed_text(value) or None, multiline=True)


def _cpv(field: Field, value: Any) -> Any:
    """CPV codes typed as words or codes, one chosen code and its label a line.

    Like places: 9,454 codes need an options endpoint for a select, so typed text reads
    back through the same parser as chat, and a piece that matches several codes, or none,
    names the nearest in the error.
    """
    return _typed(field, typed_cpv(value, limit=TEXT_LIMIT) or None, multiline=True)


#: The Slack input for each kind of question: adding a kind adds one entry here
#: (tests/unit/test_field_kinds_registry.py fails while one is missing).
WIDGETS: dict[FieldType, Callable[[Field, Any], Any]] = {
    FieldType.SHORT_TEXT: _typed,
    FieldType.LONG_TEXT: _long_text,
    FieldType.REGISTER_NUMBER: _typed,
    FieldType.WHOLE_NUMBER: _typed,
    FieldType.MONEY: _typed,
    FieldType.PERCENTAGE: _typed,
    FieldType.DATE: _date,
    FieldType.DATE_TIME: _typed,
    FieldType.SINGLE_CHOICE: _one_choice,
    FieldType.MULTIPLE_CHOICE: _many_choices,
    FieldType.YES_NO: _one_choice,
    FieldType.SCALE: _one_choice,
    FieldType.AREA: _areas,
    FieldType.CPV: _cpv,
}


def _element(field: Field, value: Any) -> Any:
    """The Slack input for a neutral field, with the current answer filled in."""
    return WIDGETS[field.type](field, value)


def _input(field: Field, value: Any) -> InputBlock:
    notes = " ".join(n for n in (field.hint, field.help) if n)
    return InputBlock(
        block_id=field.id,
        label=clip(field.label, 2000),
        element=_element(field, value),
        hint=clip(notes, 2000) if notes else None,
        optional=not field.required,
    )


def form_metadata(view: FormView) -> str:
    return json.dumps({"r": view.response_id, "p": view.page_index})


def read_form_metadata(private_metadata: str) -> tuple[int, int]:
    """(response id, page) from a modal's private metadata; ValueError if it is not ours."""
    data = json.loads(private_metadata or "{}")
    return int(data["r"]), int(data["p"])


def form_modal(view: FormView, notices: Sequence[Notice] = ()) -> dict[str, Any]:
    """One page of a form as a modal. Back and Save buttons keep what was typed on the page."""
    blocks: list[Block] = []
    progress = view.progress if view.page_count > 1 else ""
    blocks.append(HeaderBlock(text=PlainTextObject(text=clip(view.page_title, 150))))
    if progress:
        blocks.append(ContextBlock(elements=[PlainTextObject(text=progress)]))
    for notice in notices:
        blocks.extend(notice_blocks(Notice(text=notice.text, level=notice.level)))
    intro = view.intro if view.page_index == 0 else None
    for text in (intro, view.page_intro):
        if text:
            blocks.extend(_text_sections(escape(text)))
    blocks.extend(_input(field, view.values.get(field.id)) for field in view.fields)
    nav = [Button(label="Save and finish later", action="form.save", value=str(view.response_id))]
    if view.page_index > 0:
        nav.insert(0, Button(label="Back", action="form.back", value=str(view.response_id)))
    blocks.extend(_actions(nav))
    if view.who_sees:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=escape(view.who_sees))]))
    if len(blocks) > VIEW_BLOCKS:
        raise ValueError(f"form page {view.page_title!r} needs {len(blocks)} blocks; split it")
    modal = View(
        type="modal",
        callback_id=FORM_CALLBACK,
        title=clip(view.title, 24),
        submit="Send" if view.is_last_page else "Next",
        close="Cancel",
        private_metadata=form_metadata(view),
        blocks=blocks,
    )
    return modal.to_dict()


def notice_modal(title: str, replies: Sequence[Reply]) -> dict[str, Any]:
    """A modal that shows a message (a confirmation, or why a form can't open)."""
    view: dict[str, Any] = _kept(
        f"notice modal\n{title}\n{_key(replies)}", lambda: _notice_modal(title, replies)
    )
    return view


def _notice_modal(title: str, replies: Sequence[Reply]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    for chunk in messages([r for r in replies if not isinstance(r, FormView)]):
        blocks.extend(chunk)
    if not blocks:
        blocks = [SectionBlock(text="Done.").to_dict()]
    return View(
        type="modal", title=clip(title, 24), close="Close", blocks=blocks[:VIEW_BLOCKS]
    ).to_dict()


def loading_modal() -> dict[str, Any]:
    """Opened at once with the trigger id (which lasts 3 seconds), then replaced. Always the
    same, so it is built once; each caller gets its own copy."""
    loaded: dict[str, Any] = json.loads(_loading_modal_json())
    return loaded


@cache
def _loading_modal_json() -> str:
    return json.dumps(
        View(
            type="modal",
            title="Convene",
            close="Cancel",
            blocks=[SectionBlock(text=MarkdownTextObject(text="Getting your form ready…"))],
        ).to_dict()
    )


def home_view(replies: Sequence[Reply]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    for chunk in messages(replies):
        blocks.extend(chunk)
    blocks.append(DividerBlock().to_dict())
    blocks.append(
        ContextBlock(
            elements=[MarkdownTextObject(text="Type `/convene help` to see everything I can do.")]
        ).to_dict()
    )
    return View(type="home", blocks=blocks[:VIEW_BLOCKS]).to_dict()


def submitted_values(state_values: dict[str, Any]) -> dict[str, str | list[str]]:
    """A modal's `view.state.values` as neutral form values (block id = field id)."""
    values: dict[str, str | list[str]] = {}
    for block_id, actions in (state_values or {}).items():
        for _action, element in (actions or {}).items():
            kind = element.get("type")
            if kind in ("radio_buttons", "static_select"):
                option = element.get("selected_option") or {}
                values[block_id] = option.get("value") or ""
            elif kind in ("checkboxes", "multi_static_select"):
                values[block_id] = [o["value"] for o in element.get("selected_options") or []]
            elif kind == "datepicker":
                values[block_id] = element.get("selected_date") or ""
            else:
                values[block_id] = element.get("value") or ""
    return values
