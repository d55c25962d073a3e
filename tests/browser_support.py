"""For headless-browser tests: Debian's chromium (Playwright drives it by executable_path),
installed with apt-get on first use when missing; otherwise the test is skipped, saying why.

pytest-xdist runs several test processes at once, and each may find chromium missing: the
check and the install happen under one file lock (`apt_lock`), so apt-get runs once and
the others wait for it and then find the binary."""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

FONT_PACKAGES = ("fonts-noto-color-emoji", "fonts-noto-cjk")
PACKAGES = ("chromium", *FONT_PACKAGES)
CHROMIUM = "/usr/bin/chromium"
# Without these fonts headless Chromium draws 📅, ✅ and Chinese as boxes in the screenshots.
FONT_FILES = (
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
# Headless Chromium says "HeadlessChrome", which crawler detection rightly treats as a bot;
# people use ordinary phones, so browser contexts present one.
MOBILE_CHROME_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36"
)


REPO = Path(__file__).resolve().parent.parent


def screenshot_path(name: str) -> Path:
    """Where a test saves a screenshot: test-artifacts/screenshots/ on every run, and docs/
    (the README's pictures) only with UPDATE_DOCS_SCREENSHOT=1, so a test run leaves the
    checkout as it found it."""
    folder = REPO / (
        "docs" if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1" else "test-artifacts/screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def _apt(*args: str) -> str | None:
    """Run apt-get as root (or through non-interactive sudo); None on success, else why not."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available on this machine"
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None or subprocess.run([sudo, "-n", "true"], capture_output=True).returncode:
            return "not root, and sudo is missing or asks for a password"
        prefix = [sudo, "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        result = subprocess.run(
            [*prefix, "apt-get", *args], capture_output=True, text=True, env=env, timeout=1200
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"apt-get {' '.join(args)} failed: {exc}"
    if result.returncode:
        return f"apt-get {' '.join(args)} failed: {result.stderr.strip()[-400:]}"
    return None


@contextmanager
def apt_lock() -> Iterator[None]:
    """Held while checking for and installing packages: one test process at a time
    (apt-get itself fails rather than waits when another holds the dpkg lock)."""
    path = Path(tempfile.gettempdir()) / "sharetrail-tests-apt.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@functools.cache
def _find_or_install() -> tuple[str | None, str]:
    with apt_lock():
        for path in (CHROMIUM, shutil.which("chromium")):
            if path and os.access(path, os.X_OK):
                if not all(os.path.exists(font) for font in FONT_FILES):
                    _apt("install", "-y", *FONT_PACKAGES)  # for the screenshots: best effort
                return path, ""
        reason = _apt("update") or _apt("install", "-y", *PACKAGES) or ""
        path = shutil.which("chromium")
        return path, reason or "apt-get finished but no chromium is on PATH"


def chromium_executable() -> str:
    """The chromium binary, or skip the calling test with the reason it is unavailable."""
    path, reason = _find_or_install()
    if path is None:
        pytest.skip(f"Debian's chromium is not installed and could not be: {reason}")
    return path


async def phone(browser: Any, **options: Any) -> Any:
    """A new tab in a phone-sized browser context (a Playwright Page)."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        user_agent=MOBILE_CHROME_UA,
        **{"locale": "en-US", "timezone_id": "America/Los_Angeles", **options},
    )
    return await context.new_page()
