"""Fuzzing every public route (landing, sign-up, beacon, card, check-in, /healthz, the console
without a session) through real HTTP into one running app: whatever a client
sends (paths, queries, cookies, headers, bodies, charsets), the answer is never a 5xx and
nothing is logged at ERROR or with a traceback.

Bounded: one app per test, a fixed number of examples, derandomized so the suite is the same
on every run (FUZZ_EXAMPLES=2000 explores further, with fresh random inputs). Real values (a
share code, a check-in token, the form fields) are mixed with arbitrary text so the handlers
get past their first checks.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from handlers.web import limits
from tests.conftest import Stack
from tests.fuzz_support import any_text, json_values
from tests.records_flows import LeadSetup, lead_setup
from tests.web.test_checkin import request_link

EXPLORE = os.environ.get("FUZZ_EXAMPLES")
FUZZ = settings(
    max_examples=int(EXPLORE or 100),
    deadline=None,
    derandomize=not EXPLORE,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text that an HTTP header can carry (aiohttp refuses control characters in a request).
HEADER_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x7f"), max_size=40
)
ANY_TEXT = any_text(40)
JSON = json_values(ANY_TEXT, max_size=4, max_leaves=12)
# Python's json writes these, and reads them back: the beacon must refuse them.
NON_JSON_NUMBERS = st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-0.0"])

SIGNUP_FIELDS = ("name", "phone", "company", "note", "offer", "token", "website")
CHECK_IN_FIELDS = ("lat", "lon", "accuracy", "met_at", "note")
BEACON_KEYS = ("dwell_ms", "scroll_pct", "clicks")
# Values the handlers accept, and their edges, so a request gets past the first validation.
FIELD_VALUES: dict[str, list[str]] = {
    "name": ["Wang Wei", "李雷", "<b>x</b>", " "],
    "phone": ["+86 138 1234 5678", "13812345678", "+1 (555) 010-0100", "+" + "9" * 40],
    "company": ["Acme", ""],
    "note": ["Call me after 5", "x" * 5000],
    "lat": ["31.23", "-90", "90.0001", "nan", "inf", "1e400", "0x1p3"],
    "lon": ["121.47", "180", "-180.5", "NaN", "-inf", "1_0"],
    "accuracy": ["25", "0", "-1", "1e400", "nan"],
    "met_at": [
        "2026-11-25T14:30",
        "2026-13-45T99:99",
        "9999-12-31T23:59",
        "0001-01-01T00:00",
        "2026-11-25T14:30:00+99:00",
        "2026-11-25",
    ],
}
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=utf-8",
            "application/x-www-form-urlencoded; charset=bogus-xyz",
            "application/x-www-form-urlencoded; charset=utf-16",
            "application/x-www-form-urlencoded; charset=base64",
            "multipart/form-data",
            "multipart/form-data; boundary=xx",
            "application/json",
            "text/plain",
        ]
    ),
    HEADER_TEXT,
)


SIGN_IN_PATHS = ("/console/login/slack", "/console/callback")


@dataclass(frozen=True)
class Known:
    """Real values the fuzzer mixes in: without them every request stops at a 404."""

    code: str
    token: str
    preview: str


@pytest.fixture(autouse=True)  # autouse: set up before the app (the `stack`) reads the limits
def generous_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fuzzer is one client sending hundreds of requests: lift the abuse limits."""
    rate = limits.Rate(per_minute=60_000, burst=10_000)
    monkeypatch.setattr(limits, "LIMITS", dict.fromkeys(limits.LIMITS, rate))


@pytest.fixture
async def known(stack: Stack) -> Known:
    setup: LeadSetup = await lead_setup(stack)
    link = await request_link(stack, setup)
    preview = setup.card.message.text.split("?me=", 1)[1].split("|", 1)[0]
    return Known(setup.card.url.rsplit("/", 1)[1], link.rsplit("/", 1)[1], preview)


def _mutations(value: str) -> st.SearchStrategy[str]:
    return st.one_of(
        ANY_TEXT,
        st.builds(lambda cut: value[:cut], st.integers(0, len(value))),
        st.builds(lambda extra: value + extra, ANY_TEXT),
        st.builds(
            lambda at, ch: value[:at] + ch + value[at + 1 :], st.integers(0, len(value)), ANY_TEXT
        ),
    )


@st.composite
def requests(draw: st.DrawFn, known: Known) -> dict[str, Any]:
    """One request: method, path (with a real or mangled code/token), query, headers, body."""
    # Half the requests name the real share and check-in link, so their handlers run.
    real = draw(st.booleans())
    code = known.code if real else draw(_mutations(known.code))
    token = known.token if real else draw(_mutations(known.token))
    method, path, fields = draw(
        st.sampled_from(
            [
                ("GET", f"/s/{quote(code, safe='')}", ()),
                ("HEAD", f"/s/{quote(code, safe='')}", ()),
                ("POST", f"/s/{quote(code, safe='')}", SIGNUP_FIELDS),
                ("POST", f"/s/{quote(code, safe='')}/signup", SIGNUP_FIELDS),
                ("GET", f"/s/{quote(code, safe='')}/signup", ()),
                ("POST", f"/s/{quote(code, safe='')}/beacon", BEACON_KEYS),
                ("GET", f"/s/{quote(code, safe='')}/card.png", ()),
                ("GET", f"/s/{quote(code, safe='')}/calendar.ics", ()),
                ("GET", "/favicon.ico", ()),
                ("GET", f"/checkin/{quote(token, safe='')}", ()),
                ("POST", f"/checkin/{quote(token, safe='')}", CHECK_IN_FIELDS),
                ("GET", "/healthz", ()),
                ("POST", "/healthz", ()),
                ("GET", "/slack/events", ()),
                # The console without a session (or with a forged one): sign-in, redirects.
                ("GET", "/console/login", ()),
                ("GET", "/console/login/slack", ()),
                ("GET", "/console/callback", ()),
                ("POST", "/console/logout", ()),
                ("GET", "/console", ()),
                ("GET", "/console/leads", ()),
                ("GET", f"/console/leads/{quote(code, safe='')}", ()),
                ("POST", "/console/leads/1/outcome", ("outcome", "csrf")),
                ("GET", "/console/activities", ()),
                ("POST", "/console/activities/new", ("name", "csrf")),
                ("GET", f"/console/activities/{quote(token, safe='')}", ()),
                ("POST", "/console/activities/1/publish", ("channel", "csrf")),
                ("GET", "/console/activities/1/export.csv", ()),
                ("GET", f"/console/activities/{quote(token, safe='')}/report", ()),
                ("GET", "/console/people", ()),
                ("POST", "/console/people/salespeople", ("user_id", "csrf")),
                ("POST", "/console/people/salespeople/remove", ("user_id", "csrf")),
                ("GET", "/console/health", ()),
                ("PUT", f"/s/{quote(code, safe='')}/signup", SIGNUP_FIELDS),
                ("GET", "/" + quote(draw(ANY_TEXT), safe="/"), ()),
            ]
        )
    )
    query = draw(
        st.dictionaries(
            st.sampled_from(["me", "source", "next", "state", "code", "error"]) | ANY_TEXT,
            st.just(known.preview) | _mutations(known.preview),
            max_size=2,
        )
    )
    headers = {}
    cookies = draw(
        st.dictionaries(
            st.sampled_from(["st_v", "st_own", "st_console", "st_console_signin"]),
            HEADER_TEXT,
            max_size=2,
        )
    )
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    for name in draw(
        st.sets(
            st.sampled_from(
                ["User-Agent", "X-Forwarded-For", "X-Forwarded-Proto", "Accept-Language", "Referer"]
            ),
            max_size=3,
        )
    ):
        headers[name] = draw(HEADER_TEXT)
    body: bytes | None = None
    if method in ("POST", "PUT"):
        headers["Content-Type"] = draw(CONTENT_TYPES)
        body = draw(_bodies(fields))
    return {"method": method, "path": path, "query": query, "headers": headers, "body": body}


def _bodies(fields: tuple[str, ...]) -> st.SearchStrategy[bytes]:
    form = st.fixed_dictionaries(
        {},
        optional={
            name: st.sampled_from(FIELD_VALUES.get(name, [""])) | ANY_TEXT for name in fields
        },
    )
    encoded_form = form.map(
        lambda d: "&".join(f"{quote(k)}={quote(v)}" for k, v in d.items()).encode()
    )
    beacon = st.dictionaries(st.sampled_from(BEACON_KEYS) | ANY_TEXT, JSON, max_size=4).map(
        lambda d: json.dumps(d).encode()
    )
    odd_number = st.tuples(st.sampled_from(BEACON_KEYS[:2]), NON_JSON_NUMBERS).map(
        lambda kv: b'{"' + kv[0].encode() + b'": ' + kv[1] + b"}"
    )
    return st.one_of(
        encoded_form,
        beacon,
        odd_number,
        JSON.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
    )


@FUZZ
@given(data=st.data())
async def test_public_routes_never_answer_5xx(
    stack: Stack, known: Known, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    request = data.draw(requests(known))
    before = len(caplog.records)
    url = URL(stack.app_url + request["path"], encoded=True).update_query(request["query"])
    async with stack.http.request(
        request["method"],
        url,
        headers=request["headers"],
        data=request["body"],
        allow_redirects=False,
    ) as response:
        await response.read()
        # 503: "Sign in with Slack" is not configured in this stack (a server state, on purpose).
        unconfigured = response.status == 503 and request["path"].startswith(SIGN_IN_PATHS)
        assert response.status < 500 or unconfigured, (request, response.status)
    stack.http.cookie_jar.clear()
    await stack.settle()
    bad = [r for r in caplog.records[before:] if r.levelno >= logging.ERROR or r.exc_info]
    assert bad == [], (request, [r.getMessage() for r in bad])
