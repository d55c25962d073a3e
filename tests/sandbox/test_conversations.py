"""The stand-in reads conversations as strictly as Slack: conversations.history holds
top-level messages only, conversations.replies a thread, metadata only when asked for
(include_all_metadata), timeline paging with oldest/latest/inclusive/limit/cursor, and
private channels are invisible to a bot outside them. Driven with the real slack_sdk."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.emulator import SlackEmulator
from sandbox.workspace import BOT_USER_ID, Channel
from tests.conftest import BOT_TOKEN

Slack = tuple[SlackEmulator, TestServer]
STAMP = {"event_type": "sharetrail", "event_payload": {"key": "k1"}}


@pytest.fixture
def emulator(slack_server: Slack) -> SlackEmulator:
    return slack_server[0]


@pytest.fixture
def client(slack_server: Slack) -> AsyncWebClient:
    # No retry handlers: each call here is exactly one request.
    url = str(slack_server[1].make_url("/api/"))
    return AsyncWebClient(token=BOT_TOKEN, base_url=url, retry_handlers=[])


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call  # type: ignore[misc]
    return str(caught.value.response["error"])


async def post(client: AsyncWebClient, text: str, **extra: object) -> str:
    response = await client.chat_postMessage(channel="C_MARKETING", text=text, **extra)
    return str(response["ts"])


async def test_history_never_returns_thread_replies(client: AsyncWebClient) -> None:
    parent = await post(client, "parent")
    await post(client, "reply", thread_ts=parent, metadata=STAMP)
    history = await client.conversations_history(channel="C_MARKETING", include_all_metadata=True)
    assert [m["text"] for m in history["messages"]] == ["parent"]


async def test_replies_are_the_parent_then_its_replies(client: AsyncWebClient) -> None:
    parent = await post(client, "parent")
    first = await post(client, "first", thread_ts=parent)
    await post(client, "elsewhere")
    await post(client, "second", thread_ts=parent)
    for ts in (parent, first):  # the parent's ts or any reply's gives the whole thread
        replies = await client.conversations_replies(channel="C_MARKETING", ts=ts)
        assert [m["text"] for m in replies["messages"]] == ["parent", "first", "second"]
    alone = await client.conversations_replies(channel="C_MARKETING", ts=await post(client, "x"))
    assert [m["text"] for m in alone["messages"]] == ["x"]
    assert await error_of(client.conversations_replies(channel="C_MARKETING", ts="1.5")) == (
        "thread_not_found"
    )


async def test_metadata_only_with_include_all_metadata(client: AsyncWebClient) -> None:
    parent = await post(client, "parent", metadata=STAMP)
    await post(client, "reply", thread_ts=parent, metadata=STAMP)
    plain = await client.conversations_history(channel="C_MARKETING")
    assert "metadata" not in plain["messages"][0]
    full = await client.conversations_history(channel="C_MARKETING", include_all_metadata=True)
    assert full["messages"][0]["metadata"] == STAMP
    thread = await client.conversations_replies(channel="C_MARKETING", ts=parent)
    assert all("metadata" not in m for m in thread["messages"])
    thread = await client.conversations_replies(
        channel="C_MARKETING", ts=parent, include_all_metadata=True
    )
    assert [m["metadata"] for m in thread["messages"]] == [STAMP, STAMP]


async def test_history_pages_by_time_and_cursor(client: AsyncWebClient) -> None:
    ts = [await post(client, f"m{n}") for n in range(5)]
    page = await client.conversations_history(channel="C_MARKETING", limit=2)
    assert [m["text"] for m in page["messages"]] == ["m4", "m3"]  # newest first
    assert page["has_more"] is True
    cursor = page["response_metadata"]["next_cursor"]
    page = await client.conversations_history(channel="C_MARKETING", limit=2, cursor=cursor)
    assert [m["text"] for m in page["messages"]] == ["m2", "m1"]
    cursor = page["response_metadata"]["next_cursor"]
    page = await client.conversations_history(channel="C_MARKETING", limit=2, cursor=cursor)
    assert [m["text"] for m in page["messages"]] == ["m0"]
    assert page["has_more"] is False and page["response_metadata"]["next_cursor"] == ""

    between = await client.conversations_history(channel="C_MARKETING", oldest=ts[1], latest=ts[3])
    assert [m["text"] for m in between["messages"]] == ["m2"]  # bounds excluded
    inclusive = await client.conversations_history(
        channel="C_MARKETING", oldest=ts[1], latest=ts[3], inclusive=True
    )
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1"]
    assert await error_of(client.conversations_history(channel="C_MARKETING", cursor="bogus")) == (
        "invalid_cursor"
    )


async def test_replies_page_by_time_and_cursor(client: AsyncWebClient) -> None:
    parent = await post(client, "parent")
    ts = [await post(client, f"r{n}", thread_ts=parent) for n in range(4)]
    page = await client.conversations_replies(channel="C_MARKETING", ts=parent, limit=2)
    assert [m["text"] for m in page["messages"]] == ["parent", "r0", "r1"]
    cursor = page["response_metadata"]["next_cursor"]
    page = await client.conversations_replies(
        channel="C_MARKETING", ts=parent, limit=2, cursor=cursor
    )
    assert [m["text"] for m in page["messages"]] == ["r2", "r3"]
    assert page["has_more"] is False
    later = await client.conversations_replies(channel="C_MARKETING", ts=parent, oldest=ts[1])
    assert [m["text"] for m in later["messages"]] == ["parent", "r2", "r3"]


async def test_a_private_channel_is_not_found_until_the_bot_is_invited(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    secret = emulator.workspace.add_channel(
        Channel("C_SECRET", "secret", ["U_ADMIN", "U_ANN"], is_private=True)
    )
    for call in (
        client.chat_postMessage(channel="C_SECRET", text="x"),
        client.conversations_history(channel="C_SECRET"),
        client.conversations_info(channel="C_SECRET"),
        client.conversations_join(channel="C_SECRET"),
    ):
        assert await error_of(call) == "channel_not_found"
    listed = await client.conversations_list()
    assert "C_SECRET" not in [c["id"] for c in listed["channels"]]

    emulator.workspace.join(secret, BOT_USER_ID)  # /invite @ShareTrail
    await client.chat_postMessage(channel="C_SECRET", text="hello")
    info = await client.conversations_info(channel="C_SECRET")
    assert info["channel"]["is_private"] is True


async def test_the_bot_reads_only_conversations_it_is_in(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    emulator.workspace.add_channel(Channel("C_OPEN", "open", ["U_ANN"]))
    assert await error_of(client.conversations_history(channel="C_OPEN")) == "not_in_channel"
    # A DM is read by its id (conversations.open gives it), not by the user's id.
    await client.chat_postMessage(channel="U_ANN", text="hi")
    assert await error_of(client.conversations_history(channel="U_ANN")) == "channel_not_found"
    dm = (await client.conversations_open(users="U_ANN"))["channel"]["id"]
    history = await client.conversations_history(channel=dm)
    assert [m["text"] for m in history["messages"]] == ["hi"]


@pytest.mark.parametrize("fault", ["http_500_after", "dropped"])
async def test_answers_lost_after_the_effect(
    client: AsyncWebClient, emulator: SlackEmulator, fault: str
) -> None:
    """The message is stored once; the client gets a 500 or a closed connection."""
    emulator.faults.add("chat.postMessage", fault)
    with pytest.raises((SlackApiError, aiohttp.ClientError)):
        await client.chat_postMessage(channel="C_MARKETING", text="landed")
    assert [m.text for m in emulator.workspace.history("C_MARKETING")] == ["landed"]
    assert emulator.calls_to("chat.postMessage")[0].fault == fault
