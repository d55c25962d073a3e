"""The WeCom lead card's spam / duplicate buttons (clawback, bot/points_marks.py) and what an
erasure does on WeCom (message/recall), through signed, encrypted WeCom callbacks."""

from __future__ import annotations

import re

from sqlmodel import col, select

from bot import ledger
from store.models import Employee, PointBalance, PointsEntry
from tests.flows import sign_up
from tests.wecom.conftest import EMPLOYEE, SALES, WECOM_ADMIN, WeComStack
from tests.wecom.test_flow import cards, keys, new_activity

NAME = "Wang Fang"
PHONE = "+86 138 1234 5678"


async def wecom_lead(stack: WeComStack) -> int:
    """A WeCom salesperson's lead card for a WeCom employee's customer; the lead's id."""
    activity_id = await new_activity(stack, salespeople=[f"wecom:{SALES}"])
    card = await stack.services.share_card(f"wecom:{EMPLOYEE}", activity_id)  # the tap's call
    await sign_up(stack, card.url, {"name": NAME, "phone": PHONE})
    await stack.settle()
    (lead_card,) = cards(stack.standin.chat(SALES))
    return int(keys(lead_card)[0].split(":")[1])


async def lead_rows(stack: WeComStack, lead_id: int) -> list[tuple[int, int, str, str]]:
    async with stack.services.db.session() as session:
        rows = (
            await session.exec(
                select(PointsEntry)
                .where(PointsEntry.lead_id == lead_id)
                .order_by(col(PointsEntry.id))
            )
        ).all()
    return [(r.id or 0, r.points, r.kind, r.bucket) for r in rows]


async def test_spam_and_duplicate_on_the_wecom_lead_card(wecom_stack: WeComStack) -> None:
    stack, wecom = wecom_stack, wecom_stack.standin
    lead_id = await wecom_lead(stack)
    (lead_card,) = cards(wecom.chat(SALES))
    assert keys(lead_card)[-2:] == [f"lead_mark_spam:{lead_id}", f"lead_mark_duplicate:{lead_id}"]
    before = await lead_rows(stack, lead_id)
    assert sum(points for _, points, _, _ in before) > 0  # the sign-up earned points

    # Someone else (a valid callback from another member) is refused on the server.
    assert await wecom.tap(stack.http, EMPLOYEE, lead_card, f"lead_mark_spam:{lead_id}") == 200
    await stack.settle()
    assert wecom.chat(EMPLOYEE)[-1].body["content"] == "只有该线索的销售或管理员可以标记它。"
    assert await lead_rows(stack, lead_id) == before
    assert not lead_card.replaced

    # The lead's salesperson marks it spam: new rows reverse the points, old rows untouched.
    assert await wecom.tap(stack.http, SALES, lead_card, f"lead_mark_spam:{lead_id}") == 200
    await stack.settle()
    assert lead_card.replaced == "已标记垃圾 ✓"
    after = await lead_rows(stack, lead_id)
    assert after[: len(before)] == before
    added = after[len(before) :]
    assert added and all(kind == "clawed_back" for _, _, kind, _ in added)
    assert sum(points for _, points, _, _ in after) == 0
    taken = -sum(points for _, points, _, _ in added)
    assert re.search(rf"#{lead_id}.*{taken}", wecom.chat(SALES)[-1].body["content"])
    lead, _activity, employee = await stack.services.lead_context(lead_id)
    assert (lead.marked, lead.marked_by) == ("spam", f"wecom:{SALES}")
    async with stack.services.db.session() as session:
        balance = await session.get(PointBalance, employee.id)
        assert balance is not None
        total = await ledger.balance(session, employee.id or 0)
        rows = (
            await session.exec(select(PointsEntry).where(PointsEntry.employee_id == employee.id))
        ).all()
    for bucket in ("available", "pending", "review"):  # every balance is its ledger's sum
        assert getattr(balance, bucket) == sum(r.points for r in rows if r.bucket == bucket)
        assert getattr(total, bucket) == getattr(balance, bucket)

    # An admin's duplicate tap afterwards changes nothing more.
    (admin_view,) = [c for c in cards(wecom.chat(SALES)) if c is lead_card]
    assert (
        await wecom.tap(stack.http, WECOM_ADMIN, admin_view, f"lead_mark_duplicate:{lead_id}")
        == 200
    )
    await stack.settle()
    assert wecom.chat(WECOM_ADMIN)[-1].body["content"] == "此线索已被标记，未做更改。"
    assert await lead_rows(stack, lead_id) == after


async def test_an_admin_may_mark_any_lead(wecom_stack: WeComStack) -> None:
    stack, wecom = wecom_stack, wecom_stack.standin
    lead_id = await wecom_lead(stack)
    (lead_card,) = cards(wecom.chat(SALES))
    assert (
        await wecom.tap(stack.http, WECOM_ADMIN, lead_card, f"lead_mark_duplicate:{lead_id}") == 200
    )
    await stack.settle()
    lead, _activity, _employee = await stack.services.lead_context(lead_id)
    assert (lead.marked, lead.marked_by) == ("duplicate", f"wecom:{WECOM_ADMIN}")
    assert sum(points for _, points, _, _ in await lead_rows(stack, lead_id)) == 0


async def test_forgetting_the_customer_recalls_the_wecom_lead_card(
    wecom_stack: WeComStack,
) -> None:
    stack, wecom = wecom_stack, wecom_stack.standin
    await wecom_lead(stack)
    assert cards(wecom.chat(SALES))
    await stack.services.forget_customer(PHONE, by_user_id=f"wecom:{WECOM_ADMIN}")
    await stack.settle()
    # WeCom cannot edit a sent message: within 24 hours it can take it back (message/recall).
    assert [n for n, _ in wecom.calls].count("message/recall") >= 1
    shown = [str(m.body) for m in wecom.chat(SALES) + wecom.chat(EMPLOYEE)]
    assert not [s for s in shown if NAME in s or "13812345678" in s.replace(" ", "")]
    async with stack.services.db.session() as session:
        assert (await session.exec(select(Employee))).all()
