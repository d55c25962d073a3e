"""Input elements → `view.state.values`, in the exact shapes Slack sends with payloads.

Both the tests (simple Python values) and the browser UI (form strings) go through
`element_state`, so the app receives the same JSON either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

INPUT_ELEMENTS = frozenset(
    {
        "plain_text_input",
        "number_input",
        "email_text_input",
        "url_text_input",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "static_select",
        "multi_static_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "checkboxes",
        "radio_buttons",
        "file_input",
        "rich_text_input",
    }
)


def input_elements(view: JSON) -> Iterator[tuple[str, JSON]]:
    """(block_id, element) for every input element of a view, in order."""
    for index, block in enumerate(view.get("blocks") or []):
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id") or f"block_{index}")
        if block.get("type") == "input" and isinstance(block.get("element"), dict):
            yield block_id, block["element"]
        elif block.get("type") in ("actions", "section"):
            candidates = (
                block.get("elements")
                if block.get("type") == "actions"
                else [block.get("accessory")]
            )
            for element in candidates or []:
                if isinstance(element, dict) and element.get("type") in INPUT_ELEMENTS:
                    yield block_id, element


def action_id_of(element: JSON, block_id: str, index: int = 0) -> str:
    return str(element.get("action_id") or f"{block_id}_{index}")


def _options(element: JSON) -> list[JSON]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return [o for o in options if isinstance(o, dict)]


def _option(element: JSON, value: str) -> JSON | None:
    return next((o for o in _options(element) if o.get("value") == value), None)


def _as_list(raw: Any) -> list[str]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, (list, tuple)):
        return [str(item) for item in raw if str(item) != ""]
    return [str(raw)]


def _as_epoch(raw: Any) -> int | None:
    """datetimepicker values: epoch seconds, a datetime, or an HTML datetime-local string."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        moment = raw if raw.tzinfo else raw.replace(tzinfo=UTC)
        return int(moment.timestamp())
    if isinstance(raw, (int, float)):
        return int(raw)
    text = str(raw)
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


EMPTY_RICH_TEXT: JSON = {"type": "rich_text", "elements": []}
_LIST_ITEM = re.compile(r"^(?P<pad>\s*)(?P<mark>[-•*]|\d+[.)])\s+(?P<text>.*)$")
_INLINE = re.compile(
    r"(?P<url>https?://[^\s<>|]+)|\*(?P<bold>[^*\n]+)\*|_(?P<italic>[^_\n]+)_|~(?P<strike>[^~\n]+)~"
)


def _inline(text: str) -> list[JSON]:
    """Typed words as rich text elements, formatted the way Slack's composer does as you type:
    *bold*, _italic_, ~strike~, and web addresses become links; nothing else is markup."""
    elements: list[JSON] = []
    position = 0
    for match in _INLINE.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        if match.group("url"):
            elements.append({"type": "link", "url": match.group("url")})
        else:
            style = next(name for name in ("bold", "italic", "strike") if match.group(name))
            elements.append({"type": "text", "text": match.group(style), "style": {style: True}})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    return elements


def rich_text_from_typing(raw: Any) -> JSON:
    """What a rich_text_input sends for typed text: paragraphs, and "- " / "1. " lines as
    bulleted and numbered lists (indented by two spaces per level)."""
    text = "" if raw is None else str(raw[0] if isinstance(raw, list) and raw else raw)
    parts: list[JSON] = []
    paragraph: list[str] = []

    def flush() -> None:
        words = "\n".join(paragraph).strip("\n")
        if words:
            parts.append({"type": "rich_text_section", "elements": _inline(words)})
        paragraph.clear()

    for line in text.replace("\r\n", "\n").split("\n"):
        item = _LIST_ITEM.match(line)
        if item is None:
            paragraph.append(line)
            continue
        flush()
        style = "ordered" if item.group("mark")[0].isdigit() else "bullet"
        indent = min(len(item.group("pad")) // 2, 8)
        section = {"type": "rich_text_section", "elements": _inline(item.group("text"))}
        last = parts[-1] if parts else None
        if (
            last
            and last["type"] == "rich_text_list"
            and (last["style"], last["indent"])
            == (
                style,
                indent,
            )
        ):
            last["elements"].append(section)
        else:
            parts.append(
                {"type": "rich_text_list", "style": style, "indent": indent, "elements": [section]}
            )
    flush()
    return {"type": "rich_text", "elements": parts}


_MARKS = {"bold": "*", "italic": "_", "strike": "~"}


def _typed_inline(elements: Any) -> str:
    words = []
    for element in elements if isinstance(elements, list) else []:
        if not isinstance(element, dict):
            continue
        text = str(element.get("text") or element.get("url") or "")
        for style, mark in _MARKS.items():
            if (element.get("style") or {}).get(style):
                text = f"{mark}{text}{mark}"
        words.append(text)
    return "".join(words)


def typing_from_rich_text(value: Any) -> str:
    """A rich_text value back as the text one would type for it (rich_text_from_typing)."""
    lines: list[str] = []
    for part in (value or {}).get("elements") or [] if isinstance(value, dict) else []:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "rich_text_list":
            pad = "  " * int(part.get("indent") or 0)
            for number, item in enumerate(part.get("elements") or [], start=1):
                mark = f"{number}." if part.get("style") == "ordered" else "-"
                lines.append(f"{pad}{mark} {_typed_inline((item or {}).get('elements'))}")
        else:
            lines.append(_typed_inline(part.get("elements")))
    return "\n".join(lines)


def element_state(element: JSON, raw: Any) -> JSON:
    """The state value Slack reports for `element` when the user entered `raw`."""
    kind = str(element.get("type"))
    state: JSON = {"type": kind}
    if kind == "file_input":  # files the user uploaded: Slack sends their file objects
        files = raw if isinstance(raw, (list, tuple)) else [raw]
        state["files"] = [f for f in files if isinstance(f, dict)][: element.get("max_files") or 10]
        return state
    if kind == "rich_text_input":  # Slack sends the composer's rich_text block
        state["rich_text_value"] = raw if isinstance(raw, dict) else rich_text_from_typing(raw)
        return state
    values = _as_list(raw)
    first = values[0] if values else None
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        state["value"] = first
    elif kind == "datepicker":
        state["selected_date"] = first
    elif kind == "timepicker":
        state["selected_time"] = first
        state["timezone"] = "UTC"
    elif kind == "datetimepicker":
        state["selected_date_time"] = _as_epoch(raw if not isinstance(raw, list) else first)
    elif kind in ("static_select", "radio_buttons"):
        state["selected_option"] = _option(element, first) if first else None
    elif kind in ("multi_static_select", "checkboxes"):
        state["selected_options"] = [o for v in values if (o := _option(element, v))]
    elif kind == "users_select":
        state["selected_user"] = first
    elif kind == "multi_users_select":
        state["selected_users"] = values
    elif kind in ("conversations_select", "channels_select"):
        key = "selected_conversation" if kind == "conversations_select" else "selected_channel"
        state[key] = first
    elif kind == "multi_conversations_select":
        state["selected_conversations"] = values
    return state


def initial_raw(element: JSON) -> Any:
    """What the element holds before the user touches it (its initial_* field)."""
    kind = element.get("type")
    if kind in (
        "plain_text_input",
        "number_input",
        "email_text_input",
        "url_text_input",
        "rich_text_input",
    ):
        return element.get("initial_value")
    if kind == "datepicker":
        return element.get("initial_date")
    if kind == "timepicker":
        return element.get("initial_time")
    if kind == "datetimepicker":
        return element.get("initial_date_time")
    if kind in ("static_select", "radio_buttons"):
        option = element.get("initial_option")
        return option.get("value") if isinstance(option, dict) else None
    if kind in ("multi_static_select", "checkboxes"):
        return [o.get("value") for o in element.get("initial_options") or []]
    if kind == "users_select":
        return element.get("initial_user")
    if kind == "multi_users_select":
        return element.get("initial_users") or []
    if kind == "conversations_select":
        return element.get("initial_conversation")
    if kind == "channels_select":
        return element.get("initial_channel")
    if kind == "multi_conversations_select":
        return element.get("initial_conversations") or []
    return None


def view_state(view: JSON, entered: dict[str, Any] | None = None) -> JSON:
    """`{"values": {block_id: {action_id: state}}}` from entered values.

    `entered` is keyed by block_id (the simple form tests use) or "block_id/action_id"
    (what the browser form posts); untouched elements keep their initial values.
    """
    entered = entered or {}
    values: dict[str, dict[str, JSON]] = {}
    for index, (block_id, element) in enumerate(input_elements(view)):
        action_id = action_id_of(element, block_id, index)
        key = f"{block_id}/{action_id}"
        if key in entered:
            raw = entered[key]
        elif block_id in entered:
            raw = entered[block_id]
        else:
            raw = initial_raw(element)
        values.setdefault(block_id, {})[action_id] = element_state(element, raw)
    return {"values": values}


def missing_required(view: JSON, state: JSON) -> dict[str, str]:
    """Slack itself refuses to submit a modal whose required inputs are empty."""
    errors: dict[str, str] = {}
    for block in view.get("blocks") or []:
        if not isinstance(block, dict) or block.get("type") != "input" or block.get("optional"):
            continue
        block_id = str(block.get("block_id", ""))
        for value in state["values"].get(block_id, {}).values():
            filled = [
                v
                for k, v in value.items()
                if k not in ("type", "timezone") and v and v != EMPTY_RICH_TEXT
            ]
            if not filled:
                errors[block_id] = "Please complete this required field."
    return errors
