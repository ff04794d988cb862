"""Fetching a chat file: the size limit before and during the download, only allowed hosts,
redirects, time limits, and reading Slack's and Teams' descriptions of the files."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace

import aiohttp
import pytest
from aiohttp import web

from bot.chat_files import FileFetcher, Hosts, OfferedFile
from bot.core.turn import Attachment, AttachmentProblem
from bot.slack.files import offered_in as slack_offered
from bot.slack.gate import shape_problem
from bot.teams.files import DOWNLOAD_INFO
from bot.teams.files import has_files as teams_has_files
from bot.teams.files import offered_in as teams_offered

LIMIT = 2048


class Server:
    """A tiny file server on loopback that counts requests and answers as told."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self.url = ""
        self.port = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, request.headers.get("Authorization")))
        name = request.match_info["name"]
        if name == "small.txt":
            return web.Response(body=b"hello", content_type="text/plain")
        if name == "huge.bin":  # says nothing of its length, and keeps sending
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            for _ in range(100):
                await response.write(b"x" * 1024)
            return response
        if name == "long.bin":
            return web.Response(body=b"y" * (LIMIT * 4))
        if name == "page.pdf":
            return web.Response(text="<html>Sign in</html>", content_type="text/html")
        if name == "slow.txt":
            await asyncio.sleep(2)
            return web.Response(body=b"late")
        if name == "away.txt":
            raise web.HTTPFound("http://localhost:1/elsewhere.txt")
        if name == "here.txt":
            raise web.HTTPFound(f"{self.url}small.txt")
        return web.Response(status=int(name))


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    served = Server()
    app = web.Application()
    app.router.add_get("/{name}", served.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    served.port = runner.addresses[0][1]
    served.url = f"http://127.0.0.1:{served.port}/"
    yield served
    await runner.cleanup()


def offer(server: Server, name: str, size: int | None = None, **headers: str) -> OfferedFile:
    return OfferedFile(name, "application/pdf", f"{server.url}{name}", size, headers)


async def fetch(offered: OfferedFile, *, seconds: float = 5.0) -> Attachment:
    async with aiohttp.ClientSession() as session:
        return await FileFetcher(LIMIT, seconds).fetch(session, offered, Hosts(["127.0.0.1"]))


async def test_a_file_within_the_limit_is_fetched_with_its_header(server: Server) -> None:
    got = await fetch(offer(server, "small.txt", 5, Authorization="Bearer t"))
    assert got.data == b"hello" and got.problem is None
    assert server.requests == [("/small.txt", "Bearer t")]


async def test_a_file_said_to_be_too_big_is_refused_without_asking_for_it(server: Server) -> None:
    got = await fetch(offer(server, "small.txt", LIMIT + 1))
    assert got.problem is AttachmentProblem.TOO_BIG and got.data == b""
    assert server.requests == []


async def test_a_server_that_keeps_sending_is_cut_off_at_the_limit(server: Server) -> None:
    got = await fetch(offer(server, "huge.bin"))
    assert got.problem is AttachmentProblem.TOO_BIG and got.data == b""
    got = await fetch(offer(server, "long.bin"))
    assert got.problem is AttachmentProblem.TOO_BIG


async def test_a_body_longer_than_the_platform_said_is_unreadable(server: Server) -> None:
    got = await fetch(offer(server, "small.txt", 3))
    assert got.problem is AttachmentProblem.UNREADABLE and got.data == b""


@pytest.mark.parametrize("name", ["429", "500", "404", "page.pdf"])
async def test_errors_and_sign_in_pages_are_unreadable(server: Server, name: str) -> None:
    got = await fetch(offer(server, name))
    assert got.problem is AttachmentProblem.UNREADABLE and got.data == b""


async def test_a_slow_server_is_given_up_on(server: Server) -> None:
    got = await fetch(offer(server, "slow.txt"), seconds=0.3)
    assert got.problem is AttachmentProblem.UNREADABLE


async def test_other_hosts_are_never_asked_nor_redirected_to(server: Server) -> None:
    elsewhere = OfferedFile("a.txt", "text/plain", f"http://localhost:{server.port}/small.txt")
    got = await fetch(elsewhere)
    assert got.problem is AttachmentProblem.UNREADABLE
    assert server.requests == []
    got = await fetch(offer(server, "away.txt"))
    assert got.problem is AttachmentProblem.UNREADABLE
    assert [path for path, _ in server.requests] == ["/away.txt"]


async def test_a_redirect_on_the_same_host_is_followed(server: Server) -> None:
    got = await fetch(offer(server, "here.txt", Authorization="Bearer t"))
    assert got.data == b"hello"


async def test_the_time_limit_is_for_all_the_files_together(server: Server) -> None:
    async with aiohttp.ClientSession() as session:
        hosts = Hosts(["127.0.0.1"])
        got = await FileFetcher(LIMIT, 0.5).fetch_all(
            session, [(offer(server, "slow.txt"), hosts), (offer(server, "small.txt"), hosts)]
        )
    assert [a.problem for a in got] == [AttachmentProblem.UNREADABLE] * 2
    assert [path for path, _ in server.requests] == ["/slow.txt"]


def test_hosts_match_exactly_or_under_a_dotted_name() -> None:
    hosts = Hosts.parse("files.slack.com, .sharepoint.com")
    assert hosts.allow("https://files.slack.com/files-pri/T1-F1/a.pdf")
    assert hosts.allow("https://council-my.sharepoint.com/personal/x")
    assert not hosts.allow("https://sharepoint.com.evil.example/x")
    assert not hosts.allow("https://evilfiles.slack.com/x")
    assert not hosts.allow("http://files.slack.com/x")  # the token must not go in clear
    assert not hosts.allow("ftp://files.slack.com/x")
    assert not hosts.allow("not a url")
    assert Hosts(["127.0.0.1"]).allow("http://127.0.0.1:9/x")


def test_slack_files_are_read_from_the_event() -> None:
    event = {
        "files": [
            {
                "name": "voice.m4a",
                "mimetype": "audio/mp4",
                "size": 12,
                "url_private": "https://files.slack.com/a",
                "url_private_download": "https://files.slack.com/a/download",
            },
            {"name": "gone.pdf", "mode": "tombstone", "url_private": "https://files.slack.com/b"},
        ]
    }
    voice, gone = slack_offered(event, "xoxb-1")
    assert voice.url == "https://files.slack.com/a/download"
    assert (voice.filename, voice.content_type, voice.size) == ("voice.m4a", "audio/mp4", 12)
    assert voice.headers == {"Authorization": "Bearer xoxb-1"}
    assert gone.url is None and gone.content_type == "application/octet-stream"


def test_teams_files_and_images_are_told_apart_from_cards() -> None:
    attachments = [
        SimpleNamespace(content_type="application/vnd.microsoft.card.adaptive", content={}),
        SimpleNamespace(content_type="text/html", content="<p>hi</p>"),
        SimpleNamespace(
            content_type=DOWNLOAD_INFO,
            name="report.pdf",
            content={"downloadUrl": "https://x.sharepoint.com/d", "fileType": "pdf", "size": 9},
        ),
        SimpleNamespace(content_type="image/*", content_url="https://smba.example/v3/a/1"),
    ]
    offered = teams_offered(attachments)
    assert [(f.filename, f.content_type, f.url, f.size, on) for f, on in offered] == [
        ("report.pdf", "application/pdf", "https://x.sharepoint.com/d", 9, False),
        ("image.png", "image/png", "https://smba.example/v3/a/1", None, True),
    ]
    assert teams_has_files(attachments)
    assert not teams_has_files(attachments[:2])


def test_the_slack_gate_checks_the_files_it_will_read() -> None:
    def body(files: object) -> dict[str, object]:
        event = {"type": "message", "channel_type": "im", "files": files}
        return {"type": "event_callback", "event_id": "Ev1", "event": event}

    assert shape_problem(body([{"name": "a.pdf", "size": 3, "url_private": "https://x"}])) is None
    assert (
        shape_problem(body([{"name": "a.pdf", "size": "3"}]))
        == "event.files.size has the wrong type"
    )
    assert shape_problem(body([{"url_private_download": 5}])) is not None
    assert shape_problem(body("a.pdf")) == "event.files is not a list"
