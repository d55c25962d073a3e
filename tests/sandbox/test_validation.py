"""The Slack stand-in refuses what Slack refuses: Block Kit limits (through slack_sdk's own
validators and Slack's documented limits), duplicate ids, DMs to bots."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.emulator import SlackEmulator
from tests.sandbox.test_delivery import FakeApp
from tests.sandbox.test_emulator import MODAL, _trigger, slack_error


def section(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": value}, **extra}


def button(label: str, action_id: str = "go") -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": "1",
    }


def actions(*elements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements), **extra}


BAD_MESSAGE_BLOCKS = {
    "51 blocks": [{"type": "divider"}] * 51,
    "header text 151": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
    "section text 3001": [section("s" * 3001)],
    "11 fields": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
    "button text 76": [actions(button("b" * 76))],
    "action_id 256": [actions(button("ok", "a" * 256))],
    "block_id 256": [section("x", block_id="b" * 256)],
    "duplicate block_id": [section("x", block_id="same"), section("y", block_id="same")],
    "duplicate action_id in a block": [actions(button("one", "go"), button("two", "go"))],
    "unknown block type": [{"type": "carousel"}],
    "no type": [{"text": {"type": "plain_text", "text": "no type"}}],
}


@pytest.mark.parametrize("case", list(BAD_MESSAGE_BLOCKS))
async def test_messages_with_blocks_slack_refuses_are_refused(
    case: str, client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    blocks = BAD_MESSAGE_BLOCKS[case]
    for call in (
        client.chat_postMessage(channel="C_GENERAL", text="x", blocks=blocks),
        client.chat_postEphemeral(channel="C_GENERAL", user="U_ANN", text="x", blocks=blocks),
    ):
        error = await slack_error(call)
        assert error.response["error"] == "invalid_blocks"
        assert error.response["response_metadata"]["messages"], "Slack says why"
    posted = await client.chat_postMessage(channel="C_GENERAL", text="fine")
    error = await slack_error(
        client.chat_update(channel="C_GENERAL", ts=posted["ts"], text="x", blocks=blocks)
    )
    assert error.response["error"] == "invalid_blocks"
    assert [m.text for m in emulator.workspace.history("C_GENERAL")] == ["fine"]


async def test_blocks_slack_accepts_are_accepted(client: AsyncWebClient) -> None:
    """At the limits, and one action_id in several blocks (unique per block, not message)."""
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        section("s" * 3000, block_id="b" * 255),
        actions(button("b" * 75, "a" * 255)),
        section("one", accessory=button("stats", "my_stats")),
        section("two", accessory=button("stats", "my_stats")),
    ] + [{"type": "divider"}] * 45
    assert len(blocks) == 50
    await client.chat_postMessage(channel="C_GENERAL", text="x", blocks=blocks)


async def test_unparseable_blocks_are_a_format_error(api_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            api_url + "chat.postMessage",
            data={"channel": "C_GENERAL", "text": "x", "blocks": "[{not json"},
            headers={"Authorization": "Bearer xoxb-sandbox-token"},
        )
        assert (await response.json())["error"] == "invalid_blocks_format"


BAD_VIEWS = {
    "modal title 25": {**MODAL, "title": {"type": "plain_text", "text": "t" * 25}},
    "101 blocks": {**MODAL, "blocks": [{"type": "divider"}] * 101},
    "section text 3001": {**MODAL, "blocks": [section("s" * 3001)]},
    "duplicate block_id": {**MODAL, "blocks": [section("a", block_id="x")] * 2},
    "no title": {"type": "modal", "blocks": MODAL["blocks"]},
}


@pytest.mark.parametrize("case", list(BAD_VIEWS))
async def test_views_slack_refuses_are_refused(
    case: str, client: AsyncWebClient, emulator: SlackEmulator, app: FakeApp
) -> None:
    view = BAD_VIEWS[case]
    trigger_id = await _trigger(emulator, app)
    error = await slack_error(client.views_open(trigger_id=trigger_id, view=view))
    assert error.response["error"] == "invalid_arguments"
    assert error.response["response_metadata"]["messages"]
    assert emulator.workspace.views == {}


async def test_home_views_hold_at_most_100_blocks(
    client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    home = {"type": "home", "blocks": [section(f"line {n}") for n in range(100)]}
    await client.views_publish(user_id="U_LI", view=home)
    home["blocks"].append(section("one too many"))
    error = await slack_error(client.views_publish(user_id="U_LI", view=home))
    assert error.response["error"] == "invalid_arguments"
    published = emulator.workspace.home_of("U_LI")
    assert published is not None and len(published.view["blocks"]) == 100


async def test_a_bot_user_cannot_be_dmed(client: AsyncWebClient) -> None:
    error = await slack_error(client.chat_postMessage(channel="U_BOT", text="hello me"))
    assert error.response["error"] == "cannot_dm_bot"
    error = await slack_error(client.conversations_open(users="U_BOT"))
    assert error.response["error"] == "cannot_dm_bot"
