"""The customer's pages in Chinese: Accept-Language picks zh or en, and no English is left."""

from __future__ import annotations

from tests.conftest import EMPLOYEE, MOBILE_UA, SALES, Stack
from tests.flows import add_global_roster, create_activity, get_share_card, sign_up
from tests.zh_support import english_left, page_text

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8", "User-Agent": MOBILE_UA}
EN = {"Accept-Language": "en-US,en;q=0.9,zh;q=0.5", "User-Agent": MOBILE_UA}


async def view_landing(stack: Stack, url: str, headers: dict[str, str]) -> str:
    async with stack.http.get(url, headers=headers) as response:
        assert response.status == 200
        return await response.text()


async def test_customer_pages_in_zh_and_en(stack: Stack) -> None:
    await add_global_roster(stack, *SALES)
    activity_id = await create_activity(
        stack,
        name="春季新品发布会",
        headline="ShareTrail 2 新功能一览",
        intro="45 分钟产品演示，含现场问答。",
    )
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    users = stack.slack.workspace.users
    people = tuple(  # as typed in their profiles: names, not ShareTrail's English
        text for user in (EMPLOYEE, *SALES) for text in (users[user].real_name, users[user].title)
    )

    zh_page = await view_landing(stack, card.url, ZH)
    assert "提交报名" in zh_page and '<html lang="zh-CN">' in zh_page
    assert english_left(page_text(zh_page), allow=people) == []
    # The rendered page is cached per share: a second language must not get the first's copy.
    en_page = await view_landing(stack, card.url, EN)
    assert "Sign me up" in en_page and "提交报名" not in en_page

    refused = await sign_up(stack, card.url, {"name": "", "phone": "x"}, headers=ZH, status=400)
    assert "请填写你的姓名" in refused
    assert english_left(page_text(refused), allow=people) == []

    customer = {"name": "王芳", "phone": "+86 138 1234 5678"}
    done = await sign_up(stack, card.url, customer, headers=ZH)
    assert "报名成功" in done
    assert english_left(page_text(done), allow=people) == []

    async with stack.http.get(card.url + "x", headers=ZH) as response:
        assert response.status == 404
        missing = await response.text()
    assert "此链接" in missing and english_left(page_text(missing)) == []


def test_the_detector_finds_catalogue_english() -> None:
    assert english_left("请 Sign me up 吧") == ["Sign me up"]
    assert english_left("王芳 Wang Fang https://example.com/s/abc U0123") == []


async def test_a_page_falls_back_to_the_activitys_language(stack: Stack) -> None:
    from sqlmodel import select

    from store.models import Activity

    activity_id = await create_activity(stack, name="发布会")
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    async with stack.runtime.db.session() as session:
        activity = (await session.exec(select(Activity).where(Activity.id == activity_id))).one()
        assert activity.language == "en"  # the admin's language (LANGUAGE: en)
        activity.language = "zh"
        session.add(activity)
        await session.commit()
    stack.services.page_cache.clear()
    neither = {"Accept-Language": "fr-FR,fr;q=0.9,de;q=0.5", "User-Agent": MOBILE_UA}
    assert "提交报名" in await view_landing(stack, card.url, neither)
    assert "提交报名" in await view_landing(stack, card.url, {"User-Agent": MOBILE_UA})
    assert "Sign me up" in await view_landing(stack, card.url, EN)  # the browser wins
