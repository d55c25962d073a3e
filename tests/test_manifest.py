"""slack-manifest.yml asks for exactly the scopes the code's Web API calls and events need,
subscribes to exactly the events it listens to, and runs in the mode the README offers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
CODE = [p for folder in ("bot", "handlers") for p in (ROOT / folder).rglob("*.py")]

# Bot scopes per Web API method (https://api.slack.com/methods/<method>, "Required scopes").
# History is read in DMs (lead threads, outbox look-ups) and in the public or private channel
# an activity was published to (publishing's look-up of a post whose answer was lost).
HISTORY = {"im:history", "channels:history", "groups:history"}
METHOD_SCOPES: dict[str, set[str]] = {
    "auth_test": set(),
    "chat_delete": {"chat:write"},
    "chat_getPermalink": set(),
    "chat_postEphemeral": {"chat:write"},
    "chat_postMessage": {"chat:write"},
    "chat_unfurl": {"links:write"},
    "chat_update": {"chat:write"},
    "conversations_history": HISTORY,
    "conversations_info": {"channels:read", "groups:read"},
    "conversations_join": {"channels:join"},
    "conversations_open": {"im:write"},
    "conversations_replies": HISTORY,
    "files_delete": {"files:write"},
    "files_info": {"files:read"},
    "files_upload_v2": {"files:write"},
    "reactions_add": {"reactions:write"},
    "users_info": {"users:read", "users:read.email"},  # the email goes on share cards
    "users_list": {"users:read", "users:read.email"},
    "views_open": set(),
    "views_publish": set(),
    "views_push": set(),
    "views_update": set(),
}
# Events the code listens to: (manifest bot event, its scopes).
EVENT_SUBSCRIPTIONS: dict[str, tuple[str, set[str]]] = {
    "app_home_opened": ("app_home_opened", set()),
    "link_shared": ("link_shared", {"links:read"}),
    "message": ("message.im", {"im:history"}),  # DMs only: lead threads
}
CALL = re.compile(
    r"\.((?:auth|chat|conversations|files|reactions|users|views|team|bots)_[A-Za-z0-9_]+)\("
)


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "slack-manifest.yml").read_text())
    return loaded


def found(pattern: str) -> set[str]:
    return {m for path in CODE for m in re.findall(pattern, path.read_text(encoding="utf-8"))}


def test_scopes_are_exactly_what_the_calls_and_events_need() -> None:
    methods = found(CALL.pattern)
    assert "chat_postMessage" in methods and "files_upload_v2" in methods, methods
    unknown = methods - set(METHOD_SCOPES)
    assert not unknown, f"add the scopes of {sorted(unknown)} to METHOD_SCOPES"
    events = found(r"app\.event\(\"([a-z_.]+)\"\)")
    assert set(events) <= set(EVENT_SUBSCRIPTIONS), events
    commands = found(r"app\.command\(\"(/[a-z]+)\"\)")

    needed = set().union(*(METHOD_SCOPES[m] for m in methods))
    needed |= set().union(*(EVENT_SUBSCRIPTIONS[e][1] for e in events))
    needed |= {"commands"} if commands else set()
    granted = manifest()["oauth_config"]["scopes"]["bot"]
    assert len(granted) == len(set(granted))
    assert sorted(set(granted) - needed) == [], "scopes nothing in the code uses"
    assert sorted(needed - set(granted)) == [], "scopes the code needs"

    subscribed = manifest()["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(subscribed) == sorted(EVENT_SUBSCRIPTIONS[e][0] for e in events)
    slash = [c["command"] for c in manifest()["features"]["slash_commands"]]
    assert sorted(slash) == sorted(commands)


def test_http_mode_as_the_readme_offers_with_share_links_unfurled() -> None:
    """`sharetrail serve` runs HTTP at /slack/events unless SLACK_APP_TOKEN is set."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "With `SLACK_APP_TOKEN` set it uses Socket Mode" in readme
    settings = manifest()["settings"]
    assert settings["socket_mode_enabled"] is False
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        *(c["url"] for c in manifest()["features"]["slash_commands"]),
    ]
    assert {urlsplit(u).path for u in urls} == {"/slack/events"}
    hosts = {urlsplit(u).hostname for u in urls}
    assert manifest()["features"]["unfurl_domains"] == sorted(hosts)
    assert "SLACK_APP_TOKEN" in (ROOT / "slack-manifest.yml").read_text(encoding="utf-8")
