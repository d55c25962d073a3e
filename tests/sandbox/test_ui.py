"""The sandbox chat UI over HTTP: pages, live events, and user actions reaching the app."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import unused_port

from bot.activities import ActivityDraft
from bot.shares import get_or_create_share
from handlers.sandbox_runner import Sandbox, start_sandbox
from sandbox.ui import SandboxUI
from sandbox.workspace import BOT_USER_ID, Message, View

FETCH = {"X-Requested-With": "fetch"}
ADMIN, EMPLOYEE = "U_ADMIN", "U_ANN"


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    running = await start_sandbox(
        app_port=0, ui_port=0, database_url=f"sqlite+aiosqlite:///{tmp_path / 'ui.db'}", seed=False
    )
    yield running
    await running.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(http: aiohttp.ClientSession, url: str, status: int = 200) -> str:
    async with http.get(url, allow_redirects=False) as response:
        body = await response.text()
        assert response.status == status, body
        return body


async def post(
    http: aiohttp.ClientSession, url: str, *, data: Any = None, json_body: Any = None
) -> dict[str, Any]:
    async with http.post(url, data=data, json=json_body, headers=FETCH) as response:
        assert response.status == 200, await response.text()
        answer: dict[str, Any] = await response.json()
        return answer


async def fragment(sandbox: Sandbox, http: aiohttp.ClientSession, user: str, pane: str) -> Any:
    return json.loads(await get(http, f"{sandbox.ui_url}/u/{user}/{pane}/fragment"))


def bot_post(sandbox: Sandbox, channel: str, text: str = "", **fields: Any) -> Message:
    workspace = sandbox.emulator.workspace
    if channel.startswith("D_"):
        workspace.dm_with(channel.removeprefix("D_"))  # opened as conversations.open would
    return workspace.post(Message(channel, workspace.new_ts(), BOT_USER_ID, text, **fields))


async def command(
    sandbox: Sandbox,
    http: aiohttp.ClientSession,
    user: str,
    text: str,
    channel: str = "C_MARKETING",
) -> dict[str, Any]:
    return await post(
        http, f"{sandbox.ui_url}/u/{user}/say", data={"channel": channel, "text": text}
    )


async def created_note(sandbox: Sandbox) -> Message:
    """The app's last word after a modal submission: its DM to the admin."""
    message: Message = await sandbox.emulator.wait_until(
        lambda: next(
            (m for m in sandbox.emulator.dm_messages(ADMIN) if "Created activity" in m.text), None
        )
    )
    return message


async def open_modal(sandbox: Sandbox, http: aiohttp.ClientSession) -> View:
    assert (await command(sandbox, http, ADMIN, "/sharetrail new"))["ok"]
    modals: list[View] = await sandbox.emulator.wait_until(
        lambda: sandbox.emulator.workspace.open_modals(ADMIN)
    )
    return modals[-1]


# --- pages -----------------------------------------------------------------------------


async def test_pick_page_lists_the_people_to_play(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    page = await get(http, f"{sandbox.ui_url}/")
    for name in ("Alex Admin", "李雷", "韩梅梅", "Ann Lee", "Sam Sales", "Sara Seller"):
        assert name in page
    assert "Former Employee" not in page and 'href="/u/U_BOT"' not in page


async def test_client_pages_and_their_guards(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    ui = sandbox.ui_url
    async with http.get(f"{ui}/u/{EMPLOYEE}", allow_redirects=False) as response:
        assert response.status == 302
        assert response.headers["Location"].startswith(f"/u/{EMPLOYEE}/")
    page = await get(http, f"{ui}/u/{EMPLOYEE}/C_MARKETING")
    assert "#marketing" in page and "/static/app.js" in page and 'data-user="U_ANN"' in page
    for pane in ("C_GENERAL", "D_U_ANN", "home"):
        await get(http, f"{ui}/u/{EMPLOYEE}/{pane}")
    await get(http, f"{ui}/u/U_GONE/C_MARKETING", status=404)
    await get(http, f"{ui}/u/U_BOT/C_MARKETING", status=404)
    await get(http, f"{ui}/u/{EMPLOYEE}/D_U_LI", status=404)  # someone else's DM
    await get(http, f"{ui}/u/{EMPLOYEE}/C_NOPE", status=404)
    assert "EventSource" in await get(http, f"{ui}/static/app.js")
    assert ".bk-button" in await get(http, f"{ui}/static/app.css")


async def test_messages_render_blocks_files_threads_and_markers(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    workspace = sandbox.emulator.workspace
    parent = bot_post(
        sandbox,
        "C_MARKETING",
        "fallback",
        blocks=[
            {"type": "header", "text": {"type": "plain_text", "text": "<script>x</script> News"}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "go",
                        "text": {"type": "plain_text", "text": "Go"},
                    }
                ],
            },
        ],
    )
    parent.edited = True
    workspace.post(
        Message("C_MARKETING", workspace.new_ts(), "U_LI", "a reply", thread_ts=parent.ts)
    )
    bot_post(sandbox, "C_MARKETING", "only for Ann", ephemeral_to=EMPLOYEE)
    page = await get(http, f"{sandbox.ui_url}/u/{EMPLOYEE}/C_MARKETING")
    assert "&lt;script&gt;x&lt;/script&gt; News" in page and "<script>x" not in page
    assert 'data-action-id="go"' in page and f'data-ts="{parent.ts}"' in page
    assert "(edited)" in page and "1 reply" in page and "a reply" in page and "李雷" in page
    assert "fallback" not in page  # blocks replace the text, as in Slack
    assert "only for Ann" in page and "Only visible to you" in page
    other = await get(http, f"{sandbox.ui_url}/u/U_BOB/C_MARKETING")
    assert "only for Ann" not in other and "Only visible to you" not in other


async def test_unknown_block_is_a_placeholder_not_an_error(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    bot_post(sandbox, "C_GENERAL", "x", blocks=[{"type": "call", "call_id": "R1"}])
    page = await get(http, f"{sandbox.ui_url}/u/{EMPLOYEE}/C_GENERAL")
    assert "Unsupported block: call" in page


# --- live updates ------------------------------------------------------------------------


async def next_event(stream: aiohttp.StreamReader) -> tuple[str, dict[str, Any]]:
    """The next server-sent event (name, data), skipping comments and `retry`."""
    name, data = "message", ""
    while True:
        line = (await stream.readline()).decode()
        assert line, "the event stream ended"
        line = line.rstrip("\n")
        if not line:
            if data:
                return name, json.loads(data)
            continue
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data += line.split(":", 1)[1].strip()


async def test_events_stream_changes_the_person_can_see(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{sandbox.ui_url}/u/{EMPLOYEE}/events") as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert await next_event(response.content) == ("ready", {})
        bot_post(sandbox, "D_U_LI", "not for Ann")  # someone else's DM: not streamed
        sandbox.emulator.workspace.dm_with(EMPLOYEE)
        message = bot_post(sandbox, "D_U_ANN", "hello Ann")
        names_and_data = [await next_event(response.content) for _ in range(2)]
    created, posted = names_and_data
    assert created == ("change", {"type": "channel_created", "channel": "D_U_ANN"})
    assert posted == ("change", {"type": "message", "channel": "D_U_ANN", "ts": message.ts})


async def test_stream_ends_when_the_sandbox_stops(tmp_path: Path) -> None:
    running = await start_sandbox(
        app_port=0, ui_port=0, database_url=f"sqlite+aiosqlite:///{tmp_path / 's.db'}", seed=False
    )
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{running.ui_url}/u/{EMPLOYEE}/events") as response,
    ):
        assert (await next_event(response.content))[0] == "ready"
        await running.stop()
        assert await response.content.read() in (b"", b": keep-alive\n\n")


# --- what people do ----------------------------------------------------------------------


async def test_slash_command_from_the_composer_reaches_the_app(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    answer = await command(sandbox, http, ADMIN, "/sharetrail help")
    assert answer == {"ok": True, "error": ""}
    reply: Message = await sandbox.emulator.wait_until(
        lambda: next(
            (
                m
                for m in sandbox.emulator.workspace.history("C_MARKETING", viewer=ADMIN)
                if "ShareTrail commands" in m.text
            ),
            None,
        )
    )
    assert reply.ephemeral_to == ADMIN
    assert "ShareTrail commands" in (await fragment(sandbox, http, ADMIN, "C_MARKETING"))["pane"]
    assert (
        "ShareTrail commands"
        not in (await fragment(sandbox, http, EMPLOYEE, "C_MARKETING"))["pane"]
    )


async def test_mentions_in_commands_are_escaped_like_slack_does(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    ui = SandboxUI(sandbox.emulator)
    assert ui.escape_mentions("add @sam @U_SALES2 #marketing @nobody #nowhere") == (
        "add <@U_SALES1|sam> <@U_SALES2|sara> <#C_MARKETING|marketing> @nobody #nowhere"
    )
    await command(sandbox, http, ADMIN, "/sharetrail sales add @sam @sara")
    reply: Message = await sandbox.emulator.wait_until(
        lambda: sandbox.emulator.last_message("C_MARKETING", viewer=ADMIN)
    )
    assert "Added to the roster" in reply.text, reply.text
    assert await sandbox.runtime.services.salespeople() == ["U_SALES1", "U_SALES2"]


async def test_plain_messages_and_thread_replies(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    ui = sandbox.ui_url
    parent = bot_post(sandbox, "D_U_ANN", "a lead")
    await post(http, f"{ui}/u/{EMPLOYEE}/say", data={"channel": "C_GENERAL", "text": "hi all"})
    await post(
        http,
        f"{ui}/u/{EMPLOYEE}/say",
        data={"channel": "D_U_ANN", "text": "called them", "thread_ts": parent.ts},
    )
    history = sandbox.emulator.workspace.history("D_U_ANN")
    assert [(m.user, m.text, m.thread_ts) for m in history][-1] == (
        EMPLOYEE,
        "called them",
        parent.ts,
    )
    assert sandbox.emulator.workspace.history("C_GENERAL")[-1].text == "hi all"
    pane = (await fragment(sandbox, http, EMPLOYEE, "D_U_ANN"))["pane"]
    assert re.search(r"1 reply.*called them", pane, re.DOTALL)


async def test_a_form_post_without_javascript_redirects_back(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    url = f"{sandbox.ui_url}/u/{EMPLOYEE}/say"
    referer = f"{sandbox.ui_url}/u/{EMPLOYEE}/C_GENERAL"
    async with http.post(
        url,
        data={"channel": "C_GENERAL", "text": "no js"},
        headers={"Referer": referer},
        allow_redirects=False,
    ) as response:
        assert response.status == 303 and response.headers["Location"] == referer


async def test_modal_submit_required_errors_app_errors_and_success(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    ui = sandbox.ui_url
    view = await open_modal(sandbox, http)
    modals = (await fragment(sandbox, http, ADMIN, "C_MARKETING"))["modals"]
    for name in (
        "name/value",
        "starts_at/value",
        "material_type/value",
        "salespeople/value",
        "channel_id/value",
    ):
        assert f'name="{name}"' in modals
    assert 'type="datetime-local"' in modals and "Sara Seller" in modals

    submit = f"{ui}/u/{ADMIN}/views/{view.id}/submit"
    answer = await post(http, submit, data={"name/value": "Launch <day>"})
    assert answer["ok"]  # Slack's client refuses; nothing reached the app
    assert view.errors.get("starts_at") == "Please complete this required field."
    modals = (await fragment(sandbox, http, ADMIN, "C_MARKETING"))["modals"]
    assert "Please complete this required field." in modals
    assert 'value="Launch &lt;day&gt;"' in modals  # what was typed stays

    form = {
        "name/value": "Launch day",
        "starts_at/value": "2026-12-01T14:00",
        "ends_at/value": "2026-12-01T13:00",
        "material_type/value": "poster",
        "channel_id/value": "C_MARKETING",
    }
    await post(http, submit, data=form)
    assert view.errors == {"ends_at": "The end must be after the start."}
    assert (
        "The end must be after the start."
        in (await fragment(sandbox, http, ADMIN, "C_MARKETING"))["modals"]
    )

    await post(http, submit, data={**form, "ends_at/value": "2026-12-01T16:00"})
    assert view.closed
    announcement: Message = await sandbox.emulator.wait_until(
        lambda: next(
            (m for m in sandbox.emulator.workspace.history("C_MARKETING") if m.blocks), None
        )
    )
    # 14:00 typed by the admin in Los Angeles, shown in the activity's own zone (theirs),
    # named by its city (issue 14 §1), not the IANA id.
    assert "Tue, Dec 1, 2026 14:00–16:00 (Los Angeles time)" in json.dumps(
        announcement.blocks, ensure_ascii=False
    )
    assert (await fragment(sandbox, http, ADMIN, "C_MARKETING"))["modals"] == ""
    assert "Published in" in (await created_note(sandbox)).text


async def test_closing_a_modal(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    view = await open_modal(sandbox, http)
    answer = await post(http, f"{sandbox.ui_url}/u/{ADMIN}/views/{view.id}/close")
    assert answer["ok"] and view.closed
    async with http.post(
        f"{sandbox.ui_url}/u/{ADMIN}/views/{view.id}/close", headers=FETCH
    ) as response:
        assert response.status == 404


async def test_button_click_in_a_message_gets_the_card_into_the_dm(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    view = await open_modal(sandbox, http)
    await sandbox.emulator.submit_view(
        ADMIN,
        view.id,
        {
            "name": "Card day",
            "starts_at": 1796140800,
            "ends_at": 1796148000,
            "material_type": "poster",
            "channel_id": "C_MARKETING",
        },
    )
    post_msg: Message = await sandbox.emulator.wait_until(
        lambda: next(
            (m for m in sandbox.emulator.workspace.history("C_MARKETING") if m.blocks), None
        )
    )
    await created_note(sandbox)
    answer = await post(
        http,
        f"{sandbox.ui_url}/u/{EMPLOYEE}/action",
        json_body={
            "action_id": "get_share_card",
            "channel": "C_MARKETING",
            "ts": post_msg.ts,
            "kind": "button",
            "selected": None,
        },
    )
    assert answer == {"ok": True, "error": ""}
    card: Message = await sandbox.emulator.wait_until(
        lambda: next((m for m in sandbox.emulator.dm_messages(EMPLOYEE) if m.files), None)
    )
    pane = (await fragment(sandbox, http, EMPLOYEE, "D_U_ANN"))["pane"]
    src = re.search(r'<img class="file-image" src="([^"]+)"', pane)
    assert src and src.group(1).startswith("/files/") and card.files[0] in src.group(1)
    async with http.get(sandbox.ui_url + src.group(1)) as image:  # any origin: LAN phones too
        assert image.content_type == "image/png"
        assert (await image.read()).startswith(b"\x89PNG")
    assert re.search(r'<a href="http://127\.0\.0\.1:\d+/s/[^"]+" target="_blank"', pane)


async def test_home_tab_is_published_when_opened(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    page = await get(http, f"{sandbox.ui_url}/u/{EMPLOYEE}/home")  # tells the app
    assert "Opening ShareTrail" in page or "My shares" in page
    await sandbox.emulator.wait_until(lambda: sandbox.emulator.workspace.home_of(EMPLOYEE))
    pane = (await fragment(sandbox, http, EMPLOYEE, "home"))["pane"]
    assert "My shares" in pane and "Nothing shared yet" in pane
    since = sandbox.emulator.mark()
    assert (await post(http, f"{sandbox.ui_url}/u/{EMPLOYEE}/home")) == {"ok": True, "error": ""}
    await sandbox.emulator.wait_for_call("views.publish", since=since)  # the app is done


async def test_failed_actions_are_reported_not_hidden(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    url = f"{sandbox.ui_url}/u/{EMPLOYEE}/action"
    answer = await post(http, url, json_body={"action_id": "no_such_action"})
    assert not answer["ok"] and "no longer there" in answer["error"]
    bot_post(
        sandbox,
        "C_GENERAL",
        "x",
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "ping",
                        "text": {"type": "plain_text", "text": "Ping"},
                    }
                ],
            }
        ],
    )
    sandbox.emulator.app_url = f"http://127.0.0.1:{unused_port()}"  # the app is gone
    answer = await post(http, url, json_body={"action_id": "ping", "channel": "C_GENERAL"})
    assert not answer["ok"] and "Could not reach the app" in answer["error"]
    async with http.post(url, data="not json", headers=FETCH) as response:
        assert response.status == 400


async def test_a_pasted_share_link_unfurls_in_the_chat(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    """The sandbox registers the app's host as an unfurl domain, as the manifest does."""
    services = sandbox.runtime.services
    starts = datetime.now(UTC) + timedelta(days=3)
    draft = ActivityDraft("Harbour tour", starts, starts + timedelta(hours=2), "event_invitation")
    activity = await services.create_activity(draft, created_by=ADMIN)
    employee = await services.sync_employee(EMPLOYEE)
    async with sandbox.runtime.db.session() as session:
        share = await get_or_create_share(session=session, activity=activity, employee=employee)
    assert share.id is not None
    link = services.share_link(share.id, "channel")

    since = sandbox.emulator.mark()
    await post(
        http, f"{sandbox.ui_url}/u/{EMPLOYEE}/say", data={"channel": "C_GENERAL", "text": link}
    )
    await sandbox.emulator.wait_for_call("chat.unfurl", since=since)
    pane = (await fragment(sandbox, http, EMPLOYEE, "C_GENERAL"))["pane"]
    assert re.search(r'class="blocks unfurl".*Harbour tour.*card\.png', pane, re.DOTALL)
