"""The console's activity form in Chinese: every validation message the admin can trigger
(bot/activities.py's rules and the KPI targets) comes back in Chinese, with no English left."""

from __future__ import annotations

import aiohttp

from tests.conftest import ADMIN, Stack
from tests.web.console.conftest import Browser, sign_in_through_slack
from tests.web.console.test_activities import GOOD
from tests.zh_support import english_left, page_text

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


async def test_activity_form_errors_in_zh(console_stack: Stack) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        assert await sign_in_through_slack(console_stack, http, ADMIN) == "/console"
        http.headers.update(ZH)  # the admin's browser asks for Chinese from now on
        admin = Browser(http, console_stack.app_url)
        bad = {
            **GOOD,
            "name": "x" * 201,
            "ends_at": "2030-03-01T13:00",
            "material_type": "billboard",
            "kpi_views": "abc",
            "kpi_signups": "10000000000",
            "intro": "x" * 3001,
        }
        form = {**bad, "csrf": await admin.csrf("/console/activities/new")}
        status, body, _ = await admin.post("/console/activities/new", form)
    assert status == 400
    for field in ("name", "ends_at", "material_type", "kpi_views", "kpi_signups", "intro"):
        assert f'id="e-{field}"' in body, field
    assert "目标须为 1 到 1,000,000,000 之间的整数" in body  # the KPI message, in Chinese
    assert english_left(page_text(body), allow=("x" * 201, "x" * 3001)) == []
    assert await console_stack.services.activities() == []
