"""Several `sharetrail serve` replicas on one PostgreSQL database (DESIGN.md §3): they start
together safely, count exactly, and send each message once.

Real processes, a real PostgreSQL database per test, the sandbox's Slack stand-in; requests
alternate between the replicas as a load balancer would spread them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer, unused_port

from sandbox.emulator import SlackEmulator
from sandbox.workspace import add_people
from tests.conftest import _drop_postgres_database, _postgres_database
from tests.test_cli import _env

pytestmark = pytest.mark.postgres

SECRET = "replica-signing-secret"
TOKEN = "xoxb-replicas"


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (no schema: the replicas migrate it)."""
    name = await _postgres_database()
    if name is None:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await _drop_postgres_database(name)


@dataclass
class Replica:
    """One `sharetrail serve` process; its log (stderr) goes to a file, read at the end."""

    name: str
    port: int
    process: asyncio.subprocess.Process
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def _log_file(path: Path) -> Iterator[int]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        yield fd
    finally:
        os.close(fd)


async def spawn(tmp_path: Path, name: str, command: str, **env: str) -> Replica:
    """Start `sharetrail COMMAND` (not waiting for it to be ready)."""
    port = int(env.pop("PORT", "0")) or unused_port()
    workdir = tmp_path / name
    workdir.mkdir(exist_ok=True)
    log_path = workdir / "stderr.log"
    with _log_file(log_path) as log_fd, _log_file(workdir / "stdout.txt") as out_fd:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "handlers.cli",
            command,
            cwd=workdir,
            env=_env(workdir, PORT=str(port), **env),
            stdout=out_fd,
            stderr=log_fd,
        )
    return Replica(name, port, process, log_path)


async def healthy(replica: Replica, *, timeout: float = 60) -> None:
    """Wait until the replica answers /healthz; fail with its log if it exits instead."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if replica.process.returncode is not None:
                pytest.fail(f"{replica.name} exited ({replica.process.returncode}):\n{replica.log}")
            try:
                async with http.get(f"{replica.url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass  # not listening yet
            # Polling a process that is starting: there is no event to await.
            await asyncio.sleep(0.1)
    pytest.fail(f"{replica.name} did not answer /healthz within {timeout}s:\n{replica.log}")


async def stop(replica: Replica) -> None:
    """SIGTERM, and the exit status of a clean stop."""
    if replica.process.returncode is None:
        replica.process.terminate()
    assert await asyncio.wait_for(replica.process.wait(), 60) == 0, replica.log


@asynccontextmanager
async def slack_stand_in() -> AsyncIterator[SlackEmulator]:
    emulator = SlackEmulator(signing_secret=SECRET, bot_token=TOKEN)
    server = TestServer(emulator.make_app(), host="127.0.0.1")
    await server.start_server()
    emulator.base_url = str(server.make_url("")).rstrip("/")
    try:
        yield emulator
    finally:
        await server.close()


def serve_env(database_url: str, emulator: SlackEmulator, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": f"{emulator.base_url}/api/",
        "ADMIN_USER_IDS": "U_ADMIN",
        "SLACK_PACING_SCALE": "50",
        **extra,
    }


@asynccontextmanager
async def migrations_held(database_url: str) -> AsyncIterator[Callable[[int], Awaitable[None]]]:
    """Line migrating processes up at the same moment: an uncommitted CREATE TABLE
    alembic_version blocks each at its first migration step; the block is rolled back once
    `wait_for(n)` saw n of them waiting, so they all go on together."""
    dsn = database_url.replace("postgresql+asyncpg", "postgresql")
    connection = await asyncpg.connect(dsn)
    watcher = await asyncpg.connect(dsn)  # a transaction sees one pg_stat_activity snapshot
    transaction = connection.transaction()
    await transaction.start()
    await connection.execute("CREATE TABLE alembic_version (version_num varchar(32))")

    async def wait_for(count: int) -> None:
        waiting = 0
        deadline = time.monotonic() + 60
        while waiting < count:
            assert time.monotonic() < deadline, f"{waiting} of {count} processes reached migrations"
            # pg_stat_activity has no event to await: poll it.
            await asyncio.sleep(0.05)
            waiting = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )

    try:
        yield wait_for
    finally:
        await transaction.rollback()
        await connection.close()
        await watcher.close()


async def test_two_replicas_started_together_on_an_empty_database_both_come_up(
    tmp_path: Path, pg_url: str
) -> None:
    async with slack_stand_in() as emulator:
        env = serve_env(pg_url, emulator)
        async with migrations_held(pg_url) as lined_up:
            replicas = await asyncio.gather(
                spawn(tmp_path, "a", "serve", **env), spawn(tmp_path, "b", "serve", **env)
            )
            await lined_up(2)
        try:
            await asyncio.gather(*(healthy(replica) for replica in replicas))
        finally:
            for replica in replicas:
                await stop(replica)
    for replica in replicas:
        assert "Traceback" not in replica.log, replica.log


async def test_migrate_and_serve_together_on_an_empty_database(tmp_path: Path, pg_url: str) -> None:
    """`sharetrail migrate` run by a deploy while a replica starts: both succeed."""
    async with slack_stand_in() as emulator:
        env = serve_env(pg_url, emulator)
        migrations = [spawn(tmp_path, f"m{n}", "migrate", **env) for n in range(2)]
        async with migrations_held(pg_url) as lined_up:
            server, *migrators = await asyncio.gather(
                spawn(tmp_path, "a", "serve", **env), *migrations
            )
            await lined_up(3)
        try:
            for migrator in migrators:
                assert await asyncio.wait_for(migrator.process.wait(), 60) == 0, migrator.log
            await healthy(server)
        finally:
            await stop(server)
    for replica in (server, *migrators):
        assert "Traceback" not in replica.log, replica.log


# --- traffic as a load balancer spreads it ------------------------------------------------

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"
SALESPEOPLE = ("U_SALES1", "U_SALES2")


class _SignupForm(HTMLParser):
    """The sign-up form's fields as a browser would post them (hidden ones included)."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        # The page posts to ".../signup#signup" (the answer lands on the form): a browser
        # never sends the fragment.
        if tag == "form" and values.get("action", "").partition("#")[0].endswith("/signup"):
            self.action, self._inside = values["action"].partition("#")[0], True
        elif self._inside and tag in ("input", "textarea") and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


class Visitor:
    """One customer's browser (its own cookie jar), on its own network address."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.headers = {"User-Agent": UA, "X-Forwarded-For": f"10.{n // 200}.{n % 200}.9"}
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def view(self, url: str) -> str:
        async with self.http.get(url, headers=self.headers) as response:
            assert response.status == 200, await response.text()
            return await response.text()

    async def sign_up(self, page_url: str, post_to: str) -> int:
        """Open the page on one replica, post its form to `post_to` (the other): status."""
        form = _SignupForm()
        form.feed(await self.view(page_url))
        assert form.action, "no sign-up form on the page"
        fields = {
            **form.fields,
            "name": f"Customer {self.n:04d}",
            "phone": f"+4915{self.n:08d}",
        }
        path = form.action[form.action.index("/s/") :]
        async with self.http.post(f"{post_to}{path}", data=fields, headers=self.headers) as r:
            await r.read()
            return r.status

    async def close(self) -> None:
        await self.http.close()


def on(replica: Replica, share_url: str) -> str:
    """The share link as served by this replica (same path, the replica's address)."""
    return replica.url + share_url[share_url.index("/s/") :]


def lead_dms(emulator: SlackEmulator) -> Counter[str]:
    """Salesperson lead DMs per customer name, read from the stand-in's conversations."""
    counts: Counter[str] = Counter()
    for user in SALESPEOPLE:
        for message in emulator.dm_messages(user):
            key = ((message.metadata or {}).get("event_payload") or {}).get("key", "")
            if key.startswith("lead:"):
                counts[message.text] += 1
    return counts


def announcements(emulator: SlackEmulator) -> Counter[str]:
    counts: Counter[str] = Counter()
    for channel in emulator.workspace.channels.values():
        if channel.is_im:
            for message in emulator.workspace.history(channel.id):
                key = ((message.metadata or {}).get("event_payload") or {}).get("key", "")
                if key.startswith("announce:"):
                    counts[channel.im_user] += 1
    return counts


async def count(database_url: str, sql: str) -> int:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return int(await connection.fetchval(sql) or 0)
    finally:
        await connection.close()


async def demo(tmp_path: Path, env: dict[str, str]) -> str:
    """Seed the demo activity (migrating the empty database); its first share link."""
    seeder = await spawn(tmp_path, "demo", "demo", **env)
    assert await asyncio.wait_for(seeder.process.wait(), 120) == 0, seeder.log
    urls = [line for line in (tmp_path / "demo" / "stdout.txt").read_text().split() if line]
    return urls[0]


@asynccontextmanager
async def two_replicas(
    tmp_path: Path, env: dict[str, str]
) -> AsyncIterator[tuple[Replica, Replica]]:
    a, b = await asyncio.gather(
        spawn(tmp_path, "a", "serve", **env), spawn(tmp_path, "b", "serve", **env)
    )
    try:
        await asyncio.gather(healthy(a), healthy(b))
        yield a, b
    finally:
        for replica in (a, b):
            if replica.process.returncode is None:
                await stop(replica)


async def until(
    emulator: SlackEmulator, done: Callable[[], bool], timeout: float, shows: Callable[[], object]
) -> None:
    """The stand-in's wait_until, failing with what it saw."""
    try:
        await emulator.wait_until(done, timeout)
    except TimeoutError:
        pytest.fail(f"not done in {timeout}s; saw {shows()}")


async def test_two_replicas_count_exactly_and_message_once(tmp_path: Path, pg_url: str) -> None:
    """300 visitors and 30 sign-ups alternating between two replicas, and a --dm-all
    publish while both run: exact counts, one DM per lead and per person, no traceback."""
    async with slack_stand_in() as emulator:
        people = add_people(emulator.workspace, 200)
        env = serve_env(pg_url, emulator)
        share_url = await demo(tmp_path, env)
        async with two_replicas(tmp_path, env) as replicas:
            emulator.app_url = replicas[0].url
            visitors = [Visitor(n) for n in range(300)]
            gate = asyncio.Semaphore(20)

            async def visit(visitor: Visitor, replica: Replica, other: Replica) -> int:
                async with gate:
                    if visitor.n < 30:
                        return await visitor.sign_up(on(replica, share_url), other.url)
                    await visitor.view(on(replica, share_url))
                    return 200

            delivery = await emulator.send_slash_command(
                "U_ADMIN", "publish 1 <#C_MARKETING|marketing> --dm-all", channel="C_GENERAL"
            )
            assert delivery.status == 200
            answers = await asyncio.gather(
                *(visit(v, replicas[v.n % 2], replicas[1 - v.n % 2]) for v in visitors)
            )
            for visitor in visitors:
                await visitor.close()
            assert answers == [200] * 300
            everyone = len(people) + 7  # the seeded workspace's reachable people
            await until(
                emulator,
                lambda: len(announcements(emulator)) >= everyone,
                120,
                lambda: (
                    everyone,
                    len(announcements(emulator)),
                    emulator.calls_to("chat.postMessage")[-3:],
                ),
            )
            await until(
                emulator, lambda: len(lead_dms(emulator)) >= 30, 60, lambda: lead_dms(emulator)
            )
        # Both stopped cleanly (SIGTERM commits what is queued): count.
        views = await count(pg_url, "SELECT count(*) FROM views WHERE counted")
        uniques = await count(pg_url, "SELECT sum(unique_visitors) FROM share_stats")
        leads = await count(pg_url, "SELECT count(*) FROM leads")
    assert (views, uniques, leads) == (300, 300, 30)
    assert set(lead_dms(emulator).values()) == {1}
    assert set(announcements(emulator).values()) == {1}
    for replica in replicas:
        assert "Traceback" not in replica.log, replica.log


async def test_a_replica_killed_mid_burst_while_slack_fails_loses_no_answered_signup(
    tmp_path: Path, pg_url: str
) -> None:
    """kill -9 one replica in the middle of a sign-up burst while Slack answers 500: once
    Slack recovers, every sign-up that got a 200 reaches its salesperson exactly once."""
    async with slack_stand_in() as emulator:
        env = serve_env(pg_url, emulator)
        share_url = await demo(tmp_path, env)
        emulator.faults.add("chat.postMessage", "http_500", times=1_000_000)
        async with two_replicas(tmp_path, env) as (survivor, victim):
            answered: set[int] = set()
            half = asyncio.Event()
            gate = asyncio.Semaphore(8)

            async def customer(n: int) -> None:
                replica = (survivor, victim)[n % 2]
                visitor = Visitor(n)
                try:
                    async with gate:
                        if await visitor.sign_up(on(replica, share_url), replica.url) == 200:
                            answered.add(n)
                            if len(answered) >= 20:
                                half.set()
                except aiohttp.ClientError:
                    pass  # the killed replica cut it off: not answered
                except AssertionError:
                    assert replica is victim and victim.process.returncode is not None
                finally:
                    await visitor.close()

            burst = [asyncio.create_task(customer(n)) for n in range(60)]
            everyone = asyncio.gather(*burst)
            # Should the burst end before 20 answers (a broken page), fail instead of waiting
            # for `half` forever.
            await asyncio.wait(
                [asyncio.ensure_future(half.wait()), everyone], return_when=asyncio.FIRST_COMPLETED
            )
            assert half.is_set(), f"only {len(answered)} of 60 sign-ups answered 200"
            victim.process.send_signal(signal.SIGKILL)
            assert await victim.process.wait() == -signal.SIGKILL
            await everyone
            assert 20 <= len(answered) < 60
            emulator.faults.clear()  # Slack is back
            expected = {f"Customer {n:04d}" for n in answered}

            def reached() -> bool:
                names = {name for text in lead_dms(emulator) for name in expected if name in text}
                return names == expected

            try:
                await emulator.wait_until(reached, 180)
            except TimeoutError:
                connection = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
                rows = await connection.fetch(
                    "SELECT key, status, attempts, last_error, due_at, claimed_at FROM outbox"
                    " WHERE key LIKE 'lead:%' AND status <> 'sent'"
                )
                await connection.close()
                pytest.fail(f"undelivered: {[dict(r) for r in rows]}")
            await stop(survivor)
    counts = lead_dms(emulator)
    for n in answered:
        assert sum(c for text, c in counts.items() if f"Customer {n:04d}" in text) == 1, n
    assert "Traceback" not in survivor.log, survivor.log
    assert "Traceback" not in victim.log, victim.log
