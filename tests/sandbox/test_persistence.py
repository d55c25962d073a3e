"""The stand-in's workspace on disk: every change written through, everything read back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sandbox.persistence import WorkspaceStore, open_workspace
from sandbox.workspace import BOT_USER_ID, File, Message, User, Workspace, seeded_workspace

UI = "http://127.0.0.1:3000"


def reopened(path: Path, base_url: str = UI) -> Workspace:
    store = WorkspaceStore.open(path)
    workspace = store.load(base_url=base_url)
    store.close()
    assert workspace is not None
    return workspace


def test_every_kind_of_change_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "ws.db"
    store = WorkspaceStore.open(path)
    ws = open_workspace(store, base_url=UI, fresh=seeded_workspace())
    dm = ws.dm_with("U_ANN")
    parent = ws.post(
        Message(dm.id, ws.new_ts(), BOT_USER_ID, "lead", [{"type": "divider"}], metadata={"a": 1})
    )
    ws.post(Message(dm.id, ws.new_ts(), "U_ANN", "reply", thread_ts=parent.ts))
    ws.post(Message(dm.id, ws.new_ts(), BOT_USER_ID, "only you", ephemeral_to="U_ANN"))
    gone = ws.post(Message("C_GENERAL", ws.new_ts(), BOT_USER_ID, "oops"))
    gone.deleted = True
    ws.changed(gone)
    parent.text, parent.edited = "lead (updated)", True
    parent.reactions["eyes"] = [BOT_USER_ID]
    ws.changed(parent)
    file_id = ws.new_id("F")
    ws.add_file(File(file_id, "a.png", "a.png", b"\x89PNG-bytes", "image/png", "U_ANN", "x"))
    ws.files[file_id].channels.append(dm.id)
    ws.file_changed(ws.files[file_id])
    modal = ws.open_view("U_ANN", {"type": "modal", "title": {"type": "plain_text", "text": "M"}})
    closed = ws.open_view("U_ANN", {"type": "modal", "title": {"type": "plain_text", "text": "C"}})
    ws.close_view(closed)
    home = ws.publish_home("U_ANN", {"type": "home", "blocks": []})
    ws.join(ws.channels["C_MARKETING"], "U_NEW")
    ws.add_user(User("U_NEW", "new", "New Person"))
    store.close()

    back = reopened(path, "http://192.0.2.9:3001")
    assert [m.to_json() for m in back.messages[dm.id]] == [m.to_json() for m in ws.messages[dm.id]]
    assert back.messages[dm.id][0].metadata == {"a": 1}
    assert back.history(dm.id) == ws.history(dm.id)  # the ephemeral is only for its viewer
    assert back.find_message("C_GENERAL", gone.ts) is None
    file = back.files[file_id]
    assert (file.content, file.channels) == (b"\x89PNG-bytes", [dm.id])
    assert file.url_private == f"http://192.0.2.9:3001/files/{file_id}/a.png"
    assert [v.id for v in back.open_modals("U_ANN")] == [modal.id]
    home_view = back.home_of("U_ANN")
    assert home_view is not None and home_view.id == home.id
    assert back.dm_with("U_ANN") is back.channels[dm.id]
    assert "U_NEW" in back.channels["C_MARKETING"].members and "U_NEW" in back.users
    assert back.new_id("V") not in {modal.id, closed.id, home.id, file_id}
    assert float(back.new_ts()) > max(float(m.ts) for m in ws.messages[dm.id])


def test_rows_from_another_version_and_unreadable_files_do_not_stop_the_sandbox(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ws.db"
    store = WorkspaceStore.open(path)
    ws = open_workspace(store, base_url=UI, fresh=seeded_workspace())
    ws.post(Message("C_GENERAL", ws.new_ts(), BOT_USER_ID, "hello"))
    store.close()
    with sqlite3.connect(path) as db:  # a field this version does not know
        db.execute("UPDATE messages SET data = json_set(data, '$.future', 1)")
    assert [m.text for m in reopened(path).messages["C_GENERAL"]] == ["hello"]

    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    store = WorkspaceStore.open(broken)
    assert store.is_empty()
    store.close()
    assert (tmp_path / "broken.db.unreadable").read_bytes().startswith(b"this is not")
    assert broken.stat().st_mode & 0o777 == 0o600
