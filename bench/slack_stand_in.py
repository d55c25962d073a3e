"""sandbox.emulator's Slack Web API stand-in as its own process, for bench/landing.py.

Run: python bench/slack_stand_in.py --port 8082 --token xoxb-bench --signing-secret s

A process of its own so the DMs it answers do not run inside the load generator's event
loop (where they would add to the latency the generator measures). GET /bench/calls
answers the number of Web API calls per method so far.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections import Counter
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.emulator import SlackEmulator  # noqa: E402


async def serve(port: int, token: str, signing_secret: str) -> None:
    emulator = SlackEmulator(signing_secret=signing_secret, bot_token=token)
    app = emulator.make_app()

    async def calls(_: web.Request) -> web.Response:
        return web.json_response(dict(Counter(call.method for call in emulator.calls)))

    app.router.add_get("/bench/calls", calls)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    emulator.base_url = f"http://127.0.0.1:{port}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--signing-secret", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.token, args.signing_secret))


if __name__ == "__main__":
    main()
