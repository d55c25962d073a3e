"""Requests from "Slack" to the app, signed and timed exactly as Slack sends them.

https://api.slack.com/authentication/verifying-requests-from-slack: the signature is
`v0=` + HMAC-SHA256(signing secret, "v0:{timestamp}:{raw body}"). Slack waits 3 seconds
for the acknowledgement; events that are not acknowledged are retried with
`X-Slack-Retry-Num` / `X-Slack-Retry-Reason`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

ACK_TIMEOUT = 3.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass
class Delivery:
    """What the app answered to one request."""

    kind: str
    status: int
    body: str
    content_type: str
    elapsed: float
    timed_out: bool = False
    request: bytes = b""
    request_type: str = ""

    @property
    def json(self) -> Any:
        if not self.body or "json" not in self.content_type:
            return None
        return json.loads(self.body)


class AppEndpoint:
    """The app's Request URL (`…/slack/events`), reached with signed HTTP requests."""

    def __init__(self, signing_secret: str, url: str | None = None) -> None:
        self.signing_secret = signing_secret
        self.url = url
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def post(
        self,
        kind: str,
        body: bytes,
        content_type: str,
        *,
        extra_headers: dict[str, str] | None = None,
        signature: str | None = None,
        timestamp: str | None = None,
    ) -> Delivery:
        if not self.url:
            raise RuntimeError("The emulator does not know the app's URL yet (set app_url).")
        timestamp = timestamp or str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature or sign(self.signing_secret, timestamp, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        headers.update(extra_headers or {})
        started = time.perf_counter()
        try:
            async with self._http().post(
                self.url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(ACK_TIMEOUT)
            ) as response:
                text = await response.text()
                return Delivery(
                    kind,
                    response.status,
                    text,
                    response.headers.get("Content-Type", ""),
                    time.perf_counter() - started,
                    request=body,
                    request_type=content_type,
                )
        except TimeoutError:
            elapsed = time.perf_counter() - started
            return Delivery(kind, 0, "", "", elapsed, True, request=body, request_type=content_type)

    async def redeliver(self, original: Delivery, retry_num: int = 1) -> Delivery:
        """Send the same body again as Slack's retry does (X-Slack-Retry-Num, fresh signature)."""
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(
            original.kind, original.request, original.request_type, extra_headers=headers
        )

    async def post_form(self, kind: str, fields: dict[str, str], **options: Any) -> Delivery:
        body = urlencode(fields).encode()
        return await self.post(kind, body, "application/x-www-form-urlencoded", **options)

    async def post_payload(self, kind: str, payload: dict[str, Any], **options: Any) -> Delivery:
        """Interactivity: `payload=<json>` as a form field, as Slack does."""
        return await self.post_form(kind, {"payload": json.dumps(payload)}, **options)

    async def post_event(
        self, envelope: dict[str, Any], *, retries: int = 3, **options: Any
    ) -> list[Delivery]:
        """Deliver an Events API envelope; retry unacknowledged deliveries like Slack."""
        body = json.dumps(envelope).encode()
        attempts = [await self.post("event", body, "application/json", **options)]
        for retry in range(1, retries + 1):
            last = attempts[-1]
            if not last.timed_out and last.status < 500 and last.status != 0:
                break
            reason = "http_timeout" if last.timed_out else "http_error"
            headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": reason}
            await asyncio.sleep(0)
            attempts.append(
                await self.post("event", body, "application/json", extra_headers=headers)
            )
        return attempts
