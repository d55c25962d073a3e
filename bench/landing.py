"""Landing page (GET /s/{code}) throughput and latency, against bare aiohttp in the same run.

Run: python bench/landing.py [--duration 5] [--connections 32] [--client auto|wrk|aiohttp]
     [--keep]   (about 1 1/2 min when the server's writes keep up with its answers; today
     3-4 min, because every answered view must be committed before the next run and the
     final count: the table shows how long that took)

Every process is pinned the same way: servers on CPU 0; the client (wrk, or this process)
and the Slack stand-in on CPU 1. Servers:
  bare hello   bench/bare_server.py answering "Hello, World!": the issue's baseline
  bare sized   the same server answering the bytes of a real landing page captured from
               this run: the fairer baseline, it pays the same bytes on the wire
  ShareTrail   `python -m handlers.cli serve` (access log off, like the bare one) with SQLite
               in a temp dir, share codes from `python -m handlers.cli demo`, and
               SLACK_API_URL at sandbox.emulator.SlackEmulator (bench/slack_stand_in.py, its
               own process so its work does not sit in the load generator's event loop), so
               the DMs new human visitors cause really go out: part of the cost
Load: wrk when installed (one connection per wrk thread, so its Lua script knows which
request each response answers), else a closed-loop aiohttp generator (this file);
--connections connections for --duration s after a 1 s warm-up. Modes:
  (a) humans   mobile browser UAs, a new X-Forwarded-For on every request (the server trusts
               it from 127.0.0.1), no cookie: every request is a new unique visitor, the
               worst case for writes
  (b) 80% bots Slackbot-LinkExpanding, WhatsApp, facebookexternalhit... on 4 of 5 requests
  (c) write-through  as (a) with TRACKING_FLUSH_MS=0 (committed before the page is answered)
  open loop    aiohttp at a fixed rate, half of (a)'s answered req/s (and half of its stored
               rate, when lower), latency counted from each request's due time (no
               coordinated omission); the same rate against bare sized as the floor
Figures: req/s answered; stored/s = views committed per second from the run's start until
the last one was in the database (a server that answers faster than it commits builds a
queue in memory: its answered rate is not one it can hold); p50/p99 latency; ratios to both
baselines; CPU used by the server, the client, the Slack stand-in and every other process
(another job on the machine shows up there); ShareTrail's peak VmRSS under load.
Exactness, per ShareTrail server after SIGTERM: counted views == human 200s the client saw
(with wrk, plus human requests in flight when wrk stopped: the server had them) == the
share_stats roll-up == views the "viewing your card" DMs tell of (outbox rows written with
the views: one DM per share per 10 minutes, rewritten with the count),
and views rows == requests.
Targets (issue 5): (a) >= 60% of bare req/s; p99 <= 10 ms at half load; RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.tracking import classify  # noqa: E402

SERVER_CPU, CLIENT_CPU = 0, 1
BOT_TOKEN, SIGNING_SECRET = "xoxb-bench", "bench-signing-secret"
WARMUP_S = 1.0
RSS_TARGET_MB, P99_TARGET_MS, RATIO_TARGET = 150.0, 10.0, 0.60
HUMAN_UAS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.6422.113 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003129) NetType/WIFI "
    "Language/zh_CN",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
)
BOT_UAS = (
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "WhatsApp/2.23.20.0 A",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "TelegramBot (like TwitterBot)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
)


# --- traffic: the same rule in Python and in wrk's Lua ----------------------------------


@dataclass(frozen=True)
class Traffic:
    """Request n of stream s: human unless bot_every > 0 and n % bot_every != 0."""

    name: str
    paths: tuple[str, ...]
    bot_every: int = 0  # 5: four bots in every five requests
    run: int = 0  # keeps X-Forwarded-For unique across runs on one server

    def request(self, stream: int, n: int) -> tuple[bool, str, dict[str, str]]:
        human = self.bot_every == 0 or n % self.bot_every == 0
        agents = HUMAN_UAS if human else BOT_UAS
        forwarded = f"fd{self.run:02x}:{stream:x}::{n >> 16:x}:{n & 0xFFFF:x}"
        headers = {"User-Agent": agents[n % len(agents)], "X-Forwarded-For": forwarded}
        return human, self.paths[n % len(self.paths)], headers

    def lua(self) -> str:
        def table(items: tuple[str, ...]) -> str:
            return "{" + ", ".join(json.dumps(item) for item in items) + "}"

        return WRK_SCRIPT % {
            "paths": table(self.paths),
            "humans": table(HUMAN_UAS),
            "bots": table(BOT_UAS),
            "bot_every": self.bot_every,
            "run": self.run,
        }


WRK_SCRIPT = """
local paths, humans, bots = %(paths)s, %(humans)s, %(bots)s
local bot_every, run = %(bot_every)d, %(run)d
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("stream", #threads)
end
function init(args)
  n, human_ok, bot_ok, other, pending = -1, 0, 0, 0, nil
end
function request()
  n = n + 1
  local human = bot_every == 0 or n %% bot_every == 0
  local agents = human and humans or bots
  pending = human and "human" or "bot"
  local forwarded = string.format("fd%%02x:%%x::%%x:%%x", run, stream, math.floor(n / 65536),
                                  n %% 65536)
  return wrk.format("GET", paths[(n %% #paths) + 1],
                    {["User-Agent"] = agents[(n %% #agents) + 1], ["X-Forwarded-For"] = forwarded})
end
function response(status, headers, body)
  if status == 200 then
    if pending == "human" then human_ok = human_ok + 1 else bot_ok = bot_ok + 1 end
  else
    other = other + 1
  end
  pending = nil
end
function done(summary, latency, requests)
  local h, b, o, ph, pb = 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    h, b, o = h + t:get("human_ok"), b + t:get("bot_ok"), o + t:get("other")
    local p = t:get("pending")
    if p == "human" then ph = ph + 1 elseif p == "bot" then pb = pb + 1 end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"human_ok": %%d, "bot_ok": %%d, "other": %%d, "human_pending": %%d, "bot_pending": %%d, ' ..
    '"errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    h, b, o, ph, pb, e.connect + e.read + e.write + e.timeout))
end
"""


# --- load generators ----------------------------------------------------------------------


@dataclass
class LoadResult:
    client: str
    requests: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    p50_wrk: float | None = None
    p99_wrk: float | None = None
    human_ok: int = 0
    bot_ok: int = 0
    other: int = 0  # non-200 answers
    errors: int = 0  # connection errors and timeouts
    human_pending: int = 0  # wrk only: sent, not yet answered when wrk stopped
    bot_pending: int = 0
    server_cpu: float = 0.0  # share of one core the server process used
    client_core: float = 0.0  # how busy the client's core was
    rss_mb: float = 0.0
    target_rate: float | None = None
    usage: Usage = field(default_factory=lambda: Usage())
    stores: bool = False  # a ShareTrail run: views are stored
    commit_drain_s: float = 0.0  # after the run, until every answered view was committed
    dm_drain_s: float = 0.0  # then until the server's background tasks were done

    @property
    def views(self) -> int:
        """Requests the server recorded (bots too): answered, or in flight at wrk's stop."""
        return self.human_ok + self.bot_ok + self.human_pending + self.bot_pending

    @property
    def stored_rps(self) -> float:
        """Views per second from the run's start until the last of them was committed."""
        return self.views / (self.seconds + self.commit_drain_s) if self.seconds else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if q == 50 and self.p50_wrk is not None:
            return self.p50_wrk
        if q == 99 and self.p99_wrk is not None:
            return self.p99_wrk
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _count(result: LoadResult, human: bool, status: int) -> None:
    result.requests += 1
    if status != 200:
        result.other += 1
    elif human:
        result.human_ok += 1
    else:
        result.bot_ok += 1


def _session(limit: int) -> aiohttp.ClientSession:
    # No cookie jar: every request arrives without our visitor cookie, like a new person.
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit)
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=30),
    )


async def closed_loop(base: str, traffic: Traffic, connections: int, seconds: float) -> LoadResult:
    """`connections` workers, each sending its next request when the last one is answered;
    no request starts after the deadline and every started one is waited for."""
    result = LoadResult("aiohttp")
    loop = asyncio.get_running_loop()
    async with _session(connections) as http:
        start = loop.time()
        deadline = start + seconds

        async def worker(stream: int) -> None:
            n = 0
            while loop.time() < deadline:
                human, path, headers = traffic.request(stream, n)
                n += 1
                sent = loop.time()
                try:
                    async with http.get(base + path, headers=headers) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    result.errors += 1
                    continue
                result.latencies_ms.append((loop.time() - sent) * 1000)
                _count(result, human, status)

        await asyncio.gather(*(worker(s + 1) for s in range(connections)))
        result.seconds = loop.time() - start
    return result


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection of the open-loop client: writes a request, reads
    one response (status line, headers, Content-Length body). An order of magnitude less
    client CPU per request than aiohttp's client, so at a few thousand requests a second
    the latency measured is the server's, not the client's own queueing."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        status = self._response()
        if status is not None and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("closed"))
        self.transport = None

    def _response(self) -> int | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if len(self.buffer) < end + 4 + length:
            return None
        del self.buffer[: end + 4 + length]
        return int(head[0].split(" ", 2)[1])

    async def request(self, raw: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


async def open_loop(base: str, traffic: Traffic, rate: float, seconds: float) -> LoadResult:
    """Requests at a fixed rate whatever the answers do; latency counts from the time each
    request was due, so a stalled server shows up in the numbers instead of slowing the load.
    Idle keep-alive connections are reused; a new one is opened when none is free."""
    result = LoadResult("open-loop", target_rate=rate)
    loop = asyncio.get_running_loop()
    total = max(1, int(rate * seconds))
    host, port = base.removeprefix("http://").split(":")
    idle: list[_Connection] = []
    opened: list[_Connection] = []

    async def connection() -> _Connection:
        if idle:
            return idle.pop()
        _, protocol = await loop.create_connection(_Connection, host, int(port))
        opened.append(protocol)
        return protocol

    async def one(n: int, due: float) -> None:
        human, path, headers = traffic.request(0, n)
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        raw = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{lines}\r\n".encode()
        try:
            conn = await connection()
            status = await asyncio.wait_for(conn.request(raw), 30)
        except (OSError, TimeoutError):
            result.errors += 1
            return
        idle.append(conn)
        result.latencies_ms.append((loop.time() - due) * 1000)
        _count(result, human, status)

    # The client's own pauses would count as the server's latency: no garbage-collector
    # passes during the run, and finished requests are not kept.
    gc.collect()
    gc.disable()
    try:
        start = loop.time() + 0.05
        running: set[asyncio.Task[None]] = set()
        for n in range(total):
            due = start + n / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(n, due))
            running.add(task)
            task.add_done_callback(running.discard)
        while running:
            await asyncio.wait(set(running))
        result.seconds = loop.time() - start
    finally:
        gc.enable()
    for conn in opened:
        if conn.transport is not None:
            conn.transport.close()
    return result


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > cpu:
        os.sched_setaffinity(0, {cpu})


async def run_wrk(
    wrk: str, base: str, traffic: Traffic, connections: int, seconds: float, workdir: Path
) -> LoadResult:
    script = workdir / f"wrk-{traffic.run}.lua"
    script.write_text(traffic.lua())
    process = await asyncio.create_subprocess_exec(
        wrk, "-t", str(connections), "-c", str(connections), "-d", f"{seconds:g}s",
        "--timeout", "10s", "-s", str(script), base,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        preexec_fn=lambda: _pin(CLIENT_CPU),
    )  # fmt: skip
    out, err = await process.communicate()
    match = re.search(r"^BENCH (\{.*\})$", out.decode(), re.MULTILINE)
    if process.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed: {out.decode()}\n{err.decode()}")
    data = json.loads(match.group(1))
    return LoadResult(
        "wrk",
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_wrk=data["p50_us"] / 1000,
        p99_wrk=data["p99_us"] / 1000,
        human_ok=data["human_ok"],
        bot_ok=data["bot_ok"],
        other=data["other"],
        errors=data["errors"],
        human_pending=data["human_pending"],
        bot_pending=data["bot_pending"],
    )


# --- processes and measurements -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return 0.0


def _own_cpu_seconds() -> float:
    """This process and its reaped children (wrk): the client's CPU."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _machine_busy_seconds() -> float:
    """CPU seconds spent busy on all cores (everything but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Usage:
    """Cores used during a run by the server, the client, the Slack stand-in, and others."""

    server: float = 0.0
    client: float = 0.0
    slack: float = 0.0
    others: float = 0.0

    @classmethod
    def snapshot(cls, server: int, slack: int) -> tuple[float, ...]:
        return (
            time.monotonic(),
            _cpu_seconds(server),
            _own_cpu_seconds(),
            _cpu_seconds(slack),
            _machine_busy_seconds(),
        )

    @classmethod
    def between(cls, before: tuple[float, ...], after: tuple[float, ...]) -> Usage:
        elapsed, server, client, slack, busy = (b - a for a, b in zip(before, after, strict=True))
        others = max(0.0, busy - server - client - slack)
        return cls(server / elapsed, client / elapsed, slack / elapsed, others / elapsed)


@dataclass
class Process:
    name: str
    process: asyncio.subprocess.Process
    base: str
    workdir: Path

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=120)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@dataclass
class Server(Process):
    paths: tuple[str, ...] = ()
    sharetrail: bool = False
    rss_peak: float = 0.0
    sampling: bool = False
    human_ok: int = 0  # over every run against this server, warm-ups included
    human_pending: int = 0
    views: int = 0  # views rows the server should have once its queue is committed
    dm_mark: int = 0

    async def sample_rss(self) -> None:
        while self.process.returncode is None:
            if self.sampling:
                self.rss_peak = max(self.rss_peak, rss_mb(self.process.pid))
            await asyncio.sleep(0.05)

    def committed(self) -> int:
        with contextlib.closing(sqlite3.connect(self.workdir / "sharetrail.db")) as db:
            return int(db.execute("SELECT COUNT(*) FROM views").fetchone()[0])

    async def settle(self, stall: float = 30.0) -> tuple[float, float]:
        """Wait until every answered view is committed, then until the DMs they cause are
        sent; the seconds each took (the server's backlog when the load stopped). Gives up
        when nothing is committed for `stall` seconds (the exactness check then says so)."""
        if not self.sharetrail:
            return 0.0, 0.0
        started = progress = time.monotonic()
        last = -1
        while (now := self.committed()) < self.views:
            if now != last:
                last, progress = now, time.monotonic()
            elif time.monotonic() - progress > stall:
                print(
                    f"{self.name}: {self.views - now} answered views not committed after "
                    f"{stall:g} s without progress; going on",
                    file=sys.stderr,
                )
                break
            await asyncio.sleep(0.05)
        committed = time.monotonic()
        limit = stall + committed - started
        while time.monotonic() - started < limit and self.owed_dms():
            await asyncio.sleep(0.05)
        return committed - started, time.monotonic() - committed

    def owed_dms(self) -> int:
        """Outbox rows due now and not sent yet (/healthz tells nobody its queues)."""
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        with contextlib.closing(sqlite3.connect(self.workdir / "sharetrail.db")) as db:
            row = db.execute(
                "SELECT COUNT(*) FROM outbox WHERE status = 'sending'"
                " OR (status = 'pending' AND due_at <= ?)",
                (now,),
            ).fetchone()
        return int(row[0])


async def _wait_ready(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if process.returncode is not None:
                raise RuntimeError(f"exited ({process.returncode}):\n{log.read_text()}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"not ready at {url}:\n{log.read_text()}")


async def _spawn(
    args: list[str], env: dict[str, str], workdir: Path, cpu: int
) -> asyncio.subprocess.Process:
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / "server.log").open("wb") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=workdir, env=env, stdout=sink, stderr=sink,
            preexec_fn=lambda: _pin(cpu),
        )  # fmt: skip


async def start_slack(workdir: Path) -> Process:
    port = free_port()
    args = [str(ROOT / "bench" / "slack_stand_in.py"), "--port", str(port)]
    args += ["--token", BOT_TOKEN, "--signing-secret", SIGNING_SECRET]
    process = await _spawn(args, dict(os.environ), workdir, CLIENT_CPU)
    slack = Process("slack", process, f"http://127.0.0.1:{port}", workdir)
    await _wait_ready(slack.base + "/bench/calls", process, workdir / "server.log")
    return slack


async def dm_count(slack: Process) -> int:
    async with aiohttp.ClientSession() as http, http.get(slack.base + "/bench/calls") as response:
        return int((await response.json()).get("chat.postMessage", 0))


async def start_bare(workdir: Path, body: Path | None) -> Server:
    port = free_port()
    args = [str(ROOT / "bench" / "bare_server.py"), "--port", str(port)]
    if body is not None:
        args += ["--body-file", str(body)]
    process = await _spawn(args, dict(os.environ), workdir, SERVER_CPU)
    name = "bare sized" if body else "bare hello"
    server = Server(name, process, f"http://127.0.0.1:{port}", workdir, paths=("/s/hello",))
    await _wait_ready(server.base + "/", process, workdir / "server.log")
    return server


def _sharetrail_env(workdir: Path, port: int, api_url: str, flush_ms: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "SHARETRAIL_", "DATABASE_URL", "PUBLIC_BASE_URL"))
        and key not in ("HOST", "PORT", "TRACKING_FLUSH_MS", "ADMIN_USER_IDS")
    }
    env |= {
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'sharetrail.db'}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "TRACKING_FLUSH_MS": str(flush_ms),
        "PYTHONPATH": str(ROOT),
    }
    return env


async def start_sharetrail(name: str, workdir: Path, slack: Process, flush_ms: int) -> Server:
    """`sharetrail demo` for share codes on this port, then `sharetrail serve`."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = _sharetrail_env(workdir, port, slack.base + "/api/", flush_ms)
    demo = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "handlers.cli", "demo", cwd=workdir, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await demo.communicate()
    if demo.returncode != 0:
        raise RuntimeError(f"sharetrail demo failed:\n{err.decode()}")
    base = f"http://127.0.0.1:{port}"
    paths = tuple(url.removeprefix(base) for url in out.decode().split())
    if not paths or not all(p.startswith("/s/") for p in paths):
        raise RuntimeError(f"demo printed no share URLs on {base}: {out.decode()!r}")
    process = await _spawn(["-m", "handlers.cli", "serve"], env, workdir, SERVER_CPU)
    server = Server(name, process, base, workdir, paths=paths, sharetrail=True)
    await _wait_ready(base + "/healthz", process, workdir / "server.log")
    server.dm_mark = await dm_count(slack)
    return server


async def load(
    server: Server,
    slack: Process,
    traffic: Traffic,
    args: argparse.Namespace,
    wrk: str | None,
    *,
    seconds: float,
    rate: float | None = None,
) -> LoadResult:
    """One run against a settled server, with the CPU each party used during it."""
    await server.settle()
    before = Usage.snapshot(server.process.pid, slack.process.pid)
    server.sampling = True
    try:
        if rate is not None:
            result = await open_loop(server.base, traffic, rate, seconds)
        elif wrk:
            result = await run_wrk(
                wrk, server.base, traffic, args.connections, seconds, server.workdir
            )
        else:
            result = await closed_loop(server.base, traffic, args.connections, seconds)
    finally:
        server.sampling = False
    result.usage = Usage.between(before, Usage.snapshot(server.process.pid, slack.process.pid))
    result.stores = server.sharetrail
    server.human_ok += result.human_ok
    server.human_pending += result.human_pending
    server.views += result.views
    result.commit_drain_s, result.dm_drain_s = await server.settle()
    result.rss_mb = server.rss_peak
    return result


@dataclass
class Check:
    counted: int
    expected: int
    rollup_views: int
    rollup_uniques: int
    all_views: int
    expected_views: int
    notices: int | None  # views the "viewing your card" DMs tell of (outbox rows), if any
    windows: int  # those DMs: one per share per 10 minutes, rewritten with the count
    dms: int  # DMs the stand-in received

    @property
    def exact(self) -> bool:
        same = self.counted == self.expected == self.rollup_views == self.rollup_uniques
        owed = self.notices if self.notices is not None else self.dms
        return same and self.all_views == self.expected_views and owed == self.counted


async def stop_and_check(server: Server, slack: Process) -> Check:
    """SIGTERM (the server commits its queue and finishes its DMs), then count in SQLite."""
    await server.stop()
    with contextlib.closing(sqlite3.connect(server.workdir / "sharetrail.db")) as db:
        counted, all_views = db.execute("SELECT SUM(counted), COUNT(*) FROM views").fetchone()
        views, uniques = db.execute(
            "SELECT SUM(views), SUM(unique_visitors) FROM share_stats"
        ).fetchone()
        try:  # bot/view_alerts.py: a DM per share and window, its count in the tallies
            rows = db.execute(
                "SELECT kind, key, payload FROM outbox WHERE batch LIKE 'views:%'"
            ).fetchall()
            told: dict[str, int] = {}
            for kind, key, payload in rows:
                if kind == "CardViewed":
                    told.setdefault(key, 1)
                else:
                    tally = json.loads(payload)
                    told[tally["rewrites"]] = max(told.get(tally["rewrites"], 1), tally["count"])
            notices, windows = sum(told.values()), len(told)
        except sqlite3.OperationalError:  # no outbox table: DMs are sent directly
            notices, windows = None, 0
    dms = await dm_count(slack) - server.dm_mark
    expected = server.human_ok + server.human_pending
    return Check(
        counted or 0,
        expected,
        views or 0,
        uniques or 0,
        all_views,
        server.views,
        notices,
        windows,
        dms,
    )


# --- the run -------------------------------------------------------------------------------


def self_check() -> None:
    """The UAs must be what the bench calls them, by the app's own counting rules."""
    for agent in HUMAN_UAS:
        assert not classify("GET", agent, {}).is_bot, f"counted as a bot: {agent}"
    for agent in BOT_UAS:
        assert classify("GET", agent, {}).is_bot, f"counted as a human: {agent}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def row(label: str, result: LoadResult, hello: LoadResult, sized: LoadResult) -> str:
    def ratio(base: LoadResult) -> str:
        return f"{result.rps / base.rps:6.2f}" if base.rps else "     -"

    use = result.usage
    notes = []
    if use.client + use.slack > 0.9:
        notes.append("client-bound")
    elif result.target_rate is None and use.server < 0.8:
        notes.append("server below 80% CPU: the client or other load set the pace")
    if use.others > 0.15:
        notes.append("other load")
    if result.other or result.errors:
        notes.append(f"{result.other} non-200, {result.errors} errors")
    if result.commit_drain_s > 0.5:
        notes.append(f"views committed {result.commit_drain_s:.1f} s after the load")
    if result.dm_drain_s > 0.5:
        notes.append(f"tasks {result.dm_drain_s:.1f} s after that")
    rss = f"{result.rss_mb:6.0f}" if result.rss_mb else "     -"
    stored = f"{result.stored_rps:8.0f}" if result.stores else "       -"
    return (
        f"{label:36} {result.rps:7.0f} {stored} {result.percentile(50):7.2f} "
        f"{result.percentile(99):8.2f} "
        f"{ratio(hello)} {ratio(sized)} {100 * use.server:5.0f}% {100 * use.client:5.0f}% "
        f"{100 * use.slack:5.0f}% {100 * use.others:5.0f}% {rss}  {', '.join(notes)}"
    )


async def main_async(args: argparse.Namespace) -> int:
    self_check()
    _pin(CLIENT_CPU)
    wrk = None if args.client == "aiohttp" else shutil.which("wrk")
    if args.client == "wrk" and wrk is None:
        print("wrk is not installed (apt-get install -y wrk), or use --client aiohttp")
        return 2
    started = time.monotonic()
    seconds = args.duration
    results: dict[str, LoadResult] = {}
    checks: dict[str, Check] = {}
    processes: list[Process] = []
    samplers: list[asyncio.Task[None]] = []
    work = Path(tempfile.mkdtemp(prefix="sharetrail-bench-"))

    def track(server: Server) -> Server:
        processes.append(server)
        samplers.append(asyncio.create_task(server.sample_rss()))
        return server

    async def throughput(server: Server, traffic: Traffic, key: str) -> LoadResult:
        warm = Traffic(traffic.name, server.paths, traffic.bot_every, run=traffic.run + 100)
        await load(server, slack, warm, args, wrk, seconds=WARMUP_S)
        server.rss_peak = 0.0  # the peak under the measured load, not the warm-up
        results[key] = await load(server, slack, traffic, args, wrk, seconds=seconds)
        return results[key]

    try:
        slack = await start_slack(work / "slack")
        processes.append(slack)
        humans = track(await start_sharetrail("a", work / "a", slack, 50))
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                humans.base + humans.paths[0], headers={"User-Agent": HUMAN_UAS[0]}
            ) as response,
        ):
            page = await response.read()
        humans.human_ok += 1
        humans.views += 1
        page_file = work / "landing.html"
        page_file.write_bytes(page)

        hello = track(await start_bare(work / "hello", None))
        await throughput(hello, Traffic("bare", hello.paths, run=1), "hello")
        await hello.stop()
        sized = track(await start_bare(work / "sized", page_file))
        await throughput(sized, Traffic("bare", sized.paths, run=2), "sized")

        a = await throughput(humans, Traffic("humans", humans.paths, run=3), "a")
        for key, rate in (("half", a.rps / 2), ("half stored", a.stored_rps / 2)):
            if key == "half stored" and a.stored_rps > 0.9 * a.rps:
                break  # the server kept up: the two rates are the same run
            results[key] = await load(
                humans, slack, Traffic("humans", humans.paths, run=len(results) + 10), args,
                wrk, seconds=seconds, rate=rate,
            )  # fmt: skip
            results[f"{key} bare"] = await load(
                sized, slack, Traffic("bare", sized.paths, run=len(results) + 10), args, wrk,
                seconds=seconds, rate=rate,
            )  # fmt: skip
        await sized.stop()
        checks["a"] = await stop_and_check(humans, slack)

        bots = track(await start_sharetrail("b", work / "b", slack, 50))
        await throughput(bots, Traffic("bots", bots.paths, bot_every=5, run=6), "b")
        checks["b"] = await stop_and_check(bots, slack)

        through = track(await start_sharetrail("c", work / "c", slack, 0))
        await throughput(through, Traffic("humans", through.paths, run=7), "c")
        checks["c"] = await stop_and_check(through, slack)
    finally:
        for process in reversed(processes):  # the Slack stand-in last: servers still DM
            await process.stop()
        for sampler in samplers:
            sampler.cancel()
        if args.keep:
            print(f"kept {work} (server logs, databases)")
        else:
            shutil.rmtree(work, ignore_errors=True)

    report(results, checks, args, wrk, len(page))
    print(f"(total {time.monotonic() - started:.0f} s)")
    return 0


def report(
    results: dict[str, LoadResult],
    checks: dict[str, Check],
    args: argparse.Namespace,
    wrk: str | None,
    page_bytes: int,
) -> None:
    hello, sized = results["hello"], results["sized"]
    print(
        f"landing page {page_bytes} B; {os.cpu_count()} cores: servers on CPU {SERVER_CPU}, "
        f"client and Slack stand-in on CPU {CLIENT_CPU}; {args.connections} connections, "
        f"{args.duration:g} s per run after a {WARMUP_S:g} s warm-up; client {wrk or 'aiohttp'}"
    )
    print("req/s: answered; stored/s: views committed per second, from the run's start until")
    print("the last one was committed. CPU columns: share of one core used by the server, the")
    print("client, the Slack stand-in, and every other process on the machine during the run.")
    print(
        f"{'run':36} {'req/s':>7} {'stored/s':>8} {'p50 ms':>7} {'p99 ms':>8} {'/hello':>6} "
        f"{'/sized':>6} {'server':>6} {'client':>6} {'slack':>6} {'others':>6} {'RSS MB':>6}"
    )
    labels = {
        "hello": "bare hello (baseline)",
        "sized": "bare sized (baseline, same bytes)",
        "a": "ShareTrail (a) humans, new visitors",
        "b": "ShareTrail (b) 80% preview bots",
        "c": "ShareTrail (c) write-through",
    }
    for key in ("half", "half stored"):
        if key in results:
            rate = results[key].target_rate or 0
            labels[key] = f"ShareTrail (a) open loop {rate:.0f}/s"
            labels[f"{key} bare"] = f"bare sized open loop {rate:.0f}/s"
    for key, label in labels.items():
        print(row(label, results[key], hello, sized))
    for key, check in checks.items():
        print(
            f"exactness ({key}): counted views in DB {check.counted} == human 200s seen "
            f"{check.expected} == share_stats views {check.rollup_views} == unique visitors "
            f"{check.rollup_uniques} == views told to employees "
            f"{check.notices if check.notices is not None else check.dms} "
            f"(in {check.windows} coalesced DMs); views rows "
            f"{check.all_views} == requests {check.expected_views} -> {verdict(check.exact)} "
            f"(DMs delivered by the stop: {check.dms})"
        )

    a = results["a"]
    print(
        f"target throughput (a) >= {RATIO_TARGET:.0%} of bare hello: answered "
        f"{a.rps / hello.rps:.2f} -> {verdict(a.rps >= RATIO_TARGET * hello.rps)}; stored "
        f"{a.stored_rps / hello.rps:.2f} -> {verdict(a.stored_rps >= RATIO_TARGET * hello.rps)}"
        f"   (of bare sized: answered {a.rps / sized.rps:.2f}, stored "
        f"{a.stored_rps / sized.rps:.2f})"
    )
    for key in ("b", "c"):
        r = results[key]
        print(
            f"report   throughput ({key}) / bare hello: answered {r.rps / hello.rps:.2f}, stored "
            f"{r.stored_rps / hello.rps:.2f}; / bare sized: answered {r.rps / sized.rps:.2f}, "
            f"stored {r.stored_rps / sized.rps:.2f}"
        )
    for key, what in (("half", "answered"), ("half stored", "stored")):
        if key not in results:
            continue
        half, bare = results[key], results[f"{key} bare"]
        p99 = half.percentile(99)
        print(
            f"target p99 <= {P99_TARGET_MS:g} ms at half of (a)'s {what} rate "
            f"({half.target_rate or 0:.0f}/s asked, {half.rps:.0f}/s achieved): {p99:.2f} ms -> "
            f"{verdict(p99 <= P99_TARGET_MS)}   (bare sized, same rate: "
            f"{bare.percentile(99):.2f} ms)"
        )
    rss_peak = max(r.rss_mb for k, r in results.items() if k in ("a", "b", "c", "half"))
    print(
        f"target RSS <= {RSS_TARGET_MB:g} MB: peak {rss_peak:.0f} MB -> "
        f"{verdict(rss_peak <= RSS_TARGET_MB)}"
    )
    print(f"target exact counts: {verdict(all(c.exact for c in checks.values()))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measured run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--client", choices=("auto", "wrk", "aiohttp"), default="auto")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, databases)")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
