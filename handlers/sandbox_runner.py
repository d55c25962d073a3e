"""`sharetrail sandbox`: the app and a local Slack stand-in in one process, on localhost.

The emulator (Slack's Web API plus the browser chat UI) and ShareTrail each get their own
port; the app is configured in code to talk to the emulator, with a signing secret made up
for this run and a SQLite file in the working directory. The stand-in's workspace (its
conversations, files and App Home tabs) is kept in a sibling SQLite file, so a restart shows
what was there; it is started afresh with the app's database. On a fresh start the demo
activity is seeded and announced in #marketing the way an admin would, with
`/sharetrail publish`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import os
import secrets
import signal
import socket
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.engine import make_url

from bot.demo import DEMO_ACTIVITY_NAME, seed_demo
from bot.settings import Settings
from handlers.main import Runtime, create_app, start_runtime, stop_runtime
from sandbox.emulator import SlackEmulator
from sandbox.persistence import WorkspaceStore, open_workspace
from sandbox.ui import attach_ui
from sandbox.workspace import Workspace, seeded_workspace

if TYPE_CHECKING:
    from handlers.wecom_sandbox import WeComSandbox

log = logging.getLogger("sharetrail")

HOST = "127.0.0.1"
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
UNROUTABLE = "10.254.254.254"  # any address off this machine; a UDP connect sends nothing
DEFAULT_APP_PORT = 8080
DEFAULT_UI_PORT = 3000
APP_PORT_ENV = "SHARETRAIL_SANDBOX_PORT"
UI_PORT_ENV = "SHARETRAIL_SANDBOX_UI_PORT"
BOT_TOKEN = "xoxb-sandbox"
CLIENT_ID = "sandbox.console"  # Sign in with Slack for /console, served by the stand-in
ADMIN = "U_ADMIN"
ANNOUNCE_CHANNEL = "C_MARKETING"
DB_FILE = "sharetrail-sandbox.db"
WORKSPACE_SUFFIX = "-slack"  # sharetrail-sandbox.db keeps its world in sharetrail-sandbox-slack.db
SHUTDOWN_TIMEOUT = 5.0
ANNOUNCE_TIMEOUT = 10.0
# slack_bolt.listener.asyncio_runner: the coroutine that runs a listener after ack().
BOLT_LISTENER_TASK = "run_ack_function_asynchronously"


@dataclass
class Sandbox:
    """A running sandbox: stop it with `await sandbox.stop()`."""

    emulator: SlackEmulator
    runtime: Runtime
    settings: Settings
    ui_url: str
    app_url: str
    _runners: list[web.AppRunner] = field(default_factory=list)
    store: WorkspaceStore | None = None

    async def stop(self) -> None:
        app_runner, ui_runner = self._runners
        await app_runner.cleanup()
        await _finish_listeners()
        await stop_runtime(self.runtime)  # drains work that may still call the emulator
        await ui_runner.cleanup()
        if self.store is not None:
            self.store.close()


async def _finish_listeners(timeout: float = SHUTDOWN_TIMEOUT) -> None:
    """Let bolt listeners that run on after their ack finish before the database closes.

    bolt starts them with a bare `asyncio.ensure_future` that nothing else waits for; cut
    short, they leave half-done work and SQLAlchemy/aiosqlite tracebacks behind.
    """
    current = asyncio.current_task()
    running = [
        task
        for task in asyncio.all_tasks()
        if task is not current
        and not task.done()
        and getattr(task.get_coro(), "__qualname__", "").endswith(BOLT_LISTENER_TASK)
    ]
    if running:
        _, late = await asyncio.wait(running, timeout=timeout)
        for task in late:
            task.cancel()


def is_wildcard(host: str) -> bool:
    """Whether `host` listens on every interface (then phones on the LAN can connect)."""
    return host in WILDCARDS


def pick_lan_address(candidates: Iterable[str]) -> str:
    """The first address a phone on the LAN could reach; 127.0.0.1 when there is none."""
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        usable = address.version == 4 and not address.is_unspecified
        if usable and not (address.is_loopback or address.is_link_local):
            return str(address)
    return HOST


def _routed_address() -> list[str]:
    """The address the default route leaves from: a UDP connect picks it, sending nothing."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((UNROUTABLE, 9))
            return [str(probe.getsockname()[0])]
    except OSError:
        return []


def _hostname_addresses() -> list[str]:
    try:
        found = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return []
    return [str(info[4][0]) for info in found]


def lan_address() -> str:
    """This machine's address on the local network, found without network traffic."""
    return pick_lan_address([*_routed_address(), *_hostname_addresses()])


def public_host(host: str) -> str:
    """The host for links people open: the LAN address when listening on every interface."""
    return lan_address() if is_wildcard(host) else host


def local_host(host: str) -> str:
    """The host the app and the stand-in use to reach each other."""
    return HOST if is_wildcard(host) else host


def http_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _listen(host: str, port: int) -> socket.socket:
    """Bind now, so port 0 becomes a real port before the settings are built."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def sandbox_settings(
    *, app_url: str, api_url: str, database_url: str, port: int, host: str = HOST
) -> Settings:
    """Settings made in code: nothing from .env or the environment can point it at real Slack."""
    return Settings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=secrets.token_hex(16),
        slack_app_token=None,
        slack_api_url=api_url,
        database_url=database_url,
        public_base_url=app_url,
        host=host,
        port=port,
        admin_user_ids=ADMIN,
        sharetrail_secret=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=secrets.token_hex(16),
    )


def sqlite_file(database_url: str) -> Path | None:
    """The SQLite file behind a database URL (None for PostgreSQL or an in-memory database)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database))


def workspace_file(database_url: str) -> Path | None:
    """Where the stand-in keeps its workspace: next to the app's SQLite file."""
    database = sqlite_file(database_url)
    if database is None:
        return None
    return database.with_name(f"{database.stem}{WORKSPACE_SUFFIX}{database.suffix or '.db'}")


def _open_store(
    path: Path | None, *, database_url: str, base_url: str
) -> tuple[Workspace, WorkspaceStore | None, bool]:
    """The workspace (restored, or seeded afresh), its store, and whether it was restored.

    A new app database (none on disk yet) starts a new workspace too: the old one's lead
    DMs and buttons would point at leads that no longer exist.
    """
    if path is None:
        return seeded_workspace(), None, False
    store = WorkspaceStore.open(path)
    database = sqlite_file(database_url)
    if database is not None and not database.exists():
        store.clear()
    restored = not store.is_empty()
    return open_workspace(store, base_url=base_url, fresh=seeded_workspace()), store, restored


async def start_sandbox(
    *,
    app_port: int = DEFAULT_APP_PORT,
    ui_port: int = DEFAULT_UI_PORT,
    database_url: str | None = None,
    seed: bool = True,
    workspace_path: Path | None = None,
    host: str = HOST,
) -> Sandbox:
    """Start the emulator with its UI, then the app; port 0 picks a free port.

    The workspace is kept in `workspace_path` (default: next to a SQLite database; a
    PostgreSQL or in-memory database gets a workspace that lasts as long as the process).
    `host` 0.0.0.0 serves phones on the LAN: share links, QR codes and the UI's URL then
    carry the machine's LAN address, while the app and the stand-in talk over loopback.
    """
    async with contextlib.AsyncExitStack() as undo:  # unwinds only if start-up fails
        app_sock = undo.enter_context(_listen(host, app_port))
        ui_sock = undo.enter_context(_listen(host, ui_port))
        ports = app_sock.getsockname()[1], ui_sock.getsockname()[1]
        shown, local = public_host(host), local_host(host)
        app_url, ui_url = http_url(shown, ports[0]), http_url(shown, ports[1])
        local_app_url, local_ui_url = http_url(local, ports[0]), http_url(local, ports[1])
        database_url = database_url or f"sqlite+aiosqlite:///{Path.cwd() / DB_FILE}"
        settings = sandbox_settings(
            app_url=app_url,
            api_url=f"{local_ui_url}/api/",
            database_url=database_url,
            port=ports[0],
            host=host,
        )
        workspace, store, restored = _open_store(
            workspace_path or workspace_file(database_url),
            database_url=database_url,
            base_url=local_ui_url,
        )
        if store is not None:
            undo.callback(store.close)
        assert settings.slack_signing_secret is not None
        emulator = SlackEmulator(
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            bot_token=BOT_TOKEN,
            workspace=workspace,
        )
        emulator.base_url = local_ui_url
        assert settings.slack_client_id is not None and settings.slack_client_secret is not None
        emulator.openid.register_client(
            settings.slack_client_id, settings.slack_client_secret.get_secret_value()
        )
        emulator.console_url = f"{app_url}/console"  # the pick page links to it
        emulator.app_url = local_app_url
        emulator.unfurl_domains = [shown]  # share links pasted in the chat UI unfurl
        emulator_app = emulator.make_app()
        attach_ui(emulator_app, emulator)
        ui_runner = web.AppRunner(emulator_app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await ui_runner.setup()
        undo.push_async_callback(ui_runner.cleanup)
        await web.SockSite(ui_runner, ui_sock).start()

        runtime = await start_runtime(settings)
        undo.push_async_callback(stop_runtime, runtime)
        if seed:
            await seed_demo(runtime.db, secret=runtime.services.secret, base_url=app_url)
        app_runner = web.AppRunner(
            create_app(settings, runtime=runtime),
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
        )
        await app_runner.setup()
        undo.push_async_callback(app_runner.cleanup)
        await web.SockSite(app_runner, app_sock).start()
        sandbox = Sandbox(
            emulator, runtime, settings, ui_url, app_url, [app_runner, ui_runner], store
        )
        if seed and not restored:  # a restored workspace already shows the announcement
            await announce_demo(sandbox)
        undo.pop_all()
        return sandbox
    raise AssertionError("unreachable")  # pragma: no cover  (mypy: the stack never swallows)


async def announce_demo(sandbox: Sandbox) -> None:
    """Post the demo activity in #marketing through the app's own `/sharetrail publish`."""
    activities = await sandbox.runtime.services.activities()
    demo = next((a for a in activities if a.name == DEMO_ACTIVITY_NAME), None)
    if demo is None or demo.status == "closed":
        return
    emulator = sandbox.emulator
    since = emulator.mark()
    # Typed in #marketing itself: the command then publishes to the channel it came from.
    delivery = await emulator.send_slash_command(
        ADMIN, f"publish {demo.id}", channel=ANNOUNCE_CHANNEL
    )
    if delivery.status != 200:
        log.warning("could not announce the demo activity (HTTP %s)", delivery.status)
        return
    # bolt keeps working after the ack; its answer to the admin means the post is out, so
    # the first page shows it and an early Ctrl-C does not cut the listener short.
    try:
        await emulator.wait_for_call("response_url", since=since, timeout=ANNOUNCE_TIMEOUT)
    except TimeoutError:
        log.warning("the app has not confirmed the demo announcement yet")


def _port(value: int | None, env: str, default: int) -> int:
    if value is not None:
        return value
    raw = os.environ.get(env, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) > 65535:
        raise ValueError(f"{env} must be a port number, not {raw!r}")
    return int(raw)


async def run_sandbox(
    app_port: int | None = None,
    ui_port: int | None = None,
    *,
    host: str = HOST,
    platform: str = "slack",
) -> int:
    """Run until Ctrl-C or SIGTERM; the exit code for the CLI."""
    if platform not in ("slack", "wecom"):
        print(f"error: no {platform!r} stand-in; use --platform slack or wecom.", file=sys.stderr)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        ports = (
            _port(app_port, APP_PORT_ENV, DEFAULT_APP_PORT),
            _port(ui_port, UI_PORT_ENV, DEFAULT_UI_PORT),
        )
        sandbox: Sandbox | WeComSandbox
        if platform == "wecom":
            from handlers.wecom_sandbox import start_wecom_sandbox

            sandbox = await start_wecom_sandbox(app_port=ports[0], ui_port=ports[1], host=host)
        else:
            sandbox = await start_sandbox(app_port=ports[0], ui_port=ports[1], host=host)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(
            f"error: a port is already in use ({exc.strerror}). Stop the other server, or pick "
            "free ports with --port (app) and --ui-port (sandbox UI).",
            file=sys.stderr,
        )
        return 1
    log.info("ShareTrail app on %s, %s stand-in on %s", sandbox.app_url, platform, sandbox.ui_url)
    print(
        f"ShareTrail sandbox is running: open {sandbox.ui_url}/ in your browser (Ctrl-C to stop).",
        flush=True,
    )
    if is_wildcard(host):
        print(
            f"Phones on this network open share links and QR codes at {sandbox.app_url}.",
            flush=True,
        )
    try:
        await stop.wait()
    finally:
        log.info("ShareTrail sandbox stopping")
        await sandbox.stop()
    return 0
