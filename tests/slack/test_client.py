"""The Web API client the app builds (handlers/slack/app.py:make_client), against the
Slack stand-in: reads are retried after a 500 or a dropped connection, posts never
(a post whose answer was lost may have landed: a blind re-send would make a copy)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.app import make_client
from handlers.slack.errors import slack_error
from sandbox.emulator import SlackEmulator
from tests.conftest import BOT_TOKEN

Slack = tuple[SlackEmulator, TestServer]


@pytest.fixture
async def client(slack_server: Slack) -> AsyncIterator[AsyncWebClient]:
    async with aiohttp.ClientSession() as session:
        yield make_client(BOT_TOKEN, str(slack_server[1].make_url("/api/")), session=session)


@pytest.mark.parametrize("fault", ["http_500_after", "dropped"])
async def test_a_post_is_never_resent_blindly(
    client: AsyncWebClient, slack_server: Slack, fault: str
) -> None:
    emulator = slack_server[0]
    emulator.faults.add("chat.postMessage", fault)
    with pytest.raises((SlackApiError, aiohttp.ClientError)):
        await client.chat_postMessage(channel="C_MARKETING", text="once")
    assert [m.text for m in emulator.workspace.history("C_MARKETING")] == ["once"]
    assert len(emulator.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize("fault", ["http_500", "dropped"])
async def test_reads_are_retried(client: AsyncWebClient, slack_server: Slack, fault: str) -> None:
    emulator = slack_server[0]
    emulator.faults.add("conversations.history", fault)
    response = await client.conversations_history(channel="C_MARKETING")
    assert response["ok"]
    assert len(emulator.calls_to("conversations.history")) == 2


async def test_a_rate_limited_post_waits_and_goes_again(
    client: AsyncWebClient, slack_server: Slack
) -> None:
    """A 429 means Slack did nothing: waiting out Retry-After and re-sending is safe."""
    emulator = slack_server[0]
    emulator.faults.add("chat.postMessage", "ratelimited", retry_after=0)
    await client.chat_postMessage(channel="C_MARKETING", text="after the wait")
    assert [m.text for m in emulator.workspace.history("C_MARKETING")] == ["after the wait"]
    assert len(emulator.calls_to("chat.postMessage")) == 2


async def test_a_5xx_page_reads_like_a_slack_error(
    client: AsyncWebClient, slack_server: Slack
) -> None:
    """Slack's 5xx answers are not JSON (slack_sdk's `response.get` raises on them); the
    error still has a code."""
    slack_server[0].faults.add("chat.postMessage", "http_500")
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C_MARKETING", text="x")
    assert slack_error(caught.value) == "http_500"
