"""`sharetrail sandbox --platform wecom`: the phone UI shows the announced activity card,
and its buttons and text box reach the app as signed, encrypted WeCom callbacks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from handlers.wecom_sandbox import ADMIN, EMPLOYEES, SALES, WeComSandbox, start_wecom_sandbox


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[WeComSandbox]:
    running = await start_wecom_sandbox(
        app_port=0, ui_port=0, database_url=f"sqlite+aiosqlite:///{tmp_path / 'wecom.db'}"
    )
    yield running
    await running.stop()


async def test_the_phone_taps_types_and_opens_the_menu(sandbox: WeComSandbox) -> None:
    employee = EMPLOYEES[0]
    async with aiohttp.ClientSession() as phone:
        async with phone.get(f"{sandbox.ui_url}/", params={"u": employee}) as page:
            html = await page.text()
        assert "春季新品发布会" in html and "获取我的分享卡" in html
        async with phone.get(f"{sandbox.ui_url}/", params={"u": ADMIN}) as page:
            assert "还没有消息" in await page.text()  # an empty chat says what to do
        code = re.search(r'name="code" value="([^"]+)"', html)
        key = re.search(r'name="key" value="(get_share_card:\d+)"', html)
        assert code and key

        tapped = {"u": employee, "code": code.group(1), "key": key.group(1)}
        async with phone.post(f"{sandbox.ui_url}/tap", data=tapped) as page:
            html = await page.text()  # the redirect back, drawn after the app answered
        media = re.search(r'src="/media/([^"]+)"', html)
        assert media and "/s/" in html
        async with phone.get(f"{sandbox.ui_url}/media/{media.group(1)}") as image:
            assert image.content_type == "image/png" and len(await image.read()) > 1000

        async with phone.post(
            f"{sandbox.ui_url}/say", data={"u": employee, "text": "帮助"}
        ) as page:
            html = await page.text()
        assert "排行榜" in html  # the help text, in answer to a text message

        async with phone.post(
            f"{sandbox.ui_url}/event",
            data={"u": SALES, "event": "click", "key": "menu_share_cards"},
        ) as page:
            html = await page.text()
        assert "get_share_card:" in html
        # WeCom only: the app serves no Slack route at all.
        async with phone.post(f"{sandbox.app_url}/slack/events", data="{}") as answer:
            assert answer.status in (404, 405)
    assert not sandbox.settings.slack and sandbox.runtime.bolt is None
    calls = [name for name, _ in sandbox.standin.calls]
    assert "media/upload" in calls and "user/get" in calls
