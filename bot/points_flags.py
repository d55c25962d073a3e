"""Fraud review: automatic flags, each with its reason, and the admin's decision.

Sign-up flags are raised when the lead is created (its points go straight to `review`);
view flags by the scheduled scan, which moves the day's view points of the share into
`review` (at most what is still available). Approving releases a flag's points to
`available`; rejecting reverses them. Both are recorded in the audit log when it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import audit, ledger
from bot import leads as leads_mod  # (leads imports this module: attribute access only)
from bot.errors import InvalidInput, NotFound
from bot.i18n import N_, _
from store.models import (
    Employee,
    Lead,
    NetworkVisitors,
    PointFlag,
    PointsEntry,
    Share,
    ShareVisitor,
    View,
    aware,
    utcnow,
)
from store.queries import bump_share_stats, insert_if_absent

# Thresholds of the automatic flags.
NETWORK_BURST = 20  # new visitors from one network to one share in a day
FAST_SIGNUP = timedelta(seconds=10)  # a sign-up this soon after the first view is fast
FAST_BURST = 3  # fast sign-ups on one share within FAST_WINDOW make a burst
FAST_WINDOW = timedelta(hours=1)
SPIKE_FACTOR = 5  # a day's views this many times the employee's usual…
SPIKE_MIN_VIEWS = 50  # …and at least this many
USUAL_DAYS = 14

REASONS: dict[str, str] = {
    "network_burst": N_("many visitors from one network in a short time"),
    "own_contact": N_("signed up with the sharing employee's own phone or e-mail"),
    "shared_phone": N_("the same phone signed up through several employees' links"),
    "fast_signups": N_("sign-ups seconds after the first view, in a burst"),
    "view_spike": N_("views far above the employee's usual"),
}


def reason_text(reason: str) -> str:
    return _(REASONS.get(reason, reason))


@dataclass(frozen=True)
class Suspicion:
    reason: str
    detail: str


async def signup_suspicions(
    *, session: AsyncSession, lead: Lead, visitor_first_seen: datetime | None
) -> list[Suspicion]:
    """What looks wrong about a new sign-up (before its points are posted)."""
    found: list[Suspicion] = []
    employee = await session.get(Employee, lead.employee_id)
    if employee is not None:
        text = f"{lead.note} {lead.company}".lower()
        if (employee.phone and leads_mod.same_phone(employee.phone, lead.phone)) or (
            employee.email and employee.email.lower() in text
        ):
            found.append(Suspicion("own_contact", "the employee's own contact details"))
    others = (
        await session.exec(
            select(func.count(func.distinct(Lead.employee_id))).where(
                Lead.phone == lead.phone, Lead.employee_id != lead.employee_id
            )
        )
    ).one()
    if others:
        found.append(Suspicion("shared_phone", f"also through {others} other employee(s)"))
    if visitor_first_seen is not None:
        at = aware(lead.created_at)
        if at - aware(visitor_first_seen) <= FAST_SIGNUP:
            fast = await _fast_signups(session, lead, at)
            if fast + 1 >= FAST_BURST:
                found.append(Suspicion("fast_signups", f"{fast + 1} fast sign-ups within an hour"))
    return found


async def _fast_signups(session: AsyncSession, lead: Lead, at: datetime) -> int:
    """Earlier sign-ups on the share within FAST_WINDOW that came FAST_SIGNUP after the
    visitor's first view."""
    rows = (
        await session.exec(
            select(Lead.created_at, ShareVisitor.first_seen)
            .join(
                ShareVisitor,
                (ShareVisitor.share_id == Lead.share_id)  # type: ignore[arg-type]
                & (ShareVisitor.visitor_key == Lead.visitor_key),
            )
            .where(
                Lead.share_id == lead.share_id,
                Lead.id != lead.id,
                Lead.created_at >= at - FAST_WINDOW,
            )
        )
    ).all()
    return sum(1 for created, first in rows if aware(created) - aware(first) <= FAST_SIGNUP)


async def raise_flags(
    *, session: AsyncSession, lead: Lead, suspicions: list[Suspicion], points: int
) -> None:
    """One flag per suspicion of a new lead; its points sit in `review` already."""
    assert lead.id is not None
    for suspicion in suspicions:
        await insert_if_absent(
            session,
            PointFlag,
            {
                "key": f"lead:{lead.id}:{suspicion.reason}",
                "employee_id": lead.employee_id,
                "activity_id": lead.activity_id,
                "share_id": lead.share_id,
                "lead_id": lead.id,
                "reason": suspicion.reason,
                "detail": suspicion.detail[:300],
                "points": points,
                "status": "open",
                "decided_by": "",
                "created_at": utcnow(),
            },
            ["key"],
        )


# --- the scheduled scan over views ------------------------------------------------------


async def scan_views(*, session: AsyncSession, now: datetime) -> int:
    """Flag today's network bursts and view spikes (once per share and day); how many."""
    day = now.date()
    raised = 0
    bursts = (
        await session.exec(
            select(NetworkVisitors.share_id, func.max(NetworkVisitors.visitors))
            .where(NetworkVisitors.day == day, NetworkVisitors.visitors >= NETWORK_BURST)
            .group_by(col(NetworkVisitors.share_id))
        )
    ).all()
    for share_id, visitors in bursts:
        raised += await _flag_day(
            session,
            share_id,
            day,
            "network_burst",
            f"{visitors} new visitors from one network today",
        )
    start = datetime(day.year, day.month, day.day, tzinfo=now.tzinfo)
    today = (
        await session.exec(
            select(View.share_id, func.count())
            .where(col(View.counted).is_(True), View.at >= start, View.at <= now)
            .group_by(col(View.share_id))
            .having(func.count() >= SPIKE_MIN_VIEWS)
        )
    ).all()
    for share_id, views in today:
        before = (
            await session.exec(
                select(func.count()).where(
                    View.share_id == share_id,
                    col(View.counted).is_(True),
                    View.at >= start - timedelta(days=USUAL_DAYS),
                    View.at < start,
                )
            )
        ).one()
        usual = before / USUAL_DAYS
        if views >= SPIKE_FACTOR * max(usual, 1.0):
            raised += await _flag_day(
                session, share_id, day, "view_spike", f"{views} views today, usually {usual:.0f}"
            )
    return raised


async def _flag_day(
    session: AsyncSession, share_id: int, day: date, reason: str, detail: str
) -> int:
    """Flag a share's day and move that day's view points into review; 1 if new."""
    share = await session.get(Share, share_id)
    if share is None or share.id is None:
        return 0
    key = f"share:{share_id}:{day.isoformat()}:{reason}"
    if not await insert_if_absent(
        session,
        PointFlag,
        {
            "key": key,
            "employee_id": share.employee_id,
            "activity_id": share.activity_id,
            "share_id": share.id,
            "lead_id": None,
            "reason": reason,
            "detail": detail[:300],
            "points": 0,
            "status": "open",
            "decided_by": "",
            "created_at": utcnow(),
        },
        ["key"],
    ):
        return 0
    flag = (await session.exec(select(PointFlag).where(PointFlag.key == key))).one()
    start = datetime(day.year, day.month, day.day, tzinfo=utcnow().tzinfo)
    earned = (
        await session.exec(
            select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                PointsEntry.share_id == share_id,
                PointsEntry.reason == "unique_visitor",
                PointsEntry.at >= start,
                PointsEntry.at < start + timedelta(days=1),
            )
        )
    ).one()
    # Points already held by another flag of the same day are not held twice.
    held = (
        await session.exec(
            select(func.coalesce(func.sum(PointFlag.points), 0)).where(
                PointFlag.share_id == share_id,
                PointFlag.lead_id.is_(None),  # type: ignore[union-attr]
                col(PointFlag.key).like(f"share:{share_id}:{day.isoformat()}:%"),
            )
        )
    ).one()
    amount = await ledger.take_available(session, share.employee_id, int(earned) - int(held))
    if amount > 0:
        ref = f"flag:{flag.id}"
        await ledger.post(
            session,
            [
                _flag_entry(flag, -amount, "held", "available", ref),
                _flag_entry(flag, amount, "held", "review", ref),
            ],
        )
        flag.points = amount
        session.add(flag)
    return 1


def _flag_entry(flag: PointFlag, points: int, kind: str, bucket: str, ref: str) -> ledger.Entry:
    return ledger.Entry(
        flag.employee_id,
        points,
        "unique_visitor",
        ref,
        kind=kind,
        bucket=bucket,
        activity_id=flag.activity_id,
        share_id=flag.share_id,
        by_user_id=flag.decided_by,
    )


# --- the queue and the decisions ---------------------------------------------------------


async def open_flags(*, session: AsyncSession, limit: int = 200) -> list[PointFlag]:
    return list(
        (
            await session.exec(
                select(PointFlag)
                .where(PointFlag.status == "open")
                .order_by(col(PointFlag.created_at), col(PointFlag.id))
                .limit(limit)
            )
        ).all()
    )


async def count_open(*, session: AsyncSession) -> int:
    return int(
        (
            await session.exec(
                select(func.count()).select_from(PointFlag).where(PointFlag.status == "open")
            )
        ).one()
    )


DECISIONS: tuple[str, ...] = ("approve", "reject")


async def decide(
    *, session: AsyncSession, flag_id: int, decision: str, by_user_id: str
) -> PointFlag:
    """Approve (release to available) or reject (reverse) an open flag's points.

    A lead with several open flags keeps its points in review until the last is approved;
    rejecting one rejects the lead (its points reversed, its other flags closed)."""
    if decision not in DECISIONS:
        raise InvalidInput(_("Approve or reject."))
    flag = await session.get(PointFlag, flag_id, with_for_update=True)
    if flag is None:
        raise NotFound(_("There is no flag %(id)d.") % {"id": flag_id})
    if flag.status != "open":
        return flag  # decided already (a second tap, another admin): nothing changes
    now = utcnow()
    flag.status = "approved" if decision == "approve" else "rejected"
    flag.decided_by = by_user_id
    flag.decided_at = now
    session.add(flag)
    await session.flush()
    await audit.record(
        session,
        actor=by_user_id,
        action=audit.REVIEW_APPROVE if decision == "approve" else audit.REVIEW_REJECT,
        subject=audit.subject("flag", flag_id),
        details={
            "reason": flag.reason,
            "points": flag.points,
            "lead": flag.lead_id,
            "employee": flag.employee_id,
        },
    )
    if flag.lead_id is not None:
        lead = await session.get(Lead, flag.lead_id)
        assert lead is not None
        others = (
            await session.exec(
                select(PointFlag).where(PointFlag.lead_id == lead.id, PointFlag.status == "open")
            )
        ).all()
        if decision == "approve":
            if not others:
                await ledger.move_lead(
                    session,
                    lead,
                    source="review",
                    target="available",
                    kind="approved",
                    by_user_id=by_user_id,
                )
            return flag
        lead.marked = lead.marked or "rejected"
        lead.marked_by = lead.marked_by or by_user_id
        session.add(lead)
        for other in others:
            other.status = "rejected"
            other.decided_by = by_user_id
            other.decided_at = now
            session.add(other)
        await ledger.reverse_lead(
            session, lead, kind="rejected", buckets=("review",), by_user_id=by_user_id
        )
        return flag
    if flag.points > 0:
        ref = f"flag:{flag.id}:{flag.status}"
        if decision == "approve":
            entries = [
                _flag_entry(flag, -flag.points, "approved", "review", ref),
                _flag_entry(flag, flag.points, "approved", "available", ref),
            ]
        else:
            share = await session.get(Share, flag.share_id)
            assert share is not None
            await bump_share_stats(
                session,
                share_id=share.id or 0,
                source=share.source,
                activity_id=share.activity_id,
                employee_id=share.employee_id,
                deltas={"points": -flag.points},
            )
            entries = [_flag_entry(flag, -flag.points, "rejected", "review", ref)]
        await ledger.post(session, entries)
    return flag
