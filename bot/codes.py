"""Signed share codes and signed tokens (HMAC-SHA256 with SHARETRAIL_SECRET).

A share code carries the share id and its push source inside the signed payload, so a
source tag cannot be forged and a forged or truncated code is rejected before any query.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.errors import Gone, NotFound
from bot.i18n import N_, _

PUSH_SOURCES: tuple[str, ...] = ("card_qr", "dm", "channel", "email", "wechat", "linkedin", "other")
DEFAULT_SOURCE = "card_qr"
# What people read for each push source (charts, reports): never the tag itself. Marked
# for the catalogues; shown through _() where read.
PUSH_SOURCE_LABELS: dict[str, str] = {
    "card_qr": N_("Card QR"),
    "dm": N_("Direct message"),
    "channel": N_("Channel"),
    "email": N_("Email"),
    "wechat": N_("WeChat"),
    "linkedin": N_("LinkedIn"),
    "other": N_("Other"),
}

_MAC_BYTES = 9
_CODE_RE = re.compile(r"[A-Za-z0-9_-]{14,32}")


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_key(secret: str, purpose: str) -> bytes:
    """One key per purpose, so a cookie signature can never pass as a share code."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class ShareRef:
    share_id: int
    source: str


def _keyed(key: bytes) -> Callable[[bytes], bytes]:
    """HMAC-SHA256 under `key`, keyed once: each call copies the keyed state (cheaper than
    keying again, which the landing page would otherwise do several times per request)."""
    keyed = hmac.new(key, digestmod=hashlib.sha256)

    def mac(message: bytes) -> bytes:
        state = keyed.copy()
        state.update(message)
        return state.digest()

    return mac


class ShareCodec:
    def __init__(self, secret: str) -> None:
        self._hmac = _keyed(derive_key(secret, "share-code"))
        # Decoding is pure, and the code of a card shared into a busy group repeats a lot.
        # Only valid codes are kept: lru_cache does not store the NotFound raised for forgeries.
        self._decoded = functools.lru_cache(maxsize=4096)(self._decode)

    def _mac(self, payload: bytes) -> bytes:
        return self._hmac(payload)[:_MAC_BYTES]

    def encode(self, share_id: int, source: str = DEFAULT_SOURCE) -> str:
        if share_id <= 0:
            raise ValueError("share ids are positive")
        length = max(2, (share_id.bit_length() + 7) // 8)
        payload = share_id.to_bytes(length, "big") + bytes([PUSH_SOURCES.index(source)])
        return _b64encode(payload + self._mac(payload))

    def decode(self, code: str) -> ShareRef:
        """The share a code names; NotFound for anything not signed by us."""
        return self._decoded(code)

    def _decode(self, code: str) -> ShareRef:
        if not _CODE_RE.fullmatch(code):
            raise NotFound(_("This link does not lead to an activity."))
        try:
            raw = _b64decode(code)
        except (binascii.Error, ValueError):
            raise NotFound(_("This link does not lead to an activity.")) from None
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if len(payload) < 3 or not hmac.compare_digest(mac, self._mac(payload)):
            raise NotFound(_("This link does not lead to an activity."))
        source_index = payload[-1]
        if source_index >= len(PUSH_SOURCES):
            raise NotFound(_("This link does not lead to an activity."))
        return ShareRef(int.from_bytes(payload[:-1], "big"), PUSH_SOURCES[source_index])


class Signer:
    """Signs short text values (cookies, one-off links) with an optional expiry."""

    def __init__(self, secret: str, purpose: str) -> None:
        self._hmac = _keyed(derive_key(secret, purpose))

    def _mac(self, body: str) -> bytes:
        # surrogatepass: a value read from a header or URL may hold any code point, and an
        # unencodable one must fail the comparison below, not raise.
        digest = self._hmac(body.encode("utf-8", "surrogatepass"))[:12]
        return _b64encode(digest).encode("ascii")

    def sign(self, value: str, *, ttl_seconds: int | None = None, now: float | None = None) -> str:
        expires = "" if ttl_seconds is None else str(int((now or time.time()) + ttl_seconds))
        body = f"{value}.{expires}"
        return f"{body}.{self._mac(body).decode('ascii')}"

    def unsign(self, token: str, *, now: float | None = None) -> str:
        """The signed value; NotFound if forged, Gone if expired."""
        if len(token) > 512 or token.count(".") < 2:
            raise NotFound(_("This link is not valid."))
        body, mac = token.rsplit(".", 1)
        # Compared as bytes: compare_digest raises TypeError on a str with non-ASCII text.
        if not hmac.compare_digest(mac.encode("utf-8", "surrogatepass"), self._mac(body)):
            raise NotFound(_("This link is not valid."))
        value, expires = body.rsplit(".", 1)
        if expires and int(expires) < (now or time.time()):
            raise Gone(_("This link has expired."))
        return value
