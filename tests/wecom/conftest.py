"""One running ShareTrail serving Slack and WeCom from one database, wired to the Slack
emulator and the WeCom stand-in (sandbox/wecom_api.py), which signs and encrypts the
callbacks it sends to /wecom/callback."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port

from handlers.main import create_app, start_runtime, stop_runtime
from sandbox.emulator import SlackEmulator
from sandbox.wecom_api import WeComStandIn
from sandbox.wecom_crypto import CallbackSigner
from tests.conftest import Stack, make_settings

CORP_ID = "ww5823bf96d3bd56c7"
AGENT_ID = 1000002
SECRET = "wecom-app-secret"
TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
# WeCom members (userids) and their ShareTrail ids.
EMPLOYEE = "zhangsan"
SALES = "lisi"
WECOM_ADMIN = "wangwu"


@dataclass
class WeComStack(Stack):
    wecom: WeComStandIn | None = None

    @property
    def standin(self) -> WeComStandIn:
        assert self.wecom is not None
        return self.wecom


@pytest.fixture
async def wecom_server() -> AsyncIterator[tuple[WeComStandIn, TestServer]]:
    standin = WeComStandIn(
        corp_id=CORP_ID,
        secret=SECRET,
        agent_id=AGENT_ID,
        signer=CallbackSigner(TOKEN, AES_KEY, CORP_ID),
    )
    standin.add_member(EMPLOYEE, "张三", position="销售经理", mobile="13800000001")
    standin.add_member(SALES, "李四", position="客户经理")  # mobile hidden, as WeCom does
    standin.add_member(WECOM_ADMIN, "王五")
    server = TestServer(standin.make_app(), host="127.0.0.1")
    await server.start_server()
    yield standin, server
    await server.close()


@pytest.fixture
async def wecom_stack(
    tmp_path: Path,
    database_url: str,
    slack_server: tuple[SlackEmulator, TestServer],
    wecom_server: tuple[WeComStandIn, TestServer],
) -> AsyncIterator[WeComStack]:
    emulator, slack = slack_server
    standin, server = wecom_server
    port = unused_port()
    settings = make_settings(
        tmp_path,
        str(slack.make_url("/api/")),
        port,
        database_url=database_url,
        admin_user_ids=f"U_ADMIN,wecom:{WECOM_ADMIN}",
        wecom_corp_id=CORP_ID,
        wecom_agent_id=str(AGENT_ID),
        wecom_secret=SECRET,
        wecom_token=TOKEN,
        wecom_aes_key=AES_KEY,
        wecom_api_url=str(server.make_url("/cgi-bin/")),
        wecom_oauth_url=str(server.make_url("/connect/oauth2/authorize")),
    )
    runtime = await start_runtime(settings)
    runtime.services.rng = random.Random(1234)
    app = create_app(settings, runtime=runtime)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    app_url = f"http://127.0.0.1:{port}"
    emulator.app_url = app_url
    standin.app_url = app_url
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield WeComStack(emulator, app_url, runtime, http, standin)
    await runner.cleanup()
    await stop_runtime(runtime)
