"""Share links pasted in chat: which share a URL names, and what its preview shows.

A chat app's unfurl (Slack's `link_shared` + `chat.unfurl`) is a preview, like a link-preview
bot fetching the page: recorded, never counted, never rewarded, never announced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from bot.tracking import Classification, Visit
from store.models import Activity, Employee

PREVIEW_VISITOR = "chat-link-preview"  # the visitor key of every unfurl: never a person
CHAT_PREVIEW = Classification(True, "unfurl", "chat app link preview")


@dataclass(frozen=True)
class LinkPreview:
    """What a pasted share link shows: the activity, its time, who shares it, the card."""

    url: str
    activity: Activity
    employee: Employee
    when: str
    card_url: str


def share_code_in(url: str, public_base_url: str) -> str | None:
    """The share code of `url` if it is one of our landing pages (`{base}/s/{code}`)."""
    base = urlsplit(public_base_url.rstrip("/"))
    try:
        link = urlsplit(url.strip())
    except ValueError:
        return None
    if (link.scheme, link.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return None
    prefix = base.path.rstrip("/") + "/s/"
    if not link.path.startswith(prefix):
        return None
    code = link.path[len(prefix) :].rstrip("/")
    return code if code and "/" not in code else None


def preview_visit(
    *, share_id: int, activity_id: int, employee_id: int, source: str, at: datetime
) -> Visit:
    """The view an unfurl records: a preview, like a link-preview bot's."""
    return Visit(
        share_id=share_id,
        activity_id=activity_id,
        employee_id=employee_id,
        source=source,
        visitor_key=PREVIEW_VISITOR,
        visitor_hash="",
        classification=CHAT_PREVIEW,
        at=at,
    )
