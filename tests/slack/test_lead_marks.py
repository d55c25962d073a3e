"""The lead DM's spam button through Slack's protocol (signed requests into the running app):
the sign-up's held points and the visitor's point are clawed back by new ledger rows."""

from __future__ import annotations

from sqlmodel import select

from bot import audit, ledger
from store.models import AuditEntry, PointsEntry
from tests.conftest import EMPLOYEE, Stack
from tests.ledger_support import assert_ledger_consistent
from tests.slack.test_lead_dm import SALESPERSON, buttons, lead_dm, tap  # noqa: F401

__all__ = ["lead_dm"]


async def test_spam_button_claws_points_back(stack: Stack, lead_dm) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    assert {"lead_mark_spam", "lead_mark_duplicate"} <= set(buttons(lead_dm))
    employee = await stack.services.sync_employee(EMPLOYEE)
    assert employee.id is not None
    async with stack.runtime.db.session() as session:
        # The customer's view: 1 available; the sign-up: 10 pending until an outcome.
        assert await ledger.balance(session, employee.id) == ledger.Balance(1, 10, 0)
        rows_before = [
            (e.id, e.points, e.bucket) for e in (await session.exec(select(PointsEntry))).all()
        ]

    # Someone else replaying the button (signed, so from inside Slack) is refused.
    element = next(
        e
        for b in lead_dm.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "lead_mark_spam"
    )
    since = stack.slack.mark()
    payload = {
        "type": "block_actions",
        "user": {"id": "U_BOB", "name": "bob", "team_id": "T_SANDBOX"},
        "team": {"id": "T_SANDBOX"},
        "trigger_id": "1.2.bob",
        "channel": {"id": lead_dm.channel},
        "container": {"type": "message", "message_ts": lead_dm.ts, "channel_id": lead_dm.channel},
        "message": lead_dm.to_json(),
        "actions": [
            {
                "type": "button",
                "action_id": "lead_mark_spam",
                "block_id": "marks",
                "value": element["value"],
            }
        ],
    }
    delivery = await stack.slack.endpoint.post_payload("block_actions", payload)
    assert delivery.status == 200
    await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: c.args["channel"] == "U_BOB", since=since
    )
    assert stack.slack.calls_to("chat.update", since) == []
    lead, _, _ = await stack.services.lead_context(1)
    assert lead.marked is None

    redrawn = await tap(stack, "lead_mark_spam", lead_dm)
    assert "Marked spam by <@U_SALES1>" in redrawn
    assert "lead_mark_spam" not in redrawn  # no second tap offered

    async with stack.runtime.db.session() as session:
        # The sign-up's 10 held points are taken back; the view's point stays (the view
        # happened); the old rows are untouched, new negative rows do the reversal.
        assert await ledger.balance(session, employee.id) == ledger.Balance(1, 0, 0)
        entries = (await session.exec(select(PointsEntry))).all()
        assert [(e.id, e.points, e.bucket) for e in entries][: len(rows_before)] == rows_before
        assert [(e.kind, e.points, e.bucket) for e in entries[len(rows_before) :]] == [
            ("clawed_back", -10, "pending")
        ]
        await assert_ledger_consistent(session)
        audited = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == audit.LEAD_CLAWBACK))
        ).all()
        assert [(a.actor, a.subject) for a in audited] == [(SALESPERSON, "lead:1")]

    # A marked lead earns nothing more: its outcome is counted, not rewarded.
    await tap(stack, "lead_outcome_converted", lead_dm)
    _, row = await stack.services.my_stats(EMPLOYEE, 1)
    assert (row.converted, row.points) == (1, 1)
    async with stack.runtime.db.session() as session:
        assert await ledger.balance(session, employee.id) == ledger.Balance(1, 0, 0)
        await assert_ledger_consistent(session)
