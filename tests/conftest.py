"""One running ShareTrail (real aiohttp server, real bolt app, SQLite file) wired to the
sandbox's Slack Web API emulator, which also delivers signed requests back to the app."""

from __future__ import annotations

import asyncio
import random
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot import view_alerts
from bot.service import ShareTrail
from bot.settings import Settings
from handlers.main import Runtime, create_app, start_runtime, stop_runtime
from sandbox.emulator import SlackEmulator
from store.db import Database
from store.migrate import upgrade

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-sandbox-token"
ADMIN = "U_ADMIN"
EMPLOYEE = "U_ANN"
CJK_EMPLOYEE = "U_LI"
SALES = ("U_SALES1", "U_SALES2")
MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@dataclass
class Stack:
    slack: SlackEmulator
    app_url: str
    runtime: Runtime
    http: aiohttp.ClientSession

    @property
    def services(self) -> ShareTrail:
        return self.runtime.services

    async def settle(self) -> None:
        """Wait for the work the app does after responding (views, DMs)."""
        await self.services.settle()


def make_settings(tmp_path: Path, api_url: str, app_port: int, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": api_url,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'sharetrail.db'}",
        "public_base_url": f"http://127.0.0.1:{app_port}",
        "host": "127.0.0.1",
        "port": app_port,
        "admin_user_ids": ADMIN,
        "sharetrail_secret": "test-sharetrail-secret",
        "slack_pacing_scale": 50.0,  # the stand-in has no limits unless a test sets them
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def slack_server() -> AsyncIterator[tuple[SlackEmulator, TestServer]]:
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN)
    server = TestServer(emulator.make_app(), host="127.0.0.1")
    await server.start_server()
    emulator.base_url = str(server.make_url("")).rstrip("/")
    yield emulator, server
    await server.close()


def listening_socket() -> socket.socket:
    """A socket listening on a free port of 127.0.0.1, for `web.SockSite`. Unlike
    `unused_port()` (find a free port, close it, bind it again later) nothing else can take
    the port in between: several test processes (pytest-xdist) start servers at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_url(name: str) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def _postgres_database(template: str | None = None) -> str | None:
    """A new database (a copy of `template`, else empty); None when PostgreSQL is down."""
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return None
    name = f"sharetrail_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        await connection.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await connection.close()
    return name


async def _migrated_postgres_database() -> str | None:
    name = await _postgres_database()
    if name is not None:
        database = Database.from_url(_postgres_url(name))
        await upgrade(database.engine)
        await database.dispose()  # a template must have no connections
        await _admin(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
    return name


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _drop_postgres_database(name: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@dataclass
class PostgresTemplate:
    """A migrated database each PostgreSQL test's database is copied from: CREATE DATABASE
    … TEMPLATE copies files, where running every migration took ~1 s a test on this
    machine. Made by the first PostgreSQL test, so a SQLite-only run never touches it.
    Nobody may connect to it (autovacuum included: a connection makes the copy fail)."""

    name: str | None = None
    tried: bool = False

    async def get(self) -> str | None:
        if not self.tried:
            self.tried = True
            self.name = await _migrated_postgres_database()
        return self.name


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[PostgresTemplate]:
    template = PostgresTemplate()
    yield template
    if template.name is not None:
        asyncio.run(_admin(f'ALTER DATABASE "{template.name}" WITH IS_TEMPLATE false'))
        asyncio.run(_drop_postgres_database(template.name))


# The app-level tests run on both backends the product supports: CI runs the suite on
# SQLite and on PostgreSQL (skipped, saying why, when PostgreSQL is not running).
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database for one test: a new SQLite file, or a new PostgreSQL database (a copy
    of the migrated template)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'sharetrail.db'}"
        return
    template = request.getfixturevalue("postgres_template")
    name = await template.get()
    pg_name = await _postgres_database(name) if name else None
    if pg_name is None:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    try:
        yield _postgres_url(pg_name)
    finally:
        await _drop_postgres_database(pg_name)


@pytest.fixture
def stack_settings() -> dict[str, object]:
    """More settings for `stack` (a test module overrides this fixture to add some)."""
    return {}


@pytest.fixture
async def stack(
    tmp_path: Path,
    database_url: str,
    slack_server: tuple[SlackEmulator, TestServer],
    stack_settings: dict[str, object],
) -> AsyncIterator[Stack]:
    emulator, server = slack_server
    sock = listening_socket()
    port = sock.getsockname()[1]
    settings = make_settings(
        tmp_path, str(server.make_url("/api/")), port, database_url=database_url, **stack_settings
    )
    runtime = await start_runtime(settings)
    runtime.services.rng = random.Random(1234)
    app = create_app(settings, runtime=runtime)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    app_url = f"http://127.0.0.1:{port}"
    emulator.app_url = app_url
    # unsafe=True: accept cookies from an IP host (127.0.0.1), as a browser does.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield Stack(emulator, app_url, runtime, http)
    await runner.cleanup()
    await stop_runtime(runtime)


@pytest.fixture
def instant_tallies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send view tallies at once instead of after TALLY_DELAY, so `settle` sees them."""
    monkeypatch.setattr(view_alerts, "TALLY_DELAY", timedelta(0))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated database per test, on SQLite and (when the service is up) PostgreSQL."""
    database = Database.from_url(database_url)
    await upgrade(database.engine)
    yield database
    await database.dispose()
