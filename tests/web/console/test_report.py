"""The activity report in the console over real HTTP: four charts inline as SVG, made safe
although they carry names people typed; per-employee and per-source tables with human
source labels ("WeChat", "Card QR", never `card_qr`); admins only."""

from __future__ import annotations

import re

from handlers.web.console.charts import safe_svg
from tests.conftest import ADMIN, EMPLOYEE, Stack
from tests.flows import create_activity, get_share_card, sign_up, view_landing
from tests.web.console.conftest import SignIn

HOSTILE = '--><script>alert(1)</script><img src=x onerror="alert(2)"> 新品 & Co'


def test_safe_svg_keeps_drawing_and_drops_everything_else() -> None:
    evil = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="720pt" height="400pt" viewBox="0 0 720 400" onload="alert(1)">
 <!-- --><script>alert(2)</script> -->
 <defs><clipPath id="p1"><rect x="0" y="0" width="9" height="9"/></clipPath>
  <path id="g1" d="M 0 0 L 1 1"/></defs>
 <script>alert(3)</script>
 <foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
 <a xlink:href="javascript:alert(4)"><path d="M 1 1"/></a>
 <g clip-path="url(#p1)" style="fill: url(http://evil/x)"><use xlink:href="#g1" x="3"/>
  <use xlink:href="http://evil/#x"/><path d="M 2 2" onclick="alert(5)"/></g>
 <style>*{stroke-linejoin: round}</style>
</svg>"""
    out = str(safe_svg(evil, prefix="c-", label='Funnel "<b>"'))
    for bad in ("script", "alert", "onload", "onclick", "foreignObject", "evil", "<!--", "<a"):
        assert bad not in out, bad
    assert 'aria-label="Funnel &#34;&lt;b&gt;&#34;"' in out
    assert '<clipPath id="c-p1">' in out and 'clip-path="url(#c-p1)"' in out
    assert '<use href="#c-g1" x="3">' in out and "stroke-linejoin: round" in out
    assert 'width="720pt"' not in out and 'viewBox="0 0 720 400"' in out
    assert str(safe_svg(b"<svg><unclosed", prefix="x", label="")) == ""


async def test_report_page_charts_and_tables(console_stack: Stack, signed_in: SignIn) -> None:
    stack = console_stack
    activity_id = await create_activity(stack, name=HOSTILE)
    admin = await signed_in(ADMIN)
    status, body, _ = await admin.get(f"/console/activities/{activity_id}/report")
    assert status == 200 and "<svg" not in body and "Charts appear here once" in body
    assert "<svg" not in (await admin.get("/console"))[1]  # no empty charts
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    await view_landing(stack, card.url)
    share_id = stack.services.codec.decode(card.url.rsplit("/", 1)[1]).share_id
    wechat = stack.services.share_link(share_id, "wechat")
    await sign_up(stack, wechat, {"name": "Wang Fang", "phone": "+86 138 0000 1111"})
    await stack.settle()

    path = f"/console/activities/{activity_id}/report"
    status, body, _ = await admin.get(path)
    assert status == 200, body
    svgs = re.findall(r"<svg .*?</svg>", body, re.S)
    assert len(svgs) == 4
    for svg in svgs:
        assert 'role="img"' in svg and "<!--" not in svg
    assert "<script" not in body.replace("<script data-beacon", "")
    assert "onerror" not in body.replace("onerror=&#34;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body  # the name, as text
    employees = body[body.index("By employee") : body.index("By push source")]
    assert "Ann" in employees or EMPLOYEE in employees
    sources = body[body.index("By push source") :]
    assert "WeChat" in sources and "Card QR" in sources
    assert "card_qr" not in body and "wechat<" not in body

    status, body, _ = await admin.get("/console")
    assert status == 200 and len(re.findall(r'<svg [^>]*role="img"', body)) == 1

    ann = await signed_in(EMPLOYEE)
    assert (await ann.get(path))[0] == 403
    assert (await admin.get("/console/activities/99999/report"))[0] == 404
    assert (await admin.get("/console/activities/abc/report"))[0] == 404
