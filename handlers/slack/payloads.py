"""A shape check for Slack requests, before bolt routes them.

bolt assumes well-formed payloads (e.g. `actions` a list of objects); a malformed one
raises deep inside its matchers and becomes a 500. Requests are checked here after the
signature, so only the shapes our listeners rely on are enforced.
"""

from __future__ import annotations

from typing import Any


def _is_obj(value: Any) -> bool:
    return isinstance(value, dict)


def _has_user(payload: dict[str, Any]) -> bool:
    user = payload.get("user")
    return isinstance(user, dict) and isinstance(user.get("id"), str)


def _view_ok(view: Any) -> bool:
    if not _is_obj(view):
        return False
    state = view.get("state", {"values": {}})
    if not _is_obj(state) or not _is_obj(state.get("values", {})):
        return False
    return all(
        _is_obj(block) and all(_is_obj(element) for element in block.values())
        for block in state.get("values", {}).values()
    )


def delivery_key(body: dict[str, Any]) -> str | None:
    """What makes a Slack request unique: a retry of it carries the same key.

    Events have an event_id; commands and every interactive payload carry a fresh
    trigger_id per user action, repeated only when Slack re-sends the same request."""
    if body.get("type") == "event_callback" and isinstance(body.get("event_id"), str):
        return f"event:{body['event_id']}"
    trigger = body.get("trigger_id")
    if isinstance(trigger, str) and trigger:
        return f"trigger:{trigger}"
    return None


def problem(body: dict[str, Any]) -> str | None:
    """Why this parsed request body cannot be handled, or None if it can."""
    if "command" in body:
        return None if isinstance(body.get("user_id"), str) else "command without user_id"
    if "payload" in body:
        return "payload is not a JSON object"  # bolt leaves unparseable payloads as strings
    kind = body.get("type")
    if kind in ("url_verification", "ssl_check", "app_rate_limited"):
        return None
    if kind == "event_callback":
        return None if _is_obj(body.get("event")) else "event_callback without event"
    if kind == "block_actions":
        actions = body.get("actions")
        if not _has_user(body):
            return "block_actions without user"
        if not isinstance(actions, list) or not actions or not all(map(_is_obj, actions)):
            return "block_actions without actions"
        if "view" in body and not _view_ok(body["view"]):
            return "malformed view"
        return None
    if kind in ("view_submission", "view_closed"):
        if not _has_user(body):
            return f"{kind} without user"
        return None if _view_ok(body.get("view")) else "malformed view"
    if kind in ("shortcut", "message_action", "block_suggestion"):
        return None if _has_user(body) else f"{kind} without user"
    return f"unsupported request type {str(kind)[:40]!r}"


def action_value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    action = actions[0]
    value = action.get("value")
    if value is None and isinstance(action.get("selected_option"), dict):
        value = action["selected_option"].get("value")
    return str(value or "")


def user_of(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id", ""))
