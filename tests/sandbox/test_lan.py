"""`sharetrail sandbox --host 0.0.0.0`: phones on the LAN can open the links and scan the card.

Only loopback traffic here: the server binds every interface and the tests fetch through
127.0.0.1; the LAN address is found without sending a packet.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import signal
from io import BytesIO
from pathlib import Path

import aiohttp
import pytest
import zxingcpp
from PIL import Image

from handlers import sandbox_runner
from handlers.sandbox_runner import (
    lan_address,
    local_host,
    pick_lan_address,
    public_host,
    start_sandbox,
)
from sandbox.workspace import Message
from tests.sandbox.test_runner import _start

LAN = "198.51.100.7"  # a documentation address: nothing is ever sent to it
LINK = re.compile(r"https?://\S+/s/[A-Za-z0-9_\-.]+")


def test_the_lan_address_is_the_first_one_a_phone_could_reach() -> None:
    assert pick_lan_address(["127.0.1.1", "169.254.3.4", "::1", "192.168.1.23"]) == "192.168.1.23"
    assert pick_lan_address(["10.0.0.5", "192.168.1.23"]) == "10.0.0.5"
    assert pick_lan_address(["127.0.0.1", "0.0.0.0", "not an address"]) == "127.0.0.1"
    assert pick_lan_address([]) == "127.0.0.1"
    found = ipaddress.ip_address(lan_address())  # this machine's, whatever it is
    assert found.version == 4 and not found.is_unspecified


def test_links_use_the_lan_address_only_when_listening_everywhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sandbox_runner, "_routed_address", lambda: [LAN])
    assert public_host("0.0.0.0") == LAN and local_host("0.0.0.0") == "127.0.0.1"
    assert public_host("127.0.0.1") == "127.0.0.1" == local_host("127.0.0.1")
    assert public_host("192.168.7.7") == "192.168.7.7" == local_host("192.168.7.7")
    # No network at all: the sandbox still runs, on loopback links.
    monkeypatch.setattr(sandbox_runner, "_routed_address", lambda: [])
    monkeypatch.setattr(sandbox_runner, "_hostname_addresses", lambda: ["127.0.1.1"])
    assert public_host("0.0.0.0") == "127.0.0.1"


def via_loopback(url: str) -> str:
    return url.replace(f"//{LAN}:", "//127.0.0.1:")


async def test_on_all_interfaces_the_card_and_links_carry_the_lan_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_runner, "_routed_address", lambda: [LAN])
    sandbox = await start_sandbox(
        app_port=0,
        ui_port=0,
        host="0.0.0.0",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'lan.db'}",
    )
    try:
        slack = sandbox.emulator
        assert sandbox.settings.public_base_url == sandbox.app_url
        assert sandbox.app_url.startswith(f"http://{LAN}:")
        assert sandbox.ui_url.startswith(f"http://{LAN}:")
        assert sandbox.settings.slack_api_url.startswith("http://127.0.0.1:")  # app ↔ stand-in
        await slack.wait_until(lambda: slack.workspace.history("C_MARKETING"))
        delivery = await slack.click_button("U_ANN", "get_share_card", channel="C_MARKETING")
        assert delivery.status == 200
        card: Message = await slack.wait_until(
            lambda: next((m for m in slack.dm_messages("U_ANN") if m.files), None)
        )
        link = LINK.search(card.text)
        assert link and link.group(0).startswith(f"{sandbox.app_url}/s/"), card.text
        png = slack.workspace.files[card.files[0]].content
        codes = zxingcpp.read_barcodes(Image.open(BytesIO(png)))
        assert codes and codes[0].text.startswith(f"{sandbox.app_url}/s/")

        async with aiohttp.ClientSession() as http:
            async with http.get(via_loopback(link.group(0))) as response:
                assert response.status == 200
                assert "<form" in await response.text()
            async with http.get(via_loopback(f"{sandbox.ui_url}/u/U_ANN/D_U_ANN")) as response:
                assert response.status == 200
                page = await response.text()
            image = re.search(r'<img class="file-image" src="([^"]+)"', page)
            assert image and image.group(1).startswith("/files/")  # works from any origin
            async with http.get(via_loopback(sandbox.ui_url) + image.group(1)) as response:
                assert response.status == 200 and await response.read() == png
    finally:
        await sandbox.stop()


async def test_cli_on_all_interfaces_prints_lan_links(tmp_path: Path) -> None:
    lan = lan_address()
    process = await _start(
        tmp_path, "--host", "0.0.0.0", "--platform", "slack", "--port", "0", "--ui-port", "0"
    )
    assert process.stdout is not None and process.stderr is not None
    first = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
    second = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
    ui = re.search(rf"open http://{re.escape(lan)}:(\d+)/ in your browser", first)
    app = re.search(rf"share links and QR codes at http://{re.escape(lan)}:(\d+)", second)
    assert ui and app, first + second + (await process.stderr.read()).decode()
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{ui.group(1)}/") as response,
    ):
        assert response.status == 200 and "李雷" in await response.text()
    process.send_signal(signal.SIGTERM)
    rest = (await asyncio.wait_for(process.stderr.read(), timeout=30)).decode()
    assert await process.wait() == 0, rest
