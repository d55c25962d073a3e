"""`sharetrail` as a user runs it: a real process, real settings, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import stat
import sys
from pathlib import Path

import aiohttp
from aiohttp.test_utils import unused_port

REPO = Path(__file__).resolve().parents[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "SHARETRAIL_", "DATABASE_URL", "PUBLIC_BASE_URL"))
    }
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


async def _run(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "handlers.cli",
        *args,
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def start_serve(tmp_path: Path, port: int, **env: str) -> asyncio.subprocess.Process:
    """`sharetrail serve` as a subprocess, returned once it logged that it listens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "handlers.cli",
        "serve",
        cwd=tmp_path,
        env=_env(tmp_path, PORT=str(port), PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", **env),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    while b"listening" not in await asyncio.wait_for(process.stderr.readline(), timeout=30):
        assert process.returncode is None
    return process


async def test_serve_without_token_points_to_the_sandbox(tmp_path: Path) -> None:
    code, _, err = await _run(tmp_path, "serve")
    assert code == 2
    assert "SLACK_BOT_TOKEN" in err and "sharetrail sandbox" in err
    assert "Traceback" not in err


async def test_malformed_setting_is_a_clear_message(tmp_path: Path) -> None:
    code, _, err = await _run(tmp_path, "serve", PORT="eighty", SLACK_BOT_TOKEN="xoxb-1")
    assert code == 2
    assert "PORT" in err and "Traceback" not in err
    code, _, err = await _run(tmp_path, "serve", DATABASE_URL="mysql://x", SLACK_BOT_TOKEN="xoxb-1")
    assert code == 2 and "DATABASE_URL" in err and "async driver" in err


async def test_serve_logs_one_line_answers_healthz_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = unused_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "handlers.cli",
        "serve",
        cwd=tmp_path,
        env=_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET="s3cret",
            SLACK_API_URL="http://127.0.0.1:9/api/",
            PORT=str(port),
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    lines: list[str] = []
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), timeout=30)).decode()
        assert line, "server exited before listening: " + "".join(lines)
        lines.append(line)
        if "listening" in line:
            break
    assert f"http://127.0.0.1:{port}" in lines[-1] and "HTTP mode" in lines[-1]
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as r:
        assert r.status == 200
        assert await r.json() == {"status": "ok"}
    process.send_signal(signal.SIGTERM)
    rest = (await asyncio.wait_for(process.stderr.read(), timeout=30)).decode()
    assert await process.wait() == 0
    log = "".join(lines) + rest
    assert log.count("listening") == 1
    assert "Traceback" not in log
    assert "s3cret" not in log and "xoxb-test" not in log


async def test_demo_prints_share_urls_and_export_prints_csv(tmp_path: Path) -> None:
    code, out, err = await _run(tmp_path, "demo", PUBLIC_BASE_URL="https://share.example.com")
    assert code == 0, err
    urls = out.split()
    assert len(urls) == 4 and all(u.startswith("https://share.example.com/s/") for u in urls)
    code, again, _ = await _run(tmp_path, "demo", PUBLIC_BASE_URL="https://share.example.com")
    assert again.split() == urls  # idempotent: same shares, same signed codes
    code, csv_text, err = await _run(tmp_path, "export", "1")
    assert code == 0, err
    assert csv_text.splitlines()[0].startswith(
        "employee_id,employee_name,views,unique_visitors,signups,attended,converted,points"
    )
    code, _, err = await _run(tmp_path, "export", "999")
    assert code == 1 and "no activity 999" in err and "Traceback" not in err


def _mode(path: Path) -> str:
    return oct(stat.S_IMODE(os.stat(path).st_mode))


def _views(database: Path) -> int:
    """Committed views, read without creating anything next to the database."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM views").fetchone()[0])


async def test_the_database_and_its_wal_and_shm_are_readable_by_the_owner_only(
    tmp_path: Path,
) -> None:
    """They hold SHARETRAIL_SECRET and customers' phones. With a umask of 022 (files 0644 by
    default): created 0600, an older world-readable file is tightened on start, and the -wal
    and -shm files the running server writes are 0600 too."""
    database = tmp_path / "cli.db"
    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(tmp_path, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s3cret")
    env |= {"SLACK_API_URL": "http://127.0.0.1:9/api/", "PORT": str(port), "PUBLIC_BASE_URL": base}
    demo = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "handlers.cli", "demo", cwd=tmp_path, env=env, umask=0o022,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(demo.communicate(), timeout=60)
    assert demo.returncode == 0, err.decode()
    assert _mode(database) == "0o600"

    os.chmod(database, 0o644)  # as an older version left it
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "handlers.cli", "serve", cwd=tmp_path, env=env, umask=0o022,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert server.stderr is not None
    try:
        while b"listening" not in await asyncio.wait_for(server.stderr.readline(), timeout=30):
            assert server.returncode is None
        async with aiohttp.ClientSession() as http:
            for url in out.decode().split():  # views: the server writes to its WAL
                async with http.get(url, headers={"User-Agent": "Mozilla/5.0 (iPhone)"}) as r:
                    assert r.status == 200
        async with asyncio.timeout(30):
            while _views(database) < 4:
                await asyncio.sleep(0.05)  # the writer commits in batches; nothing to await
        modes = {suffix: _mode(Path(f"{database}{suffix}")) for suffix in ("", "-wal", "-shm")}
        assert modes == {"": "0o600", "-wal": "0o600", "-shm": "0o600"}
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.wait(), timeout=60)
