"""Requests from the emulator's "Slack" to the app: signatures, slash commands,
response_url, interactivity payloads, modal submissions and Events API retries.

The app here is a tiny aiohttp server (`FakeApp`) that checks every signature with
`sandbox.delivery.verify`, records what it received and answers as the test tells it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

import sandbox.delivery
from sandbox.delivery import sign, verify
from sandbox.emulator import SlackEmulator
from sandbox.forms import view_state
from tests.conftest import SIGNING_SECRET

JSON = dict[str, Any]


@dataclass
class Received:
    """One signed request that reached the app."""

    kind: str  # "command", a payload type ("block_actions", …) or an envelope type
    headers: dict[str, str]
    body: bytes
    data: JSON


Answer = Callable[[Received], Awaitable[web.StreamResponse]]


async def ack(_: Received) -> web.StreamResponse:
    return web.Response(status=200)


def answer_json(body: JSON) -> Answer:
    async def answer(_: Received) -> web.StreamResponse:
        return web.json_response(body)

    return answer


@dataclass
class FakeApp:
    """Plays the app behind the Request URL."""

    secret: str = SIGNING_SECRET
    received: list[Received] = field(default_factory=list)
    rejected: list[bytes] = field(default_factory=list)
    answer: Answer = ack
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/slack/events", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not verify(self.secret, timestamp, body, signature):
            self.rejected.append(body)
            return web.Response(status=401, text="invalid signature")
        if request.content_type == "application/json":
            data = json.loads(body)
            kind = str(data["type"])
        else:
            data = dict(parse_qsl(body.decode(), keep_blank_values=True))
            if "payload" in data:
                data = json.loads(data["payload"])
                kind = str(data["type"])
            else:
                kind = "command"
        received = Received(kind, dict(request.headers), body, data)
        self.received.append(received)
        return await self.answer(received)

    def hang(self) -> None:
        """Never acknowledge (until the test ends)."""

        async def answer(_: Received) -> web.StreamResponse:
            await self.release.wait()
            return web.Response(status=200)

        self.answer = answer

    def of_kind(self, kind: str) -> list[Received]:
        return [r for r in self.received if r.kind == kind]


async def trigger_for(emulator: SlackEmulator, app: FakeApp, user: str) -> str:
    """A fresh trigger_id, as the app gets it with a slash command."""
    await emulator.send_slash_command(user, "open")
    return str(app.of_kind("command")[-1].data["trigger_id"])


def texts(messages: list[Any]) -> list[str]:
    return [m.text for m in messages]


# signatures ------------------------------------------------------------------------


def test_sign_matches_slacks_documented_example() -> None:
    # https://api.slack.com/authentication/verifying-requests-from-slack
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
        b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
        b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com"
        b"%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert sign("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body) == expected
    assert verify("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body, expected)


async def test_app_verifies_what_the_endpoint_sends(emulator: SlackEmulator, app: FakeApp) -> None:
    delivery = await emulator.send_slash_command("U_ANN", "hello")
    assert delivery.status == 200
    assert app.rejected == []
    [request] = app.received
    timestamp = request.headers["X-Slack-Request-Timestamp"]
    signature = request.headers["X-Slack-Signature"]
    assert signature.startswith("v0=")
    assert verify(SIGNING_SECRET, timestamp, request.body, signature)
    # the real SDK's verifier (also checks the timestamp is fresh) agrees
    assert SignatureVerifier(SIGNING_SECRET).is_valid(request.body, timestamp, signature)
    # tampering with anything signed breaks it
    assert not verify(SIGNING_SECRET, timestamp, request.body + b"&x=1", signature)
    altered = request.body.replace(b"hello", b"hellO")
    assert altered != request.body
    assert not verify(SIGNING_SECRET, timestamp, altered, signature)
    assert not verify(SIGNING_SECRET, str(int(timestamp) + 1), request.body, signature)
    assert not verify("another-secret", timestamp, request.body, signature)
    assert request.headers["User-Agent"].startswith("Slackbot 1.0")


async def test_app_rejects_a_wrong_secret_or_signature(
    emulator: SlackEmulator, app: FakeApp
) -> None:
    forged = await emulator.send_slash_command("U_ANN", "hi", signature="v0=" + "0" * 64)
    assert forged.status == 401
    emulator.endpoint.signing_secret = "not-the-apps-secret"
    wrong = await emulator.send_slash_command("U_ANN", "hi")
    assert wrong.status == 401
    assert app.received == []
    assert len(app.rejected) == 2
    # the user sees Slack's dispatch_failed, only they do
    seen = texts(emulator.workspace.history("C_GENERAL", viewer="U_ANN"))
    assert seen == ['/sharetrail failed with the error "dispatch_failed"'] * 2
    assert emulator.workspace.history("C_GENERAL", viewer="U_BOB") == []


# slash commands and response_url ---------------------------------------------------


async def test_slash_command_form_fields(emulator: SlackEmulator, app: FakeApp) -> None:
    await emulator.send_slash_command("U_LI", "分享 campaign & more", channel="C_MARKETING")
    [request] = app.received
    assert request.kind == "command"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    fields = request.data
    assert fields["command"] == "/sharetrail"
    assert fields["text"] == "分享 campaign & more"
    assert fields["user_id"] == "U_LI"
    assert fields["user_name"] == "lilei"
    assert fields["channel_id"] == "C_MARKETING"
    assert fields["channel_name"] == "marketing"
    assert fields["team_id"] == "T_SANDBOX"
    assert fields["api_app_id"] == "A_SHARETRAIL"
    assert fields["response_url"].startswith(emulator.base_url + "/response/")
    assert fields["trigger_id"]
    # each command gets its own trigger and response_url
    await emulator.send_slash_command("U_LI", "again", command="/other", channel="U_LI")
    second = app.received[1].data
    assert second["command"] == "/other"
    assert second["channel_id"] == "D_U_LI"
    assert second["channel_name"] == "directmessage"
    assert second["trigger_id"] != fields["trigger_id"]
    assert second["response_url"] != fields["response_url"]


@pytest.mark.parametrize(
    ("answer", "visible_to_others"),
    [
        ({"text": "just for you"}, False),
        ({"response_type": "ephemeral", "text": "just for you"}, False),
        ({"response_type": "in_channel", "text": "for everyone"}, True),
    ],
)
async def test_slash_command_immediate_answer(
    emulator: SlackEmulator, app: FakeApp, answer: JSON, visible_to_others: bool
) -> None:
    app.answer = answer_json(answer)
    await emulator.send_slash_command("U_ANN", "hi")
    assert texts(emulator.workspace.history("C_GENERAL", viewer="U_ANN")) == [answer["text"]]
    others = texts(emulator.workspace.history("C_GENERAL", viewer="U_BOB"))
    assert others == ([answer["text"]] if visible_to_others else [])


async def test_response_url_ephemeral_and_in_channel(emulator: SlackEmulator, app: FakeApp) -> None:
    await emulator.send_slash_command("U_ANN", "report", channel="C_MARKETING")
    response_url = app.received[0].data["response_url"]
    async with aiohttp.ClientSession() as http:
        async with http.post(response_url, json={"text": "only Ann"}) as response:
            assert response.status == 200
            assert await response.json() == {"ok": True}
        async with http.post(
            response_url, json={"response_type": "ephemeral", "text": "still only Ann"}
        ) as response:
            assert response.status == 200
        async with http.post(
            response_url, json={"response_type": "in_channel", "text": "for all"}
        ) as response:
            assert response.status == 200
        async with http.post(emulator.base_url + "/response/nope", json={"text": "x"}) as gone:
            assert gone.status == 404
            assert (await gone.json())["error"] == "expired_url"
        async with http.post(response_url, data=b"{not json") as broken:
            assert broken.status == 400
    ann = texts(emulator.workspace.history("C_MARKETING", viewer="U_ANN"))
    assert ann == ["only Ann", "still only Ann", "for all"]
    assert texts(emulator.workspace.history("C_MARKETING", viewer="U_BOB")) == ["for all"]
    posted = emulator.workspace.history("C_MARKETING", viewer="U_ANN")
    assert all(m.user == "U_BOT" for m in posted)


async def _post_buttons(client: AsyncWebClient) -> str:
    response = await client.chat_postMessage(
        channel="C_MARKETING",
        text="New campaign",
        blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": "New campaign"}},
            {
                "type": "actions",
                "block_id": "choices",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "share",
                        "text": {"type": "plain_text", "text": "Share"},
                        "value": "campaign-42",
                    },
                    {
                        "type": "static_select",
                        "action_id": "network",
                        "placeholder": {"type": "plain_text", "text": "Network"},
                        "options": [
                            {
                                "text": {"type": "plain_text", "text": "LinkedIn"},
                                "value": "linkedin",
                            },
                            {"text": {"type": "plain_text", "text": "微博"}, "value": "weibo"},
                        ],
                    },
                ],
            },
        ],
    )
    return str(response["ts"])


async def test_response_url_replace_and_delete_original(
    emulator: SlackEmulator, app: FakeApp, client: AsyncWebClient
) -> None:
    ts = await _post_buttons(client)
    await emulator.click_button("U_ANN", "share", channel="C_MARKETING")
    first_url = app.received[-1].data["response_url"]
    async with aiohttp.ClientSession() as http:
        replace = {"replace_original": True, "text": "Shared ✓"}
        async with http.post(first_url, json=replace) as response:
            assert response.status == 200
        message = emulator.workspace.find_message("C_MARKETING", ts)
        assert message is not None
        assert (message.text, message.blocks, message.edited) == ("Shared ✓", [], True)
        assert len(emulator.workspace.history("C_MARKETING")) == 1

        emulator.workspace.find_message("C_MARKETING", ts).blocks = [  # type: ignore[union-attr]
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "undo",
                        "text": {"type": "plain_text", "text": "Undo"},
                    }
                ],
            }
        ]
        await emulator.click_button("U_ANN", "undo", channel="C_MARKETING")
        async with http.post(
            app.received[-1].data["response_url"], json={"delete_original": True}
        ) as response:
            assert response.status == 200
    assert emulator.workspace.find_message("C_MARKETING", ts) is None
    assert emulator.workspace.history("C_MARKETING", viewer="U_ANN") == []


# interactivity ---------------------------------------------------------------------


async def test_block_actions_button_payload(
    emulator: SlackEmulator, app: FakeApp, client: AsyncWebClient
) -> None:
    ts = await _post_buttons(client)
    delivery = await emulator.click_button("U_LI", "share", channel="C_MARKETING")
    assert delivery.status == 200
    [request] = app.received
    payload = request.data
    assert request.kind == "block_actions"
    assert payload["user"] == {
        "id": "U_LI",
        "username": "lilei",
        "name": "lilei",
        "team_id": "T_SANDBOX",
    }
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C_MARKETING",
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": "C_MARKETING", "name": "marketing"}
    assert payload["message"]["ts"] == ts
    assert payload["message"]["bot_id"] == "B_SHARETRAIL"
    assert payload["message"]["blocks"][1]["block_id"] == "choices"
    assert payload["response_url"].startswith(emulator.base_url + "/response/")
    assert payload["trigger_id"]
    [action] = payload["actions"]
    assert action["type"] == "button"
    assert action["action_id"] == "share"
    assert action["block_id"] == "choices"
    assert action["value"] == "campaign-42"
    assert action["text"] == {"type": "plain_text", "text": "Share"}
    assert float(action["action_ts"]) > 0


async def test_block_actions_static_select_payload(
    emulator: SlackEmulator, app: FakeApp, client: AsyncWebClient
) -> None:
    await _post_buttons(client)
    await emulator.click_button("U_ANN", "network", channel="C_MARKETING", selected="weibo")
    [action] = app.received[0].data["actions"]
    assert action["type"] == "static_select"
    assert action["action_id"] == "network"
    assert action["selected_option"] == {
        "text": {"type": "plain_text", "text": "微博"},
        "value": "weibo",
    }
    assert "value" not in action


async def test_click_on_element_nobody_offers_fails(emulator: SlackEmulator, app: FakeApp) -> None:
    with pytest.raises(LookupError):
        await emulator.click_button("U_ANN", "no-such-action")
    assert app.received == []


# modals ------------------------------------------------------------------------------

OPTIONS = [
    {"text": {"type": "plain_text", "text": "Red"}, "value": "red"},
    {"text": {"type": "plain_text", "text": "绿色"}, "value": "green"},
]


def _input(block_id: str, element: JSON, *, optional: bool = False) -> JSON:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": block_id},
        "element": {"action_id": f"{block_id}_action", **element},
    }


FORM: JSON = {
    "type": "modal",
    "callback_id": "everything",
    "private_metadata": '{"campaign": 42}',
    "title": {"type": "plain_text", "text": "Every input"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        _input("title", {"type": "plain_text_input"}),
        _input("count", {"type": "number_input", "is_decimal_allowed": False}),
        _input("email", {"type": "email_text_input"}, optional=True),
        _input("url", {"type": "url_text_input"}, optional=True),
        _input("date", {"type": "datepicker"}, optional=True),
        _input("time", {"type": "timepicker"}, optional=True),
        _input("when", {"type": "datetimepicker"}, optional=True),
        _input("color", {"type": "static_select", "options": OPTIONS}, optional=True),
        _input("colors", {"type": "multi_static_select", "options": OPTIONS}, optional=True),
        _input("owner", {"type": "users_select"}, optional=True),
        _input("team", {"type": "multi_users_select"}, optional=True),
        _input("where", {"type": "conversations_select"}, optional=True),
        _input("channel", {"type": "channels_select"}, optional=True),
        _input("wheres", {"type": "multi_conversations_select"}, optional=True),
        _input("checks", {"type": "checkboxes", "options": OPTIONS}, optional=True),
        _input(
            "radio",
            {"type": "radio_buttons", "options": OPTIONS, "initial_option": OPTIONS[0]},
            optional=True,
        ),
    ],
}

ENTERED: JSON = {
    "title": "春季活动",
    "count": "12",
    "email": "li@example.com",
    "url": "https://example.com/a",
    "date": "2025-03-01",
    "time": "09:30",
    "when": 1_740_000_000,
    "color": "green",
    "colors": ["red", "green"],
    "owner": "U_LI",
    "team": ["U_ANN", "U_BOB"],
    "where": "C_MARKETING",
    "channel": "C_GENERAL",
    "wheres": ["C_MARKETING", "D_U_LI"],
    "checks": ["green"],
    # "radio" left alone: keeps its initial_option
}

EXPECTED_VALUES: JSON = {
    "title": {"title_action": {"type": "plain_text_input", "value": "春季活动"}},
    "count": {"count_action": {"type": "number_input", "value": "12"}},
    "email": {"email_action": {"type": "email_text_input", "value": "li@example.com"}},
    "url": {"url_action": {"type": "url_text_input", "value": "https://example.com/a"}},
    "date": {"date_action": {"type": "datepicker", "selected_date": "2025-03-01"}},
    "time": {"time_action": {"type": "timepicker", "selected_time": "09:30", "timezone": "UTC"}},
    "when": {"when_action": {"type": "datetimepicker", "selected_date_time": 1_740_000_000}},
    "color": {"color_action": {"type": "static_select", "selected_option": OPTIONS[1]}},
    "colors": {"colors_action": {"type": "multi_static_select", "selected_options": OPTIONS}},
    "owner": {"owner_action": {"type": "users_select", "selected_user": "U_LI"}},
    "team": {"team_action": {"type": "multi_users_select", "selected_users": ["U_ANN", "U_BOB"]}},
    "where": {
        "where_action": {"type": "conversations_select", "selected_conversation": "C_MARKETING"}
    },
    "channel": {"channel_action": {"type": "channels_select", "selected_channel": "C_GENERAL"}},
    "wheres": {
        "wheres_action": {
            "type": "multi_conversations_select",
            "selected_conversations": ["C_MARKETING", "D_U_LI"],
        }
    },
    "checks": {"checks_action": {"type": "checkboxes", "selected_options": [OPTIONS[1]]}},
    "radio": {"radio_action": {"type": "radio_buttons", "selected_option": OPTIONS[0]}},
}


async def _open_form(
    emulator: SlackEmulator, app: FakeApp, client: AsyncWebClient, view: JSON = FORM
) -> str:
    trigger_id = await trigger_for(emulator, app, "U_LI")
    response = await client.views_open(trigger_id=trigger_id, view=view)
    return str(response["view"]["id"])


async def test_view_submission_state_values_for_every_input_type(
    emulator: SlackEmulator, app: FakeApp, client: AsyncWebClient
) -> None:
    view_id = await _open_form(emulator, app, client)
    delivery = await emulator.submit_view("U_LI", view_id, ENTERED)
    assert delivery.status == 200
    [request] = app.of_kind("view_submission")
    payload = request.data
    assert payload["user"]["id"] == "U_LI"
    assert payload["trigger_id"]
    view = payload["view"]
    assert view["id"] == view_id
    assert view["callback_id"] == "everything"
    assert view["private_metadata"] == '{"campaign": 42}'
    assert view["type"] == "modal"
    assert view["state"]["values"] == EXPECTED_VALUES
    assert view_state(FORM, ENTERED)["values"] == EXPECTED_VALUES
    # the empty acknowledgement closes the modal
    assert emulator.workspace.views[view_id].closed
    assert emulator.workspace.open_modals("U_LI") == []


async def test_view_submission_untouched_optional_inputs(
    emulator: SlackEmulator, app: FakeApp, client: AsyncWebClient
) -> None:
    view_id = await _open_form(emulator, app, client)
    await emulator.submit_view("U_LI", view_id, {"title": "t", "count": "1"})
    values = app.of_kind("view_submission")[0].data["view"]["state"]["values"]
    assert values["email"]["email_action"] == {"type": "email_text_input", "value": None}
    assert values["color"]["color_action"] == {"type": "static_select", "selected_option": None}
    assert values["colors"]["colors_action"]["selected_options"] == []
    assert values["team"]["team_action"]["selected_users"] == []
    assert values["when"]["when_action"]["selected_date_time"] is None


async def test_view_submission_errors_are_shown_on_the_view(
    emulator: SlackEmulator, app: FakeApp, client: AsyncWebClient
) -> None:
    view_id = await _open_form(emulator, app, client)
    app.answer = answer_json(
        {"response_action": "errors", "errors": {"title": "Too short", "count": "Too many"}}
    )
    await emulator.submit_view("U_LI", view_id, ENTERED)
    view = emulator.workspace.views[view_id]
    assert view.errors == {"title": "Too short", "count": "Too many"}
    assert not view.closed


async def test_view_submission_update_replaces_the_view(
    emulator: SlackEmulator, app: FakeApp, client: AsyncWebClient
) -> None:
    view_id = await _open_form(emulator, app, client)
    old_hash = emulator.workspace.views[view_id].hash
    done = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Saved"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "All set"}}],
    }
    app.answer = answer_json({"response_action": "update", "view": done})
    await emulator.submit_view("U_LI", view_id, ENTERED)
    view = emulator.workspace.views[view_id]
    assert not view.closed
    assert view.view == done
    assert view.hash != old_hash
    assert [v.id for v in emulator.workspace.open_modals("U_LI")] == [view_id]


async def test_required_empty_input_is_not_delivered(
    emulator: SlackEmulator, app: FakeApp, client: AsyncWebClient
) -> None:
    view_id = await _open_form(emulator, app, client)
    delivery = await emulator.submit_view("U_LI", view_id, {"title": "", "count": "3"})
    assert delivery.status == 0
    assert app.of_kind("view_submission") == []
    view = emulator.workspace.views[view_id]
    assert list(view.errors) == ["title"]
    assert not view.closed


async def test_closing_a_modal_notifies_only_when_asked(
    emulator: SlackEmulator, app: FakeApp, client: AsyncWebClient
) -> None:
    quiet = await _open_form(emulator, app, client)
    await emulator.close_view("U_LI", quiet)
    assert emulator.workspace.views[quiet].closed
    assert app.of_kind("view_closed") == []
    loud = await _open_form(emulator, app, client, {**FORM, "notify_on_close": True})
    await emulator.close_view("U_LI", loud)
    [closed] = app.of_kind("view_closed")
    assert closed.data["view"]["id"] == loud
    assert closed.data["user"]["id"] == "U_LI"


# events --------------------------------------------------------------------------------


async def test_event_callback_envelope(emulator: SlackEmulator, app: FakeApp) -> None:
    attempts = await emulator.send_event(
        {"type": "app_mention", "user": "U_ANN", "text": "<@U_BOT> hi", "channel": "C_GENERAL"}
    )
    assert [(a.status, a.timed_out) for a in attempts] == [(200, False)]
    [request] = app.received
    assert request.headers["Content-Type"] == "application/json"
    assert "X-Slack-Retry-Num" not in request.headers
    envelope = request.data
    assert envelope["type"] == "event_callback"
    assert envelope["team_id"] == "T_SANDBOX"
    assert envelope["api_app_id"] == "A_SHARETRAIL"
    assert envelope["event_id"].startswith("Ev")
    assert isinstance(envelope["event_time"], int)
    assert envelope["authorizations"][0]["user_id"] == "U_BOT"
    assert envelope["event"]["type"] == "app_mention"
    assert envelope["event"]["user"] == "U_ANN"
    assert float(envelope["event"]["event_ts"]) > 0


async def test_people_talking_reach_the_app_as_message_events(
    emulator: SlackEmulator, app: FakeApp
) -> None:
    parent = await emulator.say("U_ANN", "C_MARKETING", "hello")
    await emulator.say("U_LI", "C_MARKETING", "你好", thread_ts=parent.ts)
    await emulator.say("U_BOB", "U_BOB", "dm to the bot")
    events = [r.data["event"] for r in app.of_kind("event_callback")]
    assert [(e["user"], e["text"], e["channel_type"]) for e in events] == [
        ("U_ANN", "hello", "channel"),
        ("U_LI", "你好", "channel"),
        ("U_BOB", "dm to the bot", "im"),
    ]
    assert events[1]["thread_ts"] == parent.ts
    assert events[1]["parent_user_id"] == "U_ANN"
    assert events[2]["channel"] == "D_U_BOB"


async def test_unacknowledged_event_is_retried(
    emulator: SlackEmulator, app: FakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox.delivery, "ACK_TIMEOUT", 0.2)
    app.hang()
    attempts = await emulator.send_event({"type": "app_home_opened", "user": "U_ANN"}, retries=2)
    assert [a.timed_out for a in attempts] == [True, True, True]
    assert all(0.2 <= a.elapsed < 2.0 for a in attempts)
    assert len(app.received) == 3
    assert [r.headers.get("X-Slack-Retry-Num") for r in app.received] == [None, "1", "2"]
    assert [r.headers.get("X-Slack-Retry-Reason") for r in app.received] == [
        None,
        "http_timeout",
        "http_timeout",
    ]
    assert len({r.data["event_id"] for r in app.received}) == 1
    assert emulator.deliveries[-3:] == attempts


async def test_failed_event_is_retried_until_acknowledged(
    emulator: SlackEmulator, app: FakeApp
) -> None:
    answers = iter([web.Response(status=503), web.Response(status=200)])

    async def flaky(_: Received) -> web.StreamResponse:
        return next(answers)

    app.answer = flaky
    attempts = await emulator.send_event({"type": "app_home_opened", "user": "U_ANN"})
    assert [a.status for a in attempts] == [503, 200]
    assert app.received[1].headers["X-Slack-Retry-Num"] == "1"
    assert app.received[1].headers["X-Slack-Retry-Reason"] == "http_error"


async def test_slash_command_timeout_leaves_operation_timeout(
    emulator: SlackEmulator, app: FakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox.delivery, "ACK_TIMEOUT", 0.2)
    app.hang()
    delivery = await emulator.send_slash_command("U_ANN", "slow", channel="C_MARKETING")
    assert delivery.timed_out
    assert 0.2 <= delivery.elapsed < 2.0  # gave up after ACK_TIMEOUT, not the default 3 s
    [notice] = emulator.workspace.history("C_MARKETING", viewer="U_ANN")
    assert notice.user == "USLACKBOT"
    assert notice.text == '/sharetrail failed with the error "operation_timeout"'
    assert emulator.workspace.history("C_MARKETING", viewer="U_BOB") == []


async def test_nothing_is_delivered_without_an_app_url(emulator: SlackEmulator) -> None:
    with pytest.raises(RuntimeError, match="app_url"):
        await emulator.send_slash_command("U_ANN", "hi")
    # the setter accepts the base URL or the full Request URL
    emulator.app_url = "http://127.0.0.1:1/"
    assert emulator.app_url == "http://127.0.0.1:1/slack/events"
    emulator.app_url = "http://127.0.0.1:1/slack/events"
    assert emulator.app_url == "http://127.0.0.1:1/slack/events"
