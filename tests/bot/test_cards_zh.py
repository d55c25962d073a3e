"""A Chinese activity's share card prints Chinese: the material label, the time line (city
named in Chinese) and the caption under the QR code; an English activity's card stays English.
The card is in the activity's language (its readers scan it), whoever asks for it."""

from __future__ import annotations

import io

from PIL import Image, ImageChops
from sqlmodel import select

from bot.cards import CAPTION_TOP, QR_CARD_BOX, WIDTH
from store.models import Activity, Employee
from tests.conftest import EMPLOYEE, Stack
from tests.flows import create_activity, get_share_card
from tests.zh_support import english_left


async def card_parts(stack: Stack, activity_id: int) -> tuple[Activity, Employee]:
    async with stack.runtime.db.session() as session:
        activity = (await session.exec(select(Activity).where(Activity.id == activity_id))).one()
        employee = (await session.exec(select(Employee).where(Employee.user_id == EMPLOYEE))).one()
    return activity, employee


def caption_band(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return image.crop((0, QR_CARD_BOX[3], WIDTH, CAPTION_TOP + 40))


async def test_a_zh_activitys_card_prints_no_english(stack: Stack) -> None:
    zh_id = await create_activity(
        stack, name="春季新品发布会", headline="45 分钟产品演示", language="zh", tz="Asia/Shanghai"
    )
    zh_card = await get_share_card(stack, EMPLOYEE, zh_id)
    en_id = await create_activity(stack, name="Spring launch", language="en")
    en_card = await get_share_card(stack, EMPLOYEE, en_id)

    activity, employee = await card_parts(stack, zh_id)
    assert activity.language == "zh"
    content = stack.services.card_content(activity, employee, zh_card.url)
    # The card the employee got is this content, drawn.
    assert stack.services.cards.render(content) == zh_card.png
    printed = [content.material_type, content.activity_time, content.caption]
    assert content.material_type == "活动邀请" and content.caption == "扫码了解详情"
    assert english_left("\n".join(printed)) == [], printed
    assert "Event invitation" not in printed and "Scan" not in content.caption

    en_activity, _ = await card_parts(stack, en_id)
    en_content = stack.services.card_content(en_activity, employee, en_card.url)
    assert en_content.material_type == "Event invitation"
    assert en_content.caption == "Scan to learn more"
    # The caption is drawn in each card's language: the two bands differ.
    assert ImageChops.difference(caption_band(zh_card.png), caption_band(en_card.png)).getbbox()
