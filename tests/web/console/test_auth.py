"""Signing in to /console over real HTTP through the stand-in's Sign in with Slack:
authorize page → openid.connect.token → openid.connect.userInfo → a signed session cookie.
Forged, replayed or foreign sign-ins and cookies get nowhere."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from sandbox.emulator import SlackEmulator
from tests.conftest import ADMIN, EMPLOYEE, Stack
from tests.web.console.conftest import (
    Browser,
    SignIn,
    sign_in_through_slack,
)


def jar() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def test_admin_signs_in_through_the_stand_in(console_stack: Stack) -> None:
    async with jar() as http:
        async with http.get(f"{console_stack.app_url}/console", allow_redirects=False) as r:
            assert r.status == 303
            assert r.headers["Location"] == "/console/login?next=%2Fconsole"
        assert await sign_in_through_slack(console_stack, http, ADMIN) == "/console"
        token = console_stack.slack.calls_to("openid.connect.token")[-1]
        assert token.ok and token.args["grant_type"] == "authorization_code"
        assert console_stack.slack.calls_to("openid.connect.userInfo")[-1].ok
        async with http.get(f"{console_stack.app_url}/console") as page:
            assert page.status == 200
            body = await page.text()
        assert "Alex Admin · Admin" in body and "Open activities" in body


async def test_session_cookie_is_signed_httponly_lax_and_expires(console_stack: Stack) -> None:
    async with jar() as http:
        await sign_in_through_slack(console_stack, http, EMPLOYEE)
        cookie = next(c for c in http.cookie_jar if c.key == "st_console")
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/console"
    assert int(cookie["max-age"]) == 12 * 3600
    assert cookie.value.count(".") == 2  # value.expiry.signature (bot/codes.py Signer)


async def test_employee_sees_own_page_but_403_on_admin_routes(
    console_stack: Stack, signed_in: SignIn
) -> None:
    ann = await signed_in(EMPLOYEE)
    status, body, _ = await ann.get("/console")
    assert status == 200 and "Ann Lee · Employee" in body and "Open activities" not in body
    for path in ("/console/activities", "/console/activities/new", "/console/health"):
        status, body, _ = await ann.get(path)
        assert status == 403, path
        assert "for ShareTrail admins only" in body
    csrf = await ann.csrf()
    status, _, _ = await ann.post(
        "/console/activities/new",
        {
            "csrf": csrf,
            "name": "Sneaky",
            "material_type": "poster",
            "starts_at": "2030-01-01T10:00",
            "ends_at": "2030-01-01T12:00",
        },
    )
    assert status == 403
    assert await console_stack.services.activities() == []


async def test_salesperson_role_comes_from_the_roster(
    console_stack: Stack, signed_in: SignIn
) -> None:
    await console_stack.services.add_salespeople(["U_SALES1"], by_user_id=ADMIN)
    sam = await signed_in("U_SALES1")
    status, body, _ = await sam.get("/console")
    assert status == 200 and "· Salesperson" in body and "My new leads" in body
    assert (await sam.get("/console/health"))[0] == 403


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "eyJ1IjoiVV9BRE1JTiIsImMiOiJ4In0.9999999999.AAAAAAAAAAAAAAAA",  # U_ADMIN, bad MAC
        "",
        "a.b.c.d",
        "é" * 20,
    ],
)
async def test_forged_session_cookie_goes_to_login(console_stack: Stack, value: str) -> None:
    async with (
        jar() as http,
        http.get(
            f"{console_stack.app_url}/console/activities",
            headers={"Cookie": f"st_console={value}"},
            allow_redirects=False,
        ) as response,
    ):
        assert response.status == 303
        assert response.headers["Location"].startswith("/console/login")


async def test_a_session_of_one_person_cannot_be_edited_into_another(
    console_stack: Stack, signed_in: SignIn
) -> None:
    ann = await signed_in(EMPLOYEE)
    cookie = next(c for c in ann.http.cookie_jar if c.key == "st_console")
    value, expiry, mac = cookie.value.split(".")
    data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    assert data["u"] == EMPLOYEE
    data["u"] = ADMIN
    forged = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    ann.http.cookie_jar.clear()
    async with ann.http.get(
        f"{console_stack.app_url}/console/health",
        headers={"Cookie": f"st_console={forged.decode().rstrip('=')}.{expiry}.{mac}"},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
        assert response.headers["Location"].startswith("/console/login")


async def test_callback_from_another_browser_is_refused(console_stack: Stack) -> None:
    """The state is bound to the browser that started the sign-in (its signed cookie)."""
    async with jar() as victim, jar() as attacker:
        async with attacker.get(
            f"{console_stack.app_url}/console/login/slack", allow_redirects=False
        ) as start:
            authorize = start.headers["Location"]
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
        async with attacker.post(
            console_stack.slack.base_url + "/openid/connect/authorize",
            data={**query, "user": "U_BOB"},
            allow_redirects=False,
        ) as choice:
            callback = choice.headers["Location"]
        async with victim.get(callback, allow_redirects=False) as response:
            assert response.status == 403
            assert "not started in this browser" in await response.text()
        assert not [c for c in victim.cookie_jar if c.key == "st_console"]
        assert not console_stack.slack.calls_to("openid.connect.token")


async def test_cancelled_and_codeless_callbacks_are_clear_pages(console_stack: Stack) -> None:
    async with jar() as http:
        async with http.get(
            f"{console_stack.app_url}/console/login/slack", allow_redirects=False
        ) as start:
            authorize = start.headers["Location"]
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
        async with http.post(
            console_stack.slack.base_url + "/openid/connect/authorize",
            data={**query, "cancel": "1"},
            allow_redirects=False,
        ) as choice:
            callback = choice.headers["Location"]
        assert "error=access_denied" in callback
        async with http.get(callback, allow_redirects=False) as response:
            assert response.status == 403 and "cancelled" in await response.text()
        state = query["state"]
        for path in (
            f"/console/callback?state={state}",
            f"/console/callback?state={state}&code=not-a-code",
            "/console/callback",
            "/console/callback?state=%FF%FE&code=%00",
        ):
            async with http.get(console_stack.app_url + path, allow_redirects=False) as r:
                assert r.status in (400, 403), path
        assert not [c for c in http.cookie_jar if c.key == "st_console"]


async def test_people_of_another_workspace_cannot_sign_in(console_stack: Stack) -> None:
    console_stack.slack.openid.team_id = "T_SOMEONE_ELSE"
    async with jar() as http:
        async with http.get(
            f"{console_stack.app_url}/console/login/slack", allow_redirects=False
        ) as start:
            authorize = start.headers["Location"]
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
        async with http.post(
            console_stack.slack.base_url + "/openid/connect/authorize",
            data={**query, "user": ADMIN},
        ) as landed:
            assert landed.status == 403
            assert "another Slack workspace" in await landed.text()
        assert not [c for c in http.cookie_jar if c.key == "st_console"]


async def test_login_never_redirects_off_site(console_stack: Stack) -> None:
    async with jar() as http:
        for evil in ("https://evil.example/", "//evil.example/", "/console\\@evil", "/elsewhere"):
            async with http.get(
                f"{console_stack.app_url}/console/login/slack",
                params={"next": evil},
                allow_redirects=False,
            ) as start:
                assert start.status == 303
        assert await sign_in_through_slack(console_stack, http, ADMIN) == "/console"


async def test_sign_out_ends_the_session(console_stack: Stack, signed_in: SignIn) -> None:
    ann = await signed_in(EMPLOYEE)
    assert (await ann.post("/console/logout", {"csrf": "wrong"}))[0] == 403
    status, _, location = await ann.post("/console/logout", {"csrf": await ann.csrf()})
    assert (status, location) == (303, "/console/login")
    status, _, location = await ann.get("/console")
    assert status == 303 and location.startswith("/console/login")


async def test_without_client_credentials_the_login_page_says_so(
    tmp_path: Path, slack_server: tuple[SlackEmulator, TestServer], stack: Stack
) -> None:
    browser = Browser(stack.http, stack.app_url)
    status, body, _ = await browser.get("/console/login")
    assert status == 200 and "SLACK_CLIENT_ID" in body and "Sign in with Slack" not in body
    assert (await browser.get("/console/login/slack"))[0] == 503
