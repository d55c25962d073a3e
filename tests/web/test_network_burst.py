"""The network-burst flag over real HTTP: fifteen new browsers from one /24 open a share
link within seconds (behind our proxy, X-Forwarded-For); the landing page counts them per
network and minute, and the next scheduled scan flags the share with its reason."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import func, select

from bot.points_flags import NETWORK_BURST, detail_text
from bot.scheduler import run_due
from store.models import NetworkMinute, PointFlag
from tests.conftest import EMPLOYEE, SALES, Stack
from tests.flows import add_global_roster, create_activity, get_share_card
from tests.web.test_honest_points import build, view_from


async def test_many_new_visitors_from_one_network_are_flagged(stack: Stack) -> None:
    await add_global_roster(stack, *SALES)
    activity_id = await create_activity(stack)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    for n in range(NETWORK_BURST - 1):
        await view_from(card, f"198.51.100.{n + 1}", build(n))
    await view_from(card, "203.0.113.5", build(99))  # another network: not part of it
    await stack.settle()
    db = stack.runtime.db
    assert (await run_due(db=db, now=datetime.now(UTC))).flagged == 0  # one short

    await view_from(card, "198.51.100.200", build(100))
    await stack.settle()
    async with db.session() as session:
        counted = (await session.exec(select(func.sum(NetworkMinute.visitors)))).one()
        assert counted is not None and counted >= NETWORK_BURST + 1
    assert (await run_due(db=db, now=datetime.now(UTC))).flagged == 1
    async with db.session() as session:
        flags = (await session.exec(select(PointFlag))).all()
    assert [(f.reason, f.status) for f in flags] == [("network_burst", "open")]
    detail = detail_text(flags[0].reason, flags[0].detail)
    assert f"{NETWORK_BURST} new visitors from one network within 10 minutes" == detail
