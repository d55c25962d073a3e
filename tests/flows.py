"""Steps of the story, played through Slack's protocol against the `stack` fixture.

Each step waits for its visible effect in the Slack stand-in (an event, not a sleep):
bolt keeps working after the 3-second ack, so the HTTP answer alone proves little.
"""

from __future__ import annotations

import asyncio
import functools
import re
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import zxingcpp
from PIL import Image
from sqlmodel import col, select

from bot import outbox as outbox_mod
from sandbox.workspace import Message, View
from store.models import OutboxMessage, ShareVisitor
from tests.conftest import ADMIN, MOBILE_UA, Stack

LINK = re.compile(r"https?://\S+/s/[A-Za-z0-9_\-.]+")


def in_days(days: float, hour: int = 9) -> datetime:
    moment = datetime.now(UTC) + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def latest_view(stack: Stack, user: str, callback_id: str) -> View | None:
    views = [
        v
        for v in stack.slack.workspace.views.values()
        if v.user == user and not v.closed and v.view.get("callback_id") == callback_id
    ]
    return views[-1] if views else None


_MARKS = (("code", "`"), ("italic", "_"), ("bold", "*"), ("strike", "~"))


def _shown_inline(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "user":
        return f"<@{element['user_id']}>"
    if kind == "channel":
        return f"<#{element['channel_id']}>"
    if kind == "link":
        return f"<{element['url']}|{element.get('text') or element['url']}>"
    if kind == "date":
        return str(element.get("fallback", ""))
    text = str(element.get("text", ""))
    for style, mark in _MARKS:
        if (element.get("style") or {}).get(style):
            text = f"{mark}{text}{mark}"
    return text


def shown(value: Any) -> str:
    """What a reader sees in a view or in blocks, one line per text, in mrkdwn notation
    (rich_text styles as *bold*, `code`…; mentions as <@U…>), so tests read both kinds."""
    if isinstance(value, list):
        return "\n".join(shown(item) for item in value)
    if not isinstance(value, dict):
        return ""
    kind = value.get("type")
    if kind in ("mrkdwn", "plain_text"):
        return str(value.get("text", ""))
    if kind in ("rich_text_section", "rich_text_quote", "rich_text_preformatted"):
        prefix = "> " if kind == "rich_text_quote" else ""
        return prefix + "".join(_shown_inline(e) for e in value.get("elements") or [])
    if kind == "rich_text_list":
        return "\n".join("• " + shown(item) for item in value.get("elements") or [])
    parts = [
        shown(value[key])
        for key in ("title", "text", "fields", "elements", "blocks", "accessory")
        if key in value
    ]
    return "\n".join(part for part in parts if part)


def dm_texts(stack: Stack, user: str) -> list[str]:
    return [m.text for m in stack.slack.dm_messages(user)]


async def wait_for_dm(stack: Stack, user: str, pattern: str, *, since: int = 0) -> Message:
    """The first DM to `user` after the first `since` ones whose text matches `pattern`."""
    regex = re.compile(pattern)

    def found() -> Message | None:
        messages = stack.slack.dm_messages(user)[since:]
        return next((m for m in messages if regex.search(m.text)), None)

    message: Message = await stack.slack.wait_until(found)
    return message


def dm_count(stack: Stack, user: str) -> int:
    return len(stack.slack.dm_messages(user))


async def open_activity_modal(stack: Stack, user: str = ADMIN) -> View:
    since = stack.slack.mark()
    await stack.slack.send_slash_command(user, "new")
    await stack.slack.wait_for_call("views.open", since=since)
    view = latest_view(stack, user, "activity_modal")
    assert view is not None
    return view


def activity_form(**overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name": "Spring launch webinar",
        "starts_at": in_days(7),
        "ends_at": in_days(7, hour=11),
        "material_type": "event_invitation",
        "headline": "See what's new in ShareTrail 2",
        "intro": "A 45-minute tour of the release, with Q&A.",
        "kpi_views": "100",
        "kpi_signups": "20",
        "kpi_attendance": "10",
        "channel_id": "C_MARKETING",
    }
    form.update(overrides)
    return form


async def create_activity(stack: Stack, **overrides: Any) -> int:
    """Admin: /sharetrail new → fill the modal → the activity is created (and published)."""
    view = await open_activity_modal(stack)
    before = dm_count(stack, ADMIN)
    delivery = await stack.slack.submit_view(ADMIN, view.id, activity_form(**overrides))
    assert delivery.status == 200, delivery
    assert delivery.json is None, delivery.body  # plain ack: the modal closes
    note = await wait_for_dm(stack, ADMIN, r"Created activity #\d+", since=before)
    match = re.search(r"#(\d+)", note.text)
    assert match
    return int(match.group(1))


async def add_global_roster(stack: Stack, *users: str) -> None:
    mentions = " ".join(f"<@{u}|{u.lower()}>" for u in users)
    since = stack.slack.mark()
    await stack.slack.send_slash_command(ADMIN, f"sales add {mentions}")
    await stack.slack.wait_for_call("response_url", since=since)


@dataclass
class Card:
    url: str
    png: bytes
    message: Message

    def qr_text(self) -> str:
        from io import BytesIO

        results = zxingcpp.read_barcodes(Image.open(BytesIO(self.png)))
        assert results, "no QR code found on the card"
        return str(results[0].text)


async def get_share_card(stack: Stack, user: str, activity_id: int, **where: Any) -> Card:
    """Employee taps "Get my share card" under the announcement; the card arrives by DM."""
    before = dm_count(stack, user)
    where.setdefault("channel", "C_MARKETING")
    delivery = await stack.slack.click_button(user, "get_share_card", **where)
    assert delivery.status == 200, delivery

    def card_message() -> Message | None:
        return next((m for m in stack.slack.dm_messages(user)[before:] if m.files), None)

    message: Message = await stack.slack.wait_until(card_message)

    def picker() -> Message | None:  # the share_link_for select follows the card
        later = [m for m in stack.slack.dm_messages(user) if m.ts > message.ts]
        return next((m for m in later if "share_link_for" in str(m.blocks)), None)

    await stack.slack.wait_until(picker)
    match = LINK.search(message.text)
    assert match, message.text
    file = stack.slack.workspace.files[message.files[0]]
    assert f"activity #{activity_id}" in file.title or str(activity_id) in file.name
    return Card(match.group(0), file.content, message)


async def view_landing(stack: Stack, url: str, *, user_agent: str = MOBILE_UA, **kw: Any) -> str:
    async with stack.http.get(url, headers={"User-Agent": user_agent}, **kw) as response:
        assert response.status == 200, await response.text()
        return await response.text()


FORM_FIELD = re.compile(r'<input type="hidden" name="(offer|form)" value="([^"]*)"')


async def signup_form(
    browser: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> dict[str, str]:
    """Open the landing page as a browser does before signing up: its hidden fields (the
    salesperson offered, the signed form token)."""
    async with browser.get(url, headers=headers) as response:
        assert response.status == 200, await response.text()
        return dict(FORM_FIELD.findall(await response.text()))


async def sign_up(
    stack: Stack,
    url: str,
    fields: dict[str, str],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    browser: aiohttp.ClientSession | None = None,
    **kw: Any,
) -> str:
    """Open the page (a view, counted once per visitor and half hour) and send its form."""
    browser = browser or stack.http
    headers = {"User-Agent": MOBILE_UA, **(headers or {})}
    form = {**await signup_form(browser, url, headers), **fields}
    async with browser.post(f"{url}/signup", data=form, headers=headers, **kw) as response:
        body = await response.text()
        assert response.status == status, body
        return body


async def time_passes(stack: Stack, minutes: int = 31) -> None:
    """Move every moment the view rules remember back, as if `minutes` had passed (no
    sleeping): the visitors' last counted views (the 30-minute repeat rule) and the
    coalescing windows of the "viewing" DMs (their times live in the outbox payloads)."""
    delta = timedelta(minutes=minutes)
    async with stack.runtime.db.session() as session:
        for visitor in (await session.exec(select(ShareVisitor))).all():
            visitor.last_counted_at -= delta
            session.add(visitor)
        windows = select(OutboxMessage).where(col(OutboxMessage.batch).startswith("views:"))
        for row in (await session.exec(windows)).all():
            event = outbox_mod.decode(row.kind, row.payload)
            moments = {
                f.name: getattr(event, f.name) - delta
                for f in fields(event)  # type: ignore[arg-type]
                if isinstance(getattr(event, f.name), datetime)
            }
            row.kind, row.payload = outbox_mod.encode(replace(event, **moments))  # type: ignore[type-var]
            session.add(row)


def called_since(stack: Stack, mark: int) -> bool:
    """Has the app called Slack since `mark`?"""
    return stack.slack.mark() > mark


async def delivered(stack: Stack, timeout: float = 30.0) -> None:
    """Settle, and wait out the retries the outbox scheduled for later: until no message
    is pending or being sent (each retry is awaited as the Slack call it makes)."""
    async with asyncio.timeout(timeout):
        while True:
            await stack.settle()
            mark = stack.slack.mark()
            health = await stack.services.outbox.health()
            if not (health.pending or health.sending):
                return
            await stack.slack.wait_until(functools.partial(called_since, stack, mark), timeout)
