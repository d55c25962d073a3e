"""Redeeming through Slack's protocol: App Home's "Redeem points" button (signed
block_actions) opens the modal with the available balance and the rewards in stock; the
signed view_submission debits at once, or says in the modal why not and takes nothing;
a refusal in the fulfilment queue refunds and DMs the employee through the outbox."""

from __future__ import annotations

import json

from bot import ledger
from tests.conftest import ADMIN, EMPLOYEE, Stack
from tests.flows import dm_count, latest_view, wait_for_dm


async def open_redeem_modal(stack: Stack) -> tuple[str, str]:
    """(view id, what it shows) of the modal opened from the employee's App Home."""
    since = stack.slack.mark()
    await stack.slack.open_app_home(EMPLOYEE)
    await stack.slack.wait_for_call("views.publish", since=since)
    home = stack.slack.workspace.home_of(EMPLOYEE)
    assert home is not None
    delivery = await stack.slack.click_button(EMPLOYEE, "redeem_points", view_id=home.id)
    assert delivery.status == 200
    await stack.slack.wait_for_call("views.open", since=since)
    modal = latest_view(stack, EMPLOYEE, "redeem_modal")
    assert modal is not None
    return modal.id, json.dumps(modal.view, ensure_ascii=False)


async def test_redeem_from_app_home(stack: Stack) -> None:
    services = stack.services
    hoodie = await services.spending.create_reward(
        {"name": "Team hoodie", "cost": "30", "stock": "2"}, None, by_user_id=ADMIN
    )
    await services.spending.create_reward(
        {"name": "Sold-out mug", "cost": "5", "stock": "0"}, None, by_user_id=ADMIN
    )
    employee = await services.sync_employee(EMPLOYEE)
    assert employee.id is not None
    async with services.db.session() as session:
        await ledger.credit(
            session, employee_id=employee.id, points=40, reason="seed", ref="s", kind="adjusted"
        )

    view_id, shown = await open_redeem_modal(stack)
    assert "*40* available" in shown and "Team hoodie — 30 pts (2 left)" in shown
    assert "Sold-out mug" not in shown
    delivery = await stack.slack.submit_view(EMPLOYEE, view_id, {"reward": f"{hoodie.id}:30"})
    assert delivery.status == 200 and delivery.json["response_action"] == "update"
    done = json.dumps(stack.slack.workspace.views[view_id].view, ensure_ascii=False)
    assert "Redemption #1" in done and "*10* available" in done
    assert (await services.spending.balance(EMPLOYEE)).available == 10

    view_id, shown = await open_redeem_modal(stack)
    assert "Team hoodie — 30 pts (1 left)" in shown
    delivery = await stack.slack.submit_view(EMPLOYEE, view_id, {"reward": f"{hoodie.id}:30"})
    assert delivery.json["response_action"] == "errors"
    assert "costs 30 points; you have 10 available" in delivery.json["errors"]["reward"]
    assert (await services.spending.balance(EMPLOYEE)).available == 10
    assert [r.stock for r in await services.spending.catalogue() if r.id == hoodie.id] == [1]

    await services.spending.decide(1, fulfil=False, by_user_id=ADMIN, note="Out of size M")
    dm = await wait_for_dm(stack, EMPLOYEE, r"redemption #1 .*refused")
    assert "30 points are back" in dm.text and "Out of size M" in dm.text
    assert (await services.spending.balance(EMPLOYEE)).available == 40


async def test_admins_hear_of_each_redemption_once(stack: Stack) -> None:
    """Through Slack's protocol: each signed view_submission of the redeem modal becomes one
    DM to the admin (through the outbox) naming the reward and the employee, with a button
    to the fulfilment queue; the one that takes the last item says it is out of stock."""
    services = stack.services
    hoodie = await services.spending.create_reward(
        {"name": "Team <hoodie>", "cost": "30", "stock": "2"}, None, by_user_id=ADMIN
    )
    employee = await services.sync_employee(EMPLOYEE)
    assert employee.id is not None
    async with services.db.session() as session:
        await ledger.credit(
            session, employee_id=employee.id, points=70, reason="seed", ref="s", kind="adjusted"
        )
    before = dm_count(stack, ADMIN)
    for number in (1, 2):
        view_id, _ = await open_redeem_modal(stack)
        delivery = await stack.slack.submit_view(EMPLOYEE, view_id, {"reward": f"{hoodie.id}:30"})
        assert delivery.status == 200 and delivery.json["response_action"] == "update"
        dm = await wait_for_dm(stack, ADMIN, rf"redemption #{number}\)", since=before)
        assert f"<@{EMPLOYEE}> redeemed *Team &lt;hoodie&gt;* for 30 points" in dm.text
        assert ("out of stock" in dm.text) == (number == 2)
        buttons = [
            element
            for block in dm.blocks or []
            if block.get("type") == "actions"
            for element in block["elements"]
        ]
        assert [b["url"] for b in buttons] == [
            services.public_base_url.rstrip("/") + "/console/rewards"
        ]
    await stack.settle()
    texts = [m.text for m in stack.slack.dm_messages(ADMIN)[before:]]
    assert [t for t in texts if "redeemed" in t] == [
        t for t in texts if "redemption #1)" in t or "redemption #2)" in t
    ]
    assert sum("redemption #1)" in t for t in texts) == 1
    assert sum("redemption #2)" in t for t in texts) == 1
    assert (await services.spending.balance(EMPLOYEE)).available == 10
