"""Security headers (handlers/web/security.py) over real HTTP on every kind of page: the
landing page, sign-up answers, check-in pages, error pages and JSON; the inline scripts a
page carries are exactly the ones its Content-Security-Policy allows by hash."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import aiohttp

from tests.conftest import EMPLOYEE, MOBILE_UA, Stack
from tests.flows import create_activity, get_share_card
from tests.records_flows import check_in_link, lead_setup

SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S)


def directives(response: aiohttp.ClientResponse) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        if part.strip():
            name, *values = part.split()
            parsed[name] = values
    return parsed


def check_headers(response: aiohttp.ClientResponse, body: str, *, referrer: str) -> None:
    """The headers every page gets, and each inline script allowed by its exact hash."""
    csp = directives(response)
    assert csp.get("frame-ancestors") == ["'none'"], csp
    assert csp.get("default-src") == ["'none'"], csp
    script_src = csp.get("script-src", [])
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, csp
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == referrer
    for text in SCRIPT.findall(body):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src, f"script not allowed by the CSP: {text[:80]}"


async def fetch(
    stack: Stack, method: str, url: str, **kw: Any
) -> tuple[aiohttp.ClientResponse, str]:
    headers = {"User-Agent": MOBILE_UA}
    async with stack.http.request(method, url, headers=headers, **kw) as response:
        return response, await response.text()


async def test_landing_sign_up_and_error_pages_send_the_headers(stack: Stack) -> None:
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    same_origin = "strict-origin-when-cross-origin"

    response, body = await fetch(stack, "GET", card.url)
    assert response.status == 200 and "<script" in body  # the beacon script is inline
    check_headers(response, body, referrer=same_origin)

    response, body = await fetch(stack, "POST", f"{card.url}/signup", data={"name": ""})
    assert 400 <= response.status < 500  # a refused sign-up: its page
    check_headers(response, body, referrer=same_origin)

    for missing in (f"{stack.app_url}/nothing-here", f"{stack.app_url}/s/forged-code"):
        response, body = await fetch(stack, "GET", missing)
        assert response.status == 404
        check_headers(response, body, referrer=same_origin)

    response, body = await fetch(stack, "GET", f"{stack.app_url}/healthz")
    assert response.status == 200
    check_headers(response, body, referrer=same_origin)


async def test_check_in_pages_send_the_headers_and_no_referrer(stack: Stack) -> None:
    link = await check_in_link(stack, await lead_setup(stack))

    response, body = await fetch(stack, "GET", link)
    assert response.status == 200 and "geolocation" in body
    check_headers(response, body, referrer="no-referrer")

    response, body = await fetch(stack, "POST", link, data={"lat": "x"})
    assert response.status == 400  # the form again, with what is wrong
    check_headers(response, body, referrer="no-referrer")

    response, body = await fetch(stack, "GET", f"{stack.app_url}/checkin/forged.token")
    assert response.status in (403, 404, 410)
    check_headers(response, body, referrer="no-referrer")
