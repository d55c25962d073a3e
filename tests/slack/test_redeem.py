"""Redeeming through Slack's protocol: App Home's "Redeem points" button (signed
block_actions) opens the modal with the available balance and the rewards in stock; the
signed view_submission debits at once, or says in the modal why not and takes nothing;
a refusal in the fulfilment queue refunds and DMs the employee through the outbox."""

from __future__ import annotations

import json

from bot import ledger
from tests.conftest import ADMIN, EMPLOYEE, Stack
from tests.flows import latest_view, wait_for_dm


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
