"""Field check-ins over real HTTP: the signed, short-lived, single-use link from Slack, the
mobile page, validation, and refusals (expired, used, foreign, forged)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from store.models import CheckIn, Lead
from tests.conftest import EMPLOYEE, Stack
from tests.records_flows import (
    CHECKIN_LINK,
    SALESPERSON,
    LeadSetup,
    error_told_to,
    lead_setup,
    replay_click,
)

SALES_TZ = ZoneInfo("America/Los_Angeles")  # U_SALES1's profile in the sandbox workspace
OSM = "https://www.openstreetmap.org/?mlat=31.230000&mlon=121.470000#map=17/31.230000/121.470000"


async def request_link(stack: Stack, setup: LeadSetup, user: str = SALESPERSON) -> str:
    since = stack.slack.mark()
    delivery = await stack.slack.click_button(user, "check_in", ts=setup.lead_dm.ts)
    assert delivery.status == 200 and not delivery.timed_out
    call = await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: "checkin" in str(c.args.get("text")), since=since
    )
    assert call.args["channel"] == user
    match = CHECKIN_LINK.search(str(call.args["text"]))
    assert match
    # The DM also carries a URL button (Slack sends an action for those too; it is acked).
    assert match.group(0) in str(call.args.get("blocks"))
    return match.group(0)


def local(moment: datetime) -> str:
    return moment.astimezone(SALES_TZ).strftime("%Y-%m-%dT%H:%M")


def good_form(**overrides: str) -> dict[str, str]:
    form = {
        "lat": "31.23",
        "lon": "121.47",
        "accuracy": "25",
        "met_at": local(datetime.now(UTC) - timedelta(minutes=30)),
        "note": "Met at their office; wants a proposal by Monday.",
    }
    form.update(overrides)
    return form


async def get(stack: Stack, url: str) -> tuple[int, str, Any]:
    async with stack.http.get(url) as response:
        return response.status, await response.text(), response.headers


async def post(stack: Stack, url: str, form: dict[str, str]) -> tuple[int, str]:
    async with stack.http.post(url, data=form) as response:
        return response.status, await response.text()


async def check_ins(stack: Stack) -> list[CheckIn]:
    async with stack.runtime.db.session() as session:
        return list((await session.exec(select(CheckIn))).all())


def thread_posts(stack: Stack, setup: LeadSetup, since: int = 0) -> list[str]:
    return [
        str(c.args.get("text"))
        for c in stack.slack.calls_to("chat.postMessage", since)
        if c.ok and c.args.get("thread_ts") == setup.lead_dm.ts
    ]


@pytest.fixture
async def setup(stack: Stack) -> LeadSetup:
    return await lead_setup(stack)


async def test_the_link_opens_a_mobile_page_with_now_as_the_default(
    stack: Stack, setup: LeadSetup
) -> None:
    url = await request_link(stack, setup)
    assert url.startswith(f"{stack.app_url}/checkin/")
    before = local(datetime.now(UTC))
    status, page, headers = await get(stack, url)
    after = local(datetime.now(UTC))
    assert status == 200
    assert "Check in with Wang Fang" in page
    assert 'name="viewport"' in page and "navigator.geolocation" in page
    value = re.search(
        r'id="met_at" name="met_at" type="datetime-local" required value="([^"]+)"', page
    )
    assert value and value.group(1) in (before, after)
    assert "Los Angeles time" in page  # the zone by its city (issue 14 §1)
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["Referrer-Policy"] == "no-referrer"


async def test_a_check_in_is_stored_posted_in_the_thread_and_then_used_up(
    stack: Stack, setup: LeadSetup
) -> None:
    url = await request_link(stack, setup)
    form = good_form()
    since = stack.slack.mark()
    status, page = await post(stack, url, form)
    assert status == 200, page
    assert "Checked in with Wang Fang" in page and OSM.replace("&", "&amp;") in page

    [check_in] = await check_ins(stack)
    assert (check_in.lead_id, check_in.user_id) == (1, SALESPERSON)
    assert (check_in.lat, check_in.lon, check_in.accuracy_m) == (31.23, 121.47, 25.0)
    met = datetime.strptime(form["met_at"], "%Y-%m-%dT%H:%M").replace(tzinfo=SALES_TZ)
    assert check_in.met_at == met.astimezone(UTC)  # read in the salesperson's time zone
    assert check_in.tz == "America/Los_Angeles" and check_in.note == form["note"]

    await stack.slack.wait_until(lambda: thread_posts(stack, setup, since))
    [posted] = thread_posts(stack, setup, since)
    assert OSM in posted and "±25 m" in posted and "proposal by Monday" in posted
    assert f"<!date^{int(met.timestamp())}^" in posted

    status, page = await post(stack, url, good_form(note="second try"))
    assert status == 410 and "already used" in page
    assert "second try" in page  # the refused note is shown, so it is not lost
    status, page, _ = await get(stack, url)
    assert status == 410 and "already used" in page
    assert len(await check_ins(stack)) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lat": "91"}, "Latitude must be a number from -90 to 90"),
        ({"lat": "-90.5"}, "Latitude must be a number from -90 to 90"),
        ({"lon": "-181"}, "Longitude must be a number from -180 to 180"),
        ({"lon": "nan"}, "Longitude must be a number from -180 to 180"),
        ({"lat": "north"}, "Latitude must be a number"),
        ({"accuracy": "-1"}, "Accuracy must be a number of metres, 0 or more"),
        ({"lat": "", "lon": ""}, "We need your location"),
        ({"met_at": "yesterday"}, "When did you meet?"),
        ({"met_at": ""}, "When did you meet?"),
        ({"met_at": "2031-01-01T10:00"}, "That is in the future"),
        ({"met_at": "2020-01-01T10:00"}, "more than 30 days ago"),
        ({"note": "x" * 1001}, "under 1000 characters"),
    ],
)
async def test_bad_input_is_a_clear_400_and_keeps_the_link(
    stack: Stack, setup: LeadSetup, fields: dict[str, str], message: str
) -> None:
    url = await request_link(stack, setup)
    status, page = await post(stack, url, good_form(**fields))
    assert status == 400
    assert message in page
    if "note" not in fields:
        assert "proposal by Monday" in page  # what was typed is still in the form
    assert await check_ins(stack) == []
    status, _ = await post(stack, url, good_form())
    assert status == 200
    assert len(await check_ins(stack)) == 1


async def test_an_expired_link_is_refused_with_grace_for_an_open_form(
    stack: Stack, setup: LeadSetup
) -> None:
    url = await request_link(stack, setup)
    issued = datetime.now(UTC)
    records = stack.services.records

    records.clock = lambda: issued + timedelta(hours=2, minutes=1)
    status, page, _ = await get(stack, url)
    assert status == 410 and "expired" in page and "Check in" in page

    records.clock = lambda: issued + timedelta(hours=2, minutes=20)
    form = good_form(met_at=local(issued + timedelta(hours=2)))
    status, page = await post(stack, url, form)
    assert status == 410 and "expired" in page
    assert "proposal by Monday" in page  # shown so it can be copied
    assert await check_ins(stack) == []

    # A page opened before expiry and submitted a few minutes after it still counts.
    records.clock = lambda: issued + timedelta(hours=2, minutes=5)
    status, _ = await post(stack, url, form)
    assert status == 200
    assert len(await check_ins(stack)) == 1


async def test_forged_foreign_and_unknown_links(stack: Stack, setup: LeadSetup) -> None:
    url = await request_link(stack, setup)
    base, token = url.rsplit("/", 1)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    records = stack.services.records
    now = datetime.now(UTC)
    cases = {
        tampered: (404, "not valid"),
        "not-a-token": (404, "not valid"),
        "a.b.c": (404, "not valid"),
        stack.services.offers.sign(f"1:{SALESPERSON}:x"): (404, "not valid"),  # another key
        records.tokens.issue(999, SALESPERSON, now=now, ttl=timedelta(hours=2)): (404, "not valid"),
        records.tokens.issue(1, "U_SALES2", now=now, ttl=timedelta(hours=2)): (403, "not yours"),
    }
    for bad, (status, words) in cases.items():
        got, page, _ = await get(stack, f"{base}/{bad}")
        assert (got, words in page) == (status, True), (bad, page)
        got, page = await post(stack, f"{base}/{bad}", good_form())
        assert (got, words in page) == (status, True), (bad, page)
    assert await check_ins(stack) == []

    # The lead moved to another salesperson after the link was sent: it is not theirs now.
    async with stack.runtime.db.session() as session:
        lead = await session.get(Lead, 1)
        assert lead is not None
        lead.salesperson_id = "U_SALES2"
        session.add(lead)
    status, page = await post(stack, url, good_form())
    assert status == 403 and "someone else" in page
    assert await check_ins(stack) == []


async def test_only_the_salesperson_or_an_admin_gets_a_link(stack: Stack, setup: LeadSetup) -> None:
    for outsider in (EMPLOYEE, "U_BOB"):
        since = stack.slack.mark()
        await replay_click(stack, outsider, setup.lead_dm, "check_in", "1")
        told = await error_told_to(stack, outsider, since)
        assert "Only the salesperson assigned to lead #1" in told
        assert not any("/checkin/" in str(c.args) for c in stack.slack.calls[since:])


async def test_two_submissions_at_once_record_one_check_in(stack: Stack, setup: LeadSetup) -> None:
    url = await request_link(stack, setup)
    results = await asyncio.gather(*(post(stack, url, good_form()) for _ in range(4)))
    assert sorted(status for status, _ in results) == [200, 410, 410, 410]
    assert len(await check_ins(stack)) == 1
