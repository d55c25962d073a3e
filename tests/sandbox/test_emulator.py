"""Protocol tests for the Slack Web API emulator, driven with the real slack_sdk client
so every shape is the one the SDK (and therefore Bolt) expects."""

from __future__ import annotations

import asyncio
import io
import time
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from PIL import Image
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

import sandbox.emulator
from sandbox.emulator import TRIGGER_TTL, SlackEmulator
from sandbox.workspace import Message
from tests.conftest import BOT_TOKEN
from tests.sandbox.test_delivery import FakeApp


async def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


async def error_of(call: Any) -> str:
    return str((await slack_error(call)).response["error"])


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 4), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


# auth ------------------------------------------------------------------------------


async def test_auth_test_shape(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    response = await client.auth_test()
    assert response.status_code == 200
    assert response["ok"] is True
    assert response["user_id"] == "U_BOT"
    assert response["bot_id"] == "B_SHARETRAIL"
    assert response["team_id"] == "T_SANDBOX"
    assert response["url"].endswith("/")
    [call] = emulator.calls
    assert (call.method, call.token, call.ok) == ("auth.test", BOT_TOKEN, True)


async def test_invalid_token(api_url: str, emulator: SlackEmulator) -> None:
    intruder = AsyncWebClient(token="xoxb-somebody-else", base_url=api_url)
    assert await error_of(intruder.auth_test()) == "invalid_auth"
    assert await error_of(intruder.chat_postMessage(channel="C_GENERAL", text="x")) == (
        "invalid_auth"
    )
    assert emulator.workspace.history("C_GENERAL") == []
    assert [(c.ok, c.error) for c in emulator.calls] == [(False, "invalid_auth")] * 2


async def test_missing_token(api_url: str, http: aiohttp.ClientSession) -> None:
    anonymous = AsyncWebClient(base_url=api_url)
    assert await error_of(anonymous.auth_test()) == "not_authed"
    async with http.post(api_url + "auth.test", data={"token": BOT_TOKEN}) as response:
        assert (await response.json())["ok"] is True  # token as a form field also counts


async def test_unknown_method(client: AsyncWebClient) -> None:
    error = await slack_error(client.api_call("chat.teleport", json={"channel": "C_GENERAL"}))
    assert error.response["error"] == "unknown_method"
    assert error.response.status_code == 200


# users -----------------------------------------------------------------------------


async def test_users_info_for_a_seeded_user(client: AsyncWebClient) -> None:
    user = (await client.users_info(user="U_LI"))["user"]
    assert user["id"] == "U_LI"
    assert user["real_name"] == "李雷"
    assert user["deleted"] is False
    assert user["tz"] == "Asia/Shanghai"
    profile = user["profile"]
    assert profile["real_name"] == "李雷"
    assert profile["title"] == "市场经理"
    assert profile["phone"] == "+86 138 0013 8000"
    assert profile["email"] == "lilei@example.com"
    ann = (await client.users_info(user="U_ANN"))["user"]
    assert (ann["real_name"], ann["profile"]["title"]) == ("Ann Lee", "Account Manager")
    assert ann["profile"]["initials"] == "AL"


async def test_users_info_gives_the_locale_only_when_asked(client: AsyncWebClient) -> None:
    assert "locale" not in (await client.users_info(user="U_LI"))["user"]
    li = (await client.users_info(user="U_LI", include_locale=True))["user"]
    ann = (await client.users_info(user="U_ANN", include_locale=True))["user"]
    assert (li["locale"], li["tz"], ann["locale"]) == ("zh-CN", "Asia/Shanghai", "en-US")


async def test_users_info_unknown_user(client: AsyncWebClient) -> None:
    assert await error_of(client.users_info(user="U_NOBODY")) == "user_not_found"


async def test_users_list(client: AsyncWebClient) -> None:
    response = await client.users_list()
    members = {m["id"]: m for m in response["members"]}
    assert {"U_ADMIN", "U_LI", "U_HAN", "U_ANN", "U_SALES1", "U_SALES2", "U_GONE"} <= set(members)
    assert members["U_GONE"]["deleted"] is True
    assert members["U_BOT"]["is_bot"] is True
    assert members["U_ADMIN"]["is_admin"] is True
    assert members["U_GUEST"]["is_restricted"] is True
    assert response["response_metadata"]["next_cursor"] == ""


async def test_conversations_open(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    opened = await client.conversations_open(users=["U_ANN"])
    assert opened["channel"]["id"] == "D_U_ANN"
    again = await client.conversations_open(users="U_ANN")
    assert again["channel"]["id"] == "D_U_ANN"
    assert [c.id for c in emulator.workspace.channels.values()].count("D_U_ANN") == 1
    assert await error_of(client.conversations_open(users=["U_GONE"])) == "user_disabled"
    assert await error_of(client.conversations_open(users=["U_NOBODY"])) == "user_not_found"
    assert "D_U_GONE" not in emulator.workspace.channels


# chat ------------------------------------------------------------------------------


async def test_post_message_to_a_channel(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*李雷* shared"}}]
    response = await client.chat_postMessage(
        channel="C_MARKETING", text="李雷 shared", blocks=blocks
    )
    assert response["channel"] == "C_MARKETING"
    assert response["message"]["text"] == "李雷 shared"
    assert response["message"]["bot_id"] == "B_SHARETRAIL"
    assert response["message"]["blocks"] == blocks
    [message] = emulator.workspace.history("C_MARKETING")
    assert (message.ts, message.user, message.blocks) == (response["ts"], "U_BOT", blocks)
    assert emulator.workspace.history("C_GENERAL") == []


async def test_post_message_to_a_user_lands_in_the_dm(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    response = await client.chat_postMessage(channel="U_HAN", text="你的分享卡片")
    assert response["channel"] == "D_U_HAN"
    assert [m.text for m in emulator.dm_messages("U_HAN")] == ["你的分享卡片"]
    assert emulator.dm_messages("U_ANN") == []


async def test_post_message_errors(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    assert await error_of(client.chat_postMessage(channel="C_NOWHERE", text="x")) == (
        "channel_not_found"
    )
    not_blocks = [{"text": {"type": "plain_text", "text": "no type"}}]
    assert (
        await error_of(client.chat_postMessage(channel="C_GENERAL", text="x", blocks=not_blocks))
        == "invalid_blocks"
    )
    too_many = [{"type": "divider"}] * 51
    assert (
        await error_of(client.chat_postMessage(channel="C_GENERAL", text="x", blocks=too_many))
        == "invalid_blocks"
    )
    with pytest.warns(UserWarning, match="top-level `text`"):
        assert await error_of(client.chat_postMessage(channel="C_GENERAL", text="")) == "no_text"
    assert (
        await error_of(client.chat_postMessage(channel="C_GENERAL", text="x" * 40_001))
        == "msg_too_long"
    )
    emulator.workspace.channels["C_GENERAL"].members.remove("U_BOT")
    assert await error_of(client.chat_postMessage(channel="C_GENERAL", text="x")) == (
        "not_in_channel"
    )
    await client.conversations_join(channel="C_GENERAL")
    await client.chat_postMessage(channel="C_GENERAL", text="joined")
    assert [m.text for m in emulator.workspace.history("C_GENERAL")] == ["joined"]


async def test_chat_update(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    posted = await client.chat_postMessage(channel="C_MARKETING", text="draft")
    updated = await client.chat_update(channel="C_MARKETING", ts=posted["ts"], text="final")
    assert (updated["ts"], updated["text"]) == (posted["ts"], "final")
    [message] = emulator.workspace.history("C_MARKETING")
    assert (message.text, message.edited) == ("final", True)
    assert (
        await error_of(client.chat_update(channel="C_MARKETING", ts="1.000001", text="x"))
        == "message_not_found"
    )
    theirs = emulator.workspace.post(
        Message("C_MARKETING", emulator.workspace.new_ts(), "U_ANN", "mine")
    )
    assert (
        await error_of(client.chat_update(channel="C_MARKETING", ts=theirs.ts, text="x"))
        == "cant_update_message"
    )
    await client.chat_delete(channel="C_MARKETING", ts=posted["ts"])
    assert [m.text for m in emulator.workspace.history("C_MARKETING")] == ["mine"]
    assert (
        await error_of(client.chat_update(channel="C_MARKETING", ts=posted["ts"], text="x"))
        == "message_not_found"
    )


async def test_post_ephemeral_is_visible_only_to_its_user(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    response = await client.chat_postEphemeral(channel="C_MARKETING", user="U_ANN", text="psst")
    assert response["message_ts"]
    assert [m.text for m in emulator.workspace.history("C_MARKETING", viewer="U_ANN")] == ["psst"]
    assert emulator.workspace.history("C_MARKETING", viewer="U_BOB") == []
    assert emulator.workspace.history("C_MARKETING") == []
    assert (await client.conversations_history(channel="C_MARKETING"))["messages"] == []
    assert (
        await error_of(client.chat_postEphemeral(channel="C_MARKETING", user="U_GONE", text="x"))
        == "user_not_in_channel"
    )


async def test_threads_history_and_replies(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    parent = await client.chat_postMessage(channel="C_MARKETING", text="parent")
    reply = await client.chat_postMessage(
        channel="C_MARKETING", text="reply", thread_ts=parent["ts"]
    )
    assert reply["message"]["thread_ts"] == parent["ts"]
    later = await client.chat_postMessage(channel="C_MARKETING", text="later")
    history = await client.conversations_history(channel="C_MARKETING")
    assert [m["text"] for m in history["messages"]] == ["later", "parent"]  # newest first
    assert history["has_more"] is False
    limited = await client.conversations_history(channel="C_MARKETING", limit=1)
    assert [m["ts"] for m in limited["messages"]] == [later["ts"]]
    assert limited["has_more"] is True
    replies = await client.conversations_replies(channel="C_MARKETING", ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["parent", "reply"]
    assert (
        await error_of(
            client.chat_postMessage(channel="C_MARKETING", text="x", thread_ts="1.000001")
        )
        == "thread_not_found"
    )
    assert (
        await error_of(client.conversations_replies(channel="C_MARKETING", ts="1.000001"))
        == "thread_not_found"
    )


async def test_reactions(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    posted = await client.chat_postMessage(channel="C_MARKETING", text="nice")
    await client.reactions_add(channel="C_MARKETING", timestamp=posted["ts"], name="tada")
    assert (
        await error_of(
            client.reactions_add(channel="C_MARKETING", timestamp=posted["ts"], name="tada")
        )
        == "already_reacted"
    )
    assert (
        await error_of(
            client.reactions_add(channel="C_MARKETING", timestamp="1.000001", name="tada")
        )
        == "message_not_found"
    )
    [message] = (await client.conversations_history(channel="C_MARKETING"))["messages"]
    assert message["reactions"] == [{"name": "tada", "users": ["U_BOT"], "count": 1}]


async def test_conversations_info_and_list(client: AsyncWebClient) -> None:
    info = (await client.conversations_info(channel="C_MARKETING"))["channel"]
    assert (info["id"], info["name"], info["is_channel"], info["is_member"]) == (
        "C_MARKETING",
        "marketing",
        True,
        True,
    )
    await client.conversations_open(users="U_ANN")
    dm = (await client.conversations_info(channel="D_U_ANN"))["channel"]
    assert (dm["is_im"], dm["user"]) == (True, "U_ANN")
    names = [c["name"] for c in (await client.conversations_list())["channels"]]
    assert sorted(names) == ["general", "marketing"]


# views -----------------------------------------------------------------------------

MODAL = {
    "type": "modal",
    "callback_id": "share",
    "title": {"type": "plain_text", "text": "Share"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Pick one"}}],
}


async def _trigger(emulator: SlackEmulator, app: FakeApp, user: str = "U_ANN") -> str:
    await emulator.send_slash_command(user, "share")
    trigger_id = app.of_kind("command")[-1].data["trigger_id"]
    assert trigger_id
    return str(trigger_id)


async def test_views_open_with_a_delivered_trigger(
    client: AsyncWebClient, emulator: SlackEmulator, app: FakeApp
) -> None:
    trigger_id = await _trigger(emulator, app, "U_LI")
    view = (await client.views_open(trigger_id=trigger_id, view=MODAL))["view"]
    assert view["type"] == "modal"
    assert view["callback_id"] == "share"
    assert view["title"] == MODAL["title"]
    assert view["root_view_id"] == view["id"]
    assert view["previous_view_id"] is None
    assert view["hash"]
    assert view["state"] == {"values": {}}
    assert [v.id for v in emulator.workspace.open_modals("U_LI")] == [view["id"]]
    assert emulator.workspace.open_modals("U_ANN") == []


async def test_views_open_rejects_bad_triggers_and_views(
    client: AsyncWebClient, emulator: SlackEmulator, app: FakeApp
) -> None:
    assert await error_of(client.views_open(trigger_id="123.456.abc", view=MODAL)) == (
        "invalid_trigger_id"
    )
    trigger_id = await _trigger(emulator, app)
    no_title = {"type": "modal", "blocks": []}
    assert await error_of(client.views_open(trigger_id=trigger_id, view=no_title)) == (
        "invalid_arguments"
    )
    assert emulator.workspace.views == {}


async def test_trigger_expires_after_its_ttl(
    client: AsyncWebClient, emulator: SlackEmulator, app: FakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert TRIGGER_TTL == 3.0
    trigger_id = await _trigger(emulator, app)
    offset = 0.0
    clock = SimpleNamespace(time=time.time, monotonic=lambda: time.monotonic() + offset)
    monkeypatch.setattr(sandbox.emulator, "time", clock)
    offset = TRIGGER_TTL + 0.5
    assert await error_of(client.views_open(trigger_id=trigger_id, view=MODAL)) == (
        "expired_trigger_id"
    )
    fresh = await _trigger(emulator, app)  # issued on the shifted clock
    offset += TRIGGER_TTL - 0.5
    await client.views_open(trigger_id=fresh, view=MODAL)


async def test_views_push_and_update(
    client: AsyncWebClient, emulator: SlackEmulator, app: FakeApp
) -> None:
    first = (await client.views_open(trigger_id=await _trigger(emulator, app), view=MODAL))["view"]
    pushed = (await client.views_push(trigger_id=await _trigger(emulator, app), view=MODAL))["view"]
    assert (pushed["root_view_id"], pushed["previous_view_id"]) == (first["id"], first["id"])

    changed = {**MODAL, "title": {"type": "plain_text", "text": "Changed"}}
    stale = first["hash"]
    updated = (await client.views_update(view_id=first["id"], hash=stale, view=changed))["view"]
    assert updated["title"]["text"] == "Changed"
    assert updated["hash"] != stale
    assert (
        await error_of(client.views_update(view_id=first["id"], hash=stale, view=MODAL))
        == "hash_conflict"
    )
    assert emulator.workspace.views[first["id"]].view["title"]["text"] == "Changed"
    assert await error_of(client.views_update(view_id="V_NOPE", view=MODAL)) == "not_found"


async def test_views_publish_home(client: AsyncWebClient, emulator: SlackEmulator) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Your shares: 3"}}],
    }
    first = (await client.views_publish(user_id="U_LI", view=home))["view"]
    assert first["type"] == "home"
    home["blocks"][0]["text"]["text"] = "Your shares: 4"
    second = (await client.views_publish(user_id="U_LI", view=home))["view"]
    assert second["id"] == first["id"]
    published = emulator.workspace.home_of("U_LI")
    assert published is not None
    assert published.view["blocks"][0]["text"]["text"] == "Your shares: 4"
    assert emulator.workspace.home_of("U_ANN") is None
    assert await error_of(client.views_publish(user_id="U_LI", view=MODAL)) == ("invalid_arguments")
    assert await error_of(client.views_publish(user_id="U_NOBODY", view=home)) == ("user_not_found")


# files -----------------------------------------------------------------------------


async def test_upload_flow(
    client: AsyncWebClient, emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    content = png_bytes()
    response = await client.files_upload_v2(
        channel="C_MARKETING", content=content, filename="card.png", initial_comment="link"
    )
    [uploaded] = response["files"]
    stored = emulator.workspace.files[uploaded["id"]]
    assert stored.content == content
    assert (stored.name, stored.mimetype) == ("card.png", "image/png")
    assert [c.method for c in emulator.calls] == [
        "files.getUploadURLExternal",
        "files.upload",
        "files.completeUploadExternal",
    ]
    # As in Slack, the share comes a moment after completeUploadExternal answers.
    assert (stored.channels, uploaded["shares"]) == ([], {})
    assert emulator.workspace.history("C_MARKETING") == []
    await emulator.wait_until(lambda: emulator.workspace.history("C_MARKETING"))
    assert stored.channels == ["C_MARKETING"]
    [message] = (await client.conversations_history(channel="C_MARKETING"))["messages"]
    shares = (await client.files_info(file=uploaded["id"]))["file"]["shares"]
    assert shares == {"public": {"C_MARKETING": [{"ts": message["ts"]}]}}
    assert message["text"] == "link"
    [attached] = message["files"]
    assert (attached["id"], attached["name"], attached["size"]) == (
        uploaded["id"],
        "card.png",
        len(content),
    )
    async with http.get(attached["url_private"]) as download:
        assert download.status == 200
        assert download.content_type == "image/png"
        assert await download.read() == content
    info = (await client.files_info(file=uploaded["id"]))["file"]
    assert info["filetype"] == "png"
    async with http.get(emulator.base_url + "/files/F_NOPE/card.png") as missing:
        assert missing.status == 404


async def test_raw_upload_must_match_the_announced_length(
    client: AsyncWebClient, emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    ticket = await client.files_getUploadURLExternal(filename="card.png", length=10)
    async with http.post(ticket["upload_url"], data=b"12345") as short:
        assert short.status == 400
    assert ticket["file_id"] not in emulator.workspace.files
    async with http.post(ticket["upload_url"], data=b"0123456789") as exact:
        assert exact.status == 200
    assert emulator.workspace.files[ticket["file_id"]].content == b"0123456789"
    async with http.post(ticket["upload_url"], data=b"0123456789") as again:
        assert again.status == 404  # an upload URL is good for one file
    assert await error_of(client.files_getUploadURLExternal(filename="x.png", length=0)) == (
        "invalid_arguments"
    )


async def test_complete_upload_with_an_unknown_file(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    assert (
        await error_of(
            client.files_completeUploadExternal(files=[{"id": "F_NOPE"}], channel_id="C_MARKETING")
        )
        == "file_not_found"
    )
    assert emulator.workspace.history("C_MARKETING") == []
    assert await error_of(client.files_info(file="F_NOPE")) == "file_not_found"


async def test_upload_that_fails_at_the_upload_url(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    emulator.faults.add("files.upload", "http_500")
    with pytest.raises(SlackRequestError, match="status: 500"):
        await client.files_upload_v2(channel="C_MARKETING", content=b"x", filename="a.png")
    assert emulator.workspace.files == {}
    assert emulator.calls_to("files.completeUploadExternal") == []
    assert [(c.fault, c.ok) for c in emulator.calls_to("files.upload")] == [("http_500", False)]


async def test_every_fault_kind_applies_at_the_upload_url(
    client: AsyncWebClient, emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    ticket = await client.files_getUploadURLExternal(filename="a.csv", length=3)
    emulator.faults.add("files.upload", "ratelimited", retry_after=2)
    emulator.faults.add("files.upload", "error", error="storage_full")
    emulator.faults.add("files.upload", "slow", delay=0.2)
    async with http.post(ticket["upload_url"], data=b"a,b") as limited:
        assert (limited.status, limited.headers["Retry-After"]) == (429, "2")
    async with http.post(ticket["upload_url"], data=b"a,b") as refused:
        assert (refused.status, await refused.text()) == (400, "storage_full")
    started = time.perf_counter()
    async with http.post(ticket["upload_url"], data=b"a,b") as slow:
        assert slow.status == 200
    assert time.perf_counter() - started >= 0.2
    assert emulator.workspace.files[ticket["file_id"]].content == b"a,b"
    assert [c.fault for c in emulator.calls_to("files.upload")] == ["ratelimited", "error", "slow"]


async def test_wildcard_faults_are_not_swallowed_by_the_upload_step(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    emulator.faults.add("files.getUploadURLExternal", "slow", delay=0.0)
    emulator.faults.add("*", "error", error="storage_full")
    with pytest.raises(SlackRequestError, match="status: 400, body: storage_full"):
        await client.files_upload_v2(channel="C_MARKETING", content=b"x", filename="a.png")
    assert emulator.faults.active == []
    assert emulator.workspace.history("C_MARKETING") == []


# faults ----------------------------------------------------------------------------


async def test_ratelimited_fault_raw_http(
    api_url: str, emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    emulator.faults.add("chat.postMessage", "ratelimited", retry_after=7)
    headers = {"Authorization": f"Bearer {BOT_TOKEN}"}
    body = {"channel": "C_GENERAL", "text": "hi"}
    async with http.post(api_url + "chat.postMessage", json=body, headers=headers) as limited:
        assert limited.status == 429
        assert limited.headers["Retry-After"] == "7"
        assert await limited.json() == {"ok": False, "error": "ratelimited"}
    assert emulator.workspace.history("C_GENERAL") == []
    async with http.post(api_url + "chat.postMessage", json=body, headers=headers) as fine:
        assert fine.status == 200
        assert (await fine.json())["ok"] is True
    assert [(c.fault, c.error) for c in emulator.calls] == [
        ("ratelimited", "ratelimited"),
        (None, None),
    ]


async def test_ratelimited_without_a_retry_handler(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    emulator.faults.add("chat.postMessage", "ratelimited", retry_after=1)
    error = await slack_error(client.chat_postMessage(channel="C_GENERAL", text="hi"))
    assert error.response.status_code == 429
    assert error.response["error"] == "ratelimited"
    assert error.response.headers["Retry-After"] == "1"


async def test_sdk_rate_limit_retry_handler_retries_and_succeeds(
    api_url: str, emulator: SlackEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builtin_async_handlers.random, "random", lambda: 0.0)  # no jitter
    client = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    emulator.faults.add("chat.postMessage", "ratelimited", retry_after=0, times=2)
    response = await client.chat_postMessage(channel="C_GENERAL", text="eventually")
    assert response["ok"] is True
    calls = emulator.calls_to("chat.postMessage")
    assert [c.fault for c in calls] == ["ratelimited", "ratelimited", None]
    assert [m.text for m in emulator.workspace.history("C_GENERAL")] == ["eventually"]
    assert emulator.faults.active == []


async def test_http_500_fault(
    api_url: str, client: AsyncWebClient, emulator: SlackEmulator, http: aiohttp.ClientSession
) -> None:
    emulator.faults.add("auth.test", "http_500")
    async with http.post(api_url + "auth.test", headers={"Authorization": "Bearer x"}) as broken:
        assert broken.status == 500
    emulator.faults.add("auth.test", "http_500")
    error = await slack_error(client.auth_test())
    assert error.response.status_code == 500
    emulator.faults.add("auth.test", "http_500")
    retrying = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=api_url,
        retry_handlers=[
            AsyncServerErrorRetryHandler(
                max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.0)
            )
        ],
    )
    assert (await retrying.auth_test())["ok"] is True
    assert [c.fault for c in emulator.calls_to("auth.test")] == [
        "http_500",
        "http_500",
        "http_500",
        None,
    ]


async def test_slow_fault_delays_the_answer(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    emulator.faults.add("users.info", "slow", delay=0.2)
    started = time.perf_counter()
    response = await client.users_info(user="U_ANN")
    elapsed = time.perf_counter() - started
    assert response["user"]["id"] == "U_ANN"  # slow, but still answered
    assert elapsed >= 0.2
    assert emulator.calls[-1].fault == "slow"
    assert emulator.calls[-1].ok


async def test_error_fault_returns_the_given_code(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    emulator.faults.add("chat.postMessage", "error", error="channel_is_archived")
    assert await error_of(client.chat_postMessage(channel="C_GENERAL", text="x")) == (
        "channel_is_archived"
    )
    assert emulator.workspace.history("C_GENERAL") == []
    emulator.faults.add("auth.test", "error")
    assert await error_of(client.auth_test()) == "internal_error"


async def test_faults_are_consumed_after_times(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    emulator.faults.add("auth.test", "error", times=2, error="fatal_error")
    assert await error_of(client.auth_test()) == "fatal_error"
    await client.users_info(user="U_ANN")  # other methods are not affected
    assert await error_of(client.auth_test()) == "fatal_error"
    assert (await client.auth_test())["ok"] is True
    assert emulator.faults.active == []


async def test_wildcard_fault_applies_to_any_method(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    emulator.faults.add("*", "error", times=2, error="service_unavailable")
    assert await error_of(client.users_info(user="U_ANN")) == "service_unavailable"
    assert await error_of(client.api_call("no.such.method")) == "service_unavailable"
    assert (await client.users_info(user="U_ANN"))["ok"] is True


async def test_faults_can_be_cleared_and_must_be_known(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    emulator.faults.add("auth.test", "http_500", times=5)
    emulator.faults.clear()
    assert (await client.auth_test())["ok"] is True
    with pytest.raises(ValueError, match="unknown fault kind"):
        emulator.faults.add("auth.test", "meteor_strike")


# observation helpers -----------------------------------------------------------------


async def test_wait_for_call_sees_only_later_calls(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    await client.chat_postMessage(channel="C_GENERAL", text="before")
    mark = emulator.mark()
    waiter = asyncio.ensure_future(emulator.wait_for_call("chat.postMessage", since=mark))
    await asyncio.sleep(0)
    assert not waiter.done()
    await client.chat_postMessage(channel="C_GENERAL", text="after")
    call = await asyncio.wait_for(waiter, 5)
    assert call.args["text"] == "after"
    found = await emulator.wait_until(lambda: emulator.last_message("C_GENERAL"), timeout=1)
    assert found.text == "after"


async def test_wait_until_times_out(emulator: SlackEmulator) -> None:
    before = asyncio.all_tasks()
    with pytest.raises(TimeoutError):
        await emulator.wait_until(lambda: False, timeout=0.05)
    await asyncio.sleep(0)  # let cancelled helpers finish
    assert asyncio.all_tasks() == before  # nothing left waiting on the workspace
