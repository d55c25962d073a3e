"""The sandbox's workspace on disk: a small SQLite file written through on every change.

Restarting `sharetrail sandbox` then shows what was there: the DMs with their buttons,
channel posts and thread replies, files with their bytes, App Home tabs, opened modals.
Plain `sqlite3` in autocommit mode (WAL, synchronous=NORMAL): one short write per change,
no thread, no event loop of its own. Each object is stored as the JSON of its dataclass.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from sandbox.workspace import Channel, File, Message, User, View, Workspace

SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS channels (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    channel TEXT NOT NULL, ts TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (channel, ts)
);
CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, data TEXT NOT NULL, content BLOB);
CREATE TABLE IF NOT EXISTS views (id TEXT PRIMARY KEY, data TEXT NOT NULL);
"""
log = logging.getLogger(__name__)
TABLES = ("meta", "users", "channels", "messages", "files", "views")


def _fields(cls: type[Any], data: str) -> dict[str, Any]:
    """A stored row's fields that `cls` still has (a row from another version still loads)."""
    known = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in json.loads(data).items() if k in known}


def _dump(obj: Any, *, without: tuple[str, ...] = ()) -> str:
    # Shallow: json walks the nested blocks itself (asdict would deep-copy them first).
    data = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.name not in without}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _private_file(path: Path) -> None:
    """Made readable by its owner only: the messages hold customers' names and phones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)


class WorkspaceStore:
    """One workspace in one SQLite file; attach it to a `Workspace` as its journal."""

    def __init__(self, path: Path) -> None:
        _private_file(path)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error:
            self._db.close()
            raise

    @classmethod
    def open(cls, path: Path) -> WorkspaceStore:
        """The store at `path`; a file that is not a readable one is set aside, not fatal."""
        try:
            return cls(path)
        except sqlite3.DatabaseError as exc:
            aside = path.with_name(path.name + ".unreadable")
            log.warning("%s is unreadable (%s); kept as %s, starting anew", path, exc, aside)
            path.replace(aside)
            for extra in ("-wal", "-shm"):
                path.with_name(path.name + extra).unlink(missing_ok=True)
            return cls(path)

    def close(self) -> None:
        self._db.close()

    # whole workspace ------------------------------------------------------------------

    def is_empty(self) -> bool:
        return self._db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is None

    def clear(self) -> None:
        """Forget the stored workspace (the app's database it belonged to is gone)."""
        with self._db:
            for table in TABLES:
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed table names)

    def save_all(self, workspace: Workspace) -> None:
        """Write a whole workspace at once (a freshly seeded one), in one transaction."""
        self._db.execute("BEGIN")
        try:
            for user in workspace.users.values():
                self.save_user(user)
            for channel in workspace.channels.values():
                self.save_channel(channel)
            for messages in workspace.messages.values():
                for message in messages:
                    self.save_message(message)
            for file in workspace.files.values():
                self.save_file(file, content=True)
            for view in workspace.views.values():
                self.save_view(view)
            self._set_meta("version", SCHEMA_VERSION)
            self.save_next_id(workspace.next_id)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def load(self, *, base_url: str) -> Workspace | None:
        """The stored workspace, its file links pointing at `base_url`; None if there is none."""
        if self.is_empty():
            return None
        workspace = Workspace()
        for (data,) in self._db.execute("SELECT data FROM users ORDER BY rowid"):
            user = User(**_fields(User, data))
            workspace.users[user.id] = user
        for (data,) in self._db.execute("SELECT data FROM channels ORDER BY rowid"):
            channel = Channel(**_fields(Channel, data))
            workspace.channels[channel.id] = channel
            workspace.messages.setdefault(channel.id, [])
        last_ts = 0.0
        for (data,) in self._db.execute("SELECT data FROM messages ORDER BY rowid"):
            message = Message(**_fields(Message, data))
            workspace.messages.setdefault(message.channel, []).append(message)
            last_ts = max(last_ts, float(message.ts))
        for data, content in self._db.execute("SELECT data, content FROM files ORDER BY rowid"):
            fields = _fields(File, data)
            fields["url_private"] = f"{base_url}/files/{fields['id']}/{fields['name']}"
            fields["content"] = bytes(content or b"")
            file = File(**fields)
            workspace.files[file.id] = file
        for (data,) in self._db.execute("SELECT data FROM views ORDER BY rowid"):
            view = View(**_fields(View, data))
            workspace.views[view.id] = view
            last_ts = max(last_ts, float(view.hash or 0))
        next_id = int(self._meta("next_id") or 1)
        workspace.resume(next_id=next_id, last_ts=last_ts)
        return workspace

    # the journal: one write per change ---------------------------------------------

    def save_user(self, user: User) -> None:
        self._upsert("users", "id", user.id, _dump(user))

    def save_channel(self, channel: Channel) -> None:
        self._upsert("channels", "id", channel.id, _dump(channel))

    def save_message(self, message: Message) -> None:
        self._db.execute(
            "INSERT INTO messages (channel, ts, data) VALUES (?, ?, ?) "
            "ON CONFLICT (channel, ts) DO UPDATE SET data = excluded.data",
            (message.channel, message.ts, _dump(message)),
        )

    def save_view(self, view: View) -> None:
        self._upsert("views", "id", view.id, _dump(view, without=("errors",)))

    def save_file(self, file: File, *, content: bool) -> None:
        data = _dump(file, without=("content", "url_private"))
        if content:
            self._db.execute(
                "INSERT INTO files (id, data, content) VALUES (?, ?, ?) ON CONFLICT (id) "
                "DO UPDATE SET data = excluded.data, content = excluded.content",
                (file.id, data, file.content),
            )
        else:
            self._upsert("files", "id", file.id, data)

    def delete_file(self, file_id: str) -> None:
        self._db.execute("DELETE FROM files WHERE id = ?", (file_id,))

    def save_next_id(self, next_id: int) -> None:
        self._set_meta("next_id", str(next_id))

    # helpers ------------------------------------------------------------------------

    def _upsert(self, table: str, key: str, value: str, data: str) -> None:
        self._db.execute(
            f"INSERT INTO {table} ({key}, data) VALUES (?, ?) "  # noqa: S608 (fixed names)
            f"ON CONFLICT ({key}) DO UPDATE SET data = excluded.data",
            (value, data),
        )

    def _set_meta(self, key: str, value: str) -> None:
        self._upsert("meta", "key", key, value)

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT data FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None


def open_workspace(store: WorkspaceStore, *, base_url: str, fresh: Workspace) -> Workspace:
    """The stored workspace if there is one, else `fresh` (saved); changes are then kept."""
    workspace = store.load(base_url=base_url)
    if workspace is None:
        workspace = fresh
        store.save_all(workspace)
    workspace.journal = store
    return workspace
