"""The privacy line and link under the sign-up form: PRIVACY_NOTICE_EN / _ZH in the page's
language (escaped like any text), a link to PRIVACY_URL; only http(s) addresses accepted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port

from bot.demo import seed_demo
from bot.settings import Settings
from handlers.main import create_app, start_runtime, stop_runtime
from sandbox.emulator import SlackEmulator
from tests.conftest import MOBILE_UA, make_settings

NOTICE_EN = "Acme keeps your details for one year <b>only</b>."
NOTICE_ZH = "您的信息仅保存一年。"
URL = "https://acme.example/privacy?lang=en&v=2"


@pytest.fixture
async def share_url(
    tmp_path: Path, slack_server: tuple[SlackEmulator, TestServer]
) -> AsyncIterator[str]:
    _, server = slack_server
    port = unused_port()
    settings = make_settings(
        tmp_path,
        str(server.make_url("/api/")),
        port,
        privacy_notice_en=NOTICE_EN,
        privacy_notice_zh=NOTICE_ZH,
        privacy_url=URL,
    )
    runtime = await start_runtime(settings)
    runner = web.AppRunner(create_app(settings, runtime=runtime), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    services = runtime.services
    urls = await seed_demo(services.db, secret=services.secret, base_url=settings.public_base_url)
    yield urls[0]
    await runner.cleanup()
    await stop_runtime(runtime)


async def test_notice_and_link_in_the_page_language(share_url: str) -> None:
    async with aiohttp.ClientSession() as browser:
        for language, notice in (("en-US,en;q=0.9", NOTICE_EN), ("zh-CN,zh;q=0.9", NOTICE_ZH)):
            headers = {"User-Agent": MOBILE_UA, "Accept-Language": language}
            async with browser.get(share_url, headers=headers) as response:
                assert response.status == 200
                page = await response.text()
            escaped = notice.replace("<", "&lt;").replace(">", "&gt;")
            assert escaped in page and "<b>only</b>" not in page
            assert 'href="https://acme.example/privacy?lang=en&amp;v=2"' in page


def test_privacy_url_must_be_a_web_address(tmp_path: Path) -> None:
    for bad in ("javascript:alert(1)", "//evil.example", "acme.example/privacy"):
        with pytest.raises(ValueError, match="PRIVACY_URL"):
            make_settings(tmp_path, "http://127.0.0.1:9/api/", 9, privacy_url=bad)
    assert isinstance(make_settings(tmp_path, "http://x/api/", 9, privacy_url=URL), Settings)
