"""Running the real app on loopback, in-process or as a `convene serve` subprocess."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningApp:
    runner: web.AppRunner
    url: str

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_app(app: web.Application, port: int | None = None) -> RunningApp:
    runner = web.AppRunner(app)
    await runner.setup()
    port = port or free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return RunningApp(runner=runner, url=f"http://127.0.0.1:{port}")


class ServeProcess:
    """`convene serve` in a child process, as a person would start it."""

    def __init__(self, env: Mapping[str, str], cwd: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.env = {
            **os.environ,
            **env,
            "CONVENE_PORT": str(self.port),
            "CONVENE_HOST": "127.0.0.1",
        }
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / f"serve-{self.port}.log"

    async def start(self, *args: str, wait: float = 30) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - starting it is instant
            [sys.executable, "-m", "bot.cli", "serve", *args],
            env=self.env,
            cwd=self.cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + wait
        async with aiohttp.ClientSession() as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"serve exited early:\n{self.log.read_text()}")
                try:
                    async with client.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"serve did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        """Stop it hard, as a crash or an OOM kill would."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def terminate(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
