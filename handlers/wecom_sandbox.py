"""`sharetrail sandbox --platform wecom`: the app and a WeCom stand-in on this machine.

The stand-in (WeCom's API and a phone-shaped chat, sandbox/wecom_api.py + wecom_ui.py)
and the app get a port each; the app is configured in code for WeCom only, with a
callback token, EncodingAESKey and secret made up for this run, and its own SQLite file.
On a fresh start a demo activity is created and announced to the demo employees as
template cards, the way an admin's console publish would.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from bot.activities import ActivityDraft
from bot.platforms import wecom_user_id
from bot.settings import Settings
from handlers.main import Runtime, create_app, start_runtime, stop_runtime
from handlers.sandbox_runner import SHUTDOWN_TIMEOUT, _listen, http_url, local_host, public_host
from sandbox.wecom_api import WeComStandIn
from sandbox.wecom_crypto import CallbackSigner
from sandbox.wecom_ui import attach_ui

log = logging.getLogger("sharetrail")

DB_FILE = "sharetrail-sandbox-wecom.db"
CORP_ID = "wwsandbox0000000001"
AGENT_ID = 1000002
ADMIN = "wangjing"
EMPLOYEES = ("lilei", "hanmeimei")
SALES = "zhaoqiang"
DEMO_ACTIVITY = "春季新品发布会"


@dataclass
class WeComSandbox:
    standin: WeComStandIn
    runtime: Runtime
    settings: Settings
    ui_url: str
    app_url: str
    _runners: list[web.AppRunner] = field(default_factory=list)

    async def stop(self) -> None:
        app_runner, ui_runner = self._runners
        await app_runner.cleanup()
        await stop_runtime(self.runtime)
        await ui_runner.cleanup()


def _members(standin: WeComStandIn) -> None:
    standin.add_member(ADMIN, "王静", position="市场总监", mobile="13800000000")
    standin.add_member(
        EMPLOYEES[0], "李雷", position="市场经理", mobile="13800138000", email="lilei@example.com"
    )
    standin.add_member(EMPLOYEES[1], "韩梅梅", position="客户成功经理")  # mobile hidden
    standin.add_member(SALES, "赵强", position="销售代表", mobile="13900139000")


async def _seed(runtime: Runtime) -> None:
    services = runtime.services
    admin = wecom_user_id(ADMIN)
    if any(a.name == DEMO_ACTIVITY for a in await services.activities()):
        return
    start = (datetime.now(UTC) + timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    activity = await services.create_activity(
        ActivityDraft(
            name=DEMO_ACTIVITY,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            material_type="event_invitation",
            headline="一小时看懂新品",
            intro="新品发布与现场答疑。",
            salespeople=[wecom_user_id(SALES)],
            tz="Asia/Shanghai",
        ),
        created_by=admin,
    )
    assert activity.id is not None
    await services.mark_published(activity.id, channel_id="", ts="", by_user_id=admin)
    await services.start_broadcast(
        activity.id, by_user_id=admin, user_ids=[wecom_user_id(e) for e in EMPLOYEES]
    )


async def start_wecom_sandbox(
    *,
    app_port: int,
    ui_port: int,
    host: str = "127.0.0.1",
    database_url: str | None = None,
    seed: bool = True,
) -> WeComSandbox:
    async with contextlib.AsyncExitStack() as undo:
        app_sock = undo.enter_context(_listen(host, app_port))
        ui_sock = undo.enter_context(_listen(host, ui_port))
        ports = app_sock.getsockname()[1], ui_sock.getsockname()[1]
        shown, local = public_host(host), local_host(host)
        app_url, ui_url = http_url(shown, ports[0]), http_url(shown, ports[1])
        token = secrets.token_urlsafe(12)
        aes_key = base64.b64encode(secrets.token_bytes(32)).decode()[:43]
        secret = secrets.token_urlsafe(24)
        settings = Settings(
            _env_file=None,  # nothing from .env can point it at real WeCom
            slack_bot_token=None,
            database_url=database_url or f"sqlite+aiosqlite:///{Path.cwd() / DB_FILE}",
            public_base_url=app_url,
            host=host,
            port=ports[0],
            admin_user_ids=wecom_user_id(ADMIN),
            wecom_corp_id=CORP_ID,
            wecom_agent_id=str(AGENT_ID),
            wecom_secret=secret,
            wecom_token=token,
            wecom_aes_key=aes_key,
            wecom_api_url=f"{http_url(local, ports[1])}/cgi-bin/",
            wecom_oauth_url=f"{ui_url}/connect/oauth2/authorize",
        )
        standin = WeComStandIn(
            corp_id=CORP_ID,
            secret=secret,
            agent_id=AGENT_ID,
            signer=CallbackSigner(token, aes_key, CORP_ID),
            app_url=http_url(local, ports[0]),
        )
        _members(standin)
        runtime_box: list[Runtime] = []

        async def settle() -> None:
            if runtime_box:
                await runtime_box[0].services.settle()

        ui_app = standin.make_app()
        attach_ui(ui_app, standin, settle)
        ui_runner = web.AppRunner(ui_app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await ui_runner.setup()
        undo.push_async_callback(ui_runner.cleanup)
        await web.SockSite(ui_runner, ui_sock).start()

        runtime = await start_runtime(settings)
        runtime_box.append(runtime)
        undo.push_async_callback(stop_runtime, runtime)
        app_runner = web.AppRunner(
            create_app(settings, runtime=runtime),
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
        )
        await app_runner.setup()
        undo.push_async_callback(app_runner.cleanup)
        await web.SockSite(app_runner, app_sock).start()
        if seed:
            await _seed(runtime)
            await runtime.services.settle()
        undo.pop_all()
        return WeComSandbox(standin, runtime, settings, ui_url, app_url, [app_runner, ui_runner])
    raise AssertionError("unreachable")
