"""/console/rewards over real HTTP: admins only, CSRF, every bad input a clear 400 with
nothing stored (a text file posing as a PNG, a too-large upload: 413), pictures stored
re-encoded and served with nosniff; the fulfilment queue refuses (refund, stock back, the
employee's DM) and fulfils; both audited."""

from __future__ import annotations

import io
import re

import aiohttp
from PIL import Image
from sqlmodel import select

from bot import audit, ledger
from store.models import AuditEntry, Reward
from tests.conftest import ADMIN, EMPLOYEE, Stack
from tests.flows import wait_for_dm
from tests.web.console.conftest import SignIn


def png(width: int = 900, height: int = 600) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (200, 40, 90))
    exif = Image.Exif()
    exif[0x010E] = "GPS secret place"  # ImageDescription: must not survive
    image.save(out, format="PNG", exif=exif)
    return out.getvalue()


async def post_multipart(
    http: aiohttp.ClientSession, url: str, fields: dict[str, str], picture: bytes | None
) -> tuple[int, str]:
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    if picture is not None:
        form.add_field("picture", io.BytesIO(picture), filename="p.png", content_type="image/png")
    async with http.post(url, data=form, allow_redirects=False) as response:
        return response.status, await response.text()


async def rewards_in(stack: Stack) -> list[Reward]:
    async with stack.services.db.session() as session:
        return list((await session.exec(select(Reward))).all())


async def test_catalogue_and_fulfilment_queue(console_stack: Stack, signed_in: SignIn) -> None:
    stack = console_stack
    ann = await signed_in(EMPLOYEE)
    assert (await ann.get("/console/rewards"))[0] == 403
    admin = await signed_in(ADMIN)
    csrf = await admin.csrf("/console/rewards")
    url = stack.app_url + "/console/rewards"
    good = {"csrf": csrf, "name": "Team hoodie", "cost": "30", "stock": "2"}

    assert (await post_multipart(admin.http, url, {**good, "csrf": "forged"}, None))[0] == 403
    status, body = await post_multipart(
        admin.http, url, {"csrf": csrf, "name": " ", "cost": "abc", "stock": "-1"}, None
    )
    assert status == 400
    for message in ("Give the reward a name.", "The cost is a whole number", "The stock is"):
        assert message in body
    status, body = await post_multipart(admin.http, url, good, b"<script>alert(1)</script>")
    assert status == 400 and "Choose a PNG, JPEG, GIF or WebP image." in body
    assert 'value="Team hoodie"' in body  # what was typed stays
    status, body = await post_multipart(admin.http, url, good, b"\x89PNG" + b"0" * (3 * 2**20))
    assert status == 413 and "Traceback" not in body
    assert await rewards_in(stack) == []
    assert (await ann.post("/console/rewards", {"csrf": csrf, **good}))[0] == 403

    assert (await post_multipart(admin.http, url, good, png()))[0] == 303
    [reward] = await rewards_in(stack)
    assert (reward.name, reward.cost, reward.stock, reward.picture_type) == (
        "Team hoodie",
        30,
        2,
        "image/jpeg",
    )
    status, body, _ = await admin.get("/console/rewards")
    assert status == 200 and "Team hoodie" in body
    [src] = re.findall(r'src="(/console/rewards/\d+/picture\?v=1)"', body)
    async with ann.http.get(stack.app_url + src) as picture:
        assert picture.status == 200 and picture.headers["X-Content-Type-Options"] == "nosniff"
        data = await picture.read()
    stored = Image.open(io.BytesIO(data))
    assert stored.format == "JPEG" and max(stored.size) == 512
    assert b"GPS secret place" not in data
    edit = stack.app_url + f"/console/rewards/{reward.id}"
    assert (await post_multipart(admin.http, edit, {**good, "cost": "0"}, None))[0] == 400
    assert (await post_multipart(admin.http, edit, {**good, "active": "on"}, None))[0] == 303

    # Ann redeems both items (points given by an admin adjustment), then a refusal refunds.
    services = stack.services
    employee = await services.sync_employee(EMPLOYEE)
    async with services.db.session() as session:
        assert employee.id is not None
        await ledger.credit(
            session, employee_id=employee.id, points=70, reason="seed", ref="s", kind="adjusted"
        )
    first = await services.spending.redeem(EMPLOYEE, reward.id or 0)
    second = await services.spending.redeem(EMPLOYEE, reward.id or 0)
    assert (await services.spending.balance(EMPLOYEE)).available == 10
    status, body, _ = await admin.get("/console/rewards")
    assert f"Fulfil #{first.id}" in body and f"Refuse and refund #{second.id}" in body
    decide = f"/console/redemptions/{second.id}"
    assert (await admin.post(decide, {"csrf": csrf, "decision": "maybe"}))[0] == 400
    assert (await ann.post(decide, {"csrf": csrf, "decision": "refuse"}))[0] == 403
    note = "Sizes ran out <b>sorry</b>"
    status, _, where = await admin.post(decide, {"csrf": csrf, "decision": "refuse", "note": note})
    assert status == 303 and where == "/console/rewards?refused=1"
    assert (await admin.post(decide, {"csrf": csrf, "decision": "fulfil"}))[0] == 410
    dm = await wait_for_dm(stack, EMPLOYEE, rf"redemption #{second.id} .*refused")
    assert "Sizes ran out <b>sorry</b>" in str(dm.blocks) and "30 points" in dm.text
    assert (await services.spending.balance(EMPLOYEE)).available == 40
    await admin.post(f"/console/redemptions/{first.id}", {"csrf": csrf, "decision": "fulfil"})
    await wait_for_dm(stack, EMPLOYEE, rf"fulfilled redemption #{first.id}")
    [reward] = await rewards_in(stack)
    assert reward.stock == 1  # two taken, one given back
    body = (await admin.get("/console/rewards?fulfilled=1"))[1]
    assert "refused, refunded" in body and "Sizes ran out &lt;b&gt;sorry&lt;/b&gt;" in body
    async with services.db.session() as session:
        actions = [e.action for e in (await session.exec(select(AuditEntry))).all()]
    for action in (audit.REDEMPTION_CREATE, audit.REDEMPTION_REFUSE, audit.REDEMPTION_FULFIL):
        assert action in actions
