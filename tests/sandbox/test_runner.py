"""`sharetrail sandbox`: the app and the Slack stand-in together, as a newcomer starts them."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.demo import DEMO_ACTIVITY_NAME
from handlers.sandbox_runner import start_sandbox
from sandbox.workspace import Message

REPO = Path(__file__).resolve().parents[2]
URL = re.compile(r"open (http://127\.0\.0\.1:\d+)/ in your browser")


def announcement(messages: list[Message]) -> Message | None:
    return next((m for m in messages if m.blocks and DEMO_ACTIVITY_NAME in m.text), None)


def published_note(messages: list[Message]) -> Message | None:
    return next((m for m in messages if m.ephemeral_to and "Published" in m.text), None)


async def test_demo_is_seeded_and_announced_in_marketing(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"
    for _ in range(2):  # a second start reuses both databases: the same announcement is there
        sandbox = await start_sandbox(app_port=0, ui_port=0, database_url=database_url)
        try:
            slack = sandbox.emulator
            posted: Message = await slack.wait_until(
                lambda: announcement(slack.workspace.history("C_MARKETING"))  # noqa: B023
            )
            actions = [
                e["action_id"]
                for b in posted.blocks
                if b["type"] == "actions"
                for e in b["elements"]
            ]
            assert actions == ["activity_details", "get_share_card", "my_stats"]
            # The app confirms to the admin once the activity is marked as published.
            note: Message = await slack.wait_until(
                lambda: published_note(slack.workspace.history("C_MARKETING", viewer="U_ADMIN"))  # noqa: B023
            )
            assert note.ephemeral_to == "U_ADMIN"
            activities = await sandbox.runtime.services.activities()
            assert [a.name for a in activities] == [DEMO_ACTIVITY_NAME]
            assert activities[0].channel_id == "C_MARKETING"
            assert await sandbox.runtime.services.salespeople() == ["U_SALES1", "U_SALES2"]
            assert sandbox.settings.public_base_url == sandbox.app_url
            assert sandbox.settings.slack_api_url == f"{sandbox.ui_url}/api/"
        finally:
            await sandbox.stop()


def _env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "SHARETRAIL_", "DATABASE_URL", "PUBLIC_BASE_URL"))
    }
    env.update(PYTHONPATH=str(REPO), **extra)
    return env


async def _start(tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "handlers.cli",
        "sandbox",
        *args,
        cwd=tmp_path,
        env=_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
async def test_cli_prints_the_url_serves_the_workspace_and_stops_cleanly(
    tmp_path: Path, stop_with: signal.Signals
) -> None:
    process = await _start(tmp_path, "--port", "0", "--ui-port", "0")
    assert process.stdout is not None and process.stderr is not None
    line = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
    match = URL.search(line)
    assert match, line + (await process.stderr.read()).decode()
    ui = match.group(1)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{ui}/") as response:
            assert response.status == 200
            page = await response.text()
        assert "ShareTrail sandbox" in page and "李雷" in page
        async with http.get(f"{ui}/u/U_ANN/C_MARKETING") as response:
            assert response.status == 200 and "#marketing" in await response.text()
    assert (tmp_path / "sharetrail-sandbox.db").exists()
    process.send_signal(stop_with)
    rest = (await asyncio.wait_for(process.stderr.read(), timeout=30)).decode()
    assert await process.wait() == 0, rest
    assert "Traceback" not in rest and "xoxb-" not in rest


async def test_cli_says_clearly_when_a_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        process = await _start(tmp_path, "--port", "0", "--ui-port", port)
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 1
    message = err.decode()
    assert "already in use" in message and "--ui-port" in message
    assert "Traceback" not in message and not out
