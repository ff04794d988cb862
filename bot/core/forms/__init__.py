"""Platform-neutral form engine: definitions, answer parsing, validation and chat.

Doors (web, Slack, Teams, chat) import from here rather than from the
submodules, so the internals can move without breaking them.
"""

from bot.core.forms.chat import (
    FINISHED_MESSAGE,
    STOPPED_MESSAGE,
    ChatOutcome,
    ChatState,
    chat_answer,
    chat_prompt,
    start_chat,
)
from bot.core.forms.model import (
    CHOICE_TYPES,
    Choice,
    Field,
    FieldType,
    FormDefinition,
    Page,
    TextFormat,
    definition_checksum,
    load_definition,
    load_definition_file,
)
from bot.core.forms.parsing import (
    NOT_ANSWERED,
    AnswerError,
    format_answer,
    is_blank,
    parse_answer,
    read_date_time,
    to_raw,
)
from bot.core.forms.validation import (
    PageResult,
    answer_warning,
    error_summary,
    required_message,
    validate_all,
    validate_page,
    what_must_be_answered,
)

__all__ = [
    "CHOICE_TYPES",
    "FINISHED_MESSAGE",
    "NOT_ANSWERED",
    "STOPPED_MESSAGE",
    "AnswerError",
    "ChatOutcome",
    "ChatState",
    "Choice",
    "Field",
    "FieldType",
    "FormDefinition",
    "Page",
    "PageResult",
    "TextFormat",
    "answer_warning",
    "chat_answer",
    "chat_prompt",
    "definition_checksum",
    "error_summary",
    "format_answer",
    "is_blank",
    "load_definition",
    "load_definition_file",
    "parse_answer",
    "read_date_time",
    "required_message",
    "start_chat",
    "to_raw",
    "validate_all",
    "validate_page",
    "what_must_be_answered",
]
