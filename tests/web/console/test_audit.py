"""The audit log as admins make it and read it: console and Slack actions (create, edit,
publish, close, roster, CSV and XLSX downloads, Slack export) each leave one entry with
who, what and when; /console/audit shows them to admins only, filtered and paged, and
bad filters are a clear message, never a 500."""

from __future__ import annotations

import re

import pytest

from bot import audit
from handlers.web.console import audit as audit_page
from tests.conftest import ADMIN, EMPLOYEE, SALES, Stack
from tests.web.console.conftest import SignIn
from tests.web.console.test_activities import GOOD, create

ROW = re.compile(r'<tr data-action="([a-z_.]+)">')


async def logged(stack: Stack) -> list[tuple[str, str, str]]:
    async with stack.services.db.session() as session:
        page = await audit.entries(session, per_page=100)
    return [(e.actor, e.action, e.subject) for e in reversed(page.entries)]


async def test_admin_actions_are_audited_and_shown_filtered_and_paged(
    console_stack: Stack, signed_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await signed_in(ADMIN)
    status, _, location = await create(admin, salespeople=SALES[0])
    assert status == 303
    activity_id = int(location.rsplit("/", 1)[1])
    subject = f"activity:{activity_id}"
    page = f"/console/activities/{activity_id}"
    form = {**GOOD, "name": "Spring launch, moved", "salespeople": SALES[1]}
    assert (await admin.post(page, {**form, "csrf": await admin.csrf(page)}))[0] == 303
    publish = {"channel": "C_MARKETING", "csrf": await admin.csrf(page)}
    assert (await admin.post(page + "/publish", publish))[0] == 303
    assert (await admin.get(page + "/export.csv"))[0] == 200
    async with admin.http.get(admin.app_url + page + "/report.xlsx") as response:
        assert response.status == 200
    since = console_stack.slack.mark()
    await console_stack.slack.send_slash_command(ADMIN, f"sales add <@{SALES[1]}|sam>")
    await console_stack.slack.send_slash_command(ADMIN, f"export {activity_id}")
    await console_stack.slack.wait_for_call("files.completeUploadExternal", since=since)
    await console_stack.slack.send_slash_command(EMPLOYEE, f"close {activity_id}")  # refused
    assert (await admin.post(page + "/close", {"csrf": await admin.csrf(page)}))[0] == 303

    assert await logged(console_stack) == [
        (ADMIN, audit.ACTIVITY_CREATE, subject),
        (ADMIN, audit.ACTIVITY_EDIT, subject),
        (ADMIN, audit.ACTIVITY_PUBLISH, subject),
        (ADMIN, audit.EXPORT_CSV, subject),
        (ADMIN, audit.EXPORT_XLSX, subject),
        (ADMIN, audit.ROSTER_ADD, "roster:global"),
        (ADMIN, audit.EXPORT_CSV, subject),
        (ADMIN, audit.ACTIVITY_CLOSE, subject),
    ]
    async with console_stack.services.db.session() as session:
        edit = await audit.entries(session, where=audit.AuditFilter(action="activity.edit"))
    assert audit.details_of(edit.entries[0]) == {
        "name": "Spring launch, moved",
        "changed": ["name"],
        "roster_added": [SALES[1]],
        "roster_removed": [SALES[0]],
    }

    status, body, _ = await admin.get("/console/audit")
    assert status == 200 and len(ROW.findall(body)) == 8
    for words in ("Activity created", "Activity edited", "XLSX report download", "Alex Admin"):
        assert words in body, words
    _, body, _ = await admin.get("/console/audit?action=export.csv")
    assert ROW.findall(body) == ["export.csv", "export.csv"]
    _, body, _ = await admin.get(f"/console/audit?actor={EMPLOYEE}")
    assert ROW.findall(body) == [] and "No entries match." in body
    _, body, _ = await admin.get("/console/audit?from=2001-01-01&to=2001-01-31")
    assert ROW.findall(body) == []
    _, body, _ = await admin.get("/console/audit?from=2001-01-01&to=2999-01-01")
    assert len(ROW.findall(body)) == 8
    for bad in (
        "from=yesterday&page=-1",
        "to=2026-02-30",
        "from=2030-01-02&to=2030-01-01",
        "page=abc&action=drop+table",
        "actor=" + "x" * 500,
    ):
        status, body, _ = await admin.get("/console/audit?" + bad)
        assert status == 200, bad
    assert "is not a date" in (await admin.get("/console/audit?to=2026-02-30"))[1]

    monkeypatch.setattr(audit_page, "PER_PAGE", 3)
    _, body, _ = await admin.get(f"/console/audit?actor={ADMIN}")
    assert ROW.findall(body) == ["activity.close", "export.csv", "roster.add"]
    assert f"actor={ADMIN}&amp;page=2" in body and "page 1 of 3" in body
    _, body, _ = await admin.get(f"/console/audit?actor={ADMIN}&page=3")
    assert ROW.findall(body) == ["activity.edit", "activity.create"] and 'rel="next"' not in body

    employee = await signed_in(EMPLOYEE)
    status, body, _ = await employee.get("/console/audit")
    assert status == 403 and "activity.create" not in body
    assert len(await logged(console_stack)) == 8  # reading the log is not an action
