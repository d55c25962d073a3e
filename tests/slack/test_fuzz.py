"""Fuzzing POST /slack/events with signed requests of every shape Slack sends, and shapes it
never sends: slash commands, block_actions, view_submission, events, and arbitrary forms and
JSON. A correctly signed request is still input: never a 5xx, never a traceback in the logs,
and Slack's 3-second acknowledgement always arrives.

Bounded like tests/web/test_fuzz.py (one app, derandomized, FUZZ_EXAMPLES to explore).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.slack import ids
from sandbox.delivery import Delivery
from tests.conftest import ADMIN, EMPLOYEE, SALES, Stack
from tests.fuzz_support import any_text, json_scalars, json_values
from tests.records_flows import lead_setup

EXPLORE = os.environ.get("FUZZ_EXAMPLES")
FUZZ = settings(
    max_examples=int(EXPLORE or 100),
    deadline=None,
    derandomize=not EXPLORE,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ANY_TEXT = any_text(30)
JSON_SCALAR = json_scalars(ANY_TEXT)
JSON = json_values(ANY_TEXT, max_size=3, max_leaves=10)


def values(*known: Any) -> st.SearchStrategy[Any]:
    """One of the values our listeners know, or any text."""
    return st.sampled_from(known) | ANY_TEXT


def shaped(strategy: st.SearchStrategy[Any], junk: bool) -> st.SearchStrategy[Any]:
    """What Slack sends; in a junk request, sometimes any JSON instead (a junk field anywhere
    stops a request at the shape check, so clean requests are drawn too, to reach listeners)."""
    return strategy | JSON if junk else strategy


USERS = values(ADMIN, EMPLOYEE, *SALES, "U_NOBODY", "U_BOT")
CHANNELS = values("C_MARKETING", "C_GENERAL", "D_U_SALES1", "C_NOPE")
NUMBERS = values(
    "1", "2", "0", "-1", "#1", "1:card_qr", "1:nope", "99999999999", str(10**23), "²", "١", ""
)
ACTION_IDS = values(
    *sorted({v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str)})
)
BLOCK_IDS = values(*sorted({v for k, v in vars(ids).items() if k.startswith("BLOCK_")}))
SUBCOMMANDS = st.sampled_from(
    [
        "",
        "help",
        "list",
        "new",
        "me",
        "me notify off",
        "me notify on",
        "stats",
        "leaderboard",
        "health",
        "sales list",
        "publish",
        "close",
        "export",
        "lead",
        "sales add",
        "sales remove",
        "bogus",
    ]
)
ARGUMENTS = st.lists(
    NUMBERS | st.sampled_from(["<@U_SALES2|bo>", "<#C_MARKETING|marketing>", "<@U_ANN>", "<#C>"]),
    max_size=3,
)


@dataclass(frozen=True)
class World:
    """What exists, so that fuzzed ids sometimes name real things."""

    stack: Stack
    lead_dm_ts: str
    share_url: str

    def response_url(self, user: str, channel: str) -> str:
        return self.stack.slack._response_url(user, channel)


@pytest.fixture
async def world(stack: Stack) -> World:
    setup = await lead_setup(stack)
    return World(stack, setup.lead_dm.ts, setup.card.url)


@st.composite
def commands(draw: st.DrawFn, world: World) -> Callable[[], Any]:
    user, channel = draw(USERS), draw(CHANNELS)
    text = " ".join([draw(SUBCOMMANDS), *draw(ARGUMENTS)]).strip()
    fields = {
        "command": "/sharetrail",
        "text": text,
        "user_id": user,
        "channel_id": channel,
        "team_id": "T_SANDBOX",
        "trigger_id": draw(values("", "1.2.3")),
        "response_url": world.response_url(user, channel),
    }
    junk = draw(st.sampled_from(["", "missing", "command", "extra"]))
    if junk == "missing":  # a field Slack always sends
        del fields[draw(st.sampled_from(sorted(fields)))]
    elif junk == "command":
        fields["command"] = draw(ANY_TEXT)
    elif junk == "extra":  # fields Slack never sends
        fields.update(draw(st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=2)))
    return lambda: world.stack.slack.endpoint.post_form("command", fields)


def actions(junk: bool) -> st.SearchStrategy[Any]:
    action = st.fixed_dictionaries(
        {"action_id": ACTION_IDS, "type": st.sampled_from(["button", "static_select"])},
        optional={
            "value": NUMBERS,
            "block_id": ANY_TEXT,
            "selected_option": shaped(st.builds(lambda v: {"value": v}, NUMBERS), junk),
            "action_ts": st.just("1.2"),
        },
    )
    return shaped(st.lists(shaped(action, junk), min_size=1, max_size=2), junk)


def view_state(junk: bool) -> st.SearchStrategy[Any]:
    element = st.one_of(
        st.builds(lambda v: {"type": "plain_text_input", "value": v}, ANY_TEXT | NUMBERS),
        st.builds(lambda v: {"type": "number_input", "value": v}, NUMBERS),
        st.builds(lambda v: {"type": "datetimepicker", "selected_date_time": v}, JSON_SCALAR),
        st.builds(lambda v: {"type": "static_select", "selected_option": v}, JSON),
        st.builds(lambda v: {"type": "multi_users_select", "selected_users": v}, JSON),
        st.builds(lambda v: {"type": "file_input", "files": v}, JSON),
        st.builds(lambda v: {"type": "rich_text_input", "rich_text_value": v}, JSON),
        st.dictionaries(ANY_TEXT, JSON, max_size=3),
    )
    fields = st.dictionaries(BLOCK_IDS, st.dictionaries(values(ids.VALUE), element, max_size=2))
    return shaped(st.builds(lambda v: {"values": v}, fields), junk)


def views(junk: bool) -> st.SearchStrategy[Any]:
    callback_ids = values(ids.ACTIVITY_MODAL, ids.LOG_CONTACT_MODAL, ids.DETAILS_MODAL, "")
    view = st.fixed_dictionaries(
        {
            "id": st.just("V1"),
            "type": shaped(st.sampled_from(["modal", "home"]), junk),
            "callback_id": shaped(callback_ids, junk),
            "state": view_state(junk),
        },
        optional={"private_metadata": NUMBERS, "hash": ANY_TEXT, "blocks": st.just([])},
    )
    return shaped(view, junk)


@st.composite
def interactions(draw: st.DrawFn, world: World) -> Callable[[], Any]:
    junk = draw(st.booleans())
    user = draw(USERS)
    kinds = ("block_actions", "view_submission", "view_closed")
    kind = draw(values(*kinds) if junk else st.sampled_from(kinds))
    user_ref = {"id": user, "username": "x", "team_id": "T_SANDBOX"}
    payload: dict[str, Any] = {
        "type": kind,
        "user": draw(shaped(st.just(user_ref), junk)),
        "team": draw(shaped(st.just({"id": "T_SANDBOX", "domain": "sandbox"}), junk)),
        "trigger_id": draw(values("1.2.3")),
    }
    if kind == "block_actions" or draw(st.booleans()):
        payload["actions"] = draw(actions(junk))
    if kind != "block_actions" or draw(st.booleans()):
        payload["view"] = draw(views(junk))
    if draw(st.booleans()):
        channel = draw(CHANNELS)
        ts = draw(values(world.lead_dm_ts, "1.2"))
        payload["channel"] = draw(shaped(st.just({"id": channel, "name": "x"}), junk))
        container = {"type": "message", "channel_id": channel, "message_ts": ts}
        payload["container"] = draw(shaped(st.just(container), junk))
        payload["message"] = draw(shaped(st.just({"ts": ts, "text": "", "blocks": []}), junk))
        payload["response_url"] = world.response_url(user, channel)
    if junk:  # a field Slack always sends is missing; fields it never sends
        del payload[draw(st.sampled_from(sorted(payload)))]
        payload.update(draw(st.dictionaries(ANY_TEXT, JSON, max_size=2)))
    return lambda: world.stack.slack.endpoint.post_payload(str(kind), payload)


@st.composite
def events(draw: st.DrawFn, world: World) -> Callable[[], Any]:
    junk = draw(st.booleans())
    kinds = ("message", "app_home_opened", "link_shared")
    event: dict[str, Any] = {"type": draw(values(*kinds) if junk else st.sampled_from(kinds))}
    link = st.builds(lambda u: {"url": u, "domain": "127.0.0.1"}, values(world.share_url))
    optional = {
        "user": USERS,
        "channel": CHANNELS,
        "channel_type": values("im", "channel"),
        "ts": values("1.5", world.lead_dm_ts),
        "thread_ts": values(world.lead_dm_ts),
        "message_ts": values("1.5", world.lead_dm_ts),
        "text": ANY_TEXT,
        "subtype": values(None, "file_share", "bot_message"),
        "tab": values("home", "messages"),
        "files": st.lists(shaped(st.builds(lambda f: {"id": f}, ANY_TEXT), junk), max_size=2),
        "links": st.lists(shaped(link, junk), max_size=2),
        "unfurl_id": ANY_TEXT,
        "source": values("conversations_history", "composer"),
    }
    for name in draw(st.sets(st.sampled_from(sorted(optional)), max_size=7)):
        event[name] = draw(shaped(optional[name], junk))
    envelope: dict[str, Any] = {
        "type": draw(shaped(st.just("event_callback"), junk)),
        "event_id": draw(ANY_TEXT),
        "team_id": "T_SANDBOX",
        "event": draw(shaped(st.just(event), junk)),
        "authorizations": draw(
            shaped(st.just([{"team_id": "T_SANDBOX", "user_id": "U_BOT"}]), junk)
        ),
    }
    if junk:
        if draw(st.booleans()):
            del envelope[draw(st.sampled_from(sorted(envelope)))]
        envelope.update(draw(st.dictionaries(ANY_TEXT, JSON, max_size=2)))
    body = json.dumps(envelope).encode()
    return lambda: world.stack.slack.endpoint.post("event", body, "application/json")


@st.composite
def anything(draw: st.DrawFn, world: World) -> Callable[[], Any]:
    """Signed bodies of any shape: JSON, a form, a form whose payload is any JSON, a URL
    verification."""
    endpoint = world.stack.slack.endpoint
    choice = draw(st.integers(0, 3))
    if choice == 0:
        body = json.dumps(draw(JSON)).encode()
        return lambda: endpoint.post("json", body, "application/json")
    if choice == 1:
        fields = draw(st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=4))
        return lambda: endpoint.post_form("form", fields)
    if choice == 2:
        verification = {"type": "url_verification", "challenge": draw(JSON), "token": "t"}
        body = json.dumps(verification).encode()
        return lambda: endpoint.post("json", body, "application/json")
    payload = json.dumps(draw(JSON))
    return lambda: endpoint.post_form("payload", {"payload": payload})


HEADER_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x7f"), max_size=20
)


@st.composite
def signatures(draw: st.DrawFn, world: World) -> Callable[[], Any]:
    """A body signed with any timestamp (the signature then matches it), or any signature."""
    body = draw(st.sampled_from([b"command=%2Fsharetrail&text=help", b"{}", b"\xff\xfe"]))
    when = draw(st.none() | HEADER_TEXT.filter(str.strip) | st.integers().map(str))
    signature = draw(st.none() | HEADER_TEXT.filter(str.strip).map(lambda v: "v0=" + v))
    kind = "application/x-www-form-urlencoded"
    return lambda: world.stack.slack.endpoint.post(
        "signed", body, kind, timestamp=when, signature=signature
    )


@FUZZ
@given(data=st.data())
async def test_signed_slack_requests_never_answer_5xx(
    world: World, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    shape = data.draw(st.sampled_from([commands, interactions, events, anything, signatures]))
    send = data.draw(shape(world))
    before = len(caplog.records)
    delivery: Delivery = await send()
    assert not delivery.timed_out and 0 < delivery.status < 500, (delivery.request, delivery)
    await world.stack.settle()
    bad = [r for r in caplog.records[before:] if r.levelno >= logging.ERROR or r.exc_info]
    assert bad == [], (delivery.request, [r.getMessage() for r in bad])
