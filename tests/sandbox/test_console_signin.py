"""`sharetrail sandbox` signs people in to the web console with no workspace: the pick
page links to /console, and Sign in with Slack goes through the stand-in."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp

from handlers.sandbox_runner import start_sandbox


async def test_pick_page_links_to_the_console_and_sign_in_works(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"
    sandbox = await start_sandbox(app_port=0, ui_port=0, database_url=database_url)
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(sandbox.ui_url + "/") as pick:
                links = re.findall(r'href="([^"]+/console)"', await pick.text())
            assert links == [f"{sandbox.app_url}/console"]
            async with http.get(links[0]) as login:  # redirected to the login page
                assert login.url.path == "/console/login"
                start = re.search(r'href="(/console/login/slack[^"]*)"', await login.text())
            assert start is not None
            async with http.get(sandbox.app_url + start.group(1).replace("&amp;", "&")) as page:
                assert page.url.path == "/openid/connect/authorize"
                html = await page.text()
            fields = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', html))
            async with http.post(
                sandbox.ui_url + "/openid/connect/authorize", data={**fields, "user": "U_ADMIN"}
            ) as landed:
                assert landed.url.path == "/console" and landed.status == 200
                body = await landed.text()
        assert "Alex Admin · Admin" in body and "Open activities" in body
    finally:
        await sandbox.stop()
