"""A flag's detail (how many employees, sign-ups, visitors or views) is stored as numbers and
put into words on the review page in the reader's language: a Chinese admin reads no English
sentence, an English one reads correct plurals."""

from __future__ import annotations

import aiohttp
from sqlmodel import select

from store.models import PointFlag
from tests.conftest import ADMIN, CJK_EMPLOYEE, EMPLOYEE, SALES, Stack
from tests.flows import add_global_roster, create_activity, get_share_card, sign_up
from tests.web.console.conftest import Browser, sign_in_through_slack
from tests.zh_support import english_left, page_text

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
PHONE = "+86 139 0000 0042"


async def _review_page(stack: Stack, headers: dict[str, str]) -> str:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        assert await sign_in_through_slack(stack, http, ADMIN) == "/console"
        http.headers.update(headers)
        status, body, _ = await Browser(http, stack.app_url).get("/console/review")
    assert status == 200, body
    return body


async def test_flag_details_in_the_readers_language(console_stack: Stack) -> None:
    stack = console_stack
    await add_global_roster(stack, SALES[0])
    first = await create_activity(stack)
    second = await create_activity(stack, name="Autumn tour")
    posts = {m.ts: m.text + str(m.blocks) for m in stack.slack.workspace.history("C_MARKETING")}
    (autumn,) = [ts for ts, post in posts.items() if "Autumn tour" in post]
    (spring,) = [ts for ts, post in posts.items() if "Autumn tour" not in post]
    ann = await get_share_card(stack, EMPLOYEE, first, ts=spring)
    li = await get_share_card(stack, CJK_EMPLOYEE, second, ts=autumn)
    await sign_up(stack, ann.url, {"name": "Zhou Min", "phone": PHONE})
    await sign_up(stack, li.url, {"name": "Zhou Min", "phone": PHONE})
    await stack.settle()
    async with stack.runtime.db.session() as session:
        (flag,) = (await session.exec(select(PointFlag))).all()
    assert flag.reason == "shared_phone"

    english = page_text(await _review_page(stack, {}))
    assert "also through 1 other employee)" in english  # one employee: no "(s)", no plural
    chinese = page_text(await _review_page(stack, ZH))
    assert "另有 1 位员工" in chinese
    names = ("Zhou Min", "Autumn tour", "Spring launch webinar", "Ann", "Li Lei", "李雷")
    assert english_left(chinese, allow=names) == []
