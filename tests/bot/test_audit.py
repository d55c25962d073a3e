"""The audit log API (bot/audit.py): entries are recorded, filtered and paged, and the
database itself refuses to change or remove one, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot import audit
from store.db import Database

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


async def test_record_filter_page_and_append_only(db: Database) -> None:
    async with db.session() as session:
        for n in range(7):
            await audit.record(
                session,
                actor="U_ADMIN" if n % 2 == 0 else "U_OTHER",
                action=audit.ACTIVITY_EDIT if n < 5 else audit.EXPORT_CSV,
                subject=audit.subject("activity", n),
                details={"n": n, "name": "活动"},
                at=T0 + timedelta(days=n),
            )

    async with db.session() as session:
        everything = await audit.entries(session, per_page=3)
        second = await audit.entries(session, per_page=3, page=2)
        by_admin = await audit.entries(session, where=audit.AuditFilter(actor="U_ADMIN"))
        exports = await audit.entries(session, where=audit.AuditFilter(action=audit.EXPORT_CSV))
        window = await audit.entries(
            session,
            where=audit.AuditFilter(since=T0 + timedelta(days=2), until=T0 + timedelta(days=4)),
        )
    assert everything.total == 7 and everything.pages == 3
    assert [e.subject for e in everything.entries] == ["activity:6", "activity:5", "activity:4"]
    assert [e.subject for e in second.entries] == ["activity:3", "activity:2", "activity:1"]
    assert by_admin.total == 4 and {e.actor for e in by_admin.entries} == {"U_ADMIN"}
    assert [e.subject for e in exports.entries] == ["activity:6", "activity:5"]
    assert [e.subject for e in window.entries] == ["activity:3", "activity:2"]
    assert audit.details_of(everything.entries[0]) == {"n": 6, "name": "活动"}

    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises((DBAPIError, IntegrityError)) as refused:
            async with db.engine.begin() as connection:
                await connection.execute(text(statement))
        assert "append-only" in str(refused.value)
    async with db.session() as session:
        assert (await audit.entries(session)).total == 7
        assert (await audit.entries(session, where=audit.AuditFilter(actor="U_ADMIN"))).total == 4
