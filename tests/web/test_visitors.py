"""A visitor is a browser (our cookie's random id), not a network address: strangers behind
one office address with one phone model are different people everywhere."""

from __future__ import annotations

import json
import random

import aiohttp
import pytest
from sqlmodel import col, select

from handlers.web import visitors
from store.models import Lead
from tests.conftest import ADMIN, EMPLOYEE, MOBILE_UA, SALES, Stack
from tests.flows import (
    Card,
    add_global_roster,
    create_activity,
    get_share_card,
    sign_up,
    time_passes,
    view_landing,
)

STRANGERS = 10


@pytest.fixture
async def card(stack: Stack) -> Card:
    await add_global_roster(stack, *SALES)
    activity_id = await create_activity(stack)
    return await get_share_card(stack, EMPLOYEE, activity_id)


def every_slack_text(stack: Stack) -> str:
    """Everything the app posted or updated in Slack, text and blocks."""
    calls = stack.slack.calls_to("chat.postMessage") + stack.slack.calls_to("chat.update")
    return "\n".join(json.dumps(call.args, ensure_ascii=False) for call in calls)


def browser() -> aiohttp.ClientSession:
    """A fresh browser: its own cookie jar, which keeps what the app sets."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def test_strangers_on_one_address_with_one_phone_model_are_different_people(
    stack: Stack, card: Card, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ids are random; seeded here so the spread over two salespeople is reproducible.
    seeded = random.Random(7)
    monkeypatch.setattr(
        visitors, "new_visitor_id", lambda: f"{seeded.getrandbits(128):032x}", raising=False
    )
    for n in range(STRANGERS):
        async with browser() as customer:  # one address (127.0.0.1), one user agent
            await sign_up(  # opens the page (a view), then sends its form
                stack,
                card.url,
                {"name": f"Stranger {n}", "phone": f"+1 415 555 02{n:02d}"},
                browser=customer,
            )
    await stack.settle()

    report = await stack.services.report(1)
    assert (report.totals.views, report.totals.unique_visitors) == (STRANGERS, STRANGERS)
    assert report.totals.signups == STRANGERS
    async with stack.runtime.db.session() as session:
        leads = (await session.exec(select(Lead).order_by(col(Lead.id)))).all()
    assert len(leads) == STRANGERS
    assigned = [lead.salesperson_id for lead in leads]
    assert set(assigned) == set(SALES), assigned  # spread over the roster, not all to one
    assert len({lead.visitor_key for lead in leads}) == STRANGERS

    texts = every_slack_text(stack)
    assert "already knows you" not in texts
    assert "is looking at" not in texts  # "your customer is back"
    for lead in leads:
        assert lead.id is not None
        timeline = await stack.services.records.timeline(lead.id, user_id=ADMIN)
        views = [entry for entry in timeline.entries if entry.kind == "view"]
        assert len(views) == 1, (lead.name, views)  # their own view, nobody else's


async def view_landing_in(customer: aiohttp.ClientSession, url: str) -> None:
    async with customer.get(url, headers={"User-Agent": MOBILE_UA}) as response:
        assert response.status == 200


async def test_a_stranger_after_a_sign_up_is_not_the_customer_coming_back(
    stack: Stack, card: Card
) -> None:
    async with browser() as first:
        await sign_up(
            stack, card.url, {"name": "Wang Fang", "phone": "+86 138 1234 5678"}, browser=first
        )
    await stack.settle()
    await time_passes(stack)
    async with browser() as second:  # same address, same phone model, another person
        await view_landing_in(second, card.url)
        await sign_up(
            stack, card.url, {"name": "Li Na", "phone": "+86 139 0000 1111"}, browser=second
        )
    await stack.settle()
    texts = every_slack_text(stack)
    assert "is looking at" not in texts and "already knows you" not in texts
    report = await stack.services.report(1)
    assert (report.totals.views, report.totals.unique_visitors) == (2, 2)


async def test_the_same_browser_is_one_visitor_and_its_reload_counts_once(
    stack: Stack, card: Card
) -> None:
    await view_landing(stack, card.url)  # stack.http keeps its cookies, like a browser
    await view_landing(stack, card.url)  # a reload within 30 minutes
    await stack.settle()
    report = await stack.services.report(1)
    assert (report.totals.views, report.totals.unique_visitors) == (1, 1)
    await time_passes(stack)
    await view_landing(stack, card.url)  # later: a second view of the same visitor
    await stack.settle()
    report = await stack.services.report(1)
    assert (report.totals.views, report.totals.unique_visitors) == (2, 1)


async def test_the_cookie_is_a_random_id_not_the_address(stack: Stack, card: Card) -> None:
    values = []
    for _ in range(2):
        async with browser() as customer:
            await view_landing_in(customer, card.url)
            (cookie,) = [c for c in customer.cookie_jar if c.key == visitors.COOKIE]
            values.append(cookie.value)
    assert values[0] != values[1]  # same address and user agent, two visitors
    for value in values:
        assert stack.services.visitor_cookies.unsign(value)  # signed by us
