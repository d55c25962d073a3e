"""GET /charts/{token}.png: a chart behind a signed, expiring link (bot/reports/links.py).

Slack's servers fetch these for the image blocks of the App Home and the weekly report.
Drawing happens in the chart workers (bot/reports/pool.py), never on the event loop.
"""

from __future__ import annotations

from aiohttp import web

from handlers.web.keys import SERVICES

# Slack caches the image itself; nobody else should (the link is the capability).
HEADERS = {"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"}


async def chart_png(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    # 404 / 410; the locale is the link's (Slack fetches it, not the viewer's browser).
    activity_id, kind, locale = services.chart_links.read(request.match_info["token"])
    chart = await services.reports.chart(activity_id, kind, "png", locale=locale)  # NotFound
    return web.Response(body=chart.content, content_type="image/png", headers=HEADERS)


def register(app: web.Application) -> None:
    app.router.add_get("/charts/{token}.png", chart_png)
