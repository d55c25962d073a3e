"""The console in Chinese: every validation message of the activity form (bot/activities.py's
rules and the KPI targets) and the downloads' headers beyond the contract columns."""

from __future__ import annotations

import aiohttp

from tests.conftest import ADMIN, Stack
from tests.records_flows import lead_setup
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


async def test_xlsx_and_csv_extra_headers_in_zh(console_stack: Stack) -> None:
    """The contract's eight CSV columns stay as DESIGN.md §5 names them in every language;
    the per-source columns, the leads and daily sheets read in Chinese."""
    import csv
    import io

    from openpyxl import load_workbook

    from bot.stats import EXPORT_COLUMNS

    setup = await lead_setup(console_stack, phone="+86 138 1234 5678")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        assert await sign_in_through_slack(console_stack, http, ADMIN) == "/console"
        http.headers.update(ZH)
        base = f"{console_stack.app_url}/console/activities/{setup.activity_id}"
        async with http.get(base + "/report.xlsx") as response:
            assert response.status == 200
            book = load_workbook(io.BytesIO(await response.read()))
        async with http.get(base + "/export.csv") as response:
            assert response.status == 200
            text = (await response.read()).decode("utf-8-sig")

    header = next(csv.reader(io.StringIO(text)))
    assert tuple(header[:8]) == EXPORT_COLUMNS
    assert "浏览量（微信）" in header and "报名（名片二维码）" in header
    assert english_left("\n".join(header[8:])) == [] and not any("_" in h for h in header[8:])

    employees_sheet, leads_sheet, daily_sheet = book.worksheets
    employees = list(employees_sheet.values)
    assert tuple(employees[0][:8]) == EXPORT_COLUMNS and list(employees[0]) == header
    leads = list(leads_sheet.values)
    daily = list(daily_sheet.values)
    assert leads[0][:3] == ("线索编号", "客户", "电话")
    assert daily[0] == ("日期", "浏览量", "独立访客", "报名")
    assert leads[1][1] == "Wang Fang" and leads[1][7] == "新线索"
    shown = "\n".join(str(v) for row in (leads[0], leads[1], daily[0]) for v in row)
    assert english_left(shown, allow=("Wang Fang", "Sam Sales", "Ann Lee", "Acme")) == []
    assert "card_qr" not in shown and "new" not in leads[1]
