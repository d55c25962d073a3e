"""Zero lost views: SIGTERM in the middle of a burst loses nothing that was answered.

A real `sharetrail serve` process with a long group-commit window (so many views sit in
memory when the signal arrives), real HTTP load, then a restart and a count.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer, unused_port

from sandbox.emulator import SlackEmulator
from tests.test_cli import _run, start_serve

N = 400
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"


async def start_server(tmp_path: Path, port: int, api_url: str) -> asyncio.subprocess.Process:
    return await start_serve(
        tmp_path,
        port,
        SLACK_BOT_TOKEN="xoxb-sandbox",
        SLACK_SIGNING_SECRET="s3cret",
        SLACK_API_URL=api_url,
        TRACKING_FLUSH_MS="2000",
    )


async def test_sigterm_mid_burst_loses_no_answered_view(tmp_path: Path) -> None:
    emulator = SlackEmulator(signing_secret="s3cret", bot_token="xoxb-sandbox")
    slack = TestServer(emulator.make_app(), host="127.0.0.1")
    await slack.start_server()
    port = unused_port()
    code, out, err = await _run(tmp_path, "demo", PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    assert code == 0, err
    url = out.split()[0]

    server = await start_server(tmp_path, port, str(slack.make_url("/api/")))
    answered = 0
    half = asyncio.Event()

    async def view(n: int, http: aiohttp.ClientSession) -> None:
        nonlocal answered
        headers = {"User-Agent": UA, "X-Forwarded-For": f"10.{n // 250}.{n % 250}.1"}
        try:
            async with http.get(url, headers=headers) as response:
                await response.read()
                if response.status == 200:
                    answered += 1
                    if answered >= N // 2:
                        half.set()
        except aiohttp.ClientError:
            pass  # refused or cut off after the signal: not answered, not counted

    connector = aiohttp.TCPConnector(limit=20, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:
        load = [asyncio.create_task(view(n, http)) for n in range(N)]
        await half.wait()
        server.send_signal(signal.SIGTERM)
        await asyncio.gather(*load)
    assert server.stderr is not None
    log = (await asyncio.wait_for(server.stderr.read(), timeout=60)).decode()
    assert await server.wait() == 0, log
    assert "Traceback" not in log
    assert N // 2 <= answered < N, "the signal should land in the middle of the burst"

    restarted = await start_server(tmp_path, port, str(slack.make_url("/api/")))
    restarted.send_signal(signal.SIGTERM)
    assert await restarted.wait() == 0
    with sqlite3.connect(tmp_path / "cli.db") as db:
        views = db.execute("SELECT COUNT(*) FROM views WHERE counted").fetchone()[0]
        uniques = db.execute("SELECT SUM(unique_visitors) FROM share_stats").fetchone()[0]
    assert (views, uniques) == (answered, answered)
    await slack.close()
