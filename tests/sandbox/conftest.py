"""Fixtures shared by the stand-in's protocol tests: the emulator, a real slack_sdk client
pointed at it, and a fake app that receives its signed requests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.emulator import SlackEmulator
from tests.conftest import BOT_TOKEN
from tests.sandbox.test_delivery import FakeApp

Slack = tuple[SlackEmulator, TestServer]


@pytest.fixture
def emulator(slack_server: Slack) -> SlackEmulator:
    return slack_server[0]


@pytest.fixture
def api_url(slack_server: Slack) -> str:
    return str(slack_server[1].make_url("/api/"))


@pytest.fixture
def client(api_url: str) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=api_url)


@pytest.fixture
async def app(emulator: SlackEmulator) -> AsyncIterator[FakeApp]:
    fake = FakeApp()
    server = TestServer(fake.make_app(), host="127.0.0.1")
    await server.start_server()
    emulator.app_url = str(server.make_url(""))
    yield fake
    fake.release.set()
    await server.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
