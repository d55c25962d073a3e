"""Which counted views become a "someone is viewing your card" DM, and which are tallied.

The first counted view of a share opens a window of `COALESCE_WINDOW`: it gets a DM of its
own (`CardViewed`). Further views of that share inside the window do not: the window's DM
is rewritten with the count ("12 people viewed your card … in the last 10 minutes") by a
`ViewsTallied` outbox row. While a tally row is still waiting to be sent, later views
update it in place, so a burst of a thousand views costs a handful of Slack calls.

The windows live in the outbox itself (rows batched as `views:{share_id}`), so they
survive a restart and need no table of their own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import outbox as outbox_mod
from bot.notifications import CardViewed, ViewsTallied, view_window
from store.models import OutboxMessage, aware

COALESCE_WINDOW = timedelta(minutes=10)
# A tally waits this long before it is sent, collecting the views that follow it.
TALLY_DELAY = timedelta(seconds=2)


@dataclass(frozen=True)
class Announced:
    """A counted view its employee should hear about."""

    view_id: int
    share_id: int
    employee_user_id: str
    activity_id: int
    activity_name: str
    visits: int
    source: str
    device: str
    at: datetime
    lead_name: str | None = None


@dataclass
class _Window:
    first_key: str  # the outbox key of the window's DM
    since: datetime
    count: int
    tally: ViewsTallied | None = None  # the newest tally, when it has changed
    pending_row: int | None = None  # a tally row not yet sent, to update in place


async def queue_view_alerts(session: AsyncSession, views: list[Announced]) -> bool:
    """Queue DMs and tallies for `views`, in the caller's (the views') transaction. True if
    a new outbox row was added (a waiting tally that was only updated needs no wake-up)."""
    added = False
    by_share: dict[int, list[Announced]] = defaultdict(list)
    for view in sorted(views, key=lambda v: (v.at, v.view_id)):
        by_share[view.share_id].append(view)
    windows = await _open_windows(session, list(by_share))
    for share_id, share_views in by_share.items():
        window = windows.get(share_id)
        for view in share_views:
            if window is None or view.at - window.since >= COALESCE_WINDOW:
                if window is not None:
                    added = await _write_tally(session, share_id, window) or added
                window = await _open(session, view)
                added = True
                continue
            window.count += 1
            window.tally = ViewsTallied(
                employee_user_id=view.employee_user_id,
                activity_name=view.activity_name,
                share_id=share_id,
                count=window.count,
                since=window.since,
                latest_at=view.at,
                source=view.source,
                device=view.device,
                rewrites=window.first_key,
            )
        if window is not None:
            added = await _write_tally(session, share_id, window) or added
    return added


async def window_message(session: AsyncSession, share_id: int) -> OutboxMessage | None:
    """The DM of the share's latest window (where a view's reading report is threaded)."""
    return (
        await session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.batch == view_window(share_id), OutboxMessage.kind == "CardViewed")
            .order_by(col(OutboxMessage.id).desc())
            .limit(1)
        )
    ).first()


async def _open(session: AsyncSession, view: Announced) -> _Window:
    key = f"view:{view.view_id}"
    await outbox_mod.enqueue(
        session=session,
        key=key,
        batch=view_window(view.share_id),
        event=CardViewed(
            employee_user_id=view.employee_user_id,
            activity_id=view.activity_id,
            activity_name=view.activity_name,
            share_id=view.share_id,
            view_id=view.view_id,
            visits=view.visits,
            source=view.source,
            device=view.device,
            lead_name=view.lead_name,
            at=view.at,
        ),
    )
    return _Window(first_key=key, since=view.at, count=1)


async def _open_windows(session: AsyncSession, share_ids: list[int]) -> dict[int, _Window]:
    """Each share's newest window, from its newest outbox row (its DM or its last tally)."""
    if not share_ids:
        return {}
    newest = (
        select(func.max(OutboxMessage.id))
        .where(col(OutboxMessage.batch).in_([view_window(s) for s in share_ids]))
        .group_by(col(OutboxMessage.batch))
    )
    rows = (
        await session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(newest)))
    ).all()
    windows: dict[int, _Window] = {}
    for row in rows:
        event = outbox_mod.decode(row.kind, row.payload)
        if isinstance(event, CardViewed):
            since = aware(event.at or row.created_at)
            windows[event.share_id] = _Window(first_key=row.key, since=since, count=1)
        elif isinstance(event, ViewsTallied):
            windows[event.share_id] = _Window(
                first_key=event.rewrites,
                since=aware(event.since),
                count=event.count,
                pending_row=row.id if row.status == "pending" else None,
            )
    return windows


async def _write_tally(session: AsyncSession, share_id: int, window: _Window) -> bool:
    """Update the waiting tally row, or queue a new one once the last has gone out; True if
    a row was added."""
    tally, window.tally = window.tally, None
    if tally is None:
        return False
    kind, payload = outbox_mod.encode(tally)
    if window.pending_row is not None:
        result = await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == window.pending_row)
            .where(col(OutboxMessage.status) == "pending")  # the sender may have claimed it
            .values(payload=payload)
        )
        if result.rowcount:
            return False
    return await outbox_mod.enqueue(
        session=session,
        key=f"tally:{tally.rewrites}:{tally.count}",
        batch=view_window(share_id),
        event=tally,
        due_at=datetime.now(UTC) + TALLY_DELAY,
    )
