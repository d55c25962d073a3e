"""Scheduled work derived from the database: reminders, auto-close, reports, digests.

The rules live in `run_due(db=…, now=…)`, which looks at the database as it is at `now`
and does whatever has come due. It can run any number of times: every message goes
into the outbox under a key naming its moment (`remind-share:{activity}:{employee}`,
`remind-outcome:{lead}:{n}`, `weekly:{week}:{admin}`, `digest:{employee}:{day}`) and
closing is a conditional update, so a second run, a restart half-way through a schedule
or a second replica adds nothing, and a run after downtime does what the downtime skipped.

`Scheduler` wraps APScheduler 3.x. Its jobs hold no state of their own: on start it
derives a DateTrigger per activity moment (24 h before the start, the end, 1–3 days
after the end) from the database, adds the Monday report and a catch-up every few
minutes, and every job just calls `run_due`. Only the holder of a lease row in the
database (`job_locks`, name 'scheduler') acts, so several replicas do not race; the
others keep renewing their claim and take over within seconds once the lease lapses.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import outbox as outbox_mod
from bot import retention
from bot import roster as roster_mod
from bot import stats as stats_mod
from bot.activities import format_when
from bot.digests import daily_digests
from bot.directory import known_admins
from bot.i18n import LOCALES
from bot.notifications import (
    ActivityWeek,
    OutcomeReminder,
    ReportChart,
    ReviewWaiting,
    ShareReminder,
    WeeklyReport,
)
from bot.points_flags import scan_views
from bot.points_holds import release_due
from bot.reports.links import REPORT_TTL, ChartLinks
from store.db import Database
from store.models import (
    Activity,
    Employee,
    JobLock,
    Lead,
    OutboxMessage,
    PointFlag,
    Share,
    View,
    aware,
)
from store.queries import insert_if_absent

if TYPE_CHECKING:
    from bot.service import ShareTrail

log = logging.getLogger(__name__)

SHARE_REMINDER_BEFORE = timedelta(hours=24)
OUTCOME_REMINDER_EVERY = timedelta(hours=24)
OUTCOME_REMINDERS = 3
WEEKLY_DAY, WEEKLY_HOUR = 0, 9  # Monday 09:00 UTC
WEEKLY_ACTIVITIES = 10
WEEKLY_TOP = 3
WEEKLY_CHARTS = 3  # chart images: the first activities of the report that have numbers
WEEKLY_CHART_KINDS = ("daily",)

LOCK_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=60)
LEASE_RENEW = timedelta(seconds=20)
CATCH_UP_EVERY = timedelta(minutes=5)
OPEN_STATUSES = ("draft", "published")
_KEY_CHUNK = 500

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunReport:
    """What one `run_due` did."""

    share_reminders: int = 0
    outcome_reminders: int = 0
    closed: tuple[int, ...] = ()
    weekly_reports: int = 0
    digests: int = 0
    released: int = 0  # leads whose held sign-up points were released
    flagged: int = 0  # new view flags
    review_reminders: int = 0
    folded_views: int = 0  # raw views past RETENTION_DAYS folded into roll-ups

    @property
    def queued(self) -> int:
        return (
            self.share_reminders
            + self.outcome_reminders
            + self.weekly_reports
            + self.digests
            + self.review_reminders
        )


# --- the rules ----------------------------------------------------------------------------


async def run_due(
    *,
    db: Database,
    now: datetime,
    admin_ids: Iterable[str] = (),
    retention_days: int = retention.RETENTION_DAYS,
    chart_links: ChartLinks | None = None,
) -> RunReport:
    """Do everything due at `now`; idempotent, so safe to call at any moment, repeatedly.
    `chart_links`: how the weekly report links its chart images (none without it)."""
    async with db.session() as session:
        closed = await close_ended(session=session, now=now)
    async with db.session() as session:
        shares = await share_reminders(session=session, now=now)
    async with db.session() as session:
        outcomes = await outcome_reminders(session=session, now=now)
    async with db.session() as session:
        weekly = await weekly_reports(
            session=session, now=now, admin_ids=admin_ids, chart_links=chart_links
        )
    async with db.session() as session:
        digests = await daily_digests(session=session, now=now)
    released = await db.transaction(lambda session: release_due(session=session, now=now))
    flagged = await db.transaction(lambda session: scan_views(session=session, now=now))
    async with db.session() as session:
        reminders = await review_reminders(session=session, now=now, admin_ids=admin_ids)
    folded = 0
    while True:  # a chunk per transaction, so the tracking writer never waits long
        chunk = await db.transaction(
            lambda session: retention.fold_chunk(session=session, now=now, days=retention_days)
        )
        folded += chunk
        if chunk < retention.CHUNK:
            break
    return RunReport(
        shares, outcomes, tuple(closed), weekly, digests, released, flagged, reminders, folded
    )


async def review_reminders(
    *, session: AsyncSession, now: datetime, admin_ids: Iterable[str] = ()
) -> int:
    """Once a day, while flagged points wait for review, a DM to each admin the bot knows
    (ADMIN_USER_IDS and the workspace admins among the people it has seen)."""
    waiting = (
        await session.exec(
            select(func.count(), func.coalesce(func.sum(PointFlag.points), 0)).where(
                PointFlag.status == "open"
            )
        )
    ).one()
    flags, points = int(waiting[0]), int(waiting[1])
    if not flags:
        return 0
    day = now.date().isoformat()
    queued = 0
    for admin in await known_admins(session=session, admin_ids=admin_ids):
        queued += await outbox_mod.enqueue(
            session=session,
            event=ReviewWaiting(admin, day, flags, points),
            key=f"review:{day}:{admin}",
        )
    return queued


async def _missing(session: AsyncSession, keys: list[str]) -> set[str]:
    """The keys not yet in the outbox (one query per chunk instead of one insert per key)."""
    found: set[str] = set()
    for start in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[start : start + _KEY_CHUNK]
        found.update(
            (
                await session.exec(
                    select(OutboxMessage.key).where(col(OutboxMessage.key).in_(chunk))
                )
            ).all()
        )
    return set(keys) - found


async def close_ended(*, session: AsyncSession, now: datetime) -> list[int]:
    """Close every draft or published activity whose end has passed."""
    ids = (
        await session.exec(
            select(Activity.id).where(
                col(Activity.status).in_(OPEN_STATUSES), col(Activity.ends_at) <= now
            )
        )
    ).all()
    closed = []
    for activity_id in ids:
        # Conditional, so an admin's `close` or another run in between is not repeated.
        result = await session.exec(
            update(Activity)
            .where(col(Activity.id) == activity_id, col(Activity.status).in_(OPEN_STATUSES))
            .values(status="closed")
        )
        if result.rowcount and activity_id is not None:
            closed.append(activity_id)
    if closed:
        log.info("closed activities that ended: %s", closed)
    return closed


async def share_reminders(*, session: AsyncSession, now: datetime) -> int:
    """Nudge employees who have not shared a published activity that starts within a day.

    Not reminded: employees who turned notifications off (`me notify off`), the
    activity's salespeople (they follow up leads rather than share), and anyone once the
    activity has started. An activity created less than a day before its start is not
    reminded about at all: its announcement is the news."""
    activities = (
        await session.exec(
            select(Activity).where(
                Activity.status == "published",
                col(Activity.starts_at) > now,
                col(Activity.starts_at) <= now + SHARE_REMINDER_BEFORE,
            )
        )
    ).all()
    queued = 0
    for activity in activities:
        assert activity.id is not None
        if aware(activity.created_at) > aware(activity.starts_at) - SHARE_REMINDER_BEFORE:
            continue
        salespeople = set(await roster_mod.roster_for(session=session, activity_id=activity.id))
        shared = select(Share.employee_id).where(Share.activity_id == activity.id)
        employees = (
            await session.exec(
                select(Employee.id, Employee.user_id).where(
                    col(Employee.notify).is_(True), col(Employee.id).not_in(shared)
                )
            )
        ).all()
        keys = {
            f"remind-share:{activity.id}:{employee_id}": user_id
            for employee_id, user_id in employees
            if user_id not in salespeople
        }
        when = format_when(activity)
        for key in sorted(await _missing(session, list(keys))):
            event = ShareReminder(keys[key], activity.id, activity.name, when)
            queued += await outbox_mod.enqueue(session=session, event=event, key=key)
    return queued


async def outcome_reminders(*, session: AsyncSession, now: datetime) -> int:
    """Remind salespeople of leads with no outcome: a day after the activity, then daily, 3x.

    A lead that signed up after the activity ended counts its days from the sign-up.
    After downtime only the reminder due now is sent (reminder 2 replaces a missed 1),
    and none after the third day's has passed."""
    horizon = now - OUTCOME_REMINDER_EVERY * (OUTCOME_REMINDERS + 1)
    first = now - OUTCOME_REMINDER_EVERY
    rows = (
        await session.exec(
            select(Lead, Activity.name, Activity.ends_at, Employee.user_id)
            .join(Activity, col(Activity.id) == col(Lead.activity_id))
            .join(Employee, col(Employee.id) == col(Lead.employee_id))
            .where(
                col(Lead.outcome).is_(None),
                col(Lead.salesperson_id).is_not(None),
                col(Activity.ends_at) <= first,
                col(Lead.created_at) <= first,
                or_(col(Activity.ends_at) > horizon, col(Lead.created_at) > horizon),
            )
        )
    ).all()
    due: dict[str, OutcomeReminder] = {}
    for lead, activity_name, ends_at, employee_user_id in rows:
        assert lead.id is not None and lead.salesperson_id is not None
        since = max(aware(ends_at), aware(lead.created_at))
        number = int((now - since) / OUTCOME_REMINDER_EVERY)
        if not 1 <= number <= OUTCOME_REMINDERS:
            continue
        due[f"remind-outcome:{lead.id}:{number}"] = OutcomeReminder(
            salesperson_user_id=lead.salesperson_id,
            lead_id=lead.id,
            activity_name=activity_name,
            customer_name=lead.name,
            customer_phone=lead.phone,
            company=lead.company,
            employee_user_id=employee_user_id,
            number=number,
            of=OUTCOME_REMINDERS,
        )
    queued = 0
    for key in sorted(await _missing(session, list(due))):
        queued += await outbox_mod.enqueue(session=session, event=due[key], key=key)
    return queued


def report_week(now: datetime) -> tuple[str, datetime, datetime]:
    """The latest weekly report due at or before `now`: (ISO week label, since, until)."""
    until = (now - timedelta(days=(now.weekday() - WEEKLY_DAY) % 7)).replace(
        hour=WEEKLY_HOUR, minute=0, second=0, microsecond=0
    )
    if until > now:
        until -= timedelta(days=7)
    year, week, _ = until.isocalendar()
    return f"{year}-W{week:02d}", until - timedelta(days=7), until


async def weekly_reports(
    *,
    session: AsyncSession,
    now: datetime,
    admin_ids: Iterable[str] = (),
    chart_links: ChartLinks | None = None,
) -> int:
    """Monday's report to admins (and to the activities' creators), once per ISO week.

    A process that was down on Monday sends it when it comes back during the week. Covers
    the activities still open or that ended during the week; nothing is sent when there
    are none. With `chart_links`, it carries chart images of the first WEEKLY_CHARTS
    activities with any view or sign-up, as signed links valid for REPORT_TTL (the DM
    keeps showing them), one per locale: whoever delivers it shows the reader's."""
    week, since, until = report_week(now)
    of_the_week = (
        col(Activity.created_at) < until,
        or_(col(Activity.status) != "closed", col(Activity.ends_at) >= since),
    )
    activities = (
        await session.exec(
            select(Activity)
            .where(*of_the_week)
            .order_by(col(Activity.starts_at).desc(), col(Activity.id).desc())
            .limit(WEEKLY_ACTIVITIES)
        )
    ).all()
    if not activities:
        return 0
    total = (
        await session.exec(select(func.count()).select_from(Activity).where(*of_the_week))
    ).one()
    lines = tuple(
        [await _activity_week(session, activity, since, until) for activity in activities]
    )
    charts = _report_charts(lines, chart_links) if chart_links is not None else ()
    admins = (set(admin_ids) | {a.created_by for a in activities}) - {""}
    queued = 0
    for admin in sorted(admins):
        event = WeeklyReport(
            admin, week, since, until, lines, more=total - len(lines), charts=charts
        )
        queued += await outbox_mod.enqueue(
            session=session, event=event, key=f"weekly:{week}:{admin}"
        )
    return queued


def _report_charts(lines: Iterable[ActivityWeek], links: ChartLinks) -> tuple[ReportChart, ...]:
    """Images for the activities that have something to draw (an empty chart says nothing)."""
    with_numbers = [line for line in lines if line.views or line.signups][:WEEKLY_CHARTS]
    return tuple(
        ReportChart(
            line.activity_id,
            line.name,
            kind,
            tuple(
                (locale, links.url(line.activity_id, kind, ttl_seconds=REPORT_TTL, locale=locale))
                for locale in LOCALES
            ),
        )
        for line in with_numbers
        for kind in WEEKLY_CHART_KINDS
    )


async def _activity_week(
    session: AsyncSession, activity: Activity, since: datetime, until: datetime
) -> ActivityWeek:
    assert activity.id is not None
    report = await stats_mod.activity_report(session=session, activity_id=activity.id)
    top = await stats_mod.leaderboard(session=session, activity_id=activity.id, limit=WEEKLY_TOP)
    week_views = (
        await session.exec(
            select(func.count())
            .select_from(View)
            .where(
                View.activity_id == activity.id,
                col(View.counted).is_(True),
                col(View.at) >= since,
                col(View.at) < until,
            )
        )
    ).one()
    week_signups = (
        await session.exec(
            select(func.count())
            .select_from(Lead)
            .where(
                Lead.activity_id == activity.id,
                col(Lead.created_at) >= since,
                col(Lead.created_at) < until,
            )
        )
    ).one()
    totals = report.totals
    return ActivityWeek(
        activity_id=activity.id,
        name=activity.name,
        status=activity.status,
        when=format_when(activity),
        views=totals.views,
        signups=totals.signups,
        attended=totals.attended,
        converted=totals.converted,
        week_views=int(week_views),
        week_signups=int(week_signups),
        sharers=report.sharers,
        kpi_views=activity.kpi_views,
        kpi_signups=activity.kpi_signups,
        kpi_attendance=activity.kpi_attendance,
        top=tuple((employee.user_id, row.points) for employee, row in top if row.points > 0),
    )


async def planned_moments(*, session: AsyncSession, now: datetime) -> dict[str, datetime]:
    """Job id -> moment, for every future moment an activity in the database calls for.

    Leads that sign up after their activity ended are reminded from the catch-up job."""
    last = OUTCOME_REMINDER_EVERY * OUTCOME_REMINDERS
    activities = (
        await session.exec(
            select(Activity).where(
                or_(col(Activity.status) != "closed", col(Activity.ends_at) > now - last)
            )
        )
    ).all()
    moments: dict[str, datetime] = {}
    for activity in activities:
        starts, ends = aware(activity.starts_at), aware(activity.ends_at)
        prefix = f"activity:{activity.id}:"
        if activity.status != "closed":
            moments[prefix + "share-reminder"] = starts - SHARE_REMINDER_BEFORE
            moments[prefix + "close"] = ends
        for number in range(1, OUTCOME_REMINDERS + 1):
            moments[prefix + f"outcome-reminder-{number}"] = ends + OUTCOME_REMINDER_EVERY * number
    return {job_id: moment for job_id, moment in moments.items() if moment > now}


# --- one process at a time ----------------------------------------------------------------


class Lease:
    """A row in `job_locks` naming who runs the jobs until when; renewed by its holder.

    Taking it is one conditional UPDATE (free, expired, or already ours), so two
    processes racing for an expired lease cannot both win, on SQLite or PostgreSQL."""

    def __init__(self, db: Database, *, name: str, holder: str, ttl: timedelta) -> None:
        self._db = db
        self.name = name
        self.holder = holder
        self.ttl = ttl

    async def acquire(self, now: datetime) -> bool:
        """Take or renew the lease until `now + ttl`; False if someone else holds it."""
        expires = now + self.ttl
        async with self._db.session() as session:
            values = {"name": self.name, "holder": self.holder, "expires_at": expires}
            if await insert_if_absent(session, JobLock, values, ["name"]):
                return True
            result = await session.exec(
                update(JobLock)
                .where(
                    col(JobLock.name) == self.name,
                    or_(col(JobLock.holder) == self.holder, col(JobLock.expires_at) <= now),
                )
                .values(holder=self.holder, expires_at=expires)
            )
            return bool(result.rowcount)

    async def release(self) -> None:
        """Let another replica take over at once instead of after the lease runs out."""
        async with self._db.session() as session:
            await session.exec(
                update(JobLock)
                .where(col(JobLock.name) == self.name, col(JobLock.holder) == self.holder)
                .values(expires_at=datetime(2000, 1, 1, tzinfo=UTC))
            )

    async def current(self) -> JobLock | None:
        async with self._db.session() as session:
            return await session.get(JobLock, self.name)


def process_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# --- the APScheduler wiring ---------------------------------------------------------------


@dataclass
class _State:
    leading: bool = False
    stopping: bool = False


class Scheduler:
    """APScheduler 3.x jobs derived from the database; they act only while holding the lease.

    `clock` is what the rules and the lease see as now (tests move it); APScheduler
    itself fires on the wall clock, and every job re-reads `clock` when it runs."""

    def __init__(
        self,
        services: ShareTrail,
        *,
        clock: Clock = utcnow,
        holder: str | None = None,
        lease_ttl: timedelta = LEASE_TTL,
        renew_every: timedelta = LEASE_RENEW,
        catch_up_every: timedelta = CATCH_UP_EVERY,
        retention_days: int = retention.RETENTION_DAYS,
    ) -> None:
        self._services = services
        self._retention_days = retention_days
        self._clock = clock
        self.lease = Lease(
            services.db, name=LOCK_NAME, holder=holder or process_id(), ttl=lease_ttl
        )
        self._renew_every = renew_every
        self._catch_up_every = catch_up_every
        self._state = _State()
        self._running = asyncio.Lock()  # one run_due at a time in this process
        self._refreshing = asyncio.Lock()
        self.aps = AsyncIOScheduler(
            timezone=UTC,
            # Every job is "look at the database now": a late or doubled firing is harmless.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    @property
    def leading(self) -> bool:
        """Held the lease at the last look."""
        return self._state.leading

    async def start(self) -> None:
        """Schedule from the database, then catch up on whatever came due while down."""
        self._state.stopping = False
        seconds = self._renew_every.total_seconds()
        self.aps.add_job(self.renew, IntervalTrigger(seconds=seconds, timezone=UTC), id="lease")
        every = self._catch_up_every.total_seconds()
        self.aps.add_job(self.tick, IntervalTrigger(seconds=every, timezone=UTC), id="catch-up")
        weekly = CronTrigger(day_of_week=WEEKLY_DAY, hour=WEEKLY_HOUR, minute=0, timezone=UTC)
        self.aps.add_job(self.tick, weekly, id="weekly-report")
        # Digests are due at DIGEST_HOUR in each employee's own zone: look every hour.
        self.aps.add_job(self.tick, CronTrigger(minute=0, timezone=UTC), id="daily-digests")
        self.aps.start()
        await self.refresh()
        self._services.activity_listeners.append(self.request_refresh)
        await self.tick()

    async def stop(self) -> None:
        """Let a run under way finish, stop the jobs, hand the lease on."""
        self._state.stopping = True
        if self.request_refresh in self._services.activity_listeners:
            self._services.activity_listeners.remove(self.request_refresh)
        async with self._running, self._refreshing:
            if self.aps.running:
                self.aps.shutdown(wait=False)
        if self._state.leading:
            await self.lease.release()
            self._state.leading = False

    async def renew(self) -> None:
        """Keep the lease; a replica that just took it over catches up at once."""
        if self._state.stopping:
            return
        was_leading = self._state.leading
        self._state.leading = await self.lease.acquire(self._clock())
        if self._state.leading and not was_leading:
            log.info("scheduler lease taken by %s", self.lease.holder)
            await self.tick()

    async def tick(self) -> RunReport | None:
        """Run what is due now, if this process holds the lease; None if it does not."""
        if self._state.stopping:
            return None
        async with self._running:
            now = self._clock()
            self._state.leading = await self.lease.acquire(now)
            if not self._state.leading:
                return None
            report = await run_due(
                db=self._services.db,
                now=now,
                admin_ids=self._services.admin_ids,
                retention_days=self._retention_days,
                chart_links=self._services.chart_links,
            )
        if report.closed:
            self._services.changed()
        if report.weekly_reports:
            await self._warm_charts()
        if report.queued:
            self._services.outbox.wake()
            log.info(
                "scheduled jobs queued %d share reminders, %d outcome reminders, %d reports, "
                "%d digests",
                report.share_reminders,
                report.outcome_reminders,
                report.weekly_reports,
                report.digests,
            )
        return report

    async def _warm_charts(self) -> None:
        """Have the chart workers running before the reports go out: Slack downloads their
        images when they are posted (a failed download only drops the images)."""
        try:
            await self._services.reports.pool.warm()
        except (BrokenProcessPool, OSError) as exc:
            log.warning("chart workers did not start before the weekly reports: %s", exc)

    def request_refresh(self) -> None:
        """An activity was created, published or closed: re-derive its moments soon."""
        if not self._state.stopping:
            self._services.tasks.spawn(self.refresh(), name="scheduler-refresh")

    async def refresh(self) -> None:
        """(Re)create a DateTrigger job per future activity moment; drop the stale ones."""
        async with self._refreshing:
            if self._state.stopping:
                return
            async with self._services.db.session() as session:
                moments = await planned_moments(session=session, now=self._clock())
            stale = {job.id for job in self.aps.get_jobs() if job.id.startswith("activity:")}
            for job_id, moment in sorted(moments.items(), key=lambda item: item[1]):
                self.aps.add_job(
                    self.tick,
                    DateTrigger(run_date=moment, timezone=UTC),
                    id=job_id,
                    name=job_id,
                    replace_existing=True,
                )
            for job_id in stale - moments.keys():
                self.aps.remove_job(job_id)
