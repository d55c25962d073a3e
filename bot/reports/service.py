"""The charts use case: read an activity's series, have them drawn off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.i18n import N_, current_locale, supported, translate
from bot.reports import series
from bot.reports.pool import ChartPool
from bot.reports.series import Chart
from store.db import Database

KINDS: tuple[str, ...] = ("daily", "funnel", "sources", "top")
# Catalogue msgids: shown through _() (or `title(kind, locale)`) where read.
TITLES = {
    "daily": N_("Views, visitors and sign-ups per day"),
    "funnel": N_("Funnel"),
    "sources": N_("Push sources"),
    "top": N_("Top employees"),
}


def title(kind: str, locale: str | None = None) -> str:
    """A chart kind's name in `locale` (default: the current one)."""
    return translate(TITLES[kind], locale=locale)


@dataclass(frozen=True)
class RenderedChart:
    """One chart file, ready to upload or serve."""

    kind: str
    fmt: str
    filename: str
    title: str
    content: bytes
    activity_name: str
    locale: str = "en"


class Reports:
    def __init__(
        self,
        db: Database,
        pool: ChartPool | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.pool = pool or ChartPool()
        self.clock = clock

    async def chart_data(
        self,
        activity_id: int,
        kind: str,
        *,
        days: int = series.DEFAULT_DAYS,
        style: str = "line",
    ) -> Chart:
        """The series behind one chart kind (one unit of work)."""
        async with self.db.session() as session:
            if kind == "daily":
                return await series.daily_series(
                    session=session,
                    activity_id=activity_id,
                    now=self.clock(),
                    days=days,
                    style=style,
                )
            if kind == "funnel":
                return await series.funnel(session=session, activity_id=activity_id)
            if kind == "sources":
                return await series.source_split(session=session, activity_id=activity_id)
            if kind == "top":
                return await series.top_employees(session=session, activity_id=activity_id)
        raise ValueError(f"unknown chart kind {kind!r}")

    async def chart(
        self,
        activity_id: int,
        kind: str,
        fmt: str = "png",
        *,
        days: int = series.DEFAULT_DAYS,
        style: str = "line",
        locale: str | None = None,
    ) -> RenderedChart:
        """One chart of one activity as PNG or SVG, in `locale` (default: the current unit
        of work's, e.g. the console's signed-in viewer or the Slack user's)."""
        chosen = supported(locale or current_locale())
        data = await self.chart_data(activity_id, kind, days=days, style=style)
        content = await self.pool.render(data, fmt, chosen)
        return RenderedChart(
            kind=kind,
            fmt=fmt,
            filename=f"sharetrail-activity-{activity_id}-{kind}.{fmt}",
            title=f"{title(kind, chosen)} — {data.title}",
            content=content,
            activity_name=data.title,
            locale=chosen,
        )

    async def stats_charts(
        self, activity_id: int, *, locale: str | None = None
    ) -> list[RenderedChart]:
        """What `stats ID` shows after its text: the last 14 days and the funnel, as PNG."""
        return [await self.chart(activity_id, kind, locale=locale) for kind in ("daily", "funnel")]

    async def close(self) -> None:
        await self.pool.close()
