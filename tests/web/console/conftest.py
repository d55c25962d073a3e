"""The running app with Sign in with Slack configured, and people signing in through the
stand-in's authorize page, each in their own browser-like session (cookie jar)."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from handlers.main import create_app, start_runtime, stop_runtime
from sandbox.emulator import SlackEmulator
from tests.conftest import Stack, listening_socket, make_settings

CLIENT_ID = "test.console"
CLIENT_SECRET = "test-console-secret"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def console_stack(
    tmp_path: Path, slack_server: tuple[SlackEmulator, TestServer]
) -> AsyncIterator[Stack]:
    emulator, server = slack_server
    emulator.openid.register_client(CLIENT_ID, CLIENT_SECRET)
    sock = listening_socket()
    port = sock.getsockname()[1]
    settings = make_settings(
        tmp_path,
        str(server.make_url("/api/")),
        port,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
    )
    runtime = await start_runtime(settings)
    runtime.services.rng = random.Random(1234)
    runner = web.AppRunner(create_app(settings, runtime=runtime), access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    emulator.app_url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield Stack(emulator, f"http://127.0.0.1:{port}", runtime, http)
    await runner.cleanup()
    await stop_runtime(runtime)


@dataclass
class Browser:
    """One person's browser: its own cookie jar, never following redirects by itself."""

    http: aiohttp.ClientSession
    app_url: str

    async def get(self, path: str) -> tuple[int, str, str]:
        """(status, body, Location) of a GET on the app."""
        async with self.http.get(self.app_url + path, allow_redirects=False) as response:
            return response.status, await response.text(), response.headers.get("Location", "")

    async def post(self, path: str, data: dict[str, str]) -> tuple[int, str, str]:
        async with self.http.post(
            self.app_url + path, data=data, allow_redirects=False
        ) as response:
            return response.status, await response.text(), response.headers.get("Location", "")

    async def csrf(self, path: str = "/console") -> str:
        status, body, _ = await self.get(path)
        assert status == 200, body
        match = CSRF.search(body)
        assert match, body
        return match.group(1)


async def sign_in_through_slack(stack: Stack, http: aiohttp.ClientSession, user_id: str) -> str:
    """Login page → the stand-in's authorize page → pick `user_id` → the app's callback.
    Returns the page the callback sent the browser to."""
    async with http.get(f"{stack.app_url}/console/login", allow_redirects=False) as page:
        assert page.status == 200
        assert "Sign in with Slack" in await page.text()
    async with http.get(f"{stack.app_url}/console/login/slack", allow_redirects=False) as start:
        assert start.status == 303
        authorize = start.headers["Location"]
    assert authorize.startswith(stack.slack.base_url + "/openid/connect/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    assert query["scope"] == "openid profile email" and query["client_id"] == CLIENT_ID
    async with http.get(authorize) as page:
        assert page.status == 200
        assert f'value="{user_id}"' in await page.text()
    async with http.post(
        stack.slack.base_url + "/openid/connect/authorize",
        data={**query, "user": user_id},
        allow_redirects=False,
    ) as choice:
        assert choice.status == 302
        callback = choice.headers["Location"]
    assert callback.startswith(f"{stack.app_url}/console/callback?")
    async with http.get(callback, allow_redirects=False) as back:
        assert back.status == 303, await back.text()
        return back.headers["Location"]


SignIn = Callable[[str], Awaitable[Browser]]


@pytest.fixture
async def signed_in(console_stack: Stack) -> AsyncIterator[SignIn]:
    """sign_in(user_id) -> that person's browser, signed in through the stand-in."""
    sessions: list[aiohttp.ClientSession] = []

    async def sign_in(user_id: str) -> Browser:
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(http)
        assert await sign_in_through_slack(console_stack, http, user_id) == "/console"
        return Browser(http, console_stack.app_url)

    yield sign_in
    for http in sessions:
        await http.close()
