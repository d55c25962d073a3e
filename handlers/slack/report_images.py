"""Chart images in Slack messages (the weekly report), and the message without them.

An image block's `image_url` is downloaded by Slack when the message is posted; if that
fails (a PUBLIC_BASE_URL Slack cannot reach, a chart that took too long) Slack refuses the
whole message: `invalid_blocks`, with `downloading image failed [json-pointer:/blocks/N/
image_url]` among its reasons. The notifier then posts the same message without its images
(`without_images`), so a report is never lost for a picture.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import i18n
from bot.notifications import ReportChart
from bot.reports.service import title
from handlers.slack.errors import slack_error
from handlers.slack.markup import Block, plain_text

IMAGE_REFUSED = "downloading image failed"


def chart_blocks(charts: Iterable[ReportChart]) -> list[Block]:
    """One image block per chart, its link and words in the current reader's language."""
    locale = i18n.current_locale()
    blocks: list[Block] = []
    for chart in charts:
        label = f"{title(chart.kind, locale)} — {chart.activity_name}"
        blocks.append(
            {
                "type": "image",
                "image_url": chart.url(locale),
                "alt_text": label[:2000],
                "title": plain_text(label),
            }
        )
    return blocks


def has_images(blocks: Iterable[Block]) -> bool:
    return any(block.get("type") == "image" for block in blocks)


def without_images(blocks: Iterable[Block]) -> list[Block]:
    """The message's blocks minus its image blocks."""
    return [block for block in blocks if block.get("type") != "image"]


def refused_for_images(exc: SlackApiError, blocks: Iterable[Block]) -> bool:
    """Slack refused blocks that hold images: posting them without the images may pass.
    (Without images the same refusal is final; the caller tries once.)"""
    return slack_error(exc) == "invalid_blocks" and has_images(blocks)


def reasons(exc: SlackApiError) -> list[str]:
    """Slack's reasons for a refusal (`errors`, else `response_metadata.messages`)."""
    data: Any = exc.response.data
    if not isinstance(data, dict):
        return []
    found = data.get("errors") or (data.get("response_metadata") or {}).get("messages") or []
    return [str(reason) for reason in found]
