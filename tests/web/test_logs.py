"""Logs never carry a check-in token (a capability) or a preview token, whether the access
log, aiohttp's protocol errors or our own error log writes the request."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import unused_port

from handlers.main import create_app
from tests.conftest import EMPLOYEE, Stack, make_settings
from tests.flows import create_activity, get_share_card
from tests.records_flows import lead_setup
from tests.web.test_checkin import request_link


async def check_in_token(stack: Stack) -> tuple[str, str]:
    link = await request_link(stack, await lead_setup(stack))
    return link, link.rsplit("/checkin/", 1)[1]


def token_free(caplog: pytest.LogCaptureFixture, *tokens: str) -> None:
    assert caplog.text, "nothing was logged"
    for token in tokens:
        assert token not in caplog.text
        for record in caplog.records:
            assert token not in str(vars(record))


async def test_access_log_redacts_check_in_and_preview_tokens(
    stack: Stack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    link, token = await check_in_token(stack)
    card = await get_share_card(stack, EMPLOYEE, await create_activity(stack))
    preview = card.message.text.split("?me=", 1)[1].split("|", 1)[0]
    # The same running app served by a runner with aiohttp's default access log.
    port = unused_port()
    settings = make_settings(tmp_path, stack.slack.base_url + "/api/", port)
    runner = web.AppRunner(create_app(settings, runtime=stack.runtime))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    try:
        for url in (
            link.replace(stack.app_url, base),
            f"{card.url.replace(stack.app_url, base)}?me={preview}",
        ):
            async with stack.http.get(url, allow_redirects=False) as response:
                assert response.status in (200, 303)
    finally:
        await runner.cleanup()
    access = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any("GET /checkin/[redacted] " in line for line in access), access
    assert any("?me=[redacted] " in line for line in access), access
    token_free(caplog, token, preview)


async def test_error_log_redacts_the_check_in_token(
    stack: Stack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    link, token = await check_in_token(stack)

    async def broken(token: str, **_: object) -> None:
        raise RuntimeError(f"could not open /checkin/{token}")

    monkeypatch.setattr(stack.services.records, "check_in_page", broken)
    caplog.set_level(logging.INFO)
    async with stack.http.get(link) as response:
        assert response.status == 500
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.getMessage() == "unhandled error on GET /checkin/[redacted]"
    assert "RuntimeError: could not open /checkin/[redacted]" in caplog.text
    token_free(caplog, token)


async def test_malformed_http_is_a_warning_without_the_token(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    _, token = await check_in_token(stack)
    caplog.set_level(logging.INFO)
    host, port = stack.app_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET /checkin/{token}\x00 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400")
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
    refusals = [r.getMessage() for r in caplog.records if r.name == "aiohttp.server"]
    assert refusals == ["refused a malformed HTTP request (400): Invalid char in url path"]
    token_free(caplog, token)
