"""Leads in the console over real HTTP: the salesperson sees their leads (full phone) and
records an outcome; the sharing employee sees only their customer's timeline with the phone
masked and no outcome buttons; filters by activity and state; someone else gets nothing."""

from __future__ import annotations

import re

from tests.conftest import ADMIN, EMPLOYEE, Stack
from tests.flows import wait_for_dm
from tests.records_flows import SALESPERSON, lead_setup
from tests.web.console.conftest import SignIn

PHONE = "+86 138 1234 5678"
STORED = "+8613812345678"  # as bot/leads.py normalizes it


async def test_salesperson_lists_filters_and_records_an_outcome(
    console_stack: Stack, signed_in: SignIn
) -> None:
    setup = await lead_setup(console_stack, phone=PHONE)
    sam = await signed_in(SALESPERSON)
    status, body, _ = await sam.get("/console/leads")
    assert status == 200 and "Wang Fang" in body
    assert f'<a href="tel:{STORED}">+86 138 1234 5678</a>' in body  # tappable, one format
    assert "Wang Fang" not in (await sam.get("/console/leads?state=converted"))[1]
    assert (
        "Wang Fang" in (await sam.get(f"/console/leads?activity={setup.activity_id}&state=new"))[1]
    )
    assert "Wang Fang" not in (await sam.get("/console/leads?activity=99999"))[1]
    for junk in ("?activity=abc&state=%FF", "?activity=1e9999&salesperson=%00"):
        assert (await sam.get("/console/leads" + junk))[0] == 200

    [lead_id] = {int(n) for n in re.findall(r'href="/console/leads/(\d+)"', body)}
    status, body, _ = await sam.get(f"/console/leads/{lead_id}")
    assert status == 200 and "Signed up" in body and 'value="attended"' in body
    assert f'<a href="tel:{STORED}">+86 138 1234 5678</a>' in body
    csrf = await sam.csrf(f"/console/leads/{lead_id}")
    assert (await sam.post(f"/console/leads/{lead_id}/outcome", {"outcome": "converted"}))[0] == 403
    assert (await sam.post(f"/console/leads/{lead_id}/outcome", {"csrf": csrf, "outcome": "won"}))[
        0
    ] == 400
    since = console_stack.slack.mark()
    status, _, back = await sam.post(
        f"/console/leads/{lead_id}/outcome", {"csrf": csrf, "outcome": "converted"}
    )
    assert (status, back) == (303, f"/console/leads/{lead_id}?saved=1")
    # The lead DM in Slack says so, as after a tap on its button; the employee is told.
    update = await console_stack.slack.wait_for_call("chat.update", since=since)
    assert update.args["ts"] == setup.lead_dm.ts and setup.lead_dm.edited
    assert "Converted by <@U_SALES1>" in str(update.args["blocks"])
    await wait_for_dm(console_stack, EMPLOYEE, "converted")
    lead, _, _ = await console_stack.services.lead_context(lead_id)
    assert lead.outcome == "converted"
    assert "Outcome recorded." in (await sam.get(back))[1]
    assert "Wang Fang" in (await sam.get("/console/leads?state=converted"))[1]


async def test_employee_sees_a_masked_timeline_and_no_buttons(
    console_stack: Stack, signed_in: SignIn
) -> None:
    await lead_setup(console_stack, phone=PHONE)
    lead_id = 1
    ann = await signed_in(EMPLOYEE)
    assert (await ann.get("/console/leads"))[0] == 403
    status, body, _ = await ann.get(f"/console/leads/{lead_id}")
    assert status == 200 and "Wang Fang" in body and STORED not in body and "+86" in body
    assert "tel:" not in body  # a masked number is no link
    assert 'name="outcome"' not in body
    csrf = await ann.csrf()
    status, _, _ = await ann.post(
        f"/console/leads/{lead_id}/outcome", {"csrf": csrf, "outcome": "converted"}
    )
    assert status == 403
    lead, _, _ = await console_stack.services.lead_context(lead_id)
    assert lead.outcome is None

    bob = await signed_in("U_BOB")  # neither the salesperson, the sharer nor an admin
    assert (await bob.get(f"/console/leads/{lead_id}"))[0] == 404
    admin = await signed_in(ADMIN)
    status, body, _ = await admin.get(f"/console/leads?salesperson={SALESPERSON}")
    assert status == 200 and STORED in body
    assert "Wang Fang" not in (await admin.get("/console/leads?salesperson=U_SALES2"))[1]


async def test_xlsx_report_has_employees_leads_and_daily_sheets(
    console_stack: Stack, signed_in: SignIn
) -> None:
    import io

    from openpyxl import load_workbook

    setup = await lead_setup(console_stack, phone=PHONE)
    admin = await signed_in(ADMIN)
    path = f"/console/activities/{setup.activity_id}/report.xlsx"
    async with admin.http.get(admin.app_url + path) as response:
        assert response.status == 200 and "attachment" in response.headers["Content-Disposition"]
        book = load_workbook(io.BytesIO(await response.read()))
    assert book.sheetnames == ["Employees", "Leads", "Daily"]
    employees = list(book["Employees"].values)
    assert employees[0][:8] == (
        "employee_id",
        "employee_name",
        "views",
        "unique_visitors",
        "signups",
        "attended",
        "converted",
        "points",
    )
    assert employees[1][0] == EMPLOYEE and employees[1][4] == 1  # one sign-up
    leads = list(book["Leads"].values)
    assert leads[1][1:4] == ("Wang Fang", STORED, "Acme")
    assert leads[1][5] == "Sam Sales" and leads[1][7] == "new"
    daily = list(book["Daily"].values)
    assert daily[0] == ("date", "views", "unique_visitors", "signups")
    assert sum(row[3] for row in daily[1:]) == 1
    ann = await signed_in(EMPLOYEE)
    assert (await ann.get(path))[0] == 403
