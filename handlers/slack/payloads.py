"""A shape check for Slack requests, before bolt routes them.

bolt assumes well-formed payloads (e.g. `actions` a list of objects); a malformed one
raises deep inside its matchers and becomes a 500. Requests are checked here after the
signature, so only the shapes our listeners rely on are enforced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.request.internals import parse_body

from bot.text import storable

Check = Callable[[Any], bool]


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_obj(value: Any) -> bool:
    return isinstance(value, dict)


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _maybe(check: Check) -> Check:
    return lambda value: value is None or check(value)


def _either(*checks: Check) -> Check:
    return lambda value: any(check(value) for check in checks)


def _list_of(check: Check) -> Check:
    return lambda value: isinstance(value, list) and all(map(check, value))


def _shape(required: Mapping[str, Check] | None = None, **optional: Check) -> Check:
    """A JSON object with every `required` field, and fields that pass their checks."""
    need = dict(required or {})

    def check(value: Any) -> bool:
        if not isinstance(value, dict) or any(name not in value for name in need):
            return False
        fields = {**optional, **need}
        return all(name not in value or fields[name](value[name]) for name in fields)

    return check


def _map_of(check: Check) -> Check:
    return lambda value: isinstance(value, dict) and all(map(check, value.values()))


# The fields bolt's matchers and context builder, and our listeners, index or call methods
# on: where present they must have Slack's types (a missing one is each reader's business).
_ID = _shape(id=_is_str)
_REF = _either(_is_str, _ID)  # team, enterprise: an id or {"id": ...}
_OPTION = _shape(value=_is_str)
_MESSAGE = _shape(ts=_is_str, thread_ts=_is_str, text=_maybe(_is_str), blocks=_list_of(_is_obj))
_STATE = _shape(values=_map_of(_map_of(_is_obj)))
_VIEW = _shape(
    {"type": _is_str, "callback_id": _is_str},
    id=_is_str,
    state=_STATE,
    private_metadata=_is_str,
    hash=_is_str,
    blocks=_list_of(_is_obj),
    app_installed_team_id=_maybe(_is_str),
    team_id=_maybe(_is_str),
    root_view_id=_maybe(_is_str),
)
_ACTION = _shape(
    {"action_id": _is_str},
    block_id=_is_str,
    type=_is_str,
    value=_is_str,
    selected_option=_maybe(_OPTION),
    selected_options=_list_of(_OPTION),
    selected_users=_list_of(_is_str),
)
_EVENT = _shape(
    {"type": _is_str},
    user=_either(_is_str, _ID),
    channel=_either(_is_str, _ID),
    ts=_is_str,
    thread_ts=_is_str,
    subtype=_maybe(_is_str),
    text=_maybe(_is_str),
    channel_type=_is_str,
    bot_id=_maybe(_is_str),
    tab=_is_str,
    files=_list_of(_is_obj),
    message=_MESSAGE,
    previous_message=_MESSAGE,
    item=_is_obj,
    view=_is_obj,
)
_ENVELOPE = _shape(
    type=_is_str,
    token=_is_str,
    api_app_id=_is_str,
    team=_maybe(_REF),
    enterprise=_maybe(_REF),
    user=_ID,
    channel=_maybe(_ID),
    team_id=_maybe(_is_str),
    enterprise_id=_maybe(_is_str),
    user_id=_is_str,
    channel_id=_maybe(_is_str),
    trigger_id=_is_str,
    response_url=_is_url,
    response_urls=_list_of(_shape({"response_url": _is_url})),
    authorizations=_list_of(
        _shape(
            team_id=_maybe(_is_str),
            user_id=_maybe(_is_str),
            enterprise_id=_maybe(_is_str),
            is_enterprise_install=_is_bool,
        )
    ),
    is_enterprise_install=_is_bool,
    is_ext_shared_channel=_is_bool,
    container=_is_obj,
    message=_MESSAGE,
    state=_STATE,
    view=_VIEW,
    actions=_list_of(_ACTION),
    event=_EVENT,
    event_id=_is_str,
    thread_ts=_is_str,
    callback_id=_is_str,
    action_id=_is_str,
    text=_is_str,
)
_WITH_USER = {"user": _ID}
# What each kind of request must carry, beyond the envelope's types.
_REQUIRED: dict[str, Mapping[str, Check]] = {
    "url_verification": {"challenge": _is_str},
    "event_callback": {"event": _EVENT},
    "block_actions": {
        **_WITH_USER,
        "trigger_id": _is_str,  # modals open with it
        "actions": lambda v: isinstance(v, list) and bool(v),
    },
    "view_submission": {**_WITH_USER, "trigger_id": _is_str, "view": _VIEW},
    "view_closed": {**_WITH_USER, "view": _VIEW},
    "shortcut": {**_WITH_USER, "trigger_id": _is_str, "callback_id": _is_str},
    "message_action": {**_WITH_USER, "trigger_id": _is_str, "callback_id": _is_str},
    "block_suggestion": {**_WITH_USER, "action_id": _is_str},
    "ssl_check": {},
    "app_rate_limited": {},
}


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


def problem_in(text: str, content_type: str) -> str | None:
    """Why this request body cannot be handled, parsed as bolt parses it; None if it can."""
    try:
        body = parse_body(text, content_type)
    except (ValueError, RecursionError):  # not JSON (or nested past the parser's stack)
        return "payload does not parse"
    if not isinstance(body, dict):
        return "payload is not a JSON object"
    if not _all_storable(body):
        return "text with a NUL character or an unpaired surrogate"
    return problem(body)


def _all_storable(body: Any) -> bool:
    """Every key and string in the body can be saved (listeners store ids, notes, texts)."""
    pending = [body]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not storable(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def problem(body: dict[str, Any]) -> str | None:
    """Why this parsed request body cannot be handled, or None if it can."""
    if "payload" in body:
        return "payload is not a JSON object"  # bolt leaves unparseable payloads as strings
    if "command" in body:  # a form of text fields; Slack always sends who and where to answer
        if not all(isinstance(v, str) for v in body.values()):
            return "malformed command"
        if "user_id" not in body or not _is_url(body.get("response_url")):
            return "command without user_id or response_url"
        return None
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in _REQUIRED:
        return f"unsupported request type {str(kind)[:40]!r}"
    for name, check in _REQUIRED[kind].items():
        if name not in body:
            return f"{kind} without {name}"
        if not check(body[name]):
            return f"{kind} with a malformed {name}"
    return None if _ENVELOPE(body) else f"malformed {kind}"


def action_value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    action = actions[0]
    value = action.get("value")
    if value is None and isinstance(action.get("selected_option"), dict):
        value = action["selected_option"].get("value")
    return str(value or "")


def user_of(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id", ""))
