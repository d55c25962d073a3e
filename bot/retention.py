"""Retention: raw views older than RETENTION_DAYS are folded into quarter-hour roll-ups and
deleted, a chunk per transaction, by the scheduler (bot/scheduler.py run_due).

Nothing a person sees changes: totals, exports and leaderboards read the share_stats and
employee_stats counters and the points ledger, never raw views; unique visitors per day
come from share_visitors.first_seen; views per day add view_rollups to the views left
(store/queries.py). What goes is the detail of each old request: its visitor, browser
class, interaction data and link to a lead's timeline.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import audit
from store.bulk import BulkInsert, insert_rows
from store.models import View, aware

RETENTION_DAYS = 395
CHUNK = 5_000  # views per transaction: short locks beside the tracking writer
QUARTER_HOUR = 15 * 60

_ADD_ROLLUPS = BulkInsert(
    table="view_rollups",
    columns=("share_id", "activity_id", "bucket", "views"),
    on_conflict=("share_id", "bucket"),
    add_on_conflict=("views",),
    datetime_columns=("bucket",),
)


def quarter_hour(moment: datetime) -> datetime:
    """The UTC quarter hour a moment falls in."""
    seconds = int(aware(moment).timestamp())
    return datetime.fromtimestamp(seconds - seconds % QUARTER_HOUR, UTC)


async def fold_chunk(*, session: AsyncSession, now: datetime, days: int = RETENTION_DAYS) -> int:
    """Fold and delete up to CHUNK of the oldest views before the cut-off; how many went."""
    cutoff = now - timedelta(days=days)
    oldest = (
        select(
            col(View.id), col(View.share_id), col(View.activity_id), col(View.counted), col(View.at)
        )
        .where(col(View.at) < cutoff)
        .order_by(col(View.id))
        .limit(CHUNK)
    )
    rows = (await session.exec(oldest)).all()  # type: ignore[call-overload]
    if not rows:
        return 0
    counts: Counter[tuple[int, int, datetime]] = Counter()
    for _, share_id, activity_id, counted, at in rows:
        if counted:
            counts[(share_id, activity_id, quarter_hour(at))] += 1
    await insert_rows(
        session, _ADD_ROLLUPS, [(*key, views) for key, views in sorted(counts.items())]
    )
    ids = [row[0] for row in rows]
    await session.exec(delete(View).where(col(View.id).in_(ids)))
    await audit.record(
        session,
        actor=audit.SYSTEM,
        action=audit.RETENTION_FOLD,
        subject=audit.subject("views", f"before {cutoff.date().isoformat()}"),
        details={"views": len(ids), "counted": sum(counts.values()), "older_than_days": days},
    )
    return len(ids)
