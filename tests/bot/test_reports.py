"""Chart data (bot/reports/series.py) is exact against the raw rows, on SQLite and
PostgreSQL; the renderer (bot/reports/render.py) draws valid PNG and SVG, Chinese names
included, and a tidy "no data yet" chart when there is nothing to show."""

from __future__ import annotations

import asyncio
import io
import random
import re
import warnings
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlmodel import select

from bot.activities import ActivityDraft, create_activity
from bot.codes import PUSH_SOURCE_LABELS, PUSH_SOURCES
from bot.directory import Profile, upsert_employee
from bot.errors import NotFound
from bot.leads import SignupForm, create_lead, set_outcome
from bot.reports import render, series
from bot.reports.links import ChartLinks
from bot.reports.pool import ChartPool
from bot.roster import add_salespeople
from bot.shares import get_or_create_share
from bot.stats import activity_report, leaderboard
from bot.tracking import Classification, Visit, record_views
from store.db import Database
from store.models import Lead, View

HUMAN = Classification(False, "mobile", "human")
BOT = Classification(True, "bot", "preview")
TZ = "Asia/Shanghai"  # UTC+8: a UTC day and a local day differ by eight hours
NOW = datetime(2026, 12, 10, 3, 30, tzinfo=UTC)  # 11:30 on Dec 10 in Shanghai


async def _seed(db: Database) -> int:
    """An activity with views (counted, repeated, bots, own), sign-ups and outcomes spread
    over 40 days, many of them within minutes of a Shanghai midnight."""
    rng = random.Random(14)
    async with db.session() as session:
        activity = await create_activity(
            session=session,
            draft=ActivityDraft(
                "2026 新品发布会", NOW, NOW + timedelta(hours=2), "event_invitation", tz=TZ
            ),
            created_by="U_ADMIN",
        )
        await add_salespeople(session=session, user_ids=["U_S1"])
        shares = []
        for n, name in enumerate(("李雷", "Ann Lee", "韩梅梅")):
            employee = await upsert_employee(session=session, profile=Profile(f"U_E{n}", name))
            shares.append(
                await get_or_create_share(session=session, activity=activity, employee=employee)
            )
    assert activity.id is not None
    midnight = datetime(2026, 12, 10, tzinfo=ZoneInfo(TZ)).astimezone(UTC)
    moments = [
        midnight - timedelta(days=day) + timedelta(minutes=offset)
        for day in range(40)
        for offset in (-1, 0, 1, 600, 1439)
    ]
    moments.append(NOW + timedelta(hours=30))  # tomorrow: outside the window
    visits = [
        Visit(
            share_id=share.id,
            activity_id=activity.id,
            employee_id=share.employee_id,
            source=rng.choice(PUSH_SOURCES),
            visitor_key=f"v{rng.randrange(30)}",
            visitor_hash="h",
            classification=BOT if rng.random() < 0.15 else HUMAN,
            at=at + timedelta(seconds=rng.randrange(50)),
            is_own=rng.random() < 0.05,
        )
        for at in sorted(moments)
        for share in rng.sample(shares, 2)
    ]
    for start in range(0, len(visits), 50):
        async with db.session() as session:
            await record_views(session=session, visits=visits[start : start + 50])
    for n, at in enumerate(sorted(rng.sample(moments, 25))):
        async with db.session() as session:
            share = rng.choice(shares)
            result = await create_lead(
                session=session,
                share=share,
                form=SignupForm(f"客户{n}", f"+8613800{n:06d}"),
                visitor_key=f"v{rng.randrange(30)}",
                visitor_hash="h",
                source=rng.choice(PUSH_SOURCES),
                rng=rng,
                at=at,
            )
            if n % 3 == 0:
                assert result.lead.id is not None
                await set_outcome(
                    session=session,
                    lead_id=result.lead.id,
                    status=("attended", "converted", "no_show")[n % 2],
                    by_user_id="U_S1",
                )
    return activity.id


def _local_day(at: datetime) -> date:
    return at.astimezone(ZoneInfo(TZ)).date()


async def _recount(db: Database, activity_id: int) -> tuple[Counter[date], ...]:
    """Per Shanghai day, straight from the raw rows, in Python."""
    async with db.session() as session:
        views = (await session.exec(select(View).where(View.activity_id == activity_id))).all()
        leads = (await session.exec(select(Lead).where(Lead.activity_id == activity_id))).all()
    counted = [v for v in views if v.counted]
    first: dict[tuple[int, str], datetime] = {}
    for view in counted:
        key = (view.share_id, view.visitor_key)
        first[key] = min(first.get(key, view.at), view.at)
    return (
        Counter(_local_day(v.at) for v in counted),
        Counter(_local_day(at) for at in first.values()),
        Counter(_local_day(lead.created_at) for lead in leads),
    )


async def test_daily_series_equals_a_recount_of_the_raw_rows(db: Database) -> None:
    activity_id = await _seed(db)
    views, uniques, signups = await _recount(db, activity_id)
    async with db.session() as session:
        chart = await series.daily_series(
            session=session, activity_id=activity_id, now=NOW, days=14
        )
    assert chart.days == tuple(date(2026, 11, 27) + timedelta(days=i) for i in range(14))
    assert chart.tz == TZ and chart.title == "2026 新品发布会"
    assert chart.views == tuple(views[d] for d in chart.days)
    assert chart.unique_visitors == tuple(uniques[d] for d in chart.days)
    assert chart.signups == tuple(signups[d] for d in chart.days)
    assert sum(chart.views) > 0 and sum(chart.signups) > 0 and 0 in chart.signups  # zero-filled


async def test_daily_series_adds_up_to_the_roll_up(db: Database) -> None:
    """Over every day with data, the days sum to the totals `/sharetrail stats` shows."""
    activity_id = await _seed(db)
    async with db.session() as session:
        chart = await series.daily_series(
            session=session, activity_id=activity_id, now=NOW + timedelta(days=2), days=45
        )
        totals = (await activity_report(session=session, activity_id=activity_id)).totals
    assert sum(chart.views) == totals.views > 0
    assert sum(chart.unique_visitors) == totals.unique_visitors > 0
    assert sum(chart.signups) == totals.signups > 0


async def test_funnel_sources_and_top_employees(db: Database) -> None:
    activity_id = await _seed(db)
    async with db.session() as session:
        report = await activity_report(session=session, activity_id=activity_id)
        funnel = await series.funnel(session=session, activity_id=activity_id)
        sources = await series.source_split(session=session, activity_id=activity_id)
        top = await series.top_employees(session=session, activity_id=activity_id)
        board = await leaderboard(session=session, activity_id=activity_id)
    t = report.totals
    assert funnel.steps == (
        ("Views", t.views),
        ("Visitors", t.unique_visitors),
        ("Sign-ups", t.signups),
        ("Attended", t.attended),
        ("Converted", t.converted),
    )
    assert t.attended > 0 and t.converted > 0
    expected = {
        PUSH_SOURCE_LABELS[source]: (row.views, row.signups)
        for source, row in report.by_source.items()
        if row.views or row.signups
    }
    assert {label: (v, s) for label, v, s in sources.rows} == expected
    assert [v for _, v, _ in sources.rows] == sorted((v for _, v, _ in sources.rows), reverse=True)
    assert not any(label in PUSH_SOURCES for label, _, _ in sources.rows)  # never `card_qr`
    assert top.rows == tuple(
        (employee.name, row.points, row.views, row.signups) for employee, row in board
    )
    assert {name for name, *_ in top.rows} == {"李雷", "Ann Lee", "韩梅梅"}


async def test_a_new_activity_has_zero_filled_series(db: Database) -> None:
    async with db.session() as session:
        activity = await create_activity(
            session=session,
            draft=ActivityDraft("Quiet", NOW, NOW + timedelta(hours=1), "video"),
            created_by="U_ADMIN",
        )
        assert activity.id is not None
        chart = await series.daily_series(session=session, activity_id=activity.id, now=NOW)
        funnel = await series.funnel(session=session, activity_id=activity.id)
        sources = await series.source_split(session=session, activity_id=activity.id)
        top = await series.top_employees(session=session, activity_id=activity.id)
    assert len(chart.days) == series.DEFAULT_DAYS and chart.days[-1] == NOW.date()
    assert chart.views == chart.unique_visitors == chart.signups == (0,) * series.DEFAULT_DAYS
    assert chart.empty and funnel.empty and sources.empty and top.empty


# --- rendering ---------------------------------------------------------------------------

DAYS = tuple(date(2026, 11, 27) + timedelta(days=i) for i in range(14))
CHARTS: dict[str, series.Chart] = {
    "daily line": series.DailySeries(
        "2026 新品发布会：智能制造", TZ, DAYS, tuple(range(14)), (1,) * 14, (0, 2) * 7
    ),
    "daily bar": series.DailySeries(
        "Launch", "UTC", DAYS, tuple(range(14)), (1,) * 14, (0, 2) * 7, style="bar"
    ),
    "funnel": series.Funnel(
        "Launch",
        (("Views", 500), ("Visitors", 320), ("Sign-ups", 40), ("Attended", 9), ("Converted", 2)),
    ),
    "sources": series.SourceSplit("Launch", (("Card QR", 30, 4), ("WeChat", 12, 1))),
    "top": series.TopEmployees("Launch", (("李雷", 40, 30, 2), ("韩梅梅 Han", 12, 10, 0))),
}
EMPTY: dict[str, series.Chart] = {
    "daily": series.DailySeries("Launch", "UTC", DAYS, (0,) * 14, (0,) * 14, (0,) * 14),
    "funnel": series.Funnel("Launch", tuple((label, 0) for label, _ in series.FUNNEL_STEPS)),
    "sources": series.SourceSplit("Launch", ()),
    "top": series.TopEmployees("Launch", ()),
}


@pytest.mark.parametrize("name", [*CHARTS, *(f"empty {k}" for k in EMPTY)])
def test_png_and_svg_are_valid(name: str) -> None:
    chart = CHARTS.get(name) or EMPTY[name.removeprefix("empty ")]
    png = render.render(chart, "png")
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size == (1000, 560)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 50  # drawn, not blank
    svg = render.render(chart, "svg")
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert render.render(chart, "png") == png  # no timestamps: equal data, equal bytes


def test_empty_chart_says_no_data_yet() -> None:
    for chart in EMPTY.values():
        assert render.NO_DATA in _svg_texts(chart)


def _svg_texts(chart: series.Chart) -> str:
    """Every text of the chart, read back from the figure matplotlib drew."""
    from matplotlib.text import Text

    figure_texts: list[str] = []
    original = render.Figure.savefig

    def spy(figure: render.Figure, *args: object, **kwargs: object) -> None:
        figure_texts.extend(t.get_text() for t in figure.findobj(Text))
        original(figure, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render.Figure, "savefig", spy)
        render.render(chart, "svg")
    return "\n".join(figure_texts)


def test_chinese_names_are_drawn_with_the_bundled_font() -> None:
    """pytest turns warnings into errors; this also records them, to say which glyph."""
    chart = series.TopEmployees("春季发布会", (("李雷", 40, 30, 2), ("韩梅梅", 12, 10, 0)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render.render(chart, "png")
        render.render(chart, "svg")
    assert not [str(w.message) for w in caught]
    texts = _svg_texts(chart)
    assert "李雷" in texts and "韩梅梅" in texts and "春季发布会" in texts


def test_without_the_bundled_font_matplotlib_would_draw_boxes() -> None:
    """The check above can fail: matplotlib's own default font has no hanzi."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure()
    FigureCanvasAgg(figure)
    figure.text(0.5, 0.5, "李雷")
    with pytest.warns(UserWarning, match="missing from font"):
        figure.savefig(io.BytesIO(), format="png")


def test_text_is_never_read_as_math_and_unknown_glyphs_are_left_out() -> None:
    chart = series.TopEmployees("Price $5 to $10 🚀", (("Ann $x^2$ 🎉", 3, 2, 1),))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render.render(chart, "png")
    assert not [str(w.message) for w in caught]
    assert png.startswith(b"\x89PNG")
    texts = _svg_texts(chart)
    assert "Price $5 to $10" in texts and "Ann $x^2$" in texts and "🚀" not in texts


async def test_the_pool_draws_in_a_worker_caches_and_stops_when_idle() -> None:
    pool = ChartPool(idle_close_s=0.2)
    chart = CHARTS["funnel"]
    try:
        png = await pool.render(chart, "png")
        assert png == render.render(chart, "png")  # the worker draws what render draws
        assert pool.started and pool.cache.misses == 1
        assert await pool.render(chart, "png") == png
        assert pool.cache.hits == 1  # equal data: drawn once
        async with asyncio.timeout(30):
            await pool.idle_closed.wait()
        assert not pool.started
        svg = await pool.render(CHARTS["sources"], "svg")  # ids differ per process: parse it
        assert ElementTree.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"
        assert pool.started  # a new worker after the idle one stopped
    finally:
        await pool.close()
    assert not pool.started


# --- in the viewer's language ------------------------------------------------------------

ENGLISH_WORD = re.compile(r"\b(?!UTC\b)[A-Za-z]{2,}")  # "UTC" is the zone's name in zh too
ZH_CHARTS: dict[str, series.Chart] = {
    "daily": series.DailySeries("新品发布会", TZ, DAYS, tuple(range(14)), (1,) * 14, (0, 2) * 7),
    "funnel": series.Funnel(
        "新品发布会",
        tuple((label, 500 // (i + 1)) for i, (label, _) in enumerate(series.FUNNEL_STEPS)),
    ),
    "sources": series.SourceSplit(
        "新品发布会",
        tuple((label, 30 - i, i % 3) for i, label in enumerate(PUSH_SOURCE_LABELS.values())),
    ),
    "top": series.TopEmployees("新品发布会", (("李雷", 40, 1300, 2), ("韩梅梅", 1, 1, 1))),
    "one": series.TopEmployees("新品发布会", (("李雷", 1, 1, 1),)),
    **{f"empty {k}": replace(v, title="新品发布会") for k, v in EMPTY.items()},
}


def _figure_texts(chart: series.Chart, locale: str) -> list[str]:
    """Every text on the Figure the module draws (before it is saved)."""
    from matplotlib.text import Text

    figure = render.draw(chart, locale=locale)
    return [t.get_text() for t in figure.findobj(Text) if t.get_text().strip()]


@pytest.mark.parametrize("name", list(ZH_CHARTS))
def test_a_zh_chart_has_no_english_word_and_every_glyph_in_the_font(name: str) -> None:
    chart = ZH_CHARTS[name]
    texts = _figure_texts(chart, "zh")
    assert [t for t in texts if ENGLISH_WORD.search(t)] == []
    drawable = render.default_fonts()._drawable
    assert {c for t in texts for c in t if ord(c) not in drawable} == set()  # no boxes
    assert texts != _figure_texts(chart, "en")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render.render(chart, "png", locale="zh")
    assert not [str(w.message) for w in caught] and png.startswith(b"\x89PNG")


def test_zh_dates_and_labels_come_from_babel_and_the_catalogue() -> None:
    daily = "\n".join(_figure_texts(ZH_CHARTS["daily"], "zh"))
    assert "12月10日" in daily and "上海时间" in daily and "独立访客" in daily
    funnel = "\n".join(_figure_texts(ZH_CHARTS["funnel"], "zh"))
    assert "浏览量" in funnel and "已成交" in funnel
    sources = "\n".join(_figure_texts(ZH_CHARTS["sources"], "zh"))
    assert "名片二维码" in sources and "微信" in sources
    assert "暂无数据" in _figure_texts(ZH_CHARTS["empty daily"], "zh")


def test_en_charts_keep_their_english_words() -> None:
    daily = _figure_texts(ZH_CHARTS["daily"], "en")
    assert {"Views", "Unique visitors", "Sign-ups", "Dec 10", "Nov 27"} <= set(daily)
    assert "Per day · last 14 days · Shanghai time" in daily
    funnel = _figure_texts(ZH_CHARTS["funnel"], "en")
    assert {"Views", "Visitors", "Sign-ups", "Attended", "Converted"} <= set(funnel)
    assert "250  (50% of views)" in funnel
    assert {"Card QR", "WeChat", "Other"} <= set(_figure_texts(ZH_CHARTS["sources"], "en"))
    top = _figure_texts(ZH_CHARTS["top"], "en")
    assert " 40 pts · 1,300 views · 2 sign-ups" in top and " 1 pt · 1 view · 1 sign-up" in top
    assert "No data yet" in _figure_texts(ZH_CHARTS["empty top"], "en")
    assert render.render(CHARTS["funnel"], "png") == render.render(
        CHARTS["funnel"], "png", locale="en"
    )


async def test_the_pool_keeps_each_locale_apart() -> None:
    pool = ChartPool()
    chart = ZH_CHARTS["funnel"]
    try:
        zh = await pool.render(chart, "png", "zh")
        en = await pool.render(chart, "png", "en")
        assert zh != en and pool.cache.misses == 2
        assert zh == render.render(chart, "png", locale="zh")  # translated in the worker
        assert await pool.render(chart, "png", "zh") == zh and pool.cache.hits == 1
    finally:
        await pool.close()


def test_a_chart_link_carries_its_locale_under_the_signature() -> None:
    links = ChartLinks("secret", "https://share.example.com/")
    token = links.url(7, "daily", locale="zh-CN").rsplit("/", 1)[1].removesuffix(".png")
    assert links.read(token) == (7, "daily", "zh")
    token = links.url(7, "funnel").rsplit("/", 1)[1].removesuffix(".png")
    assert links.read(token) == (7, "funnel", "en")
    older = links._signer.sign("7-top", ttl_seconds=60)  # made before links had a locale
    assert links.read(older) == (7, "top", "en")
    with pytest.raises(NotFound):
        links.read(links._signer.sign("7-top-xx", ttl_seconds=60))
