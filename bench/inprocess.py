"""One ShareTrail runtime and the Slack stand-in in this process, for delivery benchmarks.

The same wiring as tests/conftest.py: the real aiohttp app and bolt app on a local port,
a temporary SQLite database, and sandbox.emulator as Slack's Web API.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import unused_port

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import Settings  # noqa: E402
from handlers.main import Runtime, create_app, start_runtime, stop_runtime  # noqa: E402
from sandbox.emulator import SlackEmulator  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"


@dataclass
class Bench:
    slack: SlackEmulator
    runtime: Runtime
    app_url: str


@asynccontextmanager
async def running(*, pacing_scale: float = 1.0, **settings: object) -> AsyncIterator[Bench]:
    emulator = SlackEmulator(signing_secret=SECRET, bot_token=TOKEN)
    slack_runner = web.AppRunner(emulator.make_app(), access_log=None)
    await slack_runner.setup()
    slack_port = unused_port()
    await web.TCPSite(slack_runner, "127.0.0.1", slack_port).start()
    emulator.base_url = f"http://127.0.0.1:{slack_port}"
    port = unused_port()
    with tempfile.TemporaryDirectory() as tmp:
        values: dict[str, object] = {
            "slack_bot_token": TOKEN,
            "slack_signing_secret": SECRET,
            "slack_api_url": f"{emulator.base_url}/api/",
            "database_url": f"sqlite+aiosqlite:///{tmp}/bench.db",
            "public_base_url": f"http://127.0.0.1:{port}",
            "port": port,
            "admin_user_ids": "U_ADMIN",
            "slack_pacing_scale": pacing_scale,
            **settings,
        }
        config = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        runtime = await start_runtime(config)
        runner = web.AppRunner(create_app(config, runtime=runtime), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        emulator.app_url = f"http://127.0.0.1:{port}"
        try:
            yield Bench(emulator, runtime, f"http://127.0.0.1:{port}")
        finally:
            await runner.cleanup()
            await stop_runtime(runtime)
            await slack_runner.cleanup()
