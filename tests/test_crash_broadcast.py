"""kill -9 in the middle of a 2,000-recipient broadcast, then a restart: afterwards every
recipient has exactly one announcement — 0 lost, 0 duplicated — read from the Slack
stand-in's conversations, not from the app's own bookkeeping."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections import Counter
from pathlib import Path

from aiohttp.test_utils import TestServer, unused_port

from sandbox.emulator import SlackEmulator
from sandbox.workspace import add_people
from tests.test_cli import _run, start_serve

SECRET = "crash-test-secret"
TOKEN = "xoxb-crash"
PEOPLE = 2000
REACHABLE_SEEDED = 7  # admin, four employees, two salespeople


def announcements(emulator: SlackEmulator) -> Counter[str]:
    counts: Counter[str] = Counter()
    for channel in emulator.workspace.channels.values():
        if channel.is_im:
            for message in emulator.workspace.history(channel.id):
                key = ((message.metadata or {}).get("event_payload") or {}).get("key", "")
                if key.startswith("announce:"):
                    counts[channel.im_user] += 1
    return counts


async def serve(tmp_path: Path, port: int, api_url: str) -> asyncio.subprocess.Process:
    return await start_serve(
        tmp_path,
        port,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url,
        ADMIN_USER_IDS="U_ADMIN",
        SLACK_PACING_SCALE="10",
    )


async def test_kill_9_mid_broadcast_then_restart_sends_each_dm_once(tmp_path: Path) -> None:
    emulator = SlackEmulator(signing_secret=SECRET, bot_token=TOKEN)
    add_people(emulator.workspace, PEOPLE)
    slack = TestServer(emulator.make_app(), host="127.0.0.1")
    await slack.start_server()
    emulator.base_url = str(slack.make_url("")).rstrip("/")
    api_url = str(slack.make_url("/api/"))
    port = unused_port()
    code, _, err = await _run(tmp_path, "demo", PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    assert code == 0, err
    total = PEOPLE + REACHABLE_SEEDED

    first = await serve(tmp_path, port, api_url)
    emulator.app_url = f"http://127.0.0.1:{port}"
    delivery = await emulator.send_slash_command(
        "U_ADMIN", "publish 1 <#C_MARKETING|marketing> --dm-all", channel="C_GENERAL"
    )
    assert delivery.status == 200
    await emulator.wait_until(lambda: sum(announcements(emulator).values()) >= total // 3, 120)
    first.send_signal(signal.SIGKILL)
    assert await first.wait() == -signal.SIGKILL
    sent_before_crash = sum(announcements(emulator).values())
    assert sent_before_crash < total, "the crash should land in the middle of the broadcast"

    second = await serve(tmp_path, port, api_url)
    await emulator.wait_until(lambda: len(announcements(emulator)) == total, 180)
    second.send_signal(signal.SIGTERM)  # drains whatever is still in flight
    assert second.stderr is not None
    log = (await asyncio.wait_for(second.stderr.read(), timeout=60)).decode()
    assert await second.wait() == 0, log
    assert "Traceback" not in log

    counts = announcements(emulator)
    assert len(counts) == total  # 0 lost
    assert max(counts.values()) == 1  # 0 duplicated
    with sqlite3.connect(tmp_path / "cli.db") as db:
        statuses = dict(db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status"))
    assert statuses.get("sent", 0) >= total and set(statuses) == {"sent"}
    await slack.close()
