"""Manual points adjustments over real HTTP (/console/people): an admin adds and removes an
employee's points with a reason, each a new ledger entry and an audit entry; removing more
than is available is refused, in words, and changes nothing; a salesperson's or employee's
POST is a 403 (checked on the server) and so is one without the CSRF token."""

from __future__ import annotations

from sqlmodel import col, select

from bot import audit
from store.models import AuditEntry, PointsEntry
from tests.conftest import ADMIN, EMPLOYEE, SALES, Stack
from tests.ledger_support import assert_ledger_consistent
from tests.web.console.conftest import SignIn

PATH = "/console/people/points"


async def _state(stack: Stack) -> tuple[int, list[int], list[str]]:
    """Ann's available points, her ledger rows, the adjustment audit entries' details."""
    services = stack.services
    balance = await services.points.balance(EMPLOYEE)
    async with services.db.session() as session:
        rows = (await session.exec(select(PointsEntry.points).order_by(col(PointsEntry.id)))).all()
        notes = (
            await session.exec(
                select(AuditEntry.details)
                .where(AuditEntry.action == audit.POINTS_ADJUST)
                .order_by(col(AuditEntry.id))
            )
        ).all()
        await assert_ledger_consistent(session)
    return balance.available, list(rows), list(notes)


async def test_admin_adjusts_points_and_others_cannot(
    console_stack: Stack, signed_in: SignIn
) -> None:
    await console_stack.services.sync_employee(EMPLOYEE)
    admin = await signed_in(ADMIN)
    csrf = await admin.csrf("/console/people")
    form = {"csrf": csrf, "employee": EMPLOYEE, "direction": "add", "points": "50"}

    status, body, _ = await admin.post(PATH, {**form, "note": " "})
    assert status == 400 and "Say why" in body
    assert (await admin.post(PATH, {**form, "csrf": "", "note": "x"}))[0] == 403
    assert await _state(console_stack) == (0, [], [])

    status, _, back = await admin.post(PATH, {**form, "note": "Booth help at the fair"})
    assert (status, back) == (303, "/console/people?adjusted=1#points")
    status, _, _ = await admin.post(
        PATH, {**form, "direction": "remove", "points": "20", "note": "Double-counted"}
    )
    assert status == 303
    available, rows, notes = await _state(console_stack)
    assert (available, rows) == (30, [50, -20])
    assert ["Booth help at the fair" in notes[0], "Double-counted" in notes[1]] == [True, True]

    # No overdraw: removing more than is available is refused and nothing is written.
    status, body, _ = await admin.post(
        PATH, {**form, "direction": "remove", "points": "31", "note": "Too much"}
    )
    assert status == 400 and "only 30 points available" in body
    for junk in ("0", "-5", "abc", "1e3", "9999999999"):
        status, body, _ = await admin.post(PATH, {**form, "points": junk, "note": "junk"})
        assert status == 400 and "whole number" in body
    assert await _state(console_stack) == (30, [50, -20], notes)

    # A salesperson and an employee, each with a valid token of their own: 403, no change.
    for user_id in (SALES[0], EMPLOYEE):
        if user_id == SALES[0]:
            await console_stack.services.add_salespeople([SALES[0]], by_user_id=ADMIN)
        other = await signed_in(user_id)
        token = await other.csrf("/console")
        for direction in ("add", "remove"):
            status, _, _ = await other.post(
                PATH, {**form, "csrf": token, "direction": direction, "note": "mine"}
            )
            assert status == 403
    assert await _state(console_stack) == (30, [50, -20], notes)
