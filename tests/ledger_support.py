"""The ledger's invariants, checked against the raw rows (shared by the ledger tests)."""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.ledger import BUCKETS
from store.models import EmployeeStats, PointBalance, PointsEntry, ShareStats


async def assert_ledger_consistent(session: AsyncSession) -> dict[int, dict[str, int]]:
    """Every balance is the sum of its rows, none below zero, and the stats' points are the
    sums of the rows per share and per employee. Returns the balances by employee."""
    entries = (await session.exec(select(PointsEntry))).all()
    sums: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    per_share: dict[int, int] = defaultdict(int)
    per_employee: dict[int, int] = defaultdict(int)
    for entry in entries:
        sums[entry.employee_id][entry.bucket] += entry.points
        if entry.share_id is not None:
            per_share[entry.share_id] += entry.points
            per_employee[entry.employee_id] += entry.points
    balances = {
        row.employee_id: {b: getattr(row, b) for b in BUCKETS}
        for row in (
            await session.exec(select(PointBalance).execution_options(populate_existing=True))
        ).all()
    }
    for employee in set(sums) | set(balances):
        want = sums.get(employee, dict.fromkeys(BUCKETS, 0))
        got = balances.get(employee, dict.fromkeys(BUCKETS, 0))
        assert got == want, (employee, got, want)
        assert min(got.values()) >= 0, (employee, got)
    stats_share: dict[int, int] = defaultdict(int)
    for row in (
        await session.exec(select(ShareStats).execution_options(populate_existing=True))
    ).all():
        stats_share[row.share_id] += row.points
    assert {k: v for k, v in stats_share.items() if v} == {k: v for k, v in per_share.items() if v}
    stats_employee = {
        row.employee_id: row.points
        for row in (
            await session.exec(select(EmployeeStats).execution_options(populate_existing=True))
        ).all()
        if row.points
    }
    assert stats_employee == {k: v for k, v in per_employee.items() if v}
    return {e: dict(s) for e, s in sums.items()}
