"""The opt-in daily digest: each morning, one DM with what the employee's cards did yesterday.

An employee who turned it on (`me notify digest on`) gets, at `DIGEST_HOUR` in their own
time zone, the views, unique visitors and sign-ups of the 24 hours before, per activity.
Days with nothing to tell send nothing. Each digest is an outbox row keyed by employee and
local date, so the scheduler can call `daily_digests` as often as it likes. A digest is a
morning message: one not sent within `DIGEST_GRACE` of its hour (the process was down, or
the employee turned digests on in the afternoon) is skipped, not sent late.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import outbox as outbox_mod
from bot.notifications import DailyDigest, DigestLine
from store.models import Activity, Employee, Lead, OutboxMessage, Share, View

DIGEST_HOUR = 9  # local time
DIGEST_GRACE = timedelta(hours=2)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def digest_window(now: datetime, tz: str) -> tuple[str, datetime, datetime]:
    """The latest digest due at or before `now` in `tz`: (local date covered, since, until)."""
    local = now.astimezone(zone(tz))
    until = local.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    if until > local:
        until -= timedelta(days=1)
    since = until - timedelta(days=1)
    return since.date().isoformat(), since, until


def digest_key(employee_id: int, day: str) -> str:
    return f"digest:{employee_id}:{day}"


async def daily_digests(*, session: AsyncSession, now: datetime) -> int:
    """Queue every digest due at `now` that is not queued yet; returns how many."""
    subscribers = (await session.exec(select(Employee).where(col(Employee.digest).is_(True)))).all()
    by_window: dict[tuple[str, datetime, datetime], list[Employee]] = defaultdict(list)
    for employee in subscribers:
        window = digest_window(now, employee.tz)
        if now - window[2] <= DIGEST_GRACE:
            by_window[window].append(employee)
    queued = 0
    for (day, since, until), employees in by_window.items():
        keys = {digest_key(e.id or 0, day): e for e in employees}
        sent = set(
            (
                await session.exec(
                    select(OutboxMessage.key).where(col(OutboxMessage.key).in_(keys))
                )
            ).all()
        )
        due = {key: e for key, e in keys.items() if key not in sent}
        if not due:
            continue
        lines = await _lines(session, [e.id or 0 for e in due.values()], since, until)
        for key, employee in due.items():
            if lines.get(employee.id or 0):
                event = DailyDigest(employee.user_id, day, tuple(lines[employee.id or 0]))
                queued += await outbox_mod.enqueue(session=session, event=event, key=key)
    return queued


async def _lines(
    session: AsyncSession, employee_ids: list[int], since: datetime, until: datetime
) -> dict[int, list[DigestLine]]:
    """Per employee, per activity with anything new in [since, until): views, visitors, sign-ups."""
    views = (
        await session.exec(
            select(
                col(Share.employee_id),
                col(Share.activity_id),
                func.count(),
                func.count(func.distinct(View.visitor_key)),
            )
            .join(View, col(View.share_id) == col(Share.id))
            .where(
                col(Share.employee_id).in_(employee_ids),
                col(View.counted).is_(True),
                col(View.at) >= since,
                col(View.at) < until,
            )
            .group_by(col(Share.employee_id), col(Share.activity_id))
        )
    ).all()
    signups = (
        await session.exec(
            select(col(Lead.employee_id), col(Lead.activity_id), func.count())
            .where(
                col(Lead.employee_id).in_(employee_ids),
                col(Lead.created_at) >= since,
                col(Lead.created_at) < until,
            )
            .group_by(col(Lead.employee_id), col(Lead.activity_id))
        )
    ).all()
    counts: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for employee_id, activity_id, count, visitors in views:
        counts[employee_id][activity_id][:2] = [int(count), int(visitors)]
    for employee_id, activity_id, count in signups:
        counts[employee_id][activity_id][2] = int(count)
    activity_ids = {a for per in counts.values() for a in per}
    names = dict(
        (
            await session.exec(
                select(col(Activity.id), col(Activity.name)).where(
                    col(Activity.id).in_(activity_ids)
                )
            )
        ).all()
    )
    return {
        employee_id: [
            DigestLine(names.get(activity_id, f"#{activity_id}"), *numbers)
            for activity_id, numbers in sorted(per.items())
        ]
        for employee_id, per in counts.items()
    }
