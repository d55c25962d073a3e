"""Chart rendering speed (bot/reports/render.py), against baselines measured in the same run.

Run: python bench/charts.py [--repeat 40] [--pool] [--queries]
     (about 1 min; --pool adds ~15 s; --queries ~30 s, plus ~1 min the first time: it
     builds bench/stats.py's 1,000,000-view database, cached under bench/.cache/)

Every chart kind is drawn from fresh data each time (numbers shifted per call, so nothing
can be reused between calls), as PNG and as SVG, at the size `/sharetrail stats` sends
(1000 x 560 px). The daily series is drawn for 14 and for 90 days, as lines and as bars;
names are Chinese and Latin. Baselines, same process, same run:
  blank Figure PNG  matplotlib's own floor: an empty Figure of the same size, FigureCanvasAgg,
                    savefig to PNG (the ratio column)
  blank Figure SVG  the same, to SVG
  Pillow blank PNG  Pillow saving a blank RGB image of the same size
With --pool, also through bot.reports.pool.ChartPool as the server uses it: the first call
(starting a worker process and importing matplotlib there), later uncached calls (the
round trip to the worker included), and cached calls.
With --queries, also the chart data (bot/reports/series.py) read from bench/stats.py's
database, each in its own session, random activities, against `SELECT 1` there (as in
stats.py, whose target for the stats surfaces is p95 <= 20 ms).
Target (issue 14): p95 <= 200 ms per chart kind.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import stats as stats_bench  # noqa: E402
from bot.reports import render, series  # noqa: E402
from bot.reports.pool import ChartPool  # noqa: E402
from store.db import Database  # noqa: E402

P95_TARGET_MS = 200.0
WIDTH_PX, HEIGHT_PX = round(render.WIDTH_IN * render.DPI), round(render.HEIGHT_IN * render.DPI)
NAMES = ("李雷", "韩梅梅", "Ann Lee", "王芳 Wang Fang", "Sam Sales", "陈静", "Priya N.", "赵磊")


def daily(days: int, style: str) -> Callable[[int], series.Chart]:
    def make(i: int) -> series.Chart:
        first = date(2026, 12, 1) - timedelta(days=days - 1)
        return series.DailySeries(
            title="2026 新品发布会：智能制造与数字化转型峰会",
            tz="Asia/Shanghai",
            days=tuple(first + timedelta(days=d) for d in range(days)),
            views=tuple((d * 37 + i) % 400 for d in range(days)),
            unique_visitors=tuple((d * 23 + i) % 250 for d in range(days)),
            signups=tuple((d * 7 + i) % 30 for d in range(days)),
            style=style,
        )

    return make


def funnel(i: int) -> series.Chart:
    counts = (5000 + i, 3100 + i, 420 + i % 50, 180 + i % 20, 40 + i % 9)
    steps = tuple((label, n) for (label, _), n in zip(series.FUNNEL_STEPS, counts, strict=True))
    return series.Funnel("Spring launch webinar", steps)


def sources(i: int) -> series.Chart:
    labels = ("Card QR", "WeChat", "Direct message", "Channel", "Email", "LinkedIn", "Other")
    return series.SourceSplit(
        "Spring launch webinar",
        tuple((label, 900 - 120 * n + i, 60 - 8 * n + i % 5) for n, label in enumerate(labels)),
    )


def top(i: int) -> series.Chart:
    return series.TopEmployees(
        "春季发布会",
        tuple(
            (f"{NAMES[n % len(NAMES)]} {n}", 500 - 40 * n + i, 300 - 20 * n, 30 - 2 * n)
            for n in range(10)
        ),
    )


def empty(i: int) -> series.Chart:
    first = date(2026, 12, 1) - timedelta(days=13 + i % 2)
    days = tuple(first + timedelta(days=d) for d in range(14))
    return series.DailySeries("Quiet activity", "UTC", days, (0,) * 14, (0,) * 14, (0,) * 14)


KINDS: tuple[tuple[str, Callable[[int], series.Chart]], ...] = (
    ("daily, 14 days, lines", daily(14, "line")),
    ("daily, 14 days, bars", daily(14, "bar")),
    ("daily, 90 days, lines", daily(90, "line")),
    ("funnel", funnel),
    ("push sources", sources),
    ("top employees (CJK)", top),
    ("no data yet", empty),
)


class Wall(list[float]):
    """Wall milliseconds per call, with this process's CPU milliseconds per call beside
    them (empty when the work ran elsewhere: the worker, the database)."""

    cpu: list[float]

    def __init__(self, wall: list[float], cpu: list[float] | None = None) -> None:
        super().__init__(wall)
        self.cpu = cpu or []


def timings(fn: Callable[[int], object], runs: int, warmup: int = 3) -> Wall:
    for i in range(warmup):
        fn(10_000 + i)
    wall, cpu = [], []
    for i in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(i)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return Wall(wall, cpu)


def q(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def blank_figure(fmt: str) -> Callable[[int], object]:
    def save(_: int) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(render.WIDTH_IN, render.HEIGHT_IN), dpi=render.DPI)
        FigureCanvasAgg(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, dpi=render.DPI)
        return buffer.getvalue()

    return save


def pillow_blank(_: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (WIDTH_PX, HEIGHT_PX), "white").save(buffer, format="PNG")
    return buffer.getvalue()


async def pool_timings(runs: int) -> list[tuple[str, list[float]]]:
    """The server's path: ChartPool.render, first call, uncached calls, cached calls."""
    pool = ChartPool(max_workers=1)
    try:
        start = time.perf_counter()
        await pool.render(funnel(-1), "png")
        first = [(time.perf_counter() - start) * 1000]
        fresh = []
        for i in range(runs):
            start = time.perf_counter()
            await pool.render(funnel(i), "png")
            fresh.append((time.perf_counter() - start) * 1000)
        cached = []
        for _ in range(runs * 10):
            start = time.perf_counter()
            await pool.render(funnel(0), "png")
            cached.append((time.perf_counter() - start) * 1000)
    finally:
        await pool.close()
    return [
        ("pool: first call (worker start)", first),
        ("pool: funnel PNG, uncached", fresh),
        ("pool: funnel PNG, cached", cached),
    ]


def stats_database() -> Path:
    """bench/stats.py's database for today's schema, built (~1 min) if missing."""
    path = stats_bench.CACHE / f"stats-{stats_bench.schema_hash()}.db"
    if not path.exists():
        stats_bench.CACHE.mkdir(parents=True, exist_ok=True)
        stats_bench.build(path, 5)
    return path


async def query_timings(path: Path, repeat: int) -> list[tuple[str, list[float]]]:
    """The series builders on bench/stats.py's database, random activities."""
    db = Database.from_url(f"sqlite+aiosqlite:///{path}")
    rng = random.Random(5)

    def now_of(activity_id: int) -> datetime:
        """A day after the activity's start: its 14 days of sharing are in the window."""
        return stats_bench.T0 + timedelta(days=3 * activity_id + 1)

    cases = {
        "query: SELECT 1 (session)": lambda s, a: s.exec(text("SELECT 1")),
        "query: daily series, 14 days": lambda s, a: series.daily_series(
            session=s, activity_id=a, now=now_of(a)
        ),
        "query: daily series, 90 days": lambda s, a: series.daily_series(
            session=s, activity_id=a, now=now_of(a) + timedelta(days=60), days=90
        ),
        "query: funnel": lambda s, a: series.funnel(session=s, activity_id=a),
        "query: push sources": lambda s, a: series.source_split(session=s, activity_id=a),
        "query: top employees": lambda s, a: series.top_employees(session=s, activity_id=a),
    }
    out = []
    try:
        for name, work in cases.items():
            samples = []
            for n in range(repeat + 5):
                activity_id = rng.randint(1, stats_bench.ACTIVITIES)
                start = time.perf_counter()
                async with db.session() as session:
                    await work(session, activity_id)
                if n >= 5:  # warm-up
                    samples.append((time.perf_counter() - start) * 1000)
            out.append((name, samples))
    finally:
        await db.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40, help="timed renders per case")
    parser.add_argument("--pool", action="store_true", help="also time the worker pool")
    parser.add_argument(
        "--queries", action="store_true", help="also time the chart data on stats.py's database"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    render.default_fonts()
    baselines = [
        ("baseline: blank Figure PNG", timings(blank_figure("png"), args.repeat)),
        ("baseline: blank Figure SVG", timings(blank_figure("svg"), args.repeat)),
        ("baseline: Pillow blank PNG", timings(pillow_blank, args.repeat)),
    ]
    rows: list[tuple[str, list[float], bool]] = [(n, v, False) for n, v in baselines]
    before = stats_bench.cpu_snapshot()
    for name, make in KINDS:
        for fmt in render.FORMATS:
            values = timings(lambda i, make=make, fmt=fmt: render.render(make(i), fmt), args.repeat)
            rows.append((f"{name}, {fmt.upper()}", values, True))
    others = stats_bench.others_load(before, stats_bench.cpu_snapshot())
    if args.pool:
        rows += [(n, v, False) for n, v in asyncio.run(pool_timings(args.repeat))]
    if args.queries:
        path = stats_database()
        rows += [(n, v, False) for n, v in asyncio.run(query_timings(path, args.repeat * 2))]
    floor = statistics.median(baselines[0][1])
    sizes = {fmt: len(render.render(top(0), fmt)) for fmt in render.FORMATS}
    print(
        f"charts {WIDTH_PX}x{HEIGHT_PX} px, {args.repeat} renders per case; top employees "
        f"chart: PNG {sizes['png']:,} B, SVG {sizes['svg']:,} B; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'case':38} {'p50 ms':>8} {'p95 ms':>8} {'CPU p50':>8} {'p50 / blank PNG':>16}  target")
    missed = []
    for name, values, target in rows:
        p50, p95 = q(values, 50), q(values, 95)
        verdict = ("PASS" if p95 <= P95_TARGET_MS else "MISS") if target else "-"
        if verdict == "MISS":
            missed.append(name)
        cpu = values.cpu if isinstance(values, Wall) else []
        cpu_p50 = f"{q(cpu, 50):8.1f}" if cpu else f"{'':8}"
        print(f"{name:38} {p50:8.1f} {p95:8.1f} {cpu_p50} {p50 / floor:16.2f}  {verdict}")
    print(
        f"target p95 <= {P95_TARGET_MS:g} ms per chart: "
        f"{'PASS' if not missed else 'MISS (' + ', '.join(missed) + ')'}"
    )
    print(
        f"other processes on the machine used {100 * others:.0f}% of one core (of "
        f"{os.cpu_count()}) while the charts were timed{': noisy figures' if others > 0.15 else ''}"
    )
    print(f"(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
