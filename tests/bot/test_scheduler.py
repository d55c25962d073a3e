"""Scheduled jobs (bot/scheduler.py) against a controllable clock: no sleeps, no waiting.

The rules run through `Scheduler.tick` / `run_due` at chosen moments, on a migrated
database (SQLite, and PostgreSQL when it is up), with the real outbox delivering to a
recorder, so "sent once" is what a platform would have received. One test checks the
APScheduler wiring by inspecting its jobs; one plays the reminders through Slack.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlmodel import col, select

from bot.activities import ActivityDraft
from bot.directory import Profile
from bot.errors import NotFound
from bot.notifications import (
    MessageRef,
    Notification,
    OutcomeReminder,
    ShareReminder,
    WeeklyReport,
)
from bot.reports.links import ChartLinks
from bot.scheduler import LOCK_NAME, Scheduler, report_week, run_due
from bot.service import ShareTrail
from sandbox.workspace import Message
from store.db import Database
from store.models import Activity, Employee, JobLock, Lead, OutboxMessage, RosterEntry, Share
from tests.conftest import ADMIN, CJK_EMPLOYEE, EMPLOYEE, Stack
from tests.flows import create_activity, dm_texts, get_share_card, sign_up, wait_for_dm
from tests.records_flows import SALESPERSON, lead_setup

N = TypeVar("N")
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
# In the (wall-clock) future, so the DateTrigger jobs a started Scheduler derives from
# these activities never fire while a test runs: the tests move their own clock.
START = (datetime.now(UTC) + timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
END = START + 2 * HOUR

ANN, BOB, CAROL, DAN = "U_ANN", "U_BOB", "U_CAROL", "U_DAN"
SALES, OTHER_ADMIN = "U_SALES1", "U_BOSS"


class Clock:
    """What the scheduler sees as now; tests move it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


class Recorder:
    """The platform: records what the outbox delivered (bot/outbox.py Deliverer)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Notification]] = []

    async def notify(self, event: Notification) -> MessageRef | None:
        return None

    async def deliver(
        self,
        event: Notification,
        *,
        key: str,
        careful_since: datetime | None = None,
        prepaid: bool = False,
    ) -> MessageRef | None:
        self.sent.append((key, event))
        return None

    def of(self, kind: type[N]) -> list[tuple[str, N]]:
        return [(key, event) for key, event in self.sent if isinstance(event, kind)]


class Directory:
    async def profile(self, user_id: str) -> Profile:
        raise NotFound(user_id)


@dataclass
class Replica:
    """One process: its own services, outbox and scheduler on the shared database."""

    services: ShareTrail
    scheduler: Scheduler
    recorder: Recorder

    async def settle(self) -> None:
        await self.services.tasks.drain()
        await self.services.outbox.drain()


@dataclass
class World:
    db: Database
    clock: Clock
    replicas: list[Replica] = field(default_factory=list)

    async def replica(self, holder: str, *, outbox: bool = True) -> Replica:
        recorder = Recorder()
        services = ShareTrail(
            db=self.db,
            secret="scheduler-secret",
            public_base_url="https://share.example.com",
            admin_ids=frozenset({ADMIN}),
            directory=Directory(),
            notifier=recorder,
            cards=None,  # type: ignore[arg-type]  # no cards are rendered here
        )
        if outbox:
            await services.outbox.start()
        replica = Replica(services, Scheduler(services, clock=self.clock, holder=holder), recorder)
        self.replicas.append(replica)
        return replica

    def sent(self) -> list[tuple[str, Notification]]:
        return [item for replica in self.replicas for item in replica.recorder.sent]

    async def outbox_keys(self, prefix: str = "") -> list[str]:
        async with self.db.session() as session:
            keys = await session.exec(select(OutboxMessage.key).order_by(col(OutboxMessage.key)))
            return [key for key in keys.all() if key.startswith(prefix)]


@pytest.fixture
async def world(db: Database) -> AsyncIterator[World]:
    world = World(db, Clock(START - 10 * DAY))
    yield world
    for replica in world.replicas:
        await replica.scheduler.stop()
        await replica.services.tasks.drain()
        await replica.services.outbox.stop()
        await replica.services.reports.close()  # chart workers started for weekly reports


@dataclass
class Seed:
    activity_id: int
    employees: dict[str, int]
    share_ids: dict[str, int]


async def seed(
    db: Database,
    *,
    created_at: datetime = START - 7 * DAY,
    status: str = "published",
    name: str = "Spring launch",
) -> Seed:
    """An activity, five employees (Ann shared it; Carol turned notifications off; Sales
    is on the roster), at the moments the tests choose."""
    async with db.session() as session:
        activity = Activity(
            name=name,
            starts_at=START,
            ends_at=END,
            material_type="event_invitation",
            status=status,
            created_by=OTHER_ADMIN,
            created_at=created_at,
        )
        session.add(activity)
        employees = {}
        for user_id in (ANN, BOB, CAROL, DAN, SALES):
            existing = (
                await session.exec(select(Employee).where(Employee.user_id == user_id))
            ).first()
            if existing is None:
                employee = Employee(user_id=user_id, name=user_id, notify=user_id != CAROL)
                session.add(employee)
                await session.flush()
                assert employee.id is not None
                employees[user_id] = employee.id
                if user_id == SALES:
                    session.add(RosterEntry(user_id=SALES))
            else:
                assert existing.id is not None
                employees[user_id] = existing.id
        await session.flush()
        assert activity.id is not None
        share = Share(activity_id=activity.id, employee_id=employees[ANN], created_at=created_at)
        session.add(share)
        await session.flush()
        assert share.id is not None
        return Seed(activity.id, employees, {ANN: share.id})


async def add_lead(
    db: Database,
    seeded: Seed,
    *,
    name: str,
    created_at: datetime,
    salesperson: str | None = SALES,
    outcome: str | None = None,
) -> int:
    async with db.session() as session:
        lead = Lead(
            share_id=seeded.share_ids[ANN],
            activity_id=seeded.activity_id,
            employee_id=seeded.employees[ANN],
            name=name,
            phone="+86 138 0000 0000",
            salesperson_id=salesperson,
            visitor_key=f"visitor-{name}",
            visitor_hash="h",
            outcome=outcome,
            created_at=created_at,
        )
        session.add(lead)
        await session.flush()
        assert lead.id is not None
        return lead.id


async def status_of(db: Database, activity_id: int) -> str:
    async with db.session() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None
        return activity.status


def hours(start: datetime, end: datetime, step: timedelta = HOUR) -> Iterator[datetime]:
    moment = start
    while moment <= end:
        yield moment
        moment += step


# --- the rules ----------------------------------------------------------------------------


async def test_share_reminder_once_a_day_before_to_those_who_have_not_shared(world: World) -> None:
    seeded = await seed(world.db)
    await seed(world.db, status="draft", name="Not yet announced")
    await seed(world.db, created_at=START - 3 * HOUR, name="Announced late")
    one = await world.replica("one")

    world.clock.set(START - DAY - timedelta(minutes=1))
    report = await one.scheduler.tick()
    assert report is not None and report.share_reminders == 0

    world.clock.set(START - DAY)  # the DateTrigger moment
    report = await one.scheduler.tick()
    assert report is not None and report.share_reminders == 2
    for moment in hours(START - DAY + HOUR, START + 3 * HOUR):  # later runs add nothing
        world.clock.set(moment)
        report = await one.scheduler.tick()
        assert report is not None and report.share_reminders == 0
    await one.settle()

    reminders = one.recorder.of(ShareReminder)
    # Ann shared, Carol turned notifications off, Sales is a salesperson: Bob and Dan only;
    # nothing for the draft, nor for the activity announced less than a day ahead.
    assert sorted(event.user_id for _, event in reminders) == [BOB, DAN]
    assert {event.activity_id for _, event in reminders} == {seeded.activity_id}
    assert sorted(key for key, _ in reminders) == sorted(
        f"remind-share:{seeded.activity_id}:{seeded.employees[user]}" for user in (BOB, DAN)
    )


async def test_employee_seen_later_in_the_window_is_reminded_once(world: World) -> None:
    await seed(world.db)
    one = await world.replica("one")
    world.clock.set(START - DAY)
    await one.scheduler.tick()
    async with world.db.session() as session:
        newcomer = Employee(user_id="U_NEW", name="New")
        session.add(newcomer)
    for moment in (START - 20 * HOUR, START - 2 * HOUR, START + HOUR):
        world.clock.set(moment)
        await one.scheduler.tick()
    await one.settle()
    users = Counter(event.user_id for _, event in one.recorder.of(ShareReminder))
    assert users == {BOB: 1, DAN: 1, "U_NEW": 1}


async def test_activity_closes_at_its_end(world: World) -> None:
    seeded = await seed(world.db)
    closed_by_admin = await seed(world.db, status="closed", name="Closed by hand")
    one = await world.replica("one")

    world.clock.set(END - timedelta(seconds=1))
    report = await one.scheduler.tick()
    assert report is not None and report.closed == ()
    assert await status_of(world.db, seeded.activity_id) == "published"

    world.clock.set(END)
    report = await one.scheduler.tick()
    assert report is not None and report.closed == (seeded.activity_id,)
    assert await status_of(world.db, seeded.activity_id) == "closed"

    world.clock.set(END + HOUR)
    report = await one.scheduler.tick()
    assert report is not None and report.closed == ()
    assert await status_of(world.db, closed_by_admin.activity_id) == "closed"


async def test_outcome_reminders_a_day_after_then_daily_three_times_then_never(
    world: World,
) -> None:
    seeded = await seed(world.db)
    pending = await add_lead(world.db, seeded, name="Wang", created_at=START)
    await add_lead(world.db, seeded, name="Done", created_at=START, outcome="attended")
    await add_lead(world.db, seeded, name="Nobody's", created_at=START, salesperson=None)
    late = await add_lead(world.db, seeded, name="Late", created_at=END + 30 * HOUR)
    one = await world.replica("one")

    queued_at: list[tuple[datetime, int]] = []
    for moment in hours(END, END + 6 * DAY, 3 * HOUR):  # 24, 54, 78, 102 h are on the grid
        world.clock.set(moment)
        report = await one.scheduler.tick()
        assert report is not None
        if report.outcome_reminders:
            queued_at.append((moment, report.outcome_reminders))
    await one.settle()

    # Wang: +24 h, +48 h, +72 h after the end. Late signed up 30 h after the end, so its
    # days count from the sign-up: +54 h, +78 h, +102 h.
    assert queued_at == [
        (END + 24 * HOUR, 1),
        (END + 48 * HOUR, 1),
        (END + 54 * HOUR, 1),
        (END + 72 * HOUR, 1),
        (END + 78 * HOUR, 1),
        (END + 102 * HOUR, 1),
    ]
    reminders = one.recorder.of(OutcomeReminder)
    assert [key for key, _ in reminders] == [
        f"remind-outcome:{pending}:1",
        f"remind-outcome:{pending}:2",
        f"remind-outcome:{late}:1",
        f"remind-outcome:{pending}:3",
        f"remind-outcome:{late}:2",
        f"remind-outcome:{late}:3",
    ]
    first = reminders[0][1]
    assert isinstance(first, OutcomeReminder)
    assert (first.salesperson_user_id, first.customer_name, first.employee_user_id) == (
        SALES,
        "Wang",
        ANN,
    )
    assert (first.number, first.of, first.activity_name) == (1, 3, "Spring launch")


async def test_an_outcome_stops_the_reminders(world: World) -> None:
    seeded = await seed(world.db)
    lead_id = await add_lead(world.db, seeded, name="Wang", created_at=START)
    one = await world.replica("one")
    world.clock.set(END + DAY)
    await one.scheduler.tick()
    async with world.db.session() as session:
        lead = await session.get(Lead, lead_id)
        assert lead is not None
        lead.outcome = "converted"
        session.add(lead)
    for moment in hours(END + DAY, END + 5 * DAY, 6 * HOUR):
        world.clock.set(moment)
        await one.scheduler.tick()
    await one.settle()
    assert [key for key, _ in one.recorder.of(OutcomeReminder)] == [f"remind-outcome:{lead_id}:1"]


async def test_after_a_long_outage_only_the_reminder_due_now_is_sent(world: World) -> None:
    seeded = await seed(world.db)
    lead_id = await add_lead(world.db, seeded, name="Wang", created_at=START)
    one = await world.replica("one")
    world.clock.set(END + 25 * HOUR)
    await one.scheduler.tick()
    world.clock.set(END + 60 * HOUR)  # down through the second day's moment
    await one.scheduler.tick()
    world.clock.set(END + 100 * HOUR)  # down through the whole third day: none any more
    await one.scheduler.tick()
    await one.settle()
    assert [key for key, _ in one.recorder.of(OutcomeReminder)] == [
        f"remind-outcome:{lead_id}:1",
        f"remind-outcome:{lead_id}:2",
    ]


def test_report_week_is_the_latest_monday_morning() -> None:
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert report_week(monday) == ("2026-W49", monday - 7 * DAY, monday)
    assert report_week(monday - timedelta(seconds=1))[0] == "2026-W48"
    assert report_week(monday + 6 * DAY + 23 * HOUR)[0] == "2026-W49"
    assert report_week(datetime(2027, 1, 4, 9, tzinfo=UTC))[0] == "2027-W01"


async def test_weekly_report_to_admins_once_a_week(world: World) -> None:
    # Three Monday reports on an activity created early in the week before the first
    # (and still running, or ended, in each of the three weeks).
    first_monday = report_week(START - 7 * DAY)[2]
    week, since, until = report_week(first_monday)
    seeded = await seed(world.db, created_at=since + HOUR)
    await add_lead(world.db, seeded, name="This week", created_at=since + DAY)
    await add_lead(world.db, seeded, name="Last week", created_at=since - HOUR)
    one = await world.replica("one")

    world.clock.set(first_monday - timedelta(seconds=1))
    report = await one.scheduler.tick()
    assert report is not None and report.weekly_reports == 0  # created after that report
    sent_on: list[datetime] = []
    for moment in hours(first_monday, first_monday + 14 * DAY, 6 * HOUR):
        world.clock.set(moment)
        report = await one.scheduler.tick()
        assert report is not None
        if report.weekly_reports:
            sent_on.append(moment)
            assert report.weekly_reports == 2  # ADMIN from settings, the activity's creator
    assert sent_on == [first_monday, first_monday + 7 * DAY, first_monday + 14 * DAY]
    await one.settle()

    reports = one.recorder.of(WeeklyReport)
    assert Counter(event.admin_user_id for _, event in reports) == {ADMIN: 3, OTHER_ADMIN: 3}
    first = reports[0][1]
    assert isinstance(first, WeeklyReport)
    assert (first.week, first.since, first.until) == (week, since, until)
    (line,) = first.activities
    assert (line.activity_id, line.name, line.week_signups) == (
        seeded.activity_id,
        "Spring launch",
        1,
    )
    keys = [key for key, _ in reports]
    assert len(keys) == len(set(keys)) == 6


# --- restart and replicas ----------------------------------------------------------------


async def test_restart_in_the_middle_of_a_schedule_neither_repeats_nor_misses(
    world: World,
) -> None:
    seeded = await seed(world.db)
    lead_id = await add_lead(world.db, seeded, name="Wang", created_at=START)
    first = await world.replica("first")
    await first.scheduler.start()  # catch-up at START - 10 days: nothing due yet
    world.clock.set(START - DAY)
    await first.scheduler.tick()
    world.clock.set(END + DAY)
    await first.scheduler.tick()
    await first.settle()
    assert len(first.recorder.of(ShareReminder)) == 2  # Bob's and Dan's
    assert len(first.recorder.of(OutcomeReminder)) == 1
    await first.scheduler.stop()  # a deploy: the lease is handed on
    await first.services.outbox.stop()

    world.clock.set(END + DAY + 6 * HOUR)
    second = await world.replica("second")
    await second.scheduler.start()  # derives its jobs and catches up: nothing is due
    await second.settle()
    assert not second.recorder.of(ShareReminder) and not second.recorder.of(OutcomeReminder)
    assert second.scheduler.leading

    world.clock.set(END + 2 * DAY)
    await second.scheduler.tick()
    await second.settle()
    world.clock.set(END + 9 * DAY)  # after a long quiet: the rest happened on time
    await second.scheduler.tick()
    await second.settle()

    keys = Counter(key for key, _ in world.sent())
    assert all(count == 1 for count in keys.values()), keys
    assert sorted(key for key in keys if key.startswith("remind-outcome")) == [
        f"remind-outcome:{lead_id}:1",
        f"remind-outcome:{lead_id}:2",
    ]
    assert await status_of(world.db, seeded.activity_id) == "closed"


async def test_crash_after_queueing_loses_nothing_and_sends_once(world: World) -> None:
    await seed(world.db)
    # The first process queues the reminders in its run and dies before sending any.
    doomed = await world.replica("doomed", outbox=False)
    world.clock.set(START - DAY + HOUR)
    report = await doomed.scheduler.tick()
    assert report is not None and report.share_reminders == 2
    assert doomed.recorder.sent == []

    # Its lease is still running: the new process waits for it to lapse (controllable).
    heir = await world.replica("heir")
    await heir.scheduler.start()
    assert not heir.scheduler.leading
    world.clock.set(START - DAY + HOUR + timedelta(seconds=61))
    await heir.scheduler.renew()
    assert heir.scheduler.leading
    await heir.settle()

    assert sorted(event.user_id for _, event in heir.recorder.of(ShareReminder)) == [BOB, DAN]
    assert len(await world.outbox_keys("remind-share:")) == 2


async def test_only_the_lease_holder_acts_and_the_other_takes_over(world: World) -> None:
    seeded = await seed(world.db)
    await add_lead(world.db, seeded, name="Wang", created_at=START)
    a = await world.replica("replica-a")
    # One outbox sender here: two senders on one table are the outbox's concern, not this.
    b = await world.replica("replica-b", outbox=False)

    world.clock.set(START - DAY)
    first, second = await asyncio.gather(a.scheduler.tick(), b.scheduler.tick())
    assert (first is None) != (second is None)  # exactly one acted
    leader, follower = (a, b) if first is not None else (b, a)
    acted = first or second
    assert acted is not None and acted.share_reminders == 2

    for step in range(1, 10):  # the leader renews every 20 s: the follower never acts
        world.clock.set(START - DAY + timedelta(seconds=20 * step))
        await leader.scheduler.renew()
        assert await follower.scheduler.tick() is None
        assert not follower.scheduler.leading

    # The leader stops renewing (killed). Until the lease runs out, still nobody else.
    died_at = world.clock.now
    world.clock.set(died_at + timedelta(seconds=59))
    await follower.scheduler.renew()
    assert not follower.scheduler.leading
    world.clock.set(END + DAY)
    took_over = await follower.scheduler.tick()
    assert took_over is not None and took_over.outcome_reminders == 1
    assert took_over.closed == (seeded.activity_id,)
    assert follower.scheduler.leading
    assert await leader.scheduler.tick() is None  # the old leader came back: too late
    async with world.db.session() as session:
        lock = await session.get(JobLock, LOCK_NAME)
        assert lock is not None and lock.holder == follower.scheduler.lease.holder

    await a.settle()
    keys = Counter(key for key, _ in world.sent())
    assert all(count == 1 for count in keys.values()), keys
    assert len(a.recorder.of(ShareReminder)) == 2
    assert len(a.recorder.of(OutcomeReminder)) == 1


async def test_run_due_twice_at_once_queues_each_message_once(db: Database) -> None:
    await seed(db)
    # Even without the lease (a run overlapping a takeover), the keys keep the outbox exact.
    reports = await asyncio.gather(
        *(run_due(db=db, now=START - DAY, admin_ids={ADMIN}) for _ in range(3))
    )
    assert sum(report.share_reminders for report in reports) == 2
    async with db.session() as session:
        keys = (await session.exec(select(OutboxMessage.key))).all()
    assert len([key for key in keys if key.startswith("remind-share:")]) == 2


# --- the APScheduler wiring ---------------------------------------------------------------


async def test_jobs_are_derived_from_the_database_on_start(world: World) -> None:
    world.clock.set(datetime.now(UTC))
    seeded = await seed(world.db)
    one = await world.replica("one")
    await one.scheduler.start()

    def jobs() -> dict[str, datetime]:
        return {job.id: job.next_run_time for job in one.scheduler.aps.get_jobs()}

    prefix = f"activity:{seeded.activity_id}:"
    assert {k: v for k, v in jobs().items() if k.startswith(prefix)} == {
        prefix + "share-reminder": START - DAY,
        prefix + "close": END,
        prefix + "outcome-reminder-1": END + DAY,
        prefix + "outcome-reminder-2": END + 2 * DAY,
        prefix + "outcome-reminder-3": END + 3 * DAY,
    }
    assert {"lease", "catch-up", "weekly-report"} <= set(jobs())
    weekly = jobs()["weekly-report"]
    assert (weekly.weekday(), weekly.hour, weekly.minute) == (0, 9, 0)
    assert one.scheduler.leading

    # New and closed activities re-derive the jobs (the service tells the scheduler).
    created = await one.services.create_activity(
        ActivityDraft("Autumn", START + 2 * DAY, START + 2 * DAY + HOUR, "video"),
        created_by=ADMIN,
    )
    await one.services.tasks.drain()
    assert jobs()[f"activity:{created.id}:close"] == START + 2 * DAY + HOUR
    await one.services.close_activity(seeded.activity_id, by_user_id=ADMIN)
    await one.services.tasks.drain()
    remaining = {k for k in jobs() if k.startswith(prefix)}
    assert remaining == {prefix + f"outcome-reminder-{n}" for n in (1, 2, 3)}

    await one.scheduler.stop()
    assert not one.scheduler.aps.running
    async with world.db.session() as session:
        lock = await session.get(JobLock, LOCK_NAME)
        assert lock is not None and lock.expires_at < world.clock.now  # handed on


# --- through Slack ------------------------------------------------------------------------


def buttons(message: Message) -> set[str]:
    return {
        element.get("action_id", "")
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    }


async def test_reminders_and_report_arrive_in_slack_and_their_buttons_work(stack: Stack) -> None:
    setup = await lead_setup(stack)  # Ann shared, a customer signed up, Sales has the lead
    await stack.services.sync_employee(CJK_EMPLOYEE)  # Li has not shared
    activity = await stack.services.activity(setup.activity_id)
    clock = Clock(activity.starts_at - DAY)
    scheduler = Scheduler(stack.services, clock=clock, holder="test")
    try:
        await scheduler.tick()  # the runtime's own scheduler's lease is days "old" here
        await stack.settle()
        # Li's Slack speaks zh-CN: his reminder is in Chinese.
        reminder = await wait_for_dm(stack, CJK_EMPLOYEE, "你还没有分享")
        assert "Spring launch webinar" in reminder.text
        assert {"get_share_card", "activity_details", "my_stats"} <= buttons(reminder)
        for shared_or_sales in (EMPLOYEE, SALESPERSON):
            assert not [t for t in dm_texts(stack, shared_or_sales) if "have not shared" in t]
        card = await get_share_card(
            stack, CJK_EMPLOYEE, setup.activity_id, channel=reminder.channel, ts=reminder.ts
        )
        assert card.url

        clock.set(activity.ends_at + DAY)
        report = await scheduler.tick()
        assert report is not None and report.closed == (setup.activity_id,)
        await stack.settle()
        nudge = await wait_for_dm(stack, SALESPERSON, "How did it go with")
        assert "Wang Fang" in nudge.text and "Spring launch webinar" in nudge.text
        assert {
            "lead_outcome_attended",
            "lead_outcome_no_show",
            "lead_outcome_converted",
        } <= buttons(nudge)
        lead_id = next(
            int(element["value"])
            for block in nudge.blocks
            if block["type"] == "actions"
            for element in block["elements"]
            if element["action_id"] == "lead_outcome_attended"
        )
        since = stack.slack.mark()
        await stack.slack.click_button(
            SALESPERSON, "lead_outcome_attended", channel=nudge.channel, ts=nudge.ts
        )
        await stack.slack.wait_for_call("chat.update", since=since)
        await stack.settle()
        lead, _, _ = await stack.services.lead_context(lead_id)
        assert lead.outcome == "attended"
        assert "Attended" in nudge.text  # the reminder became the lead, with its outcome

        count = len(stack.slack.dm_messages(SALESPERSON))
        clock.set(activity.ends_at + 2 * DAY)
        await scheduler.tick()
        await stack.settle()
        assert len(stack.slack.dm_messages(SALESPERSON)) == count  # no outcome reminder 2

        clock.set(report_week(activity.ends_at + 7 * DAY)[2])
        await scheduler.tick()
        await stack.settle()
        weekly = await wait_for_dm(stack, ADMIN, "weekly report")
        assert "Spring launch webinar" in str(weekly.blocks)
    finally:
        await scheduler.stop()


async def _activity_with_a_signup(stack: Stack) -> int:
    activity_id = await create_activity(stack)  # by ADMIN: the report goes to ADMIN alone
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await sign_up(stack, card.url, {"name": "Wang Fang", "phone": "+86 138 1234 5678"})
    await stack.settle()
    return activity_id


async def test_the_weekly_report_shows_charts_slack_can_download(stack: Stack) -> None:
    """At Monday's moment the report reaches Slack with image blocks; the stand-in, as
    Slack, downloaded each image when it was posted (it refuses a message whose image it
    cannot get), and each URL answers a real GET with a PNG."""
    activity_id = await _activity_with_a_signup(stack)
    activity = await stack.services.activity(activity_id)
    await stack.services.reports.close()  # no chart worker yet: the scheduler starts one
    assert not stack.services.reports.pool.started
    clock = Clock(report_week(activity.starts_at + 7 * DAY)[2])  # that week's Monday 09:00
    scheduler = Scheduler(stack.services, clock=clock, holder="test")
    try:
        report = await scheduler.tick()
        assert report is not None and report.weekly_reports == 1
        assert stack.services.reports.pool.started  # before Slack downloads the images
        await stack.settle()
        weekly = await wait_for_dm(stack, ADMIN, "weekly report")
    finally:
        await scheduler.stop()
    images = [block for block in weekly.blocks if block["type"] == "image"]
    assert len(images) == 1 and "Spring launch webinar" in images[0]["alt_text"]
    token = images[0]["image_url"].rsplit("/", 1)[1].removesuffix(".png")
    assert stack.services.chart_links.read(token) == (activity_id, "daily", "en")
    async with stack.http.get(images[0]["image_url"]) as response:
        assert response.status == 200 and response.content_type == "image/png"
        assert (await response.read()).startswith(b"\x89PNG\r\n\x1a\n")
    posts = stack.slack.calls_to("chat.postMessage")
    assert all(call.ok for call in posts if "weekly" in str(call.args.get("text")))


async def test_a_report_whose_images_slack_cannot_download_goes_out_without_them(
    stack: Stack,
) -> None:
    """PUBLIC_BASE_URL unreachable from Slack: Slack refuses the message (invalid_blocks,
    "downloading image failed"); the report is sent again without its images, once."""
    activity_id = await _activity_with_a_signup(stack)
    activity = await stack.services.activity(activity_id)
    monday = report_week(activity.starts_at + 7 * DAY)[2]
    unreachable = ChartLinks("another-secret", "http://127.0.0.1:9")  # nothing listens
    since = stack.slack.mark()
    report = await run_due(
        db=stack.services.db, now=monday, admin_ids=[ADMIN], chart_links=unreachable
    )
    assert report.weekly_reports == 1
    stack.services.outbox.wake()
    await stack.settle()
    weekly = await wait_for_dm(stack, ADMIN, "weekly report")
    await stack.settle()  # the send that posted it is marked
    assert "Spring launch webinar" in str(weekly.blocks)
    assert [block for block in weekly.blocks if block["type"] == "image"] == []
    posts = [c for c in stack.slack.calls_to("chat.postMessage", since) if "weekly" in str(c.args)]
    assert [(call.ok, call.error) for call in posts] == [(False, "invalid_blocks"), (True, None)]
    refused = posts[0].args["blocks"]
    refused = json.loads(refused) if isinstance(refused, str) else refused
    assert [block["type"] for block in refused].count("image") == 1
    async with stack.services.db.session() as session:
        row = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.key).startswith("weekly:"))
            )
        ).one()
    assert row.status == "sent"
