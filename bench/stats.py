"""Stats queries on a 1,000,000-view SQLite database, against baselines from the same run.

Run: python bench/stats.py [--repeat 200] [--regenerate]
     (first run about 1 min to generate, then cached under bench/.cache/ by schema hash)

The data set: 10,000 employees, 200 activities, ~50,000 shares, 1,000,000 views (a quarter
preview bots, 1% the employee's own clicks, humans revisiting, some within the 30-minute
repeat window), 100,000 leads with salesperson outcomes (some changed once). It is
written through the real schema (store.migrate.upgrade) in bulk with sqlite3, in the
shape the app writes: views + share_visitors + points_ledger + share_stats and
employee_stats roll-ups + leads + outcomes, following bot.tracking's repeat window and
bot.points' rules; the roll-ups are then checked against a recount from the raw rows (all
totals; per (share, source) for a sample of shares; employee_stats for every employee,
against share_stats summed per employee and against the raw rows) before anything is timed.

Timed, each through bot.stats in its own session (one unit of work, as the service does),
repeated with random ids: activity_report (`stats`), leaderboard per activity and for all
activities (`leaderboard`), employee_activity_stats (`my_stats`), export_csv. Baselines:
  SELECT 1          round trip through the same async session: the floor (ratio column)
  naive recount     COUNT(*) of an activity's counted views from the raw views table:
                    what a stat would cost without the roll-up
Target (issue 5): stats, leaderboard and my_stats p95 <= 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import stats  # noqa: E402
from bot.codes import PUSH_SOURCES  # noqa: E402
from bot.points import POINTS_PER, outcome_deltas  # noqa: E402
from bot.tracking import REPEAT_WINDOW  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.queries import STAT_COLUMNS  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
GENERATOR_VERSION = 2  # bump when the generated data changes shape
EMPLOYEES, ACTIVITIES, SHARES, VIEWS, LEADS = 10_000, 200, 50_000, 1_000_000, 100_000
SALESPEOPLE = 50
BOT_SHARE, OWN_SHARE, NEW_VISITOR = 0.25, 0.01, 0.7
SOURCE_WEIGHTS = (40, 15, 15, 5, 10, 10, 5)  # in PUSH_SOURCES order
DEVICES, DEVICE_WEIGHTS = ("mobile", "desktop", "wechat", "tablet"), (60, 25, 10, 5)
OUTCOME_PATHS = (  # (share of leads, the outcome taps in order)
    (0.45, ()),
    (0.20, ("attended",)),
    (0.12, ("no_show",)),
    (0.13, ("converted",)),
    (0.05, ("attended", "converted")),
    (0.03, ("no_show", "attended")),
    (0.02, ("converted", "attended")),
)
P95_TARGET_MS = 20.0
SAMPLE_SHARES = 300
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def stamp(at: datetime) -> str:
    """How SQLAlchemy's DateTime stores a UTC datetime in SQLite."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# --- schema and cache ---------------------------------------------------------------------


async def migrate(path: Path) -> None:
    db = Database.from_url(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db.engine)
    finally:
        await db.dispose()


def schema_hash() -> str:
    """Hash of the schema the migrations build today, plus the generator's version."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "schema.db"
        asyncio.run(migrate(path))
        with contextlib.closing(sqlite3.connect(path)) as db:
            rows = db.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
            ).fetchall()
    digest = hashlib.sha256(repr((GENERATOR_VERSION, rows)).encode())
    digest.update(repr((EMPLOYEES, ACTIVITIES, SHARES, VIEWS, LEADS)).encode())
    return digest.hexdigest()[:16]


# --- generation ---------------------------------------------------------------------------


@dataclass
class Visitor:
    share: int
    key: str
    source: str
    first_seen: datetime
    last_counted: datetime
    visits: int = 0
    view_rows: list[int] = field(default_factory=list)  # indexes into the views list
    lead_id: int | None = None


@dataclass
class Generated:
    employees: list[tuple[Any, ...]] = field(default_factory=list)
    activities: list[tuple[Any, ...]] = field(default_factory=list)
    roster: list[tuple[Any, ...]] = field(default_factory=list)
    shares: list[tuple[int, int, int, str]] = field(default_factory=list)  # id, activity, emp
    views: list[list[Any]] = field(default_factory=list)
    visitors: list[Visitor] = field(default_factory=list)
    leads: list[list[Any]] = field(default_factory=list)
    outcomes: list[tuple[Any, ...]] = field(default_factory=list)
    points: list[tuple[Any, ...]] = field(default_factory=list)
    rollup: dict[tuple[int, str], list[int]] = field(default_factory=dict)
    per_employee: dict[int, list[int]] = field(default_factory=dict)

    def bump(self, share: tuple[int, int, int, str], source: str, deltas: dict[str, int]) -> None:
        """store.queries.bump_stats, in memory: rows appear on their first non-zero delta."""
        if not any(deltas.values()):
            return
        row = self.rollup.setdefault((share[0], source), [share[1], share[2], 0, 0, 0, 0, 0, 0])
        totals = self.per_employee.setdefault(share[2], [0] * len(STAT_COLUMNS))
        for column, delta in deltas.items():
            row[2 + STAT_COLUMNS.index(column)] += delta
            totals[STAT_COLUMNS.index(column)] += delta


def skewed(rng: random.Random, n: int, total: int, sigma: float) -> list[int]:
    """n non-negative counts summing to total, log-normally skewed (a few viral ones)."""
    weights = [rng.lognormvariate(0, sigma) for _ in range(n)]
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for i in rng.sample(range(n), total - sum(counts)):
        counts[i] += 1
    return counts


def generate(rng: random.Random) -> Generated:
    g = Generated()
    now = stamp(T0)
    for e in range(1, EMPLOYEES + 1):
        g.employees.append(
            (e, f"U{e:07d}", f"Employee {e}", "Account Manager", f"+1 415 555 {e:04d}",
             f"e{e}@example.com", "UTC", 0, 1, now)
        )  # fmt: skip
    starts = []
    for a in range(1, ACTIVITIES + 1):
        start = T0 + timedelta(days=3 * a, hours=6)
        starts.append(start)
        status = "published" if a > ACTIVITIES - 20 else "closed"
        g.activities.append(
            (a, f"Activity {a}", stamp(start), stamp(start + timedelta(hours=2)), "UTC",
             "event_invitation", "Headline", "Intro", 5000, 500, 300, status, None, None,
             "U0000001", stamp(start - timedelta(days=14)), 0)
        )  # fmt: skip
    for s in range(1, SALESPEOPLE + 1):
        g.roster.append((s, f"U{s:07d}", f"Employee {s}", None, now))

    share_id = 0
    for a, sharers in enumerate(skewed(rng, ACTIVITIES, SHARES, 0.8), start=1):
        for employee in rng.sample(range(1, EMPLOYEES + 1), min(sharers, EMPLOYEES)):
            share_id += 1
            g.shares.append((share_id, a, employee, stamp(starts[a - 1] - timedelta(days=14))))

    for share, views in zip(g.shares, skewed(rng, len(g.shares), VIEWS, 1.2), strict=True):
        generate_views(rng, g, share, views, starts[share[1] - 1])
    generate_leads(rng, g)
    return g


def generate_views(
    rng: random.Random, g: Generated, share: tuple[Any, ...], n: int, start: datetime
) -> None:
    """bot.tracking.record_view's rules over n requests for one share, in time order."""
    share_id, activity_id, employee_id, _ = share
    span = 16 * 24 * 3600  # two weeks before the event until two days after
    opened = start - timedelta(days=14)
    times = sorted(opened + timedelta(seconds=rng.uniform(0, span)) for _ in range(n))
    seen: list[Visitor] = []
    for at in times:
        roll = rng.random()
        bot, own = roll < BOT_SHARE, BOT_SHARE <= roll < BOT_SHARE + OWN_SHARE
        counted = first = False
        visitor = None
        if bot or own or (seen and rng.random() > NEW_VISITOR):
            visitor = None if bot or own else rng.choice(seen)
        else:
            source = rng.choices(PUSH_SOURCES, SOURCE_WEIGHTS)[0]
            visitor = Visitor(share_id, f"{rng.getrandbits(128):032x}", source, at, at)
            seen.append(visitor)
            g.visitors.append(visitor)
        if visitor is not None:
            first = visitor.visits == 0
            counted = first or at - visitor.last_counted >= REPEAT_WINDOW
            if counted:
                visitor.visits += 1
                visitor.last_counted = at
            visitor.view_rows.append(len(g.views))
            key, source = visitor.key, visitor.source
            device = rng.choices(DEVICES, DEVICE_WEIGHTS)[0]
        else:
            key, source = f"{rng.getrandbits(128):032x}", rng.choices(PUSH_SOURCES)[0]
            device = "bot" if bot else "mobile"
        g.views.append(
            [len(g.views) + 1, share_id, activity_id, employee_id, key, key, device, int(bot),
             int(own), int(counted), source, None, None, None, "", stamp(at)]
        )  # fmt: skip
        if counted:
            deltas = {"views": 1}
            if first:
                deltas |= {"unique_visitors": 1, "points": POINTS_PER["unique_visitor"]}
                g.points.append(
                    (employee_id, activity_id, share_id, POINTS_PER["unique_visitor"],
                     "unique_visitor", f"visitor:{share_id}:{key}", stamp(at))
                )  # fmt: skip
            g.bump(share, source, deltas)


def generate_leads(rng: random.Random, g: Generated) -> None:
    """bot.leads.create_lead then set_outcome for LEADS visitors who signed up."""
    shares = {share[0]: share for share in g.shares}
    roster = [row[1] for row in g.roster]
    signers = rng.sample(g.visitors, LEADS)
    signers.sort(key=lambda v: v.first_seen)
    for lead_id, visitor in enumerate(signers, start=1):
        share = shares[visitor.share]
        at = visitor.first_seen + timedelta(minutes=rng.uniform(1, 20))
        visitor.lead_id = lead_id
        g.leads.append(
            [lead_id, share[0], share[1], share[2], f"Customer {lead_id}", f"+1555{lead_id:07d}",
             "ACME", "", rng.choice(roster), visitor.key, visitor.key, visitor.source, None,
             None, None, stamp(at)]
        )  # fmt: skip
        g.points.append(
            (share[2], share[1], share[0], POINTS_PER["signup"], "signup", f"lead:{lead_id}",
             stamp(at))
        )  # fmt: skip
        g.bump(share, visitor.source, {"signups": 1, "points": POINTS_PER["signup"]})
        for row in visitor.view_rows:  # later views of a known customer carry the lead
            if g.views[row][-1] > stamp(at):
                g.views[row][11] = lead_id
        roll, previous = rng.random(), None
        taps: tuple[str, ...] = ()
        for share_of_leads, path in OUTCOME_PATHS:
            if roll < share_of_leads:
                taps = path
                break
            roll -= share_of_leads
        for step, status in enumerate(taps, start=1):
            tapped = stamp(at + timedelta(days=step))
            g.outcomes.append((lead_id, status, g.leads[-1][8], "", tapped))
            deltas = outcome_deltas(previous, status)
            if deltas["points"]:
                g.points.append(
                    (share[2], share[1], share[0], deltas["points"], f"outcome:{status}",
                     f"lead:{lead_id}:outcome:{previous or 'none'}->{status}", tapped)
                )  # fmt: skip
            g.bump(share, visitor.source, deltas)
            previous = status
        g.leads[-1][12] = previous


def write(path: Path, g: Generated) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA foreign_keys=OFF")

        def insert(table: str, columns: str, rows: Any) -> None:
            marks = ", ".join("?" * len(columns.split(",")))
            db.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)

        with db:
            insert("employees", "id,user_id,name,title,phone,email,tz,is_admin,notify,updated_at",
                   g.employees)  # fmt: skip
            insert(
                "activities",
                "id,name,starts_at,ends_at,tz,material_type,headline,intro,kpi_views,kpi_signups,"
                "kpi_attendance,status,channel_id,message_ts,created_by,created_at,"
                "no_roster_alerted",
                g.activities,
            )
            insert("roster", "id,user_id,name,activity_id,created_at", g.roster)
            insert("shares", "id,activity_id,employee_id,source,created_at",
                   ((s[0], s[1], s[2], "card_qr", s[3]) for s in g.shares))  # fmt: skip
            insert(
                "views",
                "id,share_id,activity_id,employee_id,visitor_key,visitor_hash,ua_class,is_bot,"
                "is_own,counted,source,lead_id,dwell_ms,scroll_pct,clicks,at",
                g.views,
            )
            insert(
                "share_visitors",
                "share_id,visitor_key,first_seen,last_counted_at,visits,lead_id",
                ((v.share, v.key, stamp(v.first_seen), stamp(v.last_counted), v.visits,
                  v.lead_id) for v in g.visitors),
            )  # fmt: skip
            insert(
                "leads",
                "id,share_id,activity_id,employee_id,name,phone,company,note,salesperson_id,"
                "visitor_key,visitor_hash,source,outcome,sales_channel,sales_ts,created_at",
                g.leads,
            )
            insert("outcomes", "lead_id,status,by_user_id,note,at", g.outcomes)
            insert("points_ledger", "employee_id,activity_id,share_id,points,reason,ref,at",
                   g.points)  # fmt: skip
            insert(
                "share_stats",
                "share_id,source,activity_id,employee_id," + ",".join(STAT_COLUMNS),
                ((share, source, *row) for (share, source), row in g.rollup.items()),
            )
            insert(
                "employee_stats",
                "employee_id," + ",".join(STAT_COLUMNS),
                ((employee, *row) for employee, row in g.per_employee.items()),
            )
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def build(path: Path, seed: int) -> None:
    started = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    asyncio.run(migrate(tmp))
    g = generate(random.Random(seed))
    generated = time.perf_counter()
    write(tmp, g)
    tmp.rename(path)
    print(
        f"generated {len(g.views):,} views, {len(g.visitors):,} visitors, {len(g.leads):,} "
        f"leads, {len(g.outcomes):,} outcomes, {len(g.points):,} ledger rows, "
        f"{len(g.rollup):,} roll-up rows over {len(g.shares):,} shares, "
        f"{len(g.per_employee):,} employee_stats rows in "
        f"{generated - started:.0f} s + {time.perf_counter() - generated:.0f} s to write"
    )


# --- the roll-up, recounted ---------------------------------------------------------------


RECOUNT_TOTALS = {
    "views": "SELECT COUNT(*) FROM views WHERE counted",
    "unique_visitors": "SELECT COUNT(*) FROM share_visitors WHERE visits > 0",
    "signups": "SELECT COUNT(*) FROM leads",
    "attended": "SELECT COUNT(*) FROM leads WHERE outcome IN ('attended', 'converted')",
    "converted": "SELECT COUNT(*) FROM leads WHERE outcome = 'converted'",
    "points": "SELECT SUM(points) FROM points_ledger",
}
RECOUNT_BY_SOURCE = """
SELECT s.source,
  (SELECT COUNT(*) FROM views v WHERE v.share_id = s.share_id AND v.source = s.source
     AND v.counted),
  (SELECT COUNT(*) FROM leads l WHERE l.share_id = s.share_id AND l.source = s.source),
  (SELECT COUNT(*) FROM leads l WHERE l.share_id = s.share_id AND l.source = s.source
     AND l.outcome IN ('attended', 'converted')),
  (SELECT COUNT(*) FROM leads l WHERE l.share_id = s.share_id AND l.source = s.source
     AND l.outcome = 'converted'),
  s.views, s.signups, s.attended, s.converted
FROM share_stats s WHERE s.share_id = ?
"""
# The ledger is indexed by (activity, employee), which names one share.
RECOUNT_BY_SHARE = """
WITH ledger AS (
  SELECT p.points, p.reason FROM points_ledger p JOIN shares s
    ON p.activity_id = s.activity_id AND p.employee_id = s.employee_id AND p.share_id = s.id
  WHERE s.id = :s
)
SELECT
  (SELECT COALESCE(SUM(unique_visitors), 0) FROM share_stats WHERE share_id = :s),
  (SELECT COUNT(*) FROM share_visitors WHERE share_id = :s AND visits > 0),
  (SELECT COUNT(*) FROM ledger WHERE reason = 'unique_visitor'),
  (SELECT COALESCE(SUM(points), 0) FROM share_stats WHERE share_id = :s),
  (SELECT COALESCE(SUM(points), 0) FROM ledger),
  (SELECT COALESCE(SUM(visits), 0) FROM share_visitors WHERE share_id = :s),
  (SELECT COUNT(*) FROM views WHERE share_id = :s AND counted)
"""


def verify(path: Path, rng: random.Random) -> list[str]:
    """Differences between the roll-up and a recount from raw rows; empty when exact."""
    problems = []
    with contextlib.closing(sqlite3.connect(path)) as db:
        for column, query in RECOUNT_TOTALS.items():
            rolled = db.execute(f"SELECT SUM({column}) FROM share_stats").fetchone()[0]
            recount = db.execute(query).fetchone()[0]
            if rolled != recount:
                problems.append(f"total {column}: roll-up {rolled} != recount {recount}")
        shares = db.execute("SELECT MAX(id) FROM shares").fetchone()[0]
        sample = rng.sample(range(1, shares + 1), SAMPLE_SHARES)
        sample += [  # and the busiest shares, where an off-by-one would hide least
            row[0]
            for row in db.execute(
                "SELECT share_id FROM share_stats GROUP BY share_id ORDER BY SUM(views) DESC "
                "LIMIT 20"
            )
        ]
        for share in sample:
            for row in db.execute(RECOUNT_BY_SOURCE, (share,)):
                if tuple(row[1:5]) != tuple(row[5:9]):
                    problems.append(f"share {share} {row[0]}: recount {row[1:5]} != {row[5:9]}")
            uniques, visitors, ledger, points, ledger_points, visits, counted = db.execute(
                RECOUNT_BY_SHARE, {"s": share}
            ).fetchone()
            if not (uniques == visitors == ledger and points == ledger_points):
                problems.append(f"share {share}: uniques/points differ from a recount")
            if visits != counted:
                problems.append(f"share {share}: visits {visits} != counted views {counted}")
        problems += verify_employees(db)
    return problems


# Every counter per employee, from the raw rows alone.
RECOUNT_BY_EMPLOYEE = """
WITH raw (employee_id, views, unique_visitors, signups, attended, converted, points) AS (
  SELECT employee_id, COUNT(*), 0, 0, 0, 0, 0 FROM views WHERE counted GROUP BY employee_id
  UNION ALL
  SELECT s.employee_id, 0, COUNT(*), 0, 0, 0, 0
    FROM share_visitors v JOIN shares s ON s.id = v.share_id
    WHERE v.visits > 0 GROUP BY s.employee_id
  UNION ALL
  SELECT employee_id, 0, 0, COUNT(*),
    SUM(CASE WHEN outcome IN ('attended', 'converted') THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'converted' THEN 1 ELSE 0 END), 0
    FROM leads GROUP BY employee_id
  UNION ALL
  SELECT employee_id, 0, 0, 0, 0, 0, SUM(points) FROM points_ledger GROUP BY employee_id
)
SELECT employee_id, SUM(views), SUM(unique_visitors), SUM(signups), SUM(attended),
  SUM(converted), SUM(points)
FROM raw GROUP BY employee_id
"""


def verify_employees(db: sqlite3.Connection) -> list[str]:
    """employee_stats, every row, against share_stats per employee and the raw rows."""
    columns = ", ".join(STAT_COLUMNS)
    sums = ", ".join(f"SUM({column})" for column in STAT_COLUMNS)

    def by_employee(query: str) -> dict[int, tuple[int, ...]]:
        return {row[0]: tuple(row[1:]) for row in db.execute(query)}

    rolled = by_employee(f"SELECT employee_id, {columns} FROM employee_stats")
    problems = []
    for name, other in (
        ("share_stats", f"SELECT employee_id, {sums} FROM share_stats GROUP BY employee_id"),
        ("recount", RECOUNT_BY_EMPLOYEE),
    ):
        expected = by_employee(other)
        for employee in sorted(rolled.keys() | expected.keys()):
            if rolled.get(employee) != expected.get(employee):
                problems.append(
                    f"employee {employee}: employee_stats {rolled.get(employee)} != "
                    f"{name} {expected.get(employee)}"
                )
    return problems


# --- timing -------------------------------------------------------------------------------


def cpu_snapshot() -> tuple[float, float, float]:
    """(wall, this process's CPU, all cores' busy CPU) in seconds."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")
    return time.monotonic(), time.process_time(), busy


def others_load(before: tuple[float, ...], after: tuple[float, ...]) -> float:
    """Cores' worth of CPU used by other processes between two snapshots."""
    wall, own, busy = (b - a for a, b in zip(before, after, strict=True))
    return max(0.0, busy - own) / wall


@dataclass
class Timing:
    name: str
    samples: list[float]
    target: bool

    def q(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def timed(
    db: Database,
    name: str,
    work: Callable[[Any, random.Random], Awaitable[object]],
    rng: random.Random,
    repeat: int,
    *,
    target: bool,
    budget_s: float = 10.0,
) -> Timing:
    """`work(session, rng)` in a fresh session each time, after 5 untimed warm-ups."""
    for _ in range(5):
        async with db.session() as session:
            await work(session, rng)
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < repeat and (len(samples) < 20 or time.perf_counter() - started < budget_s):
        t = time.perf_counter()
        async with db.session() as session:
            await work(session, rng)
        samples.append((time.perf_counter() - t) * 1000)
    return Timing(name, samples, target)


async def measure(path: Path, repeat: int, seed: int) -> list[Timing]:
    db = Database.from_url(f"sqlite+aiosqlite:///{path}")
    rng = random.Random(seed)
    with contextlib.closing(sqlite3.connect(path)) as raw:
        pairs = raw.execute("SELECT employee_id, activity_id FROM shares").fetchall()

    def activity(r: random.Random) -> int:
        return r.randint(1, ACTIVITIES)

    async def select_one(session: Any, _: random.Random) -> object:
        return (await session.exec(text("SELECT 1"))).scalar_one()

    async def recount(session: Any, r: random.Random) -> object:
        statement = text("SELECT COUNT(*) FROM views WHERE activity_id = :a AND counted")
        return (await session.exec(statement.bindparams(a=activity(r)))).scalar_one()

    async def my_stats(session: Any, r: random.Random) -> object:
        employee_id, activity_id = r.choice(pairs)
        return await stats.employee_activity_stats(
            session=session, employee_id=employee_id, activity_id=activity_id
        )

    try:
        return [
            await timed(db, "baseline: SELECT 1 (session)", select_one, rng, repeat, target=False),
            await timed(db, "baseline: naive COUNT(*) views", recount, rng, repeat, target=False),
            await timed(
                db,
                "stats (activity_report)",
                lambda s, r: stats.activity_report(session=s, activity_id=activity(r)),
                rng,
                repeat,
                target=True,
            ),  # fmt: skip
            await timed(
                db,
                "leaderboard (one activity)",
                lambda s, r: stats.leaderboard(session=s, activity_id=activity(r)),
                rng,
                repeat,
                target=True,
            ),  # fmt: skip
            await timed(
                db,
                "leaderboard (all activities)",
                lambda s, _: stats.leaderboard(session=s, activity_id=None),
                rng,
                repeat,
                target=True,
            ),  # fmt: skip
            await timed(
                db, "my_stats (employee_activity_stats)", my_stats, rng, repeat, target=True
            ),  # fmt: skip
            await timed(
                db,
                "export_csv (one activity)",
                lambda s, r: stats.export_csv(session=s, activity_id=activity(r)),
                rng,
                repeat,
                target=False,
            ),  # fmt: skip
        ]
    finally:
        await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="timed calls per query")
    parser.add_argument("--regenerate", action="store_true", help="ignore the cached database")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"stats-{schema_hash()}.db"
    if args.regenerate or not path.exists():
        for old in CACHE.glob("stats-*"):
            old.unlink()
        build(path, args.seed)
    else:
        print(f"cached: {path.relative_to(ROOT)} (--regenerate to rebuild)")
    t = time.perf_counter()
    problems = verify(path, random.Random(args.seed))
    print(
        f"roll-ups vs recount (all totals; per source for {SAMPLE_SHARES} random + 20 busiest "
        f"shares; employee_stats for every employee vs share_stats and raw rows): "
        f"{'exact' if not problems else f'{len(problems)} differences'} "
        f"({time.perf_counter() - t:.1f} s)"
    )
    for problem in problems[:20]:
        print("  " + problem)
    with contextlib.closing(sqlite3.connect(path)) as db:
        counts = {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in (
                "views",
                "leads",
                "employees",
                "activities",
                "shares",
                "share_stats",
                "employee_stats",
            )
        }
    print(", ".join(f"{table} {n:,}" for table, n in counts.items()))

    before = cpu_snapshot()
    timings = asyncio.run(measure(path, args.repeat, args.seed))
    others = others_load(before, cpu_snapshot())
    floor = statistics.median(timings[0].samples)
    print(f"{'query':38} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p50/SELECT 1':>12}  target")
    for timing in timings:
        p50, p95 = timing.q(50), timing.q(95)
        verdict = ("PASS" if p95 <= P95_TARGET_MS else "MISS") if timing.target else "-"
        print(
            f"{timing.name:38} {len(timing.samples):5} {p50:8.2f} {p95:8.2f} {p50 / floor:12.1f}"
            f"  {verdict}"
        )
    missed = [t.name for t in timings if t.target and t.q(95) > P95_TARGET_MS]
    print(
        f"target p95 <= {P95_TARGET_MS:g} ms for stats, leaderboard, my_stats: "
        f"{'PASS' if not missed else 'MISS (' + ', '.join(missed) + ')'}; roll-up exact: "
        f"{'PASS' if not problems else 'MISS'}"
    )
    print(
        f"other processes on the machine used {100 * others:.0f}% of one core (of "
        f"{os.cpu_count()}) during the timings{': noisy figures' if others > 0.15 else ''}"
    )
    print(f"(total {time.perf_counter() - started:.0f} s)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
