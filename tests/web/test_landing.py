"""The customer's side over real HTTP: counting rules, forged codes, sign-up validation."""

from __future__ import annotations

import re

import aiohttp
import pytest
from sqlmodel import func, select

from store.models import Lead, View
from tests.conftest import EMPLOYEE, MOBILE_UA, SALES, Stack
from tests.flows import (
    Card,
    add_global_roster,
    create_activity,
    get_share_card,
    sign_up,
    signup_form,
    view_landing,
)

PREVIEW_BOTS = {
    "slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "whatsapp": "WhatsApp/2.23.20.0 A",
    "facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "telegram": "TelegramBot (like TwitterBot)",
    "linkedin": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "twitter": "Twitterbot/1.0",
    "discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
}


@pytest.fixture
async def card(stack: Stack) -> Card:
    await add_global_roster(stack, *SALES)
    activity_id = await create_activity(stack)
    return await get_share_card(stack, EMPLOYEE, activity_id)


async def count(stack: Stack, model: type[View] | type[Lead]) -> int:
    async with stack.runtime.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


def view_dms(stack: Stack) -> list[str]:
    return [
        str(c.args.get("text"))
        for c in stack.slack.calls_to("chat.postMessage")
        if "viewing your card" in str(c.args.get("text"))
    ]


@pytest.mark.parametrize("bot", sorted(PREVIEW_BOTS))
async def test_link_preview_bots_see_og_tags_but_are_not_counted(
    stack: Stack, card: Card, bot: str
) -> None:
    page = await view_landing(stack, card.url, user_agent=PREVIEW_BOTS[bot])
    assert '<meta property="og:title"' in page
    assert re.search(r'<meta property="og:image" content="[^"]+/card\.png"', page)
    await stack.settle()
    report = await stack.services.report(1)
    assert report.totals.views == 0
    assert view_dms(stack) == []


async def test_head_is_never_counted(stack: Stack, card: Card) -> None:
    async with stack.http.head(card.url, headers={"User-Agent": MOBILE_UA}) as response:
        assert response.status == 200
    await stack.settle()
    assert (await stack.services.report(1)).totals.views == 0
    assert view_dms(stack) == []


@pytest.mark.usefixtures("instant_tallies")
async def test_human_view_is_counted_and_announced_once_per_half_hour(
    stack: Stack, card: Card
) -> None:
    await view_landing(stack, card.url)
    await view_landing(stack, card.url)  # a reload by the same visitor within 30 minutes
    await stack.settle()
    report = await stack.services.report(1)
    assert (report.totals.views, report.totals.unique_visitors) == (1, 1)
    assert len(view_dms(stack)) == 1

    android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126 Mobile"
    async with (
        aiohttp.ClientSession() as other_browser,
        other_browser.get(card.url, headers={"User-Agent": android}) as response,
    ):
        assert response.status == 200
    await stack.settle()
    report = await stack.services.report(1)
    assert (report.totals.views, report.totals.unique_visitors) == (2, 2)
    # A second person within ten minutes is counted into the first DM, not a DM of its own.
    assert len(view_dms(stack)) == 1
    (dm,) = stack.slack.dm_messages(EMPLOYEE)[-1:]
    assert dm.edited and dm.text.startswith("👀 2 people viewed your card")


@pytest.mark.parametrize("mangle", ["forged", "truncated", "garbage", "empty-ish"])
async def test_forged_codes_are_404(stack: Stack, card: Card, mangle: str) -> None:
    code = card.url.rsplit("/", 1)[1]
    bad = {
        "forged": code[:-1] + ("A" if code[-1] != "A" else "B"),
        "truncated": code[:-4],
        "garbage": "'; DROP TABLE share;--",
        "empty-ish": "-",
    }[mangle]
    base = card.url.rsplit("/", 1)[0]
    for method, suffix in (("GET", ""), ("POST", "/signup"), ("GET", "/card.png")):
        async with stack.http.request(method, f"{base}/{bad}{suffix}", data={"name": "x"}) as r:
            assert r.status == 404
            assert "does not exist" in await r.text()
    await stack.settle()
    assert await count(stack, View) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "", "phone": "+86 138 1234 5678"}, "name"),
        ({"name": "   ", "phone": "+86 138 1234 5678"}, "name"),
        ({"name": "Wang Fang", "phone": "12"}, "phone"),
        ({"name": "Wang Fang", "phone": "call me maybe"}, "phone"),
        ({"name": "Wang Fang", "phone": ""}, "phone"),
        ({"name": "W" * 5000, "phone": "+86 138 1234 5678"}, "name"),
        ({"name": "Wang Fang", "phone": "+86 138 1234 5678", "company": "C" * 5000}, "company"),
        ({"name": "Wang Fang", "phone": "+86 138 1234 5678", "note": "N" * 50_000}, "note"),
    ],
)
async def test_invalid_signup_is_400_with_message_and_changes_nothing(
    stack: Stack, card: Card, fields: dict[str, str], message: str
) -> None:
    await view_landing(stack, card.url)  # the customer opens the page (its view is a DM)
    await stack.settle()
    calls_before = len(stack.slack.calls_to("chat.postMessage"))
    body = await sign_up(stack, card.url, fields, status=400)
    assert 'class="err"' in body and message in body.lower()
    assert "Wang Fang" in body or not fields["name"].strip() or len(fields["name"]) > 200
    await stack.settle()
    assert await count(stack, Lead) == 0
    assert len(stack.slack.calls_to("chat.postMessage")) == calls_before


async def assigned(stack: Stack, phone: str) -> str:
    async with stack.runtime.db.session() as session:
        lead = (await session.exec(select(Lead).where(Lead.phone == phone))).first()
    assert lead is not None and lead.salesperson_id
    return lead.salesperson_id


async def test_same_phone_keeps_its_salesperson_across_browsers(stack: Stack, card: Card) -> None:
    await sign_up(stack, card.url, {"name": "Wang Fang", "phone": "+86 138 1234 5678"})
    first = await assigned(stack, "+8613812345678")
    second_activity = await create_activity(stack, name="Autumn summit")
    other_card = await get_share_card(stack, "U_BOB", second_activity)
    name = stack.slack.workspace.users[first].real_name
    for n in range(5):  # fresh browsers each time: only the phone connects them
        async with aiohttp.ClientSession() as browser:
            body = await sign_up(
                stack,
                other_card.url,
                {"name": "Fang Wang", "phone": "+86 138 1234 5678"},
                browser=browser,
            )
        # The first one is this activity's sign-up; later browsers are told only "thanks"
        # (naming the salesperson would tell a stranger that this phone is registered).
        assert (name in body) == (n == 0), body
    async with stack.runtime.db.session() as session:
        leads = (await session.exec(select(Lead).where(Lead.phone == "+8613812345678"))).all()
    assert [lead.salesperson_id for lead in leads] == [first, first]


async def test_same_browser_keeps_its_salesperson(stack: Stack, card: Card) -> None:
    await view_landing(stack, card.url)
    await sign_up(stack, card.url, {"name": "Li Na", "phone": "+86 139 0000 1111"})
    first = await assigned(stack, "+8613900001111")
    await sign_up(stack, card.url, {"name": "Li Na (colleague)", "phone": "+86 139 0000 2222"})
    assert await assigned(stack, "+8613900002222") == first


async def test_new_customers_are_spread_across_the_roster(stack: Stack, card: Card) -> None:
    picks = []
    for n in range(12):
        async with aiohttp.ClientSession() as browser:
            await sign_up(
                stack,
                card.url,
                {"name": f"Customer {n}", "phone": f"+1 415 555 01{n:02d}"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},  # via our proxy on this host
                browser=browser,
            )
        picks.append(await assigned(stack, f"+1415555 01{n:02d}".replace(" ", "")))
    assert set(picks) == set(SALES)


async def test_signup_without_roster_keeps_lead_and_alerts_admins_once(stack: Stack) -> None:
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    for n in range(2):
        body = await sign_up(stack, card.url, {"name": f"Lone {n}", "phone": f"+1 212 555 010{n}"})
        assert "Ann Lee" in body  # the employee's contact instead of a salesperson
    await stack.settle()
    assert await count(stack, Lead) == 2
    alerts = [
        c
        for c in stack.slack.calls_to("chat.postMessage")
        if "no salesperson is on the roster" in str(c.args.get("text"))
    ]
    assert [c.args["channel"] for c in alerts] == ["U_ADMIN"]


async def test_signups_from_one_client_are_rate_limited(stack: Stack, card: Card) -> None:
    statuses = []
    form = await signup_form(stack.http, card.url, {"User-Agent": MOBILE_UA})
    for n in range(11):
        async with stack.http.post(
            f"{card.url}/signup",
            data={**form, "name": f"Script {n}", "phone": f"+1 646 555 01{n:02d}"},
            headers={"X-Forwarded-For": "198.51.100.7"},
        ) as response:
            statuses.append(response.status)
            if response.status == 429:
                assert int(response.headers["Retry-After"]) >= 1
                assert "Slow down" in await response.text()
    assert statuses == [200] * 10 + [429]
    # Another client is not affected; a forged X-Forwarded-For from outside is ignored
    # (only a proxy on this host is trusted), so it cannot be used to dodge the limit.
    body = await sign_up(
        stack,
        card.url,
        {"name": "Real person", "phone": "+1 646 555 0999"},
        headers={"X-Forwarded-For": "198.51.100.8"},
    )
    assert "Real person" in body or "Thank" in body
    await stack.settle()
    assert await count(stack, Lead) == 11
