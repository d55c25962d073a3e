"""/console/privacy: an admin downloads everything held about a phone (JSON, audited) and
erases the customer after a confirm step (CSRF-checked, audited without the number);
non-admins are refused and bad numbers are a clear 400."""

from __future__ import annotations

import json

from sqlmodel import select

from bot import audit
from store.models import Lead
from tests.conftest import ADMIN, EMPLOYEE, Stack
from tests.records_flows import lead_setup
from tests.web.console.conftest import SignIn


async def _lead(stack: Stack, phone: str) -> int:
    await lead_setup(stack, phone=phone)
    async with stack.services.db.session() as session:
        [lead] = (await session.exec(select(Lead))).all()
    assert lead.id is not None
    return lead.id


async def test_access_export_then_erase_with_a_confirm_step(
    console_stack: Stack, signed_in: SignIn
) -> None:
    services = console_stack.services
    lead_id = await _lead(console_stack, "+86 139 1234 5678")
    admin = await signed_in(ADMIN)
    csrf = await admin.csrf("/console/privacy")

    async with admin.http.post(
        admin.app_url + "/console/privacy/access",
        data={"csrf": csrf, "phone": "139-1234-5678"},
    ) as response:
        assert response.status == 200
        assert "attachment" in response.headers["Content-Disposition"]
        data = json.loads(await response.text())
    [lead] = data["leads"]
    assert (lead["id"], lead["name"], lead["phone"]) == (lead_id, "Wang Fang", "+8613912345678")

    status, body, _ = await admin.post("/console/privacy/erase", {"csrf": csrf, "phone": "12"})
    assert status == 400 and "at least 6 digits" in body
    status, body, _ = await admin.post(
        "/console/privacy/erase", {"csrf": "forged", "phone": "13912345678", "confirm": "yes"}
    )
    assert status == 403
    status, body, _ = await admin.post(
        "/console/privacy/erase", {"csrf": csrf, "phone": "0086 139 1234 5678"}
    )
    assert status == 200 and "Erase permanently" in body and f"#{lead_id}" in body
    async with services.db.session() as session:
        assert (await session.get(Lead, lead_id)).name == "Wang Fang"  # type: ignore[union-attr]
    status, body, _ = await admin.post(
        "/console/privacy/erase", {"csrf": csrf, "phone": "0086 139 1234 5678", "confirm": "yes"}
    )
    assert status == 200 and "Erased 1 sign-up(s)" in body
    async with services.db.session() as session:
        erased = await session.get(Lead, lead_id)
        assert erased is not None and (erased.name, erased.phone) == ("", "")
        log = await audit.entries(session)
    actions = [(e.actor, e.action) for e in log.entries]
    assert (ADMIN, audit.PRIVACY_ERASE) in actions and (ADMIN, audit.PRIVACY_ACCESS) in actions
    assert all("1234" not in e.details + e.subject for e in log.entries)

    employee = await signed_in(EMPLOYEE)
    token = await employee.csrf("/console")
    status, _, _ = await employee.post(
        "/console/privacy/access", {"csrf": token, "phone": "13912345678"}
    )
    assert status == 403
