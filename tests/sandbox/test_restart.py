"""`sharetrail sandbox` stopped and started again on the same files keeps its Slack world.

The story runs through the real app and the stand-in (share card, a customer's sign-up, a
lead DM, App Home, a thread reply); after the restart the UI's pages and API show the same
conversations, files and home tab, and the old lead DM's outcome button still works.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import unused_port

from bot.demo import DEMO_ACTIVITY_NAME
from handlers.sandbox_runner import Sandbox, start_sandbox
from sandbox.workspace import Message
from tests.flows import signup_form

FETCH = {"X-Requested-With": "fetch"}
MOBILE_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/130 Mobile"
EMPLOYEE, OTHER = "U_ANN", "U_LI"
SALES = ("U_SALES1", "U_SALES2")
LINK = re.compile(r"https?://\S+/s/[A-Za-z0-9_\-.]+")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Runs:
    """Start the sandbox again and again on one working directory and fixed ports."""

    def __init__(self, tmp_path: Path) -> None:
        self.database_url = f"sqlite+aiosqlite:///{tmp_path / 'sharetrail-sandbox.db'}"
        self.ports = {"app_port": unused_port(), "ui_port": unused_port()}
        self.running: Sandbox | None = None

    async def start(self) -> Sandbox:
        self.running = await start_sandbox(database_url=self.database_url, **self.ports)
        return self.running

    async def stop(self) -> None:
        if self.running is not None:
            await self.running.stop()
            self.running = None


@pytest.fixture
async def runs(tmp_path: Path) -> AsyncIterator[Runs]:
    runs = Runs(tmp_path)
    yield runs
    await runs.stop()


async def wait_for(sandbox: Sandbox, channel: str, viewer: str, pattern: str) -> Message:
    regex = re.compile(pattern)

    def found() -> Message | None:
        history = sandbox.emulator.workspace.history(channel, viewer=viewer)
        return next((m for m in history if regex.search(m.text)), None)

    message: Message = await sandbox.emulator.wait_until(found)
    return message


async def share_card(sandbox: Sandbox, user: str) -> Message:
    """The employee taps "Get my share card" under the demo announcement."""
    await wait_for(sandbox, "C_MARKETING", user, re.escape(DEMO_ACTIVITY_NAME))
    delivery = await sandbox.emulator.click_button(user, "get_share_card", channel="C_MARKETING")
    assert delivery.status == 200, delivery
    card: Message = await sandbox.emulator.wait_until(
        lambda: next((m for m in sandbox.emulator.dm_messages(user) if m.files), None)
    )
    await sandbox.emulator.wait_until(  # the share_link_for select follows the card
        lambda: any("share_link_for" in str(m.blocks) for m in sandbox.emulator.dm_messages(user))
    )
    return card


async def sign_up(http: aiohttp.ClientSession, link: str, name: str, phone: str) -> None:
    """Open the page, then send its form (with the page's signed form token), as a browser."""
    headers = {"User-Agent": MOBILE_UA}
    form = await signup_form(http, link, headers)
    async with http.post(
        f"{link}/signup", data={**form, "name": name, "phone": phone}, headers=headers
    ) as response:
        assert response.status == 200, await response.text()


async def lead_dm(sandbox: Sandbox, name: str) -> tuple[str, Message]:
    """The salesperson the customer was assigned to, and their lead DM."""

    def found() -> tuple[str, Message] | None:
        for user in SALES:
            for message in sandbox.emulator.dm_messages(user):
                if "New lead" in json.dumps(message.blocks) and name in message.text:
                    return user, message
        return None

    result: tuple[str, Message] = await sandbox.emulator.wait_until(found)
    return result


def snapshot(sandbox: Sandbox) -> dict[str, Any]:
    """Every conversation as the Web API shows it, and every file, with the UI's origin cut."""
    workspace = sandbox.emulator.workspace
    data = {
        "messages": {
            channel: [m.to_json(workspace) for m in workspace.messages[channel]]
            for channel in sorted(workspace.messages)
        },
        "channels": {c.id: c.to_json() for c in workspace.channels.values()},
        "files": {f.id: [f.to_json(), f.content.hex()] for f in workspace.files.values()},
        "homes": {u: workspace.views[v].to_json() for u, v in workspace.home_views.items()},
    }
    return json.loads(json.dumps(data).replace(sandbox.ui_url, "UI"))


async def fragment(http: aiohttp.ClientSession, sandbox: Sandbox, user: str, pane: str) -> str:
    async with http.get(f"{sandbox.ui_url}/u/{user}/{pane}/fragment") as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["pane"])


async def test_restart_keeps_conversations_files_home_and_live_buttons(
    runs: Runs, http: aiohttp.ClientSession
) -> None:
    sandbox = await runs.start()
    slack = sandbox.emulator
    card = await share_card(sandbox, EMPLOYEE)
    link = LINK.search(card.text)
    assert link, card.text
    await sign_up(http, link.group(0), "Wang Fang", "+86 138 1234 5678")
    salesperson, lead = await lead_dm(sandbox, "Wang Fang")
    await wait_for(sandbox, f"D_{EMPLOYEE}", EMPLOYEE, r"Wang Fang\*? signed up")
    await wait_for(sandbox, f"D_{EMPLOYEE}", EMPLOYEE, r"viewing your card")  # her page view
    reply = await slack.say(salesperson, f"D_{salesperson}", "Calling her now", thread_ts=lead.ts)
    await slack.open_app_home(EMPLOYEE)
    await slack.wait_until(lambda: slack.workspace.home_of(EMPLOYEE))
    panes = {
        (user, pane): await fragment(http, sandbox, user, pane)
        for user, pane in [
            (EMPLOYEE, f"D_{EMPLOYEE}"),
            (EMPLOYEE, "home"),
            (EMPLOYEE, "C_MARKETING"),
            (salesperson, f"D_{salesperson}"),
        ]
    }
    card_file = slack.workspace.files[card.files[0]]
    await runs.stop()
    before = snapshot(sandbox)  # stopped: the app has sent everything it was going to

    sandbox = await runs.start()
    slack = sandbox.emulator
    assert snapshot(sandbox) == before
    for (user, pane), html in panes.items():
        assert await fragment(http, sandbox, user, pane) == html, (user, pane)
    thread = slack.workspace.history(f"D_{salesperson}")
    assert [m.text for m in thread if m.thread_ts == lead.ts] == [reply.text]
    async with http.get(f"{sandbox.ui_url}/files/{card_file.id}/{card_file.name}") as response:
        assert response.status == 200
        assert await response.read() == card_file.content
    marketing = slack.workspace.history("C_MARKETING")
    assert sum(DEMO_ACTIVITY_NAME in m.text for m in marketing if m.blocks) == 1  # not again

    # The lead DM's button from before the restart, tapped in the UI: a signed request.
    async with http.post(
        f"{sandbox.ui_url}/u/{salesperson}/action",
        json={"action_id": "lead_outcome_attended", "channel": lead.channel, "ts": lead.ts},
        headers=FETCH,
    ) as response:
        assert response.status == 200 and (await response.json())["ok"]
    updated: Message = await slack.wait_until(
        lambda: next(
            (
                m
                for m in slack.workspace.history(lead.channel)
                if m.ts == lead.ts and "Outcome recorded" in json.dumps(m.blocks)
            ),
            None,
        )
    )
    assert updated.edited
    await wait_for(sandbox, f"D_{EMPLOYEE}", EMPLOYEE, r"Wang Fang\*? attended")

    # New files get new ids: the old card is still there, bytes and all.
    other = await share_card(sandbox, OTHER)
    assert other.files[0] != card_file.id
    assert slack.workspace.files[card_file.id].content == card_file.content


async def test_a_dm_link_opens_after_a_restart(runs: Runs, http: aiohttp.ClientSession) -> None:
    sandbox = await runs.start()
    card = await share_card(sandbox, EMPLOYEE)
    await runs.stop()

    sandbox = await runs.start()
    async with http.get(f"{sandbox.ui_url}/u/{EMPLOYEE}/D_{EMPLOYEE}") as response:
        assert response.status == 200, await response.text()
        page = await response.text()
    assert 'data-pane="D_U_ANN"' in page and "file-image" in page
    assert LINK.search(card.text) and card.text.split()[0] in page
    # A DM the app never wrote to opens by its link too, even on a fresh start.
    async with http.get(f"{sandbox.ui_url}/u/U_BOB/D_U_BOB") as response:
        assert response.status == 200, await response.text()
    async with http.get(f"{sandbox.ui_url}/u/U_BOB/D_{EMPLOYEE}") as response:
        assert response.status == 404  # someone else's DM stays closed


async def test_a_new_app_database_starts_a_new_workspace(runs: Runs, tmp_path: Path) -> None:
    sandbox = await runs.start()
    await share_card(sandbox, EMPLOYEE)
    await runs.stop()
    for leftover in tmp_path.glob("sharetrail-sandbox.db*"):
        leftover.unlink()

    sandbox = await runs.start()
    assert sandbox.emulator.dm_messages(EMPLOYEE) == []
    assert (tmp_path / "sharetrail-sandbox-slack.db").stat().st_mode & 0o777 == 0o600
