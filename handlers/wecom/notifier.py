"""Domain notifications sent as WeCom app messages, for the outbox (bot/outbox.py).

Pacing (WeCom 发送应用消息 limits): one app may send one member at most 30 messages a
minute; a send that would exceed it is deferred ("paced", not an attempt). Errcodes:
-1 (busy), 45009 (frequency limit) and 45033 (concurrency limit) mean nothing was sent, so
the outbox retries with backoff; an unclear failure (timeout, HTTP error) is retried too;
anything else (unknown member 81013, a card WeCom refuses 40058…) is permanent and shows
in health. WeCom has no way to ask whether a message landed, so a careful retry (the
first attempt may have landed) asks WeCom's own duplicate check to drop an identical
message sent in the last 30 minutes (enable_duplicate_check).

Erasing a customer (bot/privacy.py): WeCom cannot edit a sent message's text. What it
allows is 撤回应用消息 (message/recall), for messages sent in the last 24 hours, and only
on the WeCom side (a copy shown in the WeChat plugin, 微信插件, stays). So a message about
an erased customer is recalled when it is younger than that; an older one cannot be
changed or removed through the API, and is logged as such (update_template_card only
greys a card's buttons, with a response code that works once within 72 hours).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.i18n import use_locale
from bot.notifications import FileErased, MessageErased, MessageRef, Notification
from bot.outbox import DeliveryError
from handlers.wecom.api import TOKEN_ERRORS, WeComApi, WeComError
from handlers.wecom.messages import render

log = logging.getLogger(__name__)

PER_MEMBER_PER_MINUTE = 30
DUPLICATE_CHECK_S = 1800
LOCALE = "zh"
RECALL_WINDOW = timedelta(hours=24)  # 撤回应用消息: messages sent within 24 hours


class MemberPacer:
    """At most `limit` sends to one member in any 60 s."""

    def __init__(
        self, limit: int = PER_MEMBER_PER_MINUTE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}

    def wait(self, member: str) -> float:
        """0 and the send is counted, or how long to wait before trying again."""
        now = self._clock()
        sent = self._sent.setdefault(member, deque())
        while sent and now - sent[0] >= 60:
            sent.popleft()
        if len(sent) >= self._limit:
            return 60 - (now - sent[0])
        sent.append(now)
        return 0.0


def delivery_error(exc: WeComError, *, partial: bool) -> DeliveryError:
    code = "wecom_timeout" if exc.code is None else f"wecom_{exc.code}"
    if partial:
        code += ":partial"
    permanent = not (exc.retryable or exc.code in TOKEN_ERRORS)
    return DeliveryError(code, permanent=permanent)


class WeComNotifier:
    def __init__(self, api: WeComApi, pacer: MemberPacer | None = None) -> None:
        self._api = api
        self._pacer = pacer or MemberPacer()

    async def deliver(
        self,
        event: Notification,
        *,
        key: str,
        careful_since: datetime | None = None,
        prepaid: bool = False,
    ) -> MessageRef | None:
        if isinstance(event, MessageErased):
            await self._recall(event)
            return None
        if isinstance(event, FileErased):  # contact files are kept in Slack only
            return None
        main: MessageRef | None = None
        ref: MessageRef | None = None
        sent = False
        extra = (
            {"enable_duplicate_check": 1, "duplicate_check_interval": DUPLICATE_CHECK_S}
            if careful_since is not None
            else {}
        )
        with use_locale(LOCALE):  # WeCom people read Chinese first
            rendered = render(event, key)
        for message in rendered:
            wait = self._pacer.wait(message.touser)
            if wait > 0:
                raise DeliveryError(
                    "paced:partial" if sent else "paced", permanent=False, retry_after=wait
                )
            try:
                answer = await self._api.send(
                    message.touser, message.msgtype, message.body, **extra
                )
            except WeComError as exc:
                raise delivery_error(exc, partial=sent) from None
            sent = True
            ref = (message.touser, str(answer.get("msgid") or ""))
            if message.main:
                main = ref
        return main or ref

    async def _recall(self, event: MessageErased) -> None:
        """Take back a message about an erased customer, if WeCom still allows it."""
        if event.sent_at is not None and datetime.now(UTC) - event.sent_at > RECALL_WINDOW:
            log.info("WeCom message %s is over 24 h old: it cannot be recalled", event.ts)
            return
        try:
            await self._api.recall(event.ts)
        except WeComError as exc:
            if exc.retryable or exc.code in TOKEN_ERRORS:
                raise delivery_error(exc, partial=False) from None
            # Already recalled, or past the window by WeCom's clock: nothing more to do.
            log.info("WeCom did not recall %s: %s", event.ts, exc.code)

    async def notify(self, event: Notification) -> MessageRef | None:
        """Send now, outside the outbox (answers to someone's own action); failures logged."""
        try:
            return await self.deliver(event, key=f"direct-{uuid.uuid4().hex}")
        except DeliveryError as exc:
            log.warning("WeCom refused %s: %s", type(event).__name__, exc.code)
            return None
