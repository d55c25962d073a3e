"""The points ledger: the only writer of `points_ledger` and `point_balances`.

Rows are never edited or deleted. Points sit in one of three buckets: `available`
(spendable), `pending` (a sign-up on hold) and `review` (flagged, waiting for an admin).
A move between buckets is two rows of one kind; a reversal is a negative row. An
employee's balance per bucket is the sum of their rows in it, kept in `point_balances` in
the same transaction, and never goes below zero (a debit that would overdraw is refused,
a reversal takes back at most what is there).

The statistics (`share_stats.points`) are the sum of a share's rows in every bucket:
earning and reversing change them, moves between buckets do not.

Lock order (see store/queries.bump_stats): share_stats, employee_stats, then
point_balances, then the outbox. Post after bumping the stats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.bulk import BulkInsert, insert_rows
from store.models import Lead, PointBalance, PointsEntry, utcnow
from store.queries import bump_share_stats

BUCKETS: tuple[str, ...] = ("available", "pending", "review")
KINDS: tuple[str, ...] = (
    "earned",  # credited straight to available (visitors, outcomes)
    "pending",  # credited to pending (a sign-up on hold)
    "held",  # moved into review (flagged)
    "released",  # moved pending -> available (outcome or HOLD_DAYS)
    "approved",  # moved review -> available (admin)
    "rejected",  # review reversed (admin)
    "clawed_back",  # reversed: lead marked spam or duplicate
    "redeemed",  # spent on a reward (available, negative)
    "refunded",  # a refused redemption given back (available, positive)
    "adjusted",  # an admin's manual correction
)


@dataclass(frozen=True)
class Entry:
    """One ledger row to write."""

    employee_id: int
    points: int
    reason: str
    ref: str
    kind: str = "earned"
    bucket: str = "available"
    activity_id: int | None = None
    share_id: int | None = None
    lead_id: int | None = None
    by_user_id: str = ""
    at: datetime = field(default_factory=utcnow)

    def row(self) -> tuple[object, ...]:
        return (
            self.employee_id,
            self.activity_id,
            self.share_id,
            self.points,
            self.reason,
            self.ref,
            self.kind,
            self.bucket,
            self.lead_id,
            self.by_user_id,
            self.at,
        )


@dataclass(frozen=True)
class Balance:
    available: int = 0
    pending: int = 0
    review: int = 0

    @property
    def held(self) -> int:
        """Not yet spendable: pending plus in review."""
        return self.pending + self.review


_NEW_ENTRIES = BulkInsert(
    table="points_ledger",
    columns=(
        "employee_id",
        "activity_id",
        "share_id",
        "points",
        "reason",
        "ref",
        "kind",
        "bucket",
        "lead_id",
        "by_user_id",
        "at",
    ),
    datetime_columns=("at",),
)
_ADD_TO_BALANCES = BulkInsert(
    table="point_balances",
    columns=("employee_id", *BUCKETS),
    on_conflict=("employee_id",),
    add_on_conflict=BUCKETS,
)


async def post(session: AsyncSession, entries: Sequence[Entry]) -> None:
    """Append `entries` and add them to their balances, in the caller's transaction."""
    entries = [e for e in entries if e.points]
    if not entries:
        return
    for entry in entries:
        if entry.bucket not in BUCKETS or entry.kind not in KINDS:
            raise ValueError(f"bad ledger entry {entry!r}")
    await insert_rows(session, _NEW_ENTRIES, [e.row() for e in entries])
    sums: dict[int, list[int]] = {}
    for entry in entries:
        sums.setdefault(entry.employee_id, [0, 0, 0])[BUCKETS.index(entry.bucket)] += entry.points
    await insert_rows(
        session, _ADD_TO_BALANCES, [(employee, *sums[employee]) for employee in sorted(sums)]
    )


async def balance(session: AsyncSession, employee_id: int) -> Balance:
    row = await session.get(PointBalance, employee_id, populate_existing=True)
    if row is None:
        return Balance()
    return Balance(row.available, row.pending, row.review)


async def _locked_available(session: AsyncSession, employee_id: int) -> int:
    """The employee's available balance, its row locked until the transaction ends
    (PostgreSQL; SQLite has one writer at a time anyway)."""
    row = (
        await session.exec(
            select(PointBalance)
            .where(PointBalance.employee_id == employee_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()
    return row.available if row is not None else 0


async def try_debit(
    session: AsyncSession,
    *,
    employee_id: int,
    points: int,
    reason: str,
    ref: str,
    kind: str = "redeemed",
    by_user_id: str = "",
    at: datetime | None = None,
) -> bool:
    """Take `points` (> 0) from the available balance if it holds them; False (nothing
    written) if it does not. One conditional UPDATE, so two replicas cannot overdraw."""
    if points <= 0:
        raise ValueError("a debit takes a positive number of points")
    table = PointBalance.__table__  # type: ignore[attr-defined]
    result = await session.exec(
        update(table)
        .where(table.c.employee_id == employee_id, table.c.available >= points)
        .values(available=table.c.available - points)
    )
    if result.rowcount != 1:
        return False
    # The balance is already debited; add the row without bumping it a second time.
    entry = Entry(
        employee_id, -points, reason, ref, kind=kind, by_user_id=by_user_id, at=at or utcnow()
    )
    await insert_rows(session, _NEW_ENTRIES, [entry.row()])
    return True


async def credit(
    session: AsyncSession,
    *,
    employee_id: int,
    points: int,
    reason: str,
    ref: str,
    kind: str = "refunded",
    by_user_id: str = "",
    at: datetime | None = None,
) -> None:
    """Give `points` (> 0) to the available balance (a refund, an admin's adjustment)."""
    if points <= 0:
        raise ValueError("a credit gives a positive number of points")
    await post(
        session,
        [
            Entry(
                employee_id,
                points,
                reason,
                ref,
                kind=kind,
                by_user_id=by_user_id,
                at=at or utcnow(),
            )
        ],
    )


async def lead_buckets(session: AsyncSession, lead_id: int) -> dict[str, int]:
    """Where a lead's points sit now: the sum of its rows per bucket."""
    table = PointsEntry.__table__  # type: ignore[attr-defined]
    rows = (
        await session.exec(
            select(table.c.bucket, func.sum(table.c.points))
            .where(table.c.lead_id == lead_id)
            .group_by(table.c.bucket)
        )
    ).all()
    sums = dict.fromkeys(BUCKETS, 0)
    for bucket, total in rows:
        sums[bucket] = int(total or 0)
    return sums


def _lead_entry(lead: Lead, points: int, kind: str, bucket: str, ref: str, by: str) -> Entry:
    return Entry(
        lead.employee_id,
        points,
        "lead",
        ref,
        kind=kind,
        bucket=bucket,
        activity_id=lead.activity_id,
        share_id=lead.share_id,
        lead_id=lead.id,
        by_user_id=by,
    )


async def move_lead(
    session: AsyncSession,
    lead: Lead,
    *,
    source: str,
    target: str,
    kind: str,
    by_user_id: str = "",
) -> int:
    """Move all of a lead's points in bucket `source` to `target`; how many moved."""
    assert lead.id is not None
    amount = (await lead_buckets(session, lead.id))[source]
    if amount <= 0:
        return 0
    ref = f"lead:{lead.id}:{kind}"
    await post(
        session,
        [
            _lead_entry(lead, -amount, kind, source, ref, by_user_id),
            _lead_entry(lead, amount, kind, target, ref, by_user_id),
        ],
    )
    return amount


async def reverse_lead(
    session: AsyncSession,
    lead: Lead,
    *,
    kind: str,
    buckets: Sequence[str] = BUCKETS,
    by_user_id: str = "",
) -> int:
    """Reverse a lead's points in `buckets` by new negative rows (available: at most what
    the employee still has, so no balance goes below zero); the stats drop with them.
    Returns the points taken back."""
    assert lead.id is not None
    sums = await lead_buckets(session, lead.id)
    amounts: dict[str, int] = {}
    for bucket in buckets:
        amount = sums[bucket]
        if bucket == "available" and amount > 0:
            amount = min(amount, await _locked_available(session, lead.employee_id))
        if amount > 0:
            amounts[bucket] = amount
    total = sum(amounts.values())
    if not total:
        return 0
    await bump_share_stats(
        session,
        share_id=lead.share_id,
        source=lead.source,
        activity_id=lead.activity_id,
        employee_id=lead.employee_id,
        deltas={"points": -total},
    )
    ref = f"lead:{lead.id}:{kind}"
    await post(
        session,
        [
            _lead_entry(lead, -amount, kind, bucket, ref, by_user_id)
            for bucket, amount in amounts.items()
        ],
    )
    return total


async def take_available(session: AsyncSession, employee_id: int, points: int) -> int:
    """How much of a `points` debit the available balance can take (locks it): a
    downgraded outcome takes back at most what is still there."""
    return min(points, await _locked_available(session, employee_id))


async def entries_for(session: AsyncSession, employee_id: int) -> list[PointsEntry]:
    return list(
        (
            await session.exec(
                select(PointsEntry)
                .where(PointsEntry.employee_id == employee_id)
                .order_by(col(PointsEntry.id))
            )
        ).all()
    )


_DAILY_POINTS = BulkInsert(
    table="daily_points",
    columns=("share_id", "day", "points"),
    returning=("share_id", "day", "points"),
    on_conflict=("share_id", "day"),
    add_on_conflict=("points",),
    datetime_columns=("day",),
)


async def cap_daily(
    session: AsyncSession, asks: dict[tuple[int, date], tuple[int, int]]
) -> dict[tuple[int, date], int]:
    """How many of the points asked per (share, day) fit under the daily cap.

    `asks` maps (share, day) to (points asked, cap). The counter of points asked is bumped
    and read back in one upsert, so concurrent writers share one cap under the row's lock
    (lock order: after network_visitors, before share_stats)."""
    wanted = sorted(key for key, (asked, _) in asks.items() if asked > 0)
    allowed: dict[tuple[int, date], int] = dict.fromkeys(asks, 0)
    if not wanted:
        return allowed
    rows = await insert_rows(
        session, _DAILY_POINTS, [(share, day, asks[(share, day)][0]) for share, day in wanted]
    )
    # SQLite hands the day back as text, PostgreSQL as a date.
    totals = {(int(share), str(day)[:10]): int(total) for share, day, total in rows}
    for key in wanted:
        asked, cap = asks[key]
        before = totals[(key[0], key[1].isoformat())] - asked
        allowed[key] = max(0, min(asked, cap - before))
    return allowed
