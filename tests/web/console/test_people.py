"""/console/people over real HTTP: admins see the roster and the admins, add and remove
salespeople (bad IDs are a message, a missing CSRF token a 403, nothing changed);
salespeople may look but not change it (checked on the server); employees get a 403."""

from __future__ import annotations

from tests.conftest import ADMIN, EMPLOYEE, Stack
from tests.web.console.conftest import SignIn

SAM = "U_SALES1"


async def test_admin_adds_and_removes_salespeople(console_stack: Stack, signed_in: SignIn) -> None:
    services = console_stack.services
    admin = await signed_in(ADMIN)
    status, body, _ = await admin.get("/console/people")
    assert status == 200 and "No salespeople" in body
    assert "<li>Alex Admin <span" in body  # the admins, by name
    csrf = await admin.csrf("/console/people")

    assert (await admin.post("/console/people/salespeople", {"user_id": SAM}))[0] == 403
    for junk in ("", "not an id", "U_SALES1<script>", "\x00"):
        status, body, _ = await admin.post(
            "/console/people/salespeople", {"csrf": csrf, "user_id": junk}
        )
        assert status == 400 and "<script>" not in body
        assert "Slack user ID" in body or junk == "\x00"  # NUL: refused with the form
    assert await services.salespeople() == []

    status, _, back = await admin.post(
        "/console/people/salespeople", {"csrf": csrf, "user_id": SAM}
    )
    assert (status, back) == (303, "/console/people?added=1")
    assert await services.salespeople() == [SAM]
    status, body, _ = await admin.get(back)
    assert "Sam Sales" in body and "Added to the salespeople." in body

    sam = await signed_in(SAM)
    status, body, _ = await sam.get("/console/people")
    assert status == 200 and "Sam Sales" in body and "Add salesperson" not in body
    sam_csrf = await sam.csrf("/console/people")
    for path in ("/console/people/salespeople", "/console/people/salespeople/remove"):
        status, _, _ = await sam.post(path, {"csrf": sam_csrf, "user_id": "U_BOB"})
        assert status == 403
    assert await services.salespeople() == [SAM]
    ann = await signed_in(EMPLOYEE)
    assert (await ann.get("/console/people"))[0] == 403

    status, _, back = await admin.post(
        "/console/people/salespeople/remove", {"csrf": csrf, "user_id": SAM}
    )
    assert (status, back) == (303, "/console/people?removed=1")
    assert await services.salespeople() == []
    status, body, _ = await admin.post(
        "/console/people/salespeople/remove", {"csrf": csrf, "user_id": SAM}
    )
    assert status == 400 and "are on the roster" in body
