"""The SQLite database file holds SHARETRAIL_SECRET and customers' phone numbers: it and its
-wal, -shm and -journal companions are readable by their owner only (DESIGN.md section 6).

SQLite's unix VFS gives the -wal, -shm and -journal files the mode of the database file
(os_unix.c, findCreateFileMode and unixOpenSharedMemory), so creating the database file 0600
before SQLite opens it is enough for every file made afterwards; files left by an older
version are tightened on start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

OWNER_ONLY = 0o600
COMPANIONS = ("", "-wal", "-shm", "-journal")


def database_file(url: URL) -> Path | None:
    """The file behind a SQLite URL; None for memory, `file:` URIs and other backends."""
    name = url.database
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    if name.startswith("file:") or url.query.get("uri"):
        return None  # a URI may name memory or carry its own mode: SQLite's to handle
    return Path(name)


def _create_private(path: Path) -> None:
    """Create the empty database file 0600 (an empty file is a new SQLite database)."""
    # Exists already, or no such directory: SQLite reports the latter clearly.
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY))


def _tighten(path: Path) -> None:
    """Take group and world permissions off an existing file."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except FileNotFoundError:
        pass
    except PermissionError:
        log.warning("%s is readable by others and cannot be changed by this user", path.name)


def make_private(url: URL) -> None:
    """Before SQLite opens the database: the file and its companions readable by the owner."""
    path = database_file(url)
    if path is None:
        return
    _create_private(path)
    for suffix in COMPANIONS:
        _tighten(path.with_name(path.name + suffix))
