"""Retention (issue 15 §4): raw views older than RETENTION_DAYS are folded into quarter-hour
roll-ups and deleted by the scheduled job; every stat, export, leaderboard and per-day count
is the same before and after, on SQLite and PostgreSQL (the `db` fixture), with the clock
passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot import retention, stats
from bot.reports.series import day_edges
from bot.scheduler import run_due
from bot.tracking import Classification, record_views
from store.db import Database
from store.models import AuditEntry, View, ViewRollup
from store.queries import activity_counts_per_period
from tests.bot.test_points_jobs import T0, _share, _signup, _visit

BOT = Classification(True, "bot", "Slackbot-LinkExpanding")


async def _numbers(db: Database, activity_id: int) -> tuple[object, ...]:
    """Everything people read about the activity, from every surface that counts views."""
    async with db.session() as session:
        report = await stats.activity_report(session=session, activity_id=activity_id)
        board = await stats.leaderboard(session=session, activity_id=activity_id)
        overall = await stats.leaderboard(session=session, activity_id=None)
        csv = await stats.export_csv(session=session, activity_id=activity_id)
        # Per-day counts in zones whose days begin on the hour, the half and three quarters
        # of an hour, and 45-minute periods: the roll-up's quarter hours must nest in each.
        per_period = []
        for tz in ("UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/Los_Angeles"):
            _, edges = day_edges((T0 + timedelta(days=2)).date(), 5, tz)
            per_period.append(
                await activity_counts_per_period(session, activity_id=activity_id, edges=edges)
            )
        quarters = [T0 - timedelta(hours=1) + timedelta(minutes=45 * k) for k in range(20)]
        per_period.append(
            await activity_counts_per_period(session, activity_id=activity_id, edges=quarters)
        )
    return (
        report,
        [(e.user_id, row) for e, row in board],
        [(e.user_id, row) for e, row in overall],
        csv,
        per_period,
    )


async def test_old_views_fold_into_rollups_and_every_number_stays(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "CHUNK", 7)  # several chunks, each its own transaction
    share = await _share(db, "U_E1")
    other = await _share(db, "U_E2")
    visits = []
    for n in range(40):  # every 7 minutes across many quarter hours and 45-minute periods
        at = T0 + timedelta(minutes=7 * n, seconds=n)
        visits.append(_visit(share if n % 3 else other, f"v{n % 25}", at))  # repeats too
        if n % 4 == 0:
            visits.append(replace(_visit(share, "bot", at), classification=BOT))
    async with db.session() as session:  # commits on leaving, as the writer's batch does
        await record_views(session=session, visits=visits)
    await _signup(db, share, "+8613800000007", "v7", T0 + timedelta(hours=2))
    async with db.session() as session:
        counted = (await session.exec(select(func.count()).where(View.counted))).one()
        stored = (await session.exec(select(func.count()).select_from(View))).one()
    assert 0 < counted < stored  # repeats within the window and bots are stored, not counted

    # Not yet old enough: nothing goes (the job closes the long-ended activities).
    report = await run_due(db=db, now=T0 + timedelta(days=395), retention_days=395)
    assert report.folded_views == 0
    before = await _numbers(db, share.activity_id)
    # A year and a month later the scheduled job folds them all, a chunk at a time.
    later = T0 + timedelta(days=396)
    report = await run_due(db=db, now=later, retention_days=395)
    assert report.folded_views == stored
    async with db.session() as session:
        assert (await session.exec(select(func.count()).select_from(View))).one() == 0
        rolled = (await session.exec(select(func.sum(ViewRollup.views)))).one()
        assert rolled == counted
        buckets = (await session.exec(select(ViewRollup.bucket))).all()
        assert all(b.minute % 15 == 0 and b.second == 0 for b in buckets)
        audited = (
            await session.exec(select(func.count()).where(AuditEntry.action == "retention.fold"))
        ).one()
        assert audited == -(-stored // 7)  # one entry per chunk, no phone or visitor in it
    assert await _numbers(db, share.activity_id) == before
    assert (await run_due(db=db, now=later, retention_days=395)).folded_views == 0


def test_quarter_hours_are_utc_and_floor() -> None:
    moment = datetime(2026, 3, 1, 18, 29, 59, 999_999, tzinfo=UTC)
    assert retention.quarter_hour(moment) == datetime(2026, 3, 1, 18, 15, tzinfo=UTC)
    naive = datetime(2026, 3, 1, 18, 30)  # SQLite hands UTC back naive
    assert retention.quarter_hour(naive) == datetime(2026, 3, 1, 18, 30, tzinfo=UTC)
