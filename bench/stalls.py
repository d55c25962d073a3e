"""When does the landing page stall? A long open-loop run, latencies binned by due time.

    python bench/stalls.py [--rate 2300] [--seconds 60] [--bin 0.25] [--over 8]

Starts the Slack stand-in and `sharetrail serve` as bench/landing.py does, fills the database
with a short wrk (or aiohttp) run, then sends requests at a fixed rate for `--seconds` and
prints p50/p99/p99.9/max and every bin whose slowest request took longer than `--over` ms,
with its time since the server started. Periodic slow bins point at periodic work (cache
expiry, scheduler jobs); the baseline is the same run's p50.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import landing  # noqa: E402


async def timed_open_loop(
    base: str, traffic: landing.Traffic, rate: float, seconds: float, origin: float
) -> list[tuple[float, float]]:
    """(due time since `origin`, latency ms) of each request; latency counts from when due."""
    loop = asyncio.get_running_loop()
    host, port = base.removeprefix("http://").split(":")
    idle: list[landing._Connection] = []
    samples: list[tuple[float, float]] = []

    async def connection() -> landing._Connection:
        if idle:
            return idle.pop()
        _, protocol = await loop.create_connection(landing._Connection, host, int(port))
        return protocol

    async def one(n: int, due: float) -> None:
        _, path, headers = traffic.request(0, n)
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        raw = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{lines}\r\n".encode()
        conn = await connection()
        await conn.request(raw)
        idle.append(conn)
        samples.append((due - origin, (loop.time() - due) * 1000))

    gc.collect()
    gc.disable()  # the client's own pauses would count as the server's
    try:
        start = loop.time() + 0.05
        running: set[asyncio.Task[None]] = set()
        for n in range(int(rate * seconds)):
            due = start + n / rate
            if (delay := due - loop.time()) > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(n, due))
            running.add(task)
            task.add_done_callback(running.discard)
        while running:
            await asyncio.wait(set(running))
    finally:
        gc.enable()
    return samples


async def main_async(args: argparse.Namespace) -> None:
    landing._pin(landing.CLIENT_CPU)
    work = Path(tempfile.mkdtemp(prefix="sharetrail-stalls-"))
    slack = await landing.start_slack(work / "slack")
    server = await landing.start_sharetrail("a", work / "a", slack, 50)
    origin = asyncio.get_running_loop().time()
    try:
        fill = argparse.Namespace(connections=32)
        traffic = landing.Traffic("humans", server.paths, run=3)
        await landing.load(server, slack, traffic, fill, shutil.which("wrk"), seconds=6)
        await server.settle()
        measured = landing.Traffic("humans", server.paths, run=11)
        samples = await timed_open_loop(server.base, measured, args.rate, args.seconds, origin)
    finally:
        await server.stop()
        await slack.stop()
        shutil.rmtree(work, ignore_errors=True)
    ordered = sorted(latency for _, latency in samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    print(
        f"{len(samples)} requests at {args.rate:.0f}/s: p50 {at(0.5):.2f} ms, p99 {at(0.99):.2f}"
        f" ms, p99.9 {at(0.999):.2f} ms, max {ordered[-1]:.1f} ms"
    )
    slowest: dict[float, float] = {}
    for due, latency in samples:
        key = int(due / args.bin) * args.bin
        slowest[key] = max(slowest.get(key, 0.0), latency)
    for key, latency in sorted(slowest.items()):
        if latency > args.over:
            print(f"  {key:7.2f} s after start: slowest {latency:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=2300.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--bin", type=float, default=0.25, help="bin width in seconds")
    parser.add_argument("--over", type=float, default=8.0, help="print bins slower than this")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
