"""Web pages a feature offers, registered once, served by the web door.

The door owns sign-in, the site's layout and HTTP; the feature owns what the page says
and who may see it. A page handler gets a neutral `PageRequest` and answers with
`PageContent` (a template name and its data, or data to download as JSON) or a
`PageRefusal` the door shows as its own problem page. So a feature's page (the engagement
record) is written in the feature, not in the door.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from gettext import NullTranslations
from typing import Any, Literal

from bot.core.turn import Actor, Attachment

#: html: a page in the site's layout; json: data (to read, or to download); file: bytes to
#: download (a CSV or spreadsheet), with their content type.
PageFormat = Literal["html", "json", "file"]


@dataclass(frozen=True)
class PageRequest:
    """Who asked (always signed in, except on a public page, where it may be None), the
    path's parameters, and the format wanted."""

    actor: Actor | None
    params: Mapping[str, str]
    format: PageFormat
    #: The fields of a posted form (an anonymous page's POST); empty for a GET.
    form: Mapping[str, str] = field(default_factory=dict)
    #: Files posted with an anonymous page's form (`multipart/form-data`), read by the door
    #: with the same hard limits as a command's files; the feature checks the bytes.
    files: tuple[Attachment, ...] = ()
    #: The query string's fields (an anonymous page's `?lang=cy&view=easy`: the choice
    #: travels in the link, since these pages set no cookie).
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PageContent:
    """A page to show: `template` with `data` (html), `data` as JSON (a download when it has
    a `download_name`), or `body` as a file named `download_name` of `content_type`."""

    title: str
    data: dict[str, Any]
    template: str | None = None
    download_name: str | None = None
    body: bytes | None = None
    content_type: str | None = None
    #: An html page's HTTP status: 422 when a posted form comes back with a problem.
    status: int = 200
    #: The words of an html page in another language (`{% trans %}` in its template), or None
    #: for English as written.
    translations: NullTranslations | None = None
    #: Send the browser on to this path instead (303 See Other): a short link's page.
    redirect: str | None = None


@dataclass(frozen=True)
class PageRefusal:
    """A plain refusal the door shows as a problem page."""

    status: int
    title: str
    lines: list[str] = field(default_factory=list)
    #: A refusal in another language (an anonymous page's `?lang=cy`): the page's `lang`
    #: tag, and where the button goes and what it says (None: the start, in English).
    html_lang: str | None = None
    next_url: str | None = None
    next_label: str | None = None


PageHandler = Callable[[PageRequest, Any], Awaitable[PageContent | PageRefusal]]


@dataclass(frozen=True)
class WebPage:
    """A route: `path` in aiohttp's syntax, its format, and the handler (given the
    request and the app's services). A `public` page is served without signing in (open
    data): its handler decides everything from the path alone.

    An `anonymous` page is for people with no account at all (a feedback point's page):
    the door loads no session and sets no cookie, checks no CSRF token (the feature signs
    its own form, see `handlers/feedback/public.py`), and counts POSTs per client address
    and per page against the settings' limits without telling the feature the address.
    Only an anonymous page may take a POST."""

    path: str
    format: PageFormat
    handler: PageHandler
    public: bool = False
    anonymous: bool = False
    method: Literal["GET", "POST"] = "GET"
    #: An anonymous page's own words for the door's refusals before the handler runs (413
    #: too much sent, 429 too many, 400 unreadable, 503 database down), given the status
    #: and the request (its query says the page's language): None keeps the door's words.
    refusals: Callable[[int, PageRequest, Any], PageRefusal | None] | None = None

    def __post_init__(self) -> None:
        if self.method == "POST" and not self.anonymous:
            raise ValueError(f"{self.path}: only an anonymous page takes a POST")
