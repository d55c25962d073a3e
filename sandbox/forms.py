"""Input elements → `view.state.values`, in the exact shapes Slack sends with payloads.

Both the tests (simple Python values) and the browser UI (form strings) go through
`element_state`, so the app receives the same JSON either way.
"""

from __future__ import annotations

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


def element_state(element: JSON, raw: Any) -> JSON:
    """The state value Slack reports for `element` when the user entered `raw`."""
    kind = str(element.get("type"))
    state: JSON = {"type": kind}
    if kind == "file_input":  # files the user uploaded: Slack sends their file objects
        files = raw if isinstance(raw, (list, tuple)) else [raw]
        state["files"] = [f for f in files if isinstance(f, dict)][: element.get("max_files") or 10]
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
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
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
            filled = [v for k, v in value.items() if k != "type" and k != "timezone" and v]
            if not filled:
                errors[block_id] = "Please complete this required field."
    return errors
