"""Console times in the signed-in person's stored time zone (issue 14 §1), over real HTTP:
the leads list and a lead's timeline, in English and in Chinese."""

from __future__ import annotations

import aiohttp
from sqlmodel import select

from bot import audit, i18n
from store.models import Employee
from tests.conftest import ADMIN, Stack
from tests.records_flows import SALESPERSON, lead_setup
from tests.web.console.conftest import SignIn, sign_in_through_slack
from tests.web.console.test_activities import create

STORED_ZONE = "Asia/Kolkata"  # not their Slack zone (Los Angeles): the stored one is read


async def store_zone(stack: Stack, user_id: str, tz: str) -> None:
    async with stack.services.db.session() as session:
        person = (await session.exec(select(Employee).where(Employee.user_id == user_id))).first()
        person = person or Employee(user_id=user_id, name="Sam Sales")
        person.tz = tz
        session.add(person)
        await session.commit()


async def page(http: aiohttp.ClientSession, url: str, language: str) -> str:
    async with http.get(url, headers={"Accept-Language": language}) as response:
        assert response.status == 200
        return await response.text()


async def test_the_leads_pages_show_times_in_the_viewers_stored_zone(console_stack: Stack) -> None:
    await lead_setup(console_stack)
    await store_zone(console_stack, SALESPERSON, STORED_ZONE)
    lead, _activity, _employee = await console_stack.services.lead_context(1)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        assert await sign_in_through_slack(console_stack, http, SALESPERSON) == "/console"
        for language, locale in (("en-US", "en"), ("zh-CN,zh;q=0.9", "zh")):
            local = i18n.format_moment(lead.created_at, STORED_ZONE, locale=locale)
            in_utc = i18n.format_moment(lead.created_at, "UTC", locale=locale)
            for path in ("/console/leads", "/console/leads/1"):
                body = await page(http, console_stack.app_url + path, language)
                assert local in body and in_utc not in body, body
                assert lead.created_at.strftime("%Y-%m-%d %H:%M") not in body
            if locale == "zh":
                assert "年" in local


async def test_the_audit_table_and_the_activity_form_speak_the_admins_zone(
    console_stack: Stack, signed_in: SignIn
) -> None:
    await store_zone(console_stack, ADMIN, STORED_ZONE)
    admin = await signed_in(ADMIN)
    assert (await create(admin))[0] == 303
    async with console_stack.services.db.session() as session:
        [entry] = (await audit.entries(session, per_page=10)).entries
    async with admin.http.get(admin.app_url + "/console/audit") as response:
        body = await response.text()
    local = i18n.format_moment(entry.at, STORED_ZONE, locale="en")
    assert local in body and "Kolkata time" in body, body
    assert i18n.format_moment(entry.at, "UTC", locale="en") not in body
    assert STORED_ZONE not in body
    status, body, _ = await admin.get("/console/activities/new")
    assert status == 200 and "America/Los_Angeles" not in body and "Asia/" not in body, body
    assert "Times are in " in body and " time." in body
