"""`/sharetrail stats ID` sends its charts (the last 14 days, the funnel) as PNGs to the
person's DM, once, drawn in worker processes: the server's process never loads matplotlib."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from PIL import Image

from sandbox.workspace import Message
from tests.conftest import ADMIN, EMPLOYEE, SALES, Stack
from tests.flows import (
    add_global_roster,
    create_activity,
    dm_count,
    get_share_card,
    sign_up,
    view_landing,
)
from tests.slack.test_commands import reply_to

ROOT = Path(__file__).resolve().parents[2]
# The first chart starts a worker process, which imports matplotlib (on a fresh machine it
# also builds matplotlib's font list once): longer than the stand-in's usual 10 s wait.
FIRST_CHART_S = 90.0


async def charts_dm(stack: Stack, user: str, *, since: int) -> Message:
    """The DM carrying the charts, once the worker has drawn them."""

    def found() -> Message | None:
        later = stack.slack.dm_messages(user)[since:]
        return next((m for m in later if m.text.startswith("Charts for")), None)

    message: Message = await stack.slack.wait_until(found, timeout=FIRST_CHART_S)
    return message


async def test_stats_uploads_the_daily_chart_and_the_funnel(stack: Stack) -> None:
    await add_global_roster(stack, *SALES)
    activity_id = await create_activity(stack, name="春季发布会 Spring launch")
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await view_landing(stack, card.url)
    await sign_up(stack, card.url, {"name": "王芳", "phone": "+86 138 1234 5678"})
    await stack.settle()
    before = dm_count(stack, ADMIN)

    answer = await reply_to(stack, ADMIN, f"stats {activity_id}")

    assert "春季发布会 Spring launch" in answer  # the text reply comes first, as before
    message = await charts_dm(stack, ADMIN, since=before)
    assert "春季发布会 Spring launch" in message.text and f"activity {activity_id}" in message.text
    files = [stack.slack.workspace.files[file_id] for file_id in message.files]
    assert [f.name for f in files] == [
        f"sharetrail-activity-{activity_id}-daily.png",
        f"sharetrail-activity-{activity_id}-funnel.png",
    ]
    for file in files:
        with Image.open(io.BytesIO(file.content)) as image:
            assert image.format == "PNG" and image.size == (1000, 560)
            image.verify()
    assert "春季发布会" in files[0].title and "春季发布会" in files[1].title


async def test_a_retried_stats_command_sends_the_charts_once(stack: Stack) -> None:
    activity_id = await create_activity(stack)
    before = dm_count(stack, ADMIN)
    await reply_to(stack, ADMIN, f"stats {activity_id}")
    original = stack.slack.deliveries[-1]
    assert original.kind == "command"
    for retry in (1, 2):
        assert (await stack.slack.endpoint.redeliver(original, retry)).status == 200
    await charts_dm(stack, ADMIN, since=before)
    await stack.settle()
    assert len(stack.slack.calls_to("files.completeUploadExternal")) == 1
    assert len(stack.slack.calls_to("files.getUploadURLExternal")) == 2  # two charts, once


async def test_an_activity_with_no_data_gets_no_data_yet_charts(stack: Stack) -> None:
    activity_id = await create_activity(stack)
    before = dm_count(stack, ADMIN)
    await reply_to(stack, EMPLOYEE, f"stats {activity_id}")
    message = await charts_dm(stack, EMPLOYEE, since=0)
    assert dm_count(stack, ADMIN) == before
    for file_id in message.files:
        with Image.open(io.BytesIO(stack.slack.workspace.files[file_id].content)) as image:
            assert image.size == (1000, 560)


# Runs in a fresh interpreter: this test process has imported matplotlib for other tests.
SERVER_PROCESS = textwrap.dedent(
    """
    import asyncio, json, sys, tempfile
    from pathlib import Path

    from aiohttp import web
    from aiohttp.test_utils import TestServer, unused_port

    from handlers.main import create_app, start_runtime, stop_runtime
    from sandbox.emulator import SlackEmulator
    from tests.conftest import SIGNING_SECRET, BOT_TOKEN, make_settings
    from tests.flows import create_activity, get_share_card, view_landing
    from tests.slack.test_stats_charts import charts_dm
    from tests.conftest import ADMIN, EMPLOYEE, Stack
    from tests.slack.test_commands import reply_to
    import aiohttp


    async def main() -> None:
        emulator = SlackEmulator(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN)
        slack = TestServer(emulator.make_app(), host="127.0.0.1")
        await slack.start_server()
        emulator.base_url = str(slack.make_url("")).rstrip("/")
        port = unused_port()
        with tempfile.TemporaryDirectory() as tmp:
            settings = make_settings(Path(tmp), str(slack.make_url("/api/")), port)
            runtime = await start_runtime(settings)
            runner = web.AppRunner(create_app(settings, runtime=runtime), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            emulator.app_url = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as http:
                stack = Stack(emulator, emulator.app_url, runtime, http)
                activity_id = await create_activity(stack)
                card = await get_share_card(stack, EMPLOYEE, activity_id)
                await view_landing(stack, card.url)
                await reply_to(stack, ADMIN, f"stats {activity_id}")
                charts = await charts_dm(stack, ADMIN, since=0)
                uploaded = len(charts.files)
                workers = runtime.services.reports.pool.started
                # charts', downloads' and WeCom's libraries (wechatpy pulls in requests)
                heavy = ("matplotlib", "numpy", "openpyxl", "wechatpy", "requests")
                loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
            await runner.cleanup()
            await stop_runtime(runtime)
            stopped = not runtime.services.reports.pool.started
        await slack.close()
        print(json.dumps({"uploads": uploaded, "workers": workers, "stopped": stopped,
                          "heavy": loaded}))


    asyncio.run(main())
    """
)


def test_the_server_process_never_imports_matplotlib() -> None:
    """Charts are drawn in worker processes and openpyxl (with the numpy it pulls in) loads
    on the first download, so the landing server keeps its memory (bench/landing.py RSS)."""
    done = subprocess.run(
        [sys.executable, "-c", SERVER_PROCESS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"uploads": 2, "workers": True, "stopped": True, "heavy": []}
