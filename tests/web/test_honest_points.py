"""Honest counts and points, over real HTTP: closed activities, the points cap per network,
the employee's own sign-up, X-Forwarded-For and IPv6 limits, the form token and honeypot,
and what a different browser is told about a phone already signed up."""

from __future__ import annotations

import re
import time

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from sqlmodel import func, select

from bot.settings import Settings, SettingsError, load_settings
from handlers.web.visitors import PROXIES, TrustedProxies, client_ip
from store.models import Lead, PointsEntry
from tests.conftest import ADMIN, EMPLOYEE, MOBILE_UA, SALES, Stack
from tests.flows import (
    Card,
    add_global_roster,
    create_activity,
    get_share_card,
    sign_up,
    signup_form,
    view_landing,
)

WANG = {"name": "Wang Fang", "phone": "+86 138 1234 5678"}


@pytest.fixture
async def card(stack: Stack) -> Card:
    await add_global_roster(stack, *SALES)
    activity_id = await create_activity(stack)
    return await get_share_card(stack, EMPLOYEE, activity_id)


def browser() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def rows(stack: Stack, model: type[Lead] | type[PointsEntry]) -> int:
    async with stack.runtime.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def points(stack: Stack) -> int:
    """The employee's points, from the roll-up and, the same, from the ledger."""
    report = await stack.services.report(1)
    async with stack.runtime.db.session() as session:
        ledger = (await session.exec(select(func.sum(PointsEntry.points)))).one()
    assert report.totals.points == (ledger or 0)
    return report.totals.points


def posted_texts(stack: Stack) -> list[str]:
    return [str(c.args.get("text")) for c in stack.slack.calls_to("chat.postMessage")]


async def post_form(
    http: aiohttp.ClientSession, card: Card, form: dict[str, str], **headers: str
) -> tuple[int, str]:
    headers.setdefault("User-Agent", MOBILE_UA)
    async with http.post(f"{card.url}/signup", data=form, headers=headers) as response:
        return response.status, await response.text()


# --- closed activities ---------------------------------------------------------------------


async def test_a_closed_activity_takes_no_signups(stack: Stack, card: Card) -> None:
    form = await signup_form(stack.http, card.url, {"User-Agent": MOBILE_UA})  # page open
    await stack.settle()
    since = stack.slack.mark()
    await stack.slack.send_slash_command(ADMIN, "close 1")
    await stack.slack.wait_for_call("response_url", since=since)
    await stack.settle()
    points_before, messages_before = await points(stack), len(posted_texts(stack))

    for sent in ({**form, **WANG}, WANG):  # the form from the page opened before, or none
        status, body = await post_form(stack.http, card, sent)
        assert status == 409, body
        assert "Sign-ups are closed" in body and "no more sign-ups" in body
    await stack.settle()
    assert await rows(stack, Lead) == 0
    assert await points(stack) == points_before
    assert len(posted_texts(stack)) == messages_before  # nobody was told of a sign-up


# --- points for views: at most 10 visitors per network, share and day ----------------------


def build(n: int) -> str:
    """A different browser build each time: a new user agent, so a new IP+UA hash too."""
    return (
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 17_{n % 7} like Mac OS X) AppleWebKit/605.1.{n} "
        f"(KHTML, like Gecko) Version/17.{n % 7} Mobile/15E{100 + n} Safari/604.1"
    )


async def view_from(card: Card, address: str, user_agent: str) -> None:
    """A cookieless client (each request a new visitor) behind our proxy on this host."""
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as client,
        client.get(card.url, headers={"User-Agent": user_agent, "X-Forwarded-For": address}) as r,
    ):
        assert r.status == 200


async def test_points_for_views_come_from_at_most_ten_visitors_per_network(
    stack: Stack, card: Card
) -> None:
    for n in range(50):  # one address, fifty browser builds
        await view_from(card, "198.51.100.7", build(n))
    await stack.settle()
    report = await stack.services.report(1)
    assert (report.totals.views, report.totals.unique_visitors) == (50, 50)  # all counted
    assert await points(stack) == 10

    for n in range(15):  # one IPv6 /64, a new address in it each time
        await view_from(card, f"2001:db8:5:6::{n + 1:x}", MOBILE_UA)
    await view_from(card, "198.51.100.250", MOBILE_UA)  # same /24 as the fifty: capped too
    await view_from(card, "203.0.113.9", MOBILE_UA)  # another network earns its own
    await view_from(card, "2001:db8:5:7::1", MOBILE_UA)  # another /64 too
    await stack.settle()
    report = await stack.services.report(1)
    assert (report.totals.views, report.totals.unique_visitors) == (68, 68)
    assert await points(stack) == 10 + 10 + 1 + 1


# --- the employee's own sign-up ------------------------------------------------------------


async def test_the_employees_own_signup_on_their_own_link_earns_nothing(
    stack: Stack, card: Card
) -> None:
    preview = re.search(r"<(http\S+\?me=[^|>]+)\|", card.message.text)
    assert preview, card.message.text
    async with browser() as own:
        await view_landing_in(own, preview.group(1))  # the employee's browser (st_own cookie)
        await sign_up(
            stack, card.url, {"name": "Ann testing", "phone": "+1 212 555 0199"}, browser=own
        )
    async with browser() as other:  # elsewhere, with the phone of her chat profile
        await sign_up(stack, card.url, {"name": "Ann", "phone": "+1 (415) 555-0101"}, browser=other)
    await stack.settle()
    assert await rows(stack, Lead) == 2  # kept, for the salesperson
    report = await stack.services.report(1)
    assert report.totals.signups == 0
    assert await points(stack) == 1  # the second browser's view; no sign-up points

    async with browser() as customer:  # a real customer still earns them
        await sign_up(stack, card.url, WANG, browser=customer)
    await stack.settle()
    assert (await stack.services.report(1)).totals.signups == 1
    assert await points(stack) == 1 + 1 + 10


async def view_landing_in(client: aiohttp.ClientSession, url: str) -> None:
    async with client.get(url, headers={"User-Agent": MOBILE_UA}) as response:
        assert response.status == 200


# --- X-Forwarded-For and rate limits -------------------------------------------------------


async def test_forwarded_for_is_read_right_to_left(stack: Stack, card: Card) -> None:
    """Our proxy appends the address it saw; what the client wrote left of it is theirs to
    forge, so changing it every time does not dodge the sign-up limit."""
    form = await signup_form(stack.http, card.url, {"User-Agent": MOBILE_UA})
    statuses = []
    for n in range(11):
        fields = {**form, "name": f"Script {n}", "phone": f"+1 646 555 02{n:02d}"}
        forged = f"10.9.{n}.1, 192.0.2.{n}"
        status, _ = await post_form(
            stack.http, card, fields, **{"X-Forwarded-For": f"{forged}, 198.51.100.7"}
        )
        statuses.append(status)
    assert statuses == [200] * 10 + [429]


async def test_ipv6_clients_are_rate_limited_per_64(stack: Stack, card: Card) -> None:
    form = await signup_form(stack.http, card.url, {"User-Agent": MOBILE_UA})
    statuses = []
    for n in range(11):  # a new address in the same /64 each time
        fields = {**form, "name": f"Script {n}", "phone": f"+1 646 555 03{n:02d}"}
        address = f"2001:db8:aa:bb:{n:x}::{n + 1:x}"
        status, _ = await post_form(stack.http, card, fields, **{"X-Forwarded-For": address})
        statuses.append(status)
    assert statuses == [200] * 10 + [429]
    fields = {**form, "name": "Neighbour", "phone": "+1 646 555 0399"}
    status, _ = await post_form(
        stack.http, card, fields, **{"X-Forwarded-For": "2001:db8:aa:bc::1"}
    )
    assert status == 200  # the next /64 is someone else


# --- the form token and the honeypot -------------------------------------------------------


@pytest.mark.parametrize("token", ["missing", "forged", "other share", "expired"])
async def test_a_signup_without_the_pages_form_token_stores_nothing(
    stack: Stack, card: Card, token: str
) -> None:
    form = await signup_form(stack.http, card.url, {"User-Agent": MOBILE_UA})
    await stack.settle()
    messages_before = len(posted_texts(stack))
    other = await get_share_card(stack, "U_BOB", 1)
    code = card.url.rsplit("/", 1)[1]
    signed = stack.services.signup_forms.sign(code, ttl_seconds=60, now=time.time() - 3600)
    form["form"] = {
        "missing": "",
        "forged": form["form"][:-2] + ("AA" if not form["form"].endswith("AA") else "BB"),
        "other share": (await signup_form(stack.http, other.url, {}))["form"],
        "expired": signed[len(code) + 1 :],
    }[token]
    if token == "missing":
        del form["form"]
    status, body = await post_form(stack.http, card, {**form, **WANG})
    assert status == 403, body
    assert "Please send it again" in body
    assert 'value="Wang Fang"' in body  # what was typed is kept, with a fresh token
    assert re.search(r'name="form" value="[^"]+"', body)
    await stack.settle()
    assert await rows(stack, Lead) == 0
    assert not any("signed up" in text for text in posted_texts(stack)[messages_before:])


async def test_the_honeypot_field_drops_a_signup_silently(stack: Stack, card: Card) -> None:
    page = await view_landing(stack, card.url)
    (field,) = re.findall(r"<input[^>]*name=\"website\"[^>]*>", page)
    assert 'type="hidden"' not in field and 'autocomplete="off"' in field
    assert re.search(
        r'<div class="hp" aria-hidden="true">\s*<label[^>]*>[^<]*</label>\s*' + re.escape(field),
        page,
    )
    await stack.settle()
    messages_before = len(posted_texts(stack))
    form = await signup_form(stack.http, card.url, {"User-Agent": MOBILE_UA})
    status, body = await post_form(
        stack.http, card, {**form, **WANG, "website": "http://x.example"}
    )
    assert status == 200 and "Thanks, we'll be in touch" in body
    await stack.settle()
    assert await rows(stack, Lead) == 0
    assert len(posted_texts(stack)) == messages_before


# --- a phone already signed up -------------------------------------------------------------


async def test_only_the_same_browser_hears_it_was_already_signed_up(
    stack: Stack, card: Card
) -> None:
    async with browser() as first:
        body = await sign_up(stack, card.url, WANG, browser=first)
        assert "You're signed up, Wang Fang!" in body
        again = await sign_up(stack, card.url, WANG, browser=first)
        assert "You were already signed up" in again
    salesperson = next(
        stack.slack.workspace.users[s].real_name
        for s in SALES
        if stack.slack.workspace.users[s].real_name in body
    )
    async with browser() as stranger:  # someone else's phone, typed in another browser
        told = await sign_up(stack, card.url, {**WANG, "name": "Curious"}, browser=stranger)
    assert "Thanks, we'll be in touch" in told
    assert "already" not in told and salesperson not in told and "Wang" not in told
    await stack.settle()
    assert await rows(stack, Lead) == 1


# --- TRUSTED_PROXIES -----------------------------------------------------------------------


def request_via(peer: str, forwarded: str, proxies: str) -> web.Request:
    app = web.Application()
    app[PROXIES] = TrustedProxies(Settings(_env_file=None, trusted_proxies=proxies).proxy_networks)
    request = make_mocked_request("GET", "/", headers={"X-Forwarded-For": forwarded}, app=app)
    return request.clone(remote=peer)


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "client"),
    [
        # A chain of our proxies: skip them all, right to left.
        ("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.9", "10.0.0.0/8", "198.51.100.7"),
        ("::1", "6.6.6.6, 2001:db8::7, fd00::3", "::1,fd00::/8", "2001:db8::7"),
        # Not from a proxy: the header is the client's own claim, ignored.
        ("203.0.113.5", "198.51.100.7", "127.0.0.1,::1", "203.0.113.5"),
        # Every entry is ours: the left-most is as far as anyone vouches.
        ("127.0.0.1", "10.0.0.1, 10.0.0.2", "127.0.0.1,10.0.0.0/8", "10.0.0.1"),
        ("127.0.0.1", "", "127.0.0.1", "127.0.0.1"),
    ],
)
def test_trusted_proxies_are_skipped_right_to_left(
    peer: str, forwarded: str, proxies: str, client: str
) -> None:
    assert client_ip(request_via(peer, forwarded, proxies)) == client


def test_trusted_proxies_must_be_addresses_or_cidrs() -> None:
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        load_settings(_env_file=None, trusted_proxies="127.0.0.1,proxy.example")
    assert Settings(_env_file=None).trusted_proxies == "127.0.0.1,::1"
