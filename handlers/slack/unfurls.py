"""Link unfurls: a share link pasted in Slack shows its activity (title, time, card image).

Slack sends `link_shared` for links on the app's unfurl domains (slack-manifest.yml,
`features.unfurl_domains`); the app answers with `chat.unfurl`. An unfurl is a preview:
the service records it as one, never as a view, and nobody is DM'd about it.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.i18n import _
from bot.previews import LinkPreview
from bot.service import ShareTrail
from handlers.slack.blocks import Block
from handlers.slack.errors import reporting_errors, slack_error
from handlers.slack.markup import Piece, Said, plain_text, rich_text

log = logging.getLogger(__name__)

JSON = dict[str, Any]
MAX_LINKS = 10  # a message with more share links than this unfurls the first ten


def unfurl_blocks(preview: LinkPreview) -> list[Block]:
    """The unfurl under a pasted share link: the activity (typed words verbatim), when it
    is, and the card image."""
    activity = preview.activity
    pieces: list[Piece] = [Said(activity.name, strong=True), f"\n🗓 {preview.when}"]
    if activity.headline and activity.headline != activity.name:
        pieces += ["\n", Said(activity.headline)]
    return [
        rich_text(pieces),
        {
            "type": "image",
            "image_url": preview.card_url,
            "alt_text": _("Share card: {name}").format(name=activity.name)[:2000],
        },
        {
            "type": "context",
            "elements": [
                plain_text(
                    _("Shared by {name} · ShareTrail").format(name=preview.employee.name), 2000
                )
            ],
        },
    ]


async def send_unfurls(client: AsyncWebClient, event: dict[str, Any], unfurls: JSON) -> None:
    """chat.unfurl by the event's unfurl_id (works in the composer too), else channel + ts."""
    if event.get("unfurl_id") and event.get("source"):
        await client.chat_unfurl(
            unfurl_id=str(event["unfurl_id"]), source=str(event["source"]), unfurls=unfurls
        )
    else:
        await client.chat_unfurl(
            channel=str(event.get("channel", "")),
            ts=str(event.get("message_ts", "")),
            unfurls=unfurls,
        )


def shared_urls(event: dict[str, Any]) -> list[str]:
    """The distinct URLs of the event, in order, at most MAX_LINKS."""
    urls = [
        str(link.get("url") or "") for link in event.get("links") or [] if isinstance(link, dict)
    ]
    return list(dict.fromkeys(u for u in urls if u))[:MAX_LINKS]


async def on_link_shared(
    event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    services: ShareTrail = context["services"]
    unfurls: JSON = {}
    for url in shared_urls(event):
        preview = await services.link_preview(url)
        if preview is not None:
            unfurls[url] = {"blocks": unfurl_blocks(preview)}
    if not unfurls:
        return
    try:
        await send_unfurls(client, event, unfurls)
    except SlackApiError as exc:  # the link stays a plain link; nobody needs a DM about it
        log.warning("could not unfurl a share link: %s", slack_error(exc))


def register(app: AsyncApp) -> None:
    app.event("link_shared")(reporting_errors(on_link_shared))
