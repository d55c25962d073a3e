"""Several `sharetrail serve` replicas on one PostgreSQL database (DESIGN.md §3): they start
together safely, count exactly, and send each message once.

Real processes, a real PostgreSQL database per test, the sandbox's Slack stand-in; requests
alternate between the replicas as a load balancer would spread them.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer, unused_port

from sandbox.emulator import SlackEmulator
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
    with _log_file(log_path) as log_fd:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "handlers.cli",
            command,
            cwd=workdir,
            env=_env(workdir, PORT=str(port), **env),
            stdout=asyncio.subprocess.DEVNULL,
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
