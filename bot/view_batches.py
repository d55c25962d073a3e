"""One group-commit batch of the landing page's writes, in one transaction.

The views and beacons are stored, and the messages they cause (the employee's coalesced
"someone is viewing your card" DM, the reading report) are queued in the outbox in the
same transaction, so they commit or roll back together. What must happen afterwards in
the application (wake the outbox, tell a salesperson that their customer is back) comes
back as data in an `BatchOutcome`: the batch may run in the writer process (bot/writer.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import outbox as outbox_mod
from bot import view_alerts
from bot.notifications import ViewEngaged
from bot.tracking import ViewResult, Visit, record_beacon, record_views
from store.models import Activity, Employee, Lead, TrackingMark, View
from store.queries import insert_statement


class Beacon(NamedTuple):
    """The page's interaction report for this visitor's latest view of the share."""

    share_id: int
    visitor_key: str
    dwell_ms: int | None = None
    scroll_pct: int | None = None
    clicks: tuple[str, ...] = ()


Item = Visit | Beacon


@dataclass
class BatchOutcome:
    """What the application does once the batch is committed."""

    wake: bool = False  # an outbox message is due now
    returned: list[tuple[Visit, ViewResult]] = field(default_factory=list)  # known customers


async def commit_batch(
    session: AsyncSession, items: Sequence[Item], *, mark: tuple[str, int] | None = None
) -> BatchOutcome:
    """Views first, set-based; then beacons, which attach to the visitor's latest view.
    `mark` (writer, number of the batch's last item) is recorded in the same transaction."""
    outcome = BatchOutcome()
    visits = [item for item in items if isinstance(item, Visit)]
    results = await record_views(session=session, visits=visits)
    await _announce(session, list(zip(visits, results, strict=True)), outcome)
    for beacon in items:
        if isinstance(beacon, Beacon):
            view = await record_beacon(
                session=session,
                share_id=beacon.share_id,
                visitor_key=beacon.visitor_key,
                dwell_ms=beacon.dwell_ms,
                scroll_pct=beacon.scroll_pct,
                clicks=list(beacon.clicks),
            )
            if view is not None:
                await _engaged(session, view, outcome)
    if mark is not None:
        await _set_mark(session, *mark)
    return outcome


async def _set_mark(session: AsyncSession, writer: str, seq: int) -> None:
    insert = insert_statement(session, TrackingMark)
    await session.exec(
        insert.values(writer=writer, seq=seq).on_conflict_do_update(
            index_elements=["writer"], set_={"seq": insert.excluded.seq}
        )
    )


async def committed_mark(session: AsyncSession, writer: str) -> int:
    """The number of the last item `writer` committed (0: none)."""
    mark = await session.get(TrackingMark, writer)
    return mark.seq if mark is not None else 0


async def drop_mark(session: AsyncSession, writer: str) -> None:
    await session.exec(delete(TrackingMark).where(col(TrackingMark.writer) == writer))


async def _announce(
    session: AsyncSession, views: list[tuple[Visit, ViewResult]], outcome: BatchOutcome
) -> None:
    """Queue the employees' DMs (coalesced per share) for the counted views."""
    announced = [(visit, result) for visit, result in views if result.announce]
    if not announced:
        return
    listening = dict(
        (
            await session.exec(
                select(Employee.id, Employee.user_id).where(
                    col(Employee.id).in_({visit.employee_id for visit, _ in announced}),
                    col(Employee.notify).is_(True),
                )
            )
        ).all()
    )
    activity_names = dict(
        (
            await session.exec(
                select(Activity.id, Activity.name).where(
                    col(Activity.id).in_({visit.activity_id for visit, _ in announced})
                )
            )
        ).all()
    )
    lead_ids = {result.lead_id for _, result in announced if result.lead_id is not None}
    lead_names: dict[int | None, str] = {}
    if lead_ids:
        named = select(Lead.id, Lead.name).where(col(Lead.id).in_(lead_ids))
        lead_names = dict((await session.exec(named)).all())
    alerts = []
    for visit, result in announced:
        user_id = listening.get(visit.employee_id)
        if user_id is not None:
            alerts.append(
                view_alerts.Announced(
                    view_id=result.view_id,
                    share_id=visit.share_id,
                    employee_user_id=user_id,
                    activity_id=visit.activity_id,
                    activity_name=activity_names.get(visit.activity_id, ""),
                    visits=result.visits,
                    source=visit.source,
                    device=visit.classification.ua_class,
                    at=visit.at,
                    lead_name=lead_names.get(result.lead_id),
                )
            )
        if result.lead_id is not None:  # a known customer: tell their salesperson too
            outcome.returned.append((visit, result))
    outcome.wake = await view_alerts.queue_view_alerts(session, alerts) or outcome.wake


async def _engaged(session: AsyncSession, view: View, outcome: BatchOutcome) -> None:
    """The first beacon of a counted view: tell the employee how it was read, in the
    thread of the "someone is viewing" DM of the view's window when that has gone out."""
    if not view.counted or view.id is None:
        return
    employee = await session.get(Employee, view.employee_id)
    if employee is None or not employee.notify:
        return
    viewed_dm = await view_alerts.window_message(session, view.share_id)
    queued = await outbox_mod.enqueue(
        session=session,
        key=f"view-read:{view.id}",
        event=ViewEngaged(
            employee_user_id=employee.user_id,
            view_id=view.id,
            dwell_ms=view.dwell_ms or 0,
            scroll_pct=view.scroll_pct or 0,
            clicks=tuple(c for c in view.clicks.split(",") if c),
            thread_channel=viewed_dm.channel if viewed_dm else None,
            thread_ts=viewed_dm.ts if viewed_dm else None,
        ),
    )
    outcome.wake = outcome.wake or queued
