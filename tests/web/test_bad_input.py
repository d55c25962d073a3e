"""Bad input anywhere gets a clear 4xx and changes nothing: never a 500, never a traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from tests.conftest import ADMIN, EMPLOYEE, MOBILE_UA, Stack
from tests.flows import Card, create_activity, get_share_card, signup_form
from tests.records_flows import lead_setup, reply_to
from tests.web.test_checkin import good_form, request_link

ONE_MB = b"x" * (1024 * 1024)


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.INFO)
    yield
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert bad == [], [r.getMessage() for r in bad]


@pytest.fixture
async def activity_id(stack: Stack) -> int:
    return await create_activity(stack)


@pytest.fixture
async def card(stack: Stack, activity_id: int) -> Card:
    return await get_share_card(stack, EMPLOYEE, activity_id)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (b'{"name": "Wang", "phone": "+8613812345678"}', "application/json"),
        (b"name=%ZZ&phone=%%%", "application/x-www-form-urlencoded"),
        (
            b'--xx\r\nContent-Disposition: form-data; name="name"\r\n\r\nW',
            "multipart/form-data; boundary=xx",
        ),
        (b"", "text/plain"),
    ],
)
async def test_garbage_signup_bodies(
    stack: Stack, card: Card, body: bytes, content_type: str
) -> None:
    async with stack.http.post(
        f"{card.url}/signup", data=body, headers={"Content-Type": content_type}
    ) as response:
        assert 400 <= response.status < 500
        assert "<html" in (await response.text()).lower()


@pytest.mark.parametrize("path", ["/s/{code}/signup", "/s/{code}/beacon", "/slack/events"])
async def test_one_megabyte_posts_are_refused(stack: Stack, card: Card, path: str) -> None:
    code = card.url.rsplit("/", 1)[1]
    async with stack.http.post(
        stack.app_url + path.format(code=code),
        data=ONE_MB,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ) as response:
        assert response.status == 413


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'{"dwell_ms": "long"}',
        b'{"clicks": "phone"}',
        # Python's json reads these (JSON has no such numbers); int() of them raised.
        b'{"dwell_ms": NaN}',
        b'{"dwell_ms": Infinity}',
        b'{"scroll_pct": -Infinity}',
        b'{"dwell_ms": 1e400}',
        b'{"scroll_pct": 1e400, "dwell_ms": 10}',
    ],
)
async def test_bad_beacons(stack: Stack, card: Card, raw: bytes) -> None:
    async with stack.http.post(f"{card.url}/beacon", data=raw) as response:
        assert response.status == 400
        assert (await response.json())["ok"] is False


async def test_good_beacon(stack: Stack, card: Card) -> None:
    async with stack.http.get(card.url):
        pass
    beacon = {"dwell_ms": 5300, "scroll_pct": 80, "clicks": ["phone", "evil"]}
    async with stack.http.post(f"{card.url}/beacon", data=json.dumps(beacon)) as response:
        assert response.status == 204


async def test_unknown_routes_are_404_pages(stack: Stack) -> None:
    for path in ("/nope", "/s/", "/s/x/y/z", "/checkin/../../etc/passwd"):
        async with stack.http.get(stack.app_url + path) as response:
            assert response.status == 404


@pytest.mark.parametrize(
    "fields",
    [
        {"payload": "{not json"},
        {"payload": json.dumps([1, 2, 3])},
        {"payload": json.dumps({"type": "block_actions"})},
        {
            "payload": json.dumps(
                {"type": "block_actions", "user": {"id": "U_ANN"}, "actions": "nope"}
            )
        },
        {
            "payload": json.dumps(
                {
                    "type": "view_submission",
                    "user": {"id": "U_ADMIN"},
                    "view": {"callback_id": "activity_modal", "state": "??"},
                }
            )
        },
        {"payload": json.dumps({"type": "made_up"})},
        {"nothing": "here"},
    ],
)
async def test_malformed_slack_payloads(stack: Stack, fields: dict[str, str]) -> None:
    delivery = await stack.slack.endpoint.post_form("block_actions", fields)
    assert delivery.status < 500 and not delivery.timed_out
    await stack.settle()


async def test_unknown_action_ids_are_acknowledged(stack: Stack) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": EMPLOYEE},
        "team": {"id": "T_SANDBOX"},
        "trigger_id": "1.2.3",
        "actions": [{"type": "button", "action_id": "retired_button_v0", "value": "1"}],
    }
    delivery = await stack.slack.endpoint.post_payload("block_actions", payload)
    assert delivery.status == 200
    assert stack.slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("value", ["", "abc", "-1", "99999999999999", "1; DROP TABLE"])
async def test_bad_button_values_get_a_message(stack: Stack, value: str) -> None:
    await create_activity(stack)
    payload = {
        "type": "block_actions",
        "user": {"id": EMPLOYEE},
        "team": {"id": "T_SANDBOX"},
        "trigger_id": "1.2.3",
        "actions": [{"type": "button", "action_id": "get_share_card", "value": value}],
    }
    since = stack.slack.mark()
    delivery = await stack.slack.endpoint.post_payload("block_actions", payload)
    assert delivery.status == 200
    dm = await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: c.args["channel"] == EMPLOYEE, since=since
    )
    assert str(dm.args["text"]).startswith("⚠️")
    assert stack.slack.calls_to("files.completeUploadExternal", since) == []
    assert ADMIN


# Signed values (cookies, preview links, check-in tokens, the sign-up offer) are compared
# with hmac.compare_digest, which raises TypeError on a str holding non-ASCII text.
NON_ASCII_TOKENS = ["a.b.é", "李.1.李", "x.y.\udcff"]


@pytest.mark.parametrize("token", NON_ASCII_TOKENS)
async def test_non_ascii_visitor_cookie_is_a_new_visitor(
    stack: Stack, card: Card, token: str
) -> None:
    cookie = f"st_v={token}".encode("utf-8", "surrogateescape").decode("latin-1")
    async with stack.http.get(card.url, headers={"Cookie": cookie}) as response:
        assert response.status == 200
        assert response.cookies["st_v"].value.count(".") == 2  # a fresh, signed cookie


@pytest.mark.parametrize("token", NON_ASCII_TOKENS[::2])
async def test_non_ascii_own_link_cookie_is_ignored(
    stack: Stack, activity_id: int, card: Card, token: str
) -> None:
    cookie = f"st_own={token}".encode("utf-8", "surrogateescape").decode("latin-1")
    headers = {"Cookie": cookie, "User-Agent": MOBILE_UA}
    async with stack.http.get(card.url, headers=headers) as response:
        assert response.status == 200
    await stack.settle()
    # Counted: the forged cookie does not make the visitor the sharing employee.
    assert (await stack.services.report(activity_id)).totals.views == 1


@pytest.mark.parametrize("token", NON_ASCII_TOKENS[:2])
async def test_non_ascii_preview_link_just_opens_the_page(
    stack: Stack, card: Card, token: str
) -> None:
    async with stack.http.get(card.url, params={"me": token}, allow_redirects=False) as response:
        assert response.status == 303
        assert "st_own" not in response.cookies


@pytest.mark.parametrize("token", NON_ASCII_TOKENS[:2])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_non_ascii_check_in_token_is_not_valid(stack: Stack, token: str, method: str) -> None:
    url = f"{stack.app_url}/checkin/{token}"
    async with stack.http.request(method, url, data={"lat": "52.5"}) as response:
        assert response.status == 404
        assert "This check-in link is not valid" in await response.text()


@pytest.mark.parametrize("token", NON_ASCII_TOKENS[:2])
async def test_non_ascii_offer_still_signs_up(stack: Stack, card: Card, token: str) -> None:
    form = await signup_form(stack.http, card.url, {})
    fields = {**form, "name": "Wang Wei", "phone": "+86 138 1234 5678", "offer": token}
    async with stack.http.post(f"{card.url}/signup", data=fields) as response:
        assert response.status == 200, await response.text()


# A charset Python does not know (or one that is not a text encoding) made request.post()
# raise LookupError; an unknown part encoding RuntimeError; too many part headers
# BadHttpMessage.
UNREADABLE_FORMS = [
    (b"name=Wang&phone=%2B8613812345678", "application/x-www-form-urlencoded; charset=bogus-xyz"),
    (b"name=Wang&phone=%2B8613812345678", "application/x-www-form-urlencoded; charset=zlib"),
    (
        b'--xx\r\nContent-Disposition: form-data; name="name"\r\n'
        b"Content-Type: text/plain; charset=bogus-xyz\r\n\r\nWang\r\n--xx--\r\n",
        "multipart/form-data; boundary=xx",
    ),
    (
        b'--xx\r\nContent-Disposition: form-data; name="name"\r\n'
        b"Content-Transfer-Encoding: bogus\r\n\r\nWang\r\n--xx--\r\n",
        "multipart/form-data; boundary=xx",
    ),
    (
        b'--xx\r\nContent-Disposition: form-data; name="name"\r\n'
        + b"X-Filler: 1\r\n" * 200
        + b"\r\nWang\r\n--xx--\r\n",
        "multipart/form-data; boundary=xx",
    ),
]


@pytest.mark.parametrize(("body", "content_type"), UNREADABLE_FORMS)
async def test_unreadable_signup_forms_are_a_clear_400(
    stack: Stack, card: Card, body: bytes, content_type: str
) -> None:
    headers = {"Content-Type": content_type}
    async with stack.http.post(f"{card.url}/signup", data=body, headers=headers) as response:
        assert response.status == 400
        assert "The form could not be read" in await response.text()


async def test_unreadable_check_in_forms_are_a_clear_400(stack: Stack) -> None:
    link = await request_link(stack, await lead_setup(stack))
    for body, content_type in UNREADABLE_FORMS:
        headers = {"Content-Type": content_type}
        async with stack.http.post(link, data=body, headers=headers) as response:
            assert response.status == 400, content_type
            assert "The form could not be read" in await response.text()
    async with stack.http.post(link, data=good_form()) as response:
        assert response.status == 200  # the link was not used up by the unreadable forms


# slack_sdk's SignatureVerifier calls int() on the timestamp, decodes the body as UTF-8 and
# compares str digests: each of these raised inside it (a 500) instead of answering 401.
COMMAND = b"command=%2Fsharetrail&text=list&user_id=U_ANN&trigger_id=1.2.3"


async def test_slack_timestamps_that_are_not_numbers_are_401(stack: Stack) -> None:
    for timestamp in ["abc", " ", "1_700_000_000", "١٧٠٠٠٠٠٠٠٠", " 1700000000", "9" * 40, "1e9"]:
        delivery = await stack.slack.endpoint.post(
            "command", COMMAND, "application/x-www-form-urlencoded", timestamp=timestamp
        )
        assert delivery.status == 401, timestamp
    assert stack.slack.calls_to("chat.postMessage") == []


async def test_slack_signatures_with_any_text_are_401(stack: Stack) -> None:
    for signature in ["v0=é", "v0=\udcff", " ", "v0=" + "é" * 64]:
        delivery = await stack.slack.endpoint.post(
            "command", COMMAND, "application/x-www-form-urlencoded", signature=signature
        )
        assert delivery.status == 401, signature


async def test_unsigned_undecodable_slack_body_is_401(stack: Stack) -> None:
    delivery = await stack.slack.endpoint.post(
        "event", b"\xff\xfe{}", "application/json", signature="v0=" + "0" * 64
    )
    assert delivery.status == 401  # the signature is checked before anything is decoded


@pytest.mark.parametrize("body", [b"\xff\xfe{}", b'{"type": "url_verification", "x": "\xe9"}'])
async def test_signed_undecodable_slack_body_is_400(stack: Stack, body: bytes) -> None:
    delivery = await stack.slack.endpoint.post("event", body, "application/json")
    assert delivery.status == 400
    assert delivery.json == {"ok": False, "error": "body is not UTF-8"}


STATE: dict[str, object] = {"values": {}}


def interaction(kind: str, user: str = EMPLOYEE, **fields: object) -> dict[str, object]:
    """A signed interactive payload with what Slack always sends, plus `fields`."""
    return {"type": kind, "user": {"id": user}, "trigger_id": "1.2.3", **fields}


UNROUTABLE_PAYLOADS: list[dict[str, object]] = [
    # bolt's action matcher reads action["action_id"] (KeyError) and runs a regex on it.
    interaction("block_actions", actions=[{"type": "button", "value": "1"}]),
    interaction("block_actions", actions=[{"action_id": 5, "value": "1"}]),
    interaction("block_actions", actions=[{"action_id": "my_stats"}, 7]),
    # bolt's view matchers read view["type"] and match view["callback_id"] as text.
    interaction("view_submission", ADMIN, view={"callback_id": "activity_modal", "state": STATE}),
    interaction(
        "view_submission",
        ADMIN,
        view={"type": "modal", "callback_id": ["activity_modal"], "state": STATE},
    ),
    interaction("view_closed", view={"type": "modal", "callback_id": 1}),
    interaction("block_suggestion", action_id=None),
    interaction("shortcut"),
    # Listeners open modals with body["trigger_id"] (KeyError after the ack).
    {"type": "block_actions", "user": {"id": EMPLOYEE}, "actions": [{"action_id": "my_stats"}]},
]


async def test_signed_payloads_bolt_cannot_route_are_400(stack: Stack) -> None:
    for payload in UNROUTABLE_PAYLOADS:
        delivery = await stack.slack.endpoint.post_payload("interaction", payload)
        assert delivery.status == 400, (payload, delivery.body)
    await stack.settle()
    assert stack.slack.calls_to("chat.postMessage") == []


UNROUTABLE_BODIES: list[dict[str, object]] = [
    {"command": 5, "user_id": EMPLOYEE, "text": "list"},
    {"command": "/sharetrail", "user_id": EMPLOYEE, "text": ["list"]},
    {"type": "event_callback", "event": {"type": ["message"]}},
    {"type": "event_callback", "event": {"type": "message", "subtype": 3}},
    {"type": "url_verification"},
    # bolt's context builder indexes authorizations[0] (KeyError on an object).
    {"type": "event_callback", "event": {"type": "message"}, "authorizations": {"": None}},
    # Commands are answered through response_url ("respond is unsupported here").
    {"command": "/sharetrail", "user_id": EMPLOYEE, "text": "help"},
]


async def test_signed_json_bodies_bolt_cannot_route_are_400(stack: Stack) -> None:
    for body in UNROUTABLE_BODIES:
        delivery = await stack.slack.endpoint.post(
            "json", json.dumps(body).encode(), "application/json"
        )
        assert delivery.status == 400, (body, delivery.body)


@pytest.mark.parametrize("text", ["stats ²", "lead ١٢", "publish ³ <#C_MARKETING|marketing>"])
async def test_ids_that_are_not_ascii_digits_get_a_message(stack: Stack, text: str) -> None:
    # str.isdigit() accepts "²" and "١", which int() refuses (a ValueError in the listener).
    message = await reply_to(stack, ADMIN, text)
    assert "is not a" in message.text


@pytest.mark.parametrize("value", ["99999999999:card_qr", "²:card_qr"])
async def test_share_link_for_an_impossible_activity_gets_a_message(
    stack: Stack, value: str
) -> None:
    # 99999999999 overflowed PostgreSQL's 32-bit id column inside the query.
    payload = interaction(
        "block_actions",
        actions=[{"action_id": "share_link_for", "selected_option": {"value": value}}],
    )
    since = stack.slack.mark()
    delivery = await stack.slack.endpoint.post_payload("block_actions", payload)
    assert delivery.status == 200
    dm = await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: c.args["channel"] == EMPLOYEE, since=since
    )
    assert str(dm.args["text"]).startswith("⚠️")


# PostgreSQL's text type holds no NUL character: the insert raised inside asyncpg (a 500).
async def test_a_sign_up_with_a_nul_character_is_a_clear_400(stack: Stack, card: Card) -> None:
    fields = {"name": "Wang\x00Wei", "phone": "+86 138 1234 5678"}
    async with stack.http.post(f"{card.url}/signup", data=fields) as response:
        assert response.status == 400
        assert "characters we cannot store" in await response.text()


async def test_a_check_in_note_with_a_nul_character_is_a_clear_400(stack: Stack) -> None:
    link = await request_link(stack, await lead_setup(stack))
    async with stack.http.post(link, data=good_form(note="at\x00the office")) as response:
        assert response.status == 400
        assert "characters we cannot store" in await response.text()
    async with stack.http.post(link, data=good_form()) as response:
        assert response.status == 200


@pytest.mark.parametrize(
    "payload",
    [
        interaction("block_actions", trigger_id="1.2\x00", actions=[{"action_id": "my_stats"}]),
        interaction("block_actions", actions=[{"action_id": "my_stats", "value": "1\ud800"}]),
    ],
)
async def test_slack_text_the_database_cannot_store_is_400(
    stack: Stack, payload: dict[str, object]
) -> None:
    delivery = await stack.slack.endpoint.post_payload("block_actions", payload)
    assert delivery.status == 400
    assert delivery.json == {
        "ok": False,
        "error": "text with a NUL character or an unpaired surrogate",
    }


async def test_a_thread_note_with_a_nul_character_is_400(stack: Stack) -> None:
    setup = await lead_setup(stack)
    event = {
        "type": "message",
        "channel": "D_U_SALES1",
        "channel_type": "im",
        "user": "U_SALES1",
        "text": "called\x00back",
        "ts": "1.5",
        "thread_ts": setup.lead_dm.ts,
    }
    (delivery,) = await stack.slack.send_event(event)
    assert delivery.status == 400
