"""Block Kit payload checks as strict as Slack's, so tests catch what Slack would refuse.

Each block and view is parsed with slack_sdk's own models (their validators raise
`SlackObjectFormationError`: header text 150, section text 3,000, fields 10, button text
75, action_id and block_id 255, modal title 24, 100 blocks per view, …), plus the rules
slack_sdk does not check: 50 blocks per message, unknown block types, block_ids unique in
one payload and action_ids unique in one block (Block Kit reference: "block_id should be
unique for each message"; action_id "should be unique among all other action_ids in the
containing block"). Slack answers `invalid_blocks` for messages and `invalid_arguments` for
views, with the reasons in `response_metadata.messages`.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
VIEW_TYPES = ("modal", "home")


def message_problems(blocks: Any) -> list[str]:
    """Why Slack would refuse these message blocks (empty: it accepts them)."""
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    problems = _block_problems(blocks)
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        problems.append(
            f"[ERROR] no more than {MAX_MESSAGE_BLOCKS} items allowed [json-pointer:/blocks]"
        )
    return problems


def view_problems(view: Any) -> list[str]:
    """Why Slack would refuse this view (modal or App Home)."""
    if not isinstance(view, dict) or view.get("type") not in VIEW_TYPES:
        return ["[ERROR] must be a modal or home view [json-pointer:/view/type]"]
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/view/blocks]"]
    problems = [p.replace("json-pointer:/", "json-pointer:/view/") for p in _block_problems(blocks)]
    if view["type"] == "modal" and not isinstance(view.get("title"), dict):
        problems.append("[ERROR] missing required field: title [json-pointer:/view/title]")
    if problems:
        return problems
    try:
        View(**view).to_dict()  # title 24, submit/close 24, 1-100 blocks, callback_id 255, …
    except (SlackObjectFormationError, TypeError, ValueError) as error:
        problems.append(f"[ERROR] {error} [json-pointer:/view]")
    return problems


def _block_problems(blocks: list[Any]) -> list[str]:
    problems: list[str] = []
    block_ids: set[str] = set()
    for index, raw in enumerate(blocks):
        where = f"[json-pointer:/blocks/{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            problems.append(f"[ERROR] missing required field: type {where}")
            continue
        problems.extend(f"[ERROR] {p} {where}" for p in _one_block(raw))
        block_id = raw.get("block_id")
        if isinstance(block_id, str):
            if block_id in block_ids:
                problems.append(f"[ERROR] duplicate block_id {block_id!r} {where}")
            block_ids.add(block_id)
    return problems


def _one_block(raw: dict[str, Any]) -> list[str]:
    try:
        block = Block.parse(raw)
        if block is None:
            return [f"unknown block type {raw['type']!r}"]
        block.to_dict()  # runs every validator of the block and of its elements
    except (SlackObjectFormationError, TypeError, ValueError, AttributeError) as error:
        return [str(error) or type(error).__name__]
    action_ids = [a for a in _action_ids(raw) if a]
    duplicates = sorted({a for a in action_ids if action_ids.count(a) > 1})
    return [f"duplicate action_id {a!r}" for a in duplicates]


def _action_ids(block: dict[str, Any]) -> list[str]:
    elements: list[Any] = []
    if block.get("type") in ("actions", "context"):
        elements = list(block.get("elements") or [])
    elif block.get("type") == "section":
        elements = [block.get("accessory")]
    elif block.get("type") == "input":
        elements = [block.get("element")]
    return [str(e.get("action_id") or "") for e in elements if isinstance(e, dict)]
