"""Fraud review: automatic flags, each with its reason, and the admin's decision.

Sign-up flags are raised when the lead is created (its points go straight to `review`);
view flags by the scheduled scan, which moves the day's view points of the share into
`review` (at most what is still available). Approving releases a flag's points to
`available`; rejecting reverses them. Both are recorded in the audit log when it exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import audit, ledger
from bot import leads as leads_mod  # (leads imports this module: attribute access only)
from bot.errors import InvalidInput, NotFound
from bot.i18n import N_, _, format_number, ngettext
from bot.tracking import NETWORK_WINDOW
from store.models import (
    Employee,
    Lead,
    NetworkMinute,
    PointFlag,
    PointsEntry,
    Share,
    ShareVisitor,
    View,
    ViewRollup,
    aware,
    utcnow,
)
from store.queries import bump_share_stats, insert_if_absent

# Thresholds of the automatic flags.
NETWORK_BURST = 15
"""New visitors from one network (/24 or /64) to one share within NETWORK_WINDOW (10
minutes, bot/tracking.py) that make a burst. A household or a small office opening a
link posted in its chat is a handful; REWARDED_PER_NETWORK (10 a day) already caps the
points one network earns, so 15 new browsers in ten minutes from one network is a click
farm or a script rotating cookies. A sliding window, not a calendar day: a burst across
UTC midnight is seen whole, and twenty visitors spread over a day are not a burst."""
FAST_SIGNUP = timedelta(seconds=10)  # a sign-up this soon after the first view is fast
FAST_BURST = 3  # fast sign-ups on one share within FAST_WINDOW make a burst
FAST_WINDOW = timedelta(hours=1)
SPIKE_WINDOW = timedelta(hours=1)
SPIKE_FACTOR = 10
SPIKE_MIN_VIEWS = 40
"""Views far above the employee's usual: SPIKE_MIN_VIEWS or more counted views of their
shares within any SPIKE_WINDOW, and at least SPIKE_FACTOR times their usual hourly rate
(their counted views over the USUAL_DAYS before, roll-ups included, per hour). An hour,
not a day: real sharing comes in waves of a few hours after a post, so ten times the
average hour leaves room for a good post's peak; 40 an hour is a floor so that a new
employee with no history is not flagged for a first post that works, while a steady day
of a few views an hour never reaches it."""
USUAL_DAYS = 14
SCAN_LOOKBACK = timedelta(hours=3)
"""How far back each scan looks for windows (the scheduler runs every 5 minutes; this
covers missed ticks and a restart). A window already flagged is extended, not flagged
again."""
NETWORK_MINUTES_KEPT = timedelta(days=1)  # network_minutes rows older than this go

REASONS: dict[str, str] = {
    "network_burst": N_("many visitors from one network in a short time"),
    "own_contact": N_("signed up with the sharing employee's own phone or e-mail"),
    "shared_phone": N_("the same phone signed up through several employees' links"),
    "fast_signups": N_("sign-ups seconds after the first view, in a burst"),
    "view_spike": N_("views far above the employee's usual"),
}


def reason_text(reason: str) -> str:
    return _(REASONS.get(reason, reason))


def numbers(**values: float) -> str:
    """A flag's detail as stored: its numbers, put into words by `detail_text` in the
    reader's language (a sentence stored in English would stay English)."""
    return json.dumps(values, separators=(",", ":"))


def detail_text(reason: str, detail: str) -> str:
    """A flag's detail in the reader's language; flags raised before details were stored
    as numbers keep their English text."""
    try:
        n = json.loads(detail) if detail.startswith("{") else None
    except ValueError:
        n = None
    if not isinstance(n, dict):
        return detail
    try:
        if reason == "shared_phone":
            others = int(n["others"])
            return ngettext(
                "also through {num} other employee", "also through {num} other employees", others
            ).format(num=others)
        if reason == "fast_signups":
            fast = int(n["signups"])
            return ngettext(
                "{num} fast sign-up within an hour", "{num} fast sign-ups within an hour", fast
            ).format(num=fast)
        if reason == "network_burst":
            visitors = int(n["visitors"])
            return ngettext(
                "{num} new visitor from one network within {minutes} minutes",
                "{num} new visitors from one network within {minutes} minutes",
                visitors,
            ).format(num=visitors, minutes=int(n["minutes"]))
        if reason == "view_spike":
            views = int(n["views"])
            return ngettext(
                "{num} view within an hour, usually {usual} an hour",
                "{num} views within an hour, usually {usual} an hour",
                views,
            ).format(num=views, usual=format_number(round(float(n["usual"]), 1)))
    except (KeyError, TypeError, ValueError):
        return detail
    return ""


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
            found.append(Suspicion("own_contact", ""))  # the reason says it all
    others = (
        await session.exec(
            select(func.count(func.distinct(Lead.employee_id))).where(
                Lead.phone == lead.phone, Lead.employee_id != lead.employee_id
            )
        )
    ).one()
    if others:
        found.append(Suspicion("shared_phone", numbers(others=others)))
    if visitor_first_seen is not None:
        at = aware(lead.created_at)
        if at - aware(visitor_first_seen) <= FAST_SIGNUP:
            fast = await _fast_signups(session, lead, at)
            if fast + 1 >= FAST_BURST:
                found.append(Suspicion("fast_signups", numbers(signups=fast + 1)))
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


Span = tuple[datetime, datetime]


def _merge(spans: list[Span]) -> list[Span]:
    """Overlapping or touching spans joined: one burst is one flag."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


async def scan_views(*, session: AsyncSession, now: datetime) -> int:
    """Flag network bursts and view spikes in sliding windows ending in the last
    SCAN_LOOKBACK; a burst already flagged grows its flag instead. How many new flags."""
    raised = 0
    for share_id, (start, end), visitors in await _network_bursts(session, now):
        raised += await _flag_window(
            session,
            share_id,
            "network_burst",
            (start, end),
            numbers(visitors=visitors, minutes=NETWORK_WINDOW.total_seconds() // 60),
        )
    for share_ids, span, views, usual in await _view_spikes(session, now):
        for share_id in share_ids:
            raised += await _flag_window(
                session,
                share_id,
                "view_spike",
                span,
                numbers(views=views, usual=round(usual, 1)),
            )
    await session.exec(
        delete(NetworkMinute).where(col(NetworkMinute.minute) < now - NETWORK_MINUTES_KEPT)
    )
    return raised


async def _network_bursts(session: AsyncSession, now: datetime) -> list[tuple[int, Span, int]]:
    """(share, span of the burst, most visitors in one window) per burst."""
    since = now - SCAN_LOOKBACK - NETWORK_WINDOW
    in_range = (col(NetworkMinute.minute) > since) & (col(NetworkMinute.minute) <= now)
    candidates = (
        await session.exec(
            select(NetworkMinute.share_id, NetworkMinute.network)
            .where(in_range)
            .group_by(col(NetworkMinute.share_id), col(NetworkMinute.network))
            .having(func.sum(NetworkMinute.visitors) >= NETWORK_BURST)
        )
    ).all()
    if not candidates:
        return []
    wanted = set(candidates)
    rows = (
        await session.exec(
            select(NetworkMinute)
            .where(in_range, col(NetworkMinute.share_id).in_({s for s, _ in wanted}))
            .order_by(col(NetworkMinute.minute))
        )
    ).all()
    series: dict[tuple[int, str], list[tuple[datetime, int]]] = {}
    for row in rows:
        if (row.share_id, row.network) in wanted:
            series.setdefault((row.share_id, row.network), []).append(
                (aware(row.minute), row.visitors)
            )
    spans: dict[int, list[Span]] = {}
    peaks: dict[int, int] = {}
    for (share_id, _network), minutes in series.items():
        total, first = 0, 0
        for minute, visitors in minutes:
            total += visitors
            while minutes[first][0] <= minute - NETWORK_WINDOW:
                total -= minutes[first][1]
                first += 1
            if total >= NETWORK_BURST:
                span = (minutes[first][0], minute + timedelta(minutes=1))
                spans.setdefault(share_id, []).append(span)
                peaks[share_id] = max(peaks.get(share_id, 0), total)
    return [
        (share_id, span, peaks[share_id])
        for share_id, found in sorted(spans.items())
        for span in _merge(found)
    ]


async def _usual_per_hour(session: AsyncSession, employee_id: int, before: datetime) -> float:
    """The employee's counted views per hour over the USUAL_DAYS before `before`: raw views
    plus the quarter-hour roll-ups of views already folded (bot/retention.py)."""
    start = before - timedelta(days=USUAL_DAYS)
    raw = (
        await session.exec(
            select(func.count()).where(
                View.employee_id == employee_id,
                col(View.counted).is_(True),
                View.at >= start,
                View.at < before,
            )
        )
    ).one()
    folded = (
        await session.exec(
            select(func.coalesce(func.sum(ViewRollup.views), 0))
            .join(Share, col(Share.id) == col(ViewRollup.share_id))
            .where(
                Share.employee_id == employee_id,
                ViewRollup.bucket >= start,
                ViewRollup.bucket < before,
            )
        )
    ).one()
    return (int(raw) + int(folded)) / (USUAL_DAYS * 24)


async def _view_spikes(
    session: AsyncSession, now: datetime
) -> list[tuple[list[int], Span, int, float]]:
    """(the employee's shares viewed in it, span, most views in one hour, usual per hour)
    per spike."""
    since = now - SCAN_LOOKBACK - SPIKE_WINDOW
    in_range = col(View.counted).is_(True) & (col(View.at) > since) & (col(View.at) <= now)
    candidates = (
        await session.exec(
            select(View.employee_id)
            .where(in_range)
            .group_by(col(View.employee_id))
            .having(func.count() >= SPIKE_MIN_VIEWS)
        )
    ).all()
    found: list[tuple[list[int], Span, int, float]] = []
    for employee_id in candidates:
        usual = await _usual_per_hour(session, employee_id, since)
        threshold = max(SPIKE_MIN_VIEWS, SPIKE_FACTOR * usual)
        views = [
            (aware(at), share_id)
            for at, share_id in (
                await session.exec(
                    select(View.at, View.share_id)
                    .where(in_range, View.employee_id == employee_id)
                    .order_by(col(View.at))
                )
            ).all()
        ]
        spans: list[Span] = []
        peak, first = 0, 0
        for last, (at, _share) in enumerate(views):
            while views[first][0] <= at - SPIKE_WINDOW:
                first += 1
            count = last - first + 1
            if count >= threshold:
                spans.append((views[first][0], at + timedelta(seconds=1)))
                peak = max(peak, count)
        for start, end in _merge(spans):
            shares = sorted({s for at, s in views if start <= at < end})
            found.append((shares, (start, end), peak, usual))
    return found


async def _flag_window(
    session: AsyncSession, share_id: int, reason: str, span: Span, detail: str
) -> int:
    """Flag a share's views in `span` and move the view points earned in it into review;
    1 if new. A burst the share already has a flag for (their spans overlap) grows that
    flag while it is open: the points earned since are held too."""
    share = await session.get(Share, share_id)
    if share is None or share.id is None:
        return 0
    start, end = span
    existing = (
        await session.exec(
            select(PointFlag)
            .where(
                PointFlag.share_id == share_id,
                PointFlag.reason == reason,
                col(PointFlag.lead_id).is_(None),
                col(PointFlag.window_end).is_not(None),
                col(PointFlag.window_end) >= start,
                col(PointFlag.window_start) <= end,
            )
            .order_by(col(PointFlag.id).desc())
            .limit(1)
        )
    ).first()
    if existing is not None:
        assert existing.window_end is not None
        if existing.status != "open" or aware(existing.window_end) >= end:
            return 0  # seen already; a decided flag is not reopened
        held_from = aware(existing.window_end)
        existing.window_end = end
        existing.detail = detail[:300]
        await _hold(session, existing, share, held_from, end)
        session.add(existing)
        return 0
    key = f"share:{share_id}:{reason}:{start.isoformat(timespec='seconds')}"
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
            "window_start": start,
            "window_end": end,
        },
        ["key"],
    ):
        return 0
    flag = (await session.exec(select(PointFlag).where(PointFlag.key == key))).one()
    await _hold(session, flag, share, start, end)
    session.add(flag)
    return 1


async def _hold(
    session: AsyncSession, flag: PointFlag, share: Share, start: datetime, end: datetime
) -> None:
    """Move the view points the share earned in [start, end) into review for `flag`, less
    what other view flags of the share over that time hold already (never twice)."""
    earned = (
        await session.exec(
            select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                PointsEntry.share_id == share.id,
                PointsEntry.reason == "unique_visitor",
                PointsEntry.kind == "earned",
                PointsEntry.at >= start,
                PointsEntry.at < end,
            )
        )
    ).one()
    held = (
        await session.exec(
            select(func.coalesce(func.sum(PointFlag.points), 0)).where(
                PointFlag.share_id == share.id,
                col(PointFlag.lead_id).is_(None),
                PointFlag.id != flag.id,
                col(PointFlag.window_end) > start,
                col(PointFlag.window_start) < end,
            )
        )
    ).one()
    amount = await ledger.take_available(session, share.employee_id, int(earned) - int(held))
    if amount > 0:
        ref = f"flag:{flag.id}:{end.isoformat(timespec='seconds')}"
        await ledger.post(
            session,
            [
                _flag_entry(flag, -amount, "held", "available", ref),
                _flag_entry(flag, amount, "held", "review", ref),
            ],
        )
        flag.points += amount


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
