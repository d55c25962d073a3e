"""One running ShareTrail (real aiohttp server, real bolt app, SQLite file) wired to the
sandbox's Slack Web API emulator, which also delivers signed requests back to the app."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port

from bot.service import ShareTrail
from bot.settings import Settings
from handlers.main import Runtime, create_app, start_runtime, stop_runtime
from sandbox.emulator import SlackEmulator

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-sandbox-token"
ADMIN = "U_ADMIN"
EMPLOYEE = "U_ANN"
CJK_EMPLOYEE = "U_LI"
SALES = ("U_SALES1", "U_SALES2")
MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@dataclass
class Stack:
    slack: SlackEmulator
    app_url: str
    runtime: Runtime
    http: aiohttp.ClientSession

    @property
    def services(self) -> ShareTrail:
        return self.runtime.services

    async def settle(self) -> None:
        """Wait for the work the app does after responding (views, DMs)."""
        await self.services.settle()


def make_settings(tmp_path: Path, api_url: str, app_port: int, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": api_url,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'sharetrail.db'}",
        "public_base_url": f"http://127.0.0.1:{app_port}",
        "host": "127.0.0.1",
        "port": app_port,
        "admin_user_ids": ADMIN,
        "sharetrail_secret": "test-sharetrail-secret",
        "slack_pacing_scale": 50.0,  # the stand-in has no limits unless a test sets them
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def slack_server() -> AsyncIterator[tuple[SlackEmulator, TestServer]]:
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN)
    server = TestServer(emulator.make_app(), host="127.0.0.1")
    await server.start_server()
    emulator.base_url = str(server.make_url("")).rstrip("/")
    yield emulator, server
    await server.close()


@pytest.fixture
async def stack(
    tmp_path: Path, slack_server: tuple[SlackEmulator, TestServer]
) -> AsyncIterator[Stack]:
    emulator, server = slack_server
    port = unused_port()
    settings = make_settings(tmp_path, str(server.make_url("/api/")), port)
    runtime = await start_runtime(settings)
    runtime.services.rng = random.Random(1234)
    app = create_app(settings, runtime=runtime)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    app_url = f"http://127.0.0.1:{port}"
    emulator.app_url = app_url
    # unsafe=True: accept cookies from an IP host (127.0.0.1), as a browser does.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield Stack(emulator, app_url, runtime, http)
    await runner.cleanup()
    await stop_runtime(runtime)
