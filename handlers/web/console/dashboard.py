"""/console: open activities with KPI progress and the leaderboard (admins); one's own
numbers (everyone)."""

from __future__ import annotations

from aiohttp import web

from bot.roles import Role
from bot.stats import ActivityReport
from handlers.web.console.charts import safe_svg
from handlers.web.console.core import Viewer, render, require_role, services_of

routes = web.RouteTableDef()
OPEN_SHOWN = 20
CHARTS_SHOWN = 3  # the last days of the newest open activities; the rest on their reports


@routes.get("/console")
@require_role(Role.EMPLOYEE)
async def dashboard(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    services = services_of(request)
    reports: list[ActivityReport] = []
    if viewer.is_admin:
        open_ones = [a for a in await services.activities() if a.status != "closed"]
        for activity in open_ones[:OPEN_SHOWN]:
            assert activity.id is not None
            reports.append(await services.report(activity.id))
    charts = {}
    for report in [r for r in reports if r.totals.views or r.totals.signups][:CHARTS_SHOWN]:
        assert report.activity.id is not None  # an empty chart says nothing: none is shown
        chart = await services.reports.chart(report.activity.id, "daily", "svg")
        charts[report.activity.id] = safe_svg(
            chart.content, prefix=f"daily{report.activity.id}-", label=chart.title
        )
    mine, _settings = await services.overview(viewer.user_id)
    return render(
        request,
        "console/dashboard.html",
        {
            "reports": reports,
            "charts": charts,
            "mine": mine,
            "leaders": await services.leaderboard(None, limit=10),
        },
        viewer=viewer,
    )
