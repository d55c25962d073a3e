"""Issue 16's acceptance, through WeCom's real protocol: signed, encrypted callbacks into
the running app; the stand-in records every API call and answers like WeCom."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import BytesIO

import zxingcpp
from PIL import Image

from bot.activities import ActivityDraft
from sandbox.wecom_api import Sent
from tests.flows import sign_up
from tests.web.console.test_activities import GOOD
from tests.wecom.conftest import EMPLOYEE, SALES, WECOM_ADMIN, WeComStack

LINK = re.compile(r"https?://\S+/s/[\w-]+")


def cards(chat: list[Sent]) -> list[Sent]:
    return [m for m in chat if m.msgtype == "template_card"]


def keys(card: Sent) -> list[str]:
    return [str(b["key"]) for b in card.body["button_list"]]


async def new_activity(stack: WeComStack, *, salespeople: list[str]) -> int:
    """The admin's activity (the console calls the same service)."""
    starts = datetime.now(UTC) + timedelta(days=7)
    activity = await stack.services.create_activity(
        ActivityDraft(
            name="春季发布会",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            material_type="event_invitation",
            headline="新品发布",
            salespeople=salespeople,
            tz="Asia/Shanghai",
        ),
        created_by=f"wecom:{WECOM_ADMIN}",
    )
    assert activity.id is not None
    return activity.id


async def test_announce_tap_share_sign_up_and_attended(wecom_stack: WeComStack) -> None:
    stack, wecom = wecom_stack, wecom_stack.standin

    # URL verification: the decrypted echostr; a bad signature is refused.
    query = wecom.signer.verification("echo-1616140317555161061")
    async with stack.http.get(f"{stack.app_url}/wecom/callback", params=query) as answer:
        assert (answer.status, await answer.text()) == (200, "echo-1616140317555161061")
    query["msg_signature"] = "0" * 40
    async with stack.http.get(f"{stack.app_url}/wecom/callback", params=query) as answer:
        assert answer.status == 403

    activity_id = await new_activity(stack, salespeople=[f"wecom:{SALES}"])
    await stack.services.start_broadcast(
        activity_id, by_user_id=f"wecom:{WECOM_ADMIN}", user_ids=[f"wecom:{EMPLOYEE}"]
    )
    await stack.settle()
    (announcement,) = cards(wecom.chat(EMPLOYEE))
    assert announcement.body["card_type"] == "button_interaction"
    assert f"get_share_card:{activity_id}" in keys(announcement)

    # 获取我的分享卡: media/upload, an image message, then the link as text.
    assert await wecom.tap(stack.http, EMPLOYEE, announcement, keys(announcement)[0]) == 200
    await stack.settle()
    image, link = wecom.chat(EMPLOYEE)[-2:]
    assert (image.msgtype, link.msgtype) == ("image", "text")
    url = LINK.search(link.body["content"])
    assert url is not None
    png = wecom.media[image.body["media_id"]]
    (qr,) = zxingcpp.read_barcodes(Image.open(BytesIO(png)))
    assert qr.text.startswith(url.group(0))
    assert [name for name, _ in wecom.calls].count("media/upload") == 1

    # A customer signs up: the employee hears it, the salesperson gets the lead card.
    await sign_up(stack, url.group(0), {"name": "Wang Fang", "phone": "+86 138 1234 5678"})
    await stack.settle()
    assert any("Wang Fang" in m.body.get("content", "") for m in wecom.chat(EMPLOYEE))
    (lead_card,) = cards(wecom.chat(SALES))
    attended = next(k for k in keys(lead_card) if k.startswith("lead_outcome_attended:"))
    lead_id = int(attended.split(":")[1])

    # 已到场: the outcome is recorded, the card turns grey, the employee is told.
    assert await wecom.tap(stack.http, SALES, lead_card, attended) == 200
    await stack.settle()
    assert lead_card.replaced == "已到场 ✓"  # WeCom speaks Chinese first
    lead, _activity, _employee = await stack.services.lead_context(lead_id)
    assert (lead.outcome, lead.salesperson_id) == ("attended", f"wecom:{SALES}")
    report = await stack.services.report(activity_id)
    assert (report.totals.signups, report.totals.attended) == (1, 1)
    assert "已到场" in wecom.chat(EMPLOYEE)[-1].body["content"]
    # Profiles came from user/get; the salesperson's hidden mobile left nothing broken.
    assert {p["userid"] for n, p in wecom.calls if n == "user/get"} >= {EMPLOYEE, SALES}


async def test_forged_resent_and_commands(wecom_stack: WeComStack) -> None:
    stack, wecom = wecom_stack, wecom_stack.standin
    fields = {
        "FromUserName": EMPLOYEE,
        "CreateTime": 1733300000,
        "MsgType": "text",
        "Content": "帮助",
        "MsgId": "4561255354251345929",
        "AgentID": wecom.agent_id,
    }
    # A bad signature, another corp id, garbage: refused, nothing done.
    assert (await wecom.callback(stack.http, fields, tamper=True))[0] == 403
    assert (await wecom.callback(stack.http, fields, corp_id="ww_other"))[0] == 403
    async with stack.http.post(
        f"{stack.app_url}/wecom/callback",
        params={"msg_signature": "a", "timestamp": "1", "nonce": "2"},
        data="<xml><Encrypt><!ENTITY x 'y'></Encrypt></xml>",
    ) as answer:
        assert answer.status == 400
    await stack.settle()
    assert wecom.sent() == []

    # The same callback three times (WeCom re-sends when slow): answered each time, done once.
    status, body, envelope = await wecom.callback(stack.http, fields)
    for _ in range(2):
        assert (await wecom.callback(stack.http, {}, envelope=envelope))[:2] == (200, "")
    assert (status, body) == (200, "")
    await stack.settle()
    (help_text,) = wecom.chat(EMPLOYEE)
    assert "排行榜" in help_text.body["content"]

    # English or Chinese, the same commands; opening the app sends home once a day.
    activity_id = await new_activity(stack, salespeople=[])
    for text in ("活动", f"stats {activity_id}", "线索 abc"):
        assert await wecom.send_text(stack.http, EMPLOYEE, text) == 200
        await stack.settle()  # one at a time: each is answered after its own callback
    for _ in range(2):
        assert await wecom.event(stack.http, EMPLOYEE, "enter_agent") == 200
        await stack.settle()
    texts = [m.body["content"] for m in wecom.chat(EMPLOYEE)[1:]]
    assert "春季发布会" in texts[0] and "春季发布会" in texts[1]
    assert "数据 12" in texts[2]  # a clear message (how to say it), nothing done
    assert len(texts) == 4 and "欢迎" in texts[3]


async def test_token_expiry_and_45009_storm(wecom_stack: WeComStack) -> None:
    stack, wecom = wecom_stack, wecom_stack.standin
    activity_id = await new_activity(stack, salespeople=[])
    people = [EMPLOYEE, SALES, WECOM_ADMIN]
    await stack.services.start_broadcast(
        activity_id, by_user_id=f"wecom:{WECOM_ADMIN}", user_ids=[f"wecom:{EMPLOYEE}"]
    )
    await stack.settle()
    assert wecom.gettoken_calls == 1

    # The token is revoked mid-run (40014): one renewal, nothing lost.
    wecom.revoke_tokens()
    await stack.services.start_broadcast(
        activity_id, by_user_id=f"wecom:{WECOM_ADMIN}", user_ids=[f"wecom:{p}" for p in people]
    )
    await stack.settle()
    assert wecom.gettoken_calls == 2
    assert [len(cards(wecom.chat(p))) for p in people] == [1, 1, 1]  # zhangsan: told once

    # A 45009 storm: retried with backoff, every message delivered once.
    wecom.storm(3)
    second = await new_activity(stack, salespeople=[])
    await stack.services.start_broadcast(
        second, by_user_id=f"wecom:{WECOM_ADMIN}", user_ids=[f"wecom:{p}" for p in people]
    )
    while True:  # until the retries the outbox scheduled for later have gone out
        await stack.settle()
        health = await stack.services.outbox.health()
        if not (health.pending or health.sending):
            break
        await wecom.next_call()
    assert [len(cards(wecom.chat(p))) for p in people] == [2, 2, 2]
    assert health.failed == 0
    # Unknown members are a permanent failure, shown in health, never retried.
    await stack.services.start_broadcast(
        second, by_user_id=f"wecom:{WECOM_ADMIN}", user_ids=["wecom:nobody"]
    )
    await stack.settle()
    assert "wecom_81013" in str((await stack.services.health()).get("recent_failures"))
    assert len([p for p in wecom.sent() if p["touser"] == "nobody"]) == 1


async def test_slack_employee_wecom_salesperson(wecom_stack: WeComStack) -> None:
    """One database, two platforms: a Slack employee's customer is assigned to a WeCom
    salesperson, and each is told on their own platform."""
    stack, wecom = wecom_stack, wecom_stack.standin
    activity_id = await new_activity(stack, salespeople=[f"wecom:{SALES}"])
    card = await stack.services.share_card("U_ANN", activity_id)  # the Slack button's call
    await sign_up(stack, card.url, {"name": "Zhao Lei", "phone": "+86 139 0000 1111"})
    await stack.settle()

    (lead_card,) = cards(wecom.chat(SALES))
    assert "Zhao Lei" in lead_card.body["main_title"]["title"]
    slack_dm = [m.text for m in stack.slack.dm_messages("U_ANN")]
    assert any("Zhao Lei" in text and "李四" in text for text in slack_dm), slack_dm
    assert not any("wecom:" in text for text in slack_dm)  # no mention of a non-Slack id
    assert wecom.chat(EMPLOYEE) == []  # nobody on WeCom was told the Slack employee's news


async def test_console_sign_in_inside_wecom(wecom_stack: WeComStack) -> None:
    """OAuth2 snsapi_base: WeCom's page sends a code back, auth/getuserinfo names the member,
    and the console session is theirs; a forged state or a used code signs nobody in."""
    stack, wecom = wecom_stack, wecom_stack.standin
    async with stack.http.get(
        f"{stack.app_url}/console/login/wecom", allow_redirects=False
    ) as answer:
        authorize = answer.headers["Location"]
    assert "scope=snsapi_base" in authorize and authorize.endswith("#wechat_redirect")
    async with stack.http.get(
        authorize.split("#")[0] + f"&userid={WECOM_ADMIN}", allow_redirects=False
    ) as answer:
        back = answer.headers["Location"]
    assert back.startswith(f"{stack.app_url}/console/callback/wecom?code=")
    async with stack.http.get(back.replace("state=", "state=x"), allow_redirects=False) as answer:
        assert answer.status == 403  # not the state this browser started
    async with stack.http.get(back) as answer:
        assert answer.status == 200 and str(answer.url).endswith("/console")
        page = await answer.text()
    assert "王五" in page
    assert ("auth/getuserinfo", {"known": True}) in wecom.calls
    async with stack.http.get(back, allow_redirects=False) as answer:
        assert answer.status == 403  # the attempt is over and the code was used

    # The WeCom admin creates an activity in the console (WeCom has no modals) and announces
    # it there: every member gets the card once (message/send to @all), however often the
    # button is pressed.
    async with stack.http.get(f"{stack.app_url}/console/activities/new") as answer:
        token = re.search(r'name="csrf" value="([^"]+)"', await answer.text())
    assert token
    form = {**GOOD, "name": "春季巡展", "csrf": token.group(1)}
    async with stack.http.post(f"{stack.app_url}/console/activities/new", data=form) as answer:
        created = re.search(r"/console/activities/(\d+)", str(answer.url))
        assert answer.status == 200 and created, await answer.text()
    activity_id = int(created.group(1))
    assert (await stack.services.activity(activity_id)).created_by == f"wecom:{WECOM_ADMIN}"
    page_url = f"{stack.app_url}/console/activities/{activity_id}"
    for _ in range(2):
        async with stack.http.get(page_url) as answer:
            page = await answer.text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf and "wecom-announce" in page
        async with stack.http.post(
            f"{page_url}/wecom-announce", data={"csrf": csrf.group(1)}
        ) as answer:
            assert answer.status == 200 and "announced=wecom" in str(answer.url)
        await stack.settle()
    assert [p["touser"] for p in wecom.sent()] == ["@all"]
    for member in (EMPLOYEE, SALES, WECOM_ADMIN):
        (card,) = cards(wecom.chat(member))
        assert f"get_share_card:{activity_id}" in keys(card)
