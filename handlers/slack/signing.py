"""Slack's request signature, checked on the raw bytes before anything is decoded.

https://api.slack.com/authentication/verifying-requests-from-slack: `v0=` +
HMAC-SHA256(signing secret, "v0:{timestamp}:{raw body}"), refused when the timestamp is
more than five minutes away. slack_sdk's SignatureVerifier decodes the body as UTF-8,
calls int() on the timestamp and compares str digests, so a non-UTF-8 body, a timestamp
like `abc` or a non-ASCII signature raise instead of answering "not signed".
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping

MAX_AGE_S = 5 * 60
# ASCII digits only: int() would also take "１２", "1_000" or " 12 ".
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class RequestSigning:
    """Verifies that a request came from Slack (signed with our signing secret, recently)."""

    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        self._key = signing_secret.encode()
        self._clock = clock

    def signature(self, timestamp: str, body: bytes) -> bytes:
        base = b"v0:" + timestamp.encode("ascii") + b":" + body
        return b"v0=" + hmac.new(self._key, base, hashlib.sha256).hexdigest().encode("ascii")

    def valid(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """True only for a well-formed, fresh timestamp and a matching signature."""
        timestamp = headers.get("X-Slack-Request-Timestamp")
        signature = headers.get("X-Slack-Signature")
        if timestamp is None or signature is None or not _TIMESTAMP.fullmatch(timestamp):
            return False
        if abs(self._clock() - int(timestamp)) > MAX_AGE_S:
            return False
        given = signature.encode("utf-8", "surrogatepass")
        return hmac.compare_digest(self.signature(timestamp, body), given)
