"""What the server's logs may say about a request: never a check-in or preview token.

A check-in link's token is a capability (whoever holds it can check in for the lead), and
so is the employee's `?me=` preview token. Both travel in URLs, which aiohttp's access log
(when enabled), its protocol errors and our own error log would otherwise write out. A
client's malformed HTTP is its mistake: a one-line warning, not a traceback quoting the
request line and the client's address.
"""

from __future__ import annotations

import logging
import re

from aiohttp.http_exceptions import HttpProcessingError

REDACTED = "[redacted]"
_TOKENS = re.compile(r"(/checkin/)[^\s/?#\"'\\]+|([?&;]me=)[^\s&;#\"'\\]+")
# Loggers that write request lines or paths: the access log, the protocol's error log, ours.
REQUEST_LOGGERS = ("aiohttp.access", "aiohttp.server", "aiohttp.web", "handlers.web.errors")
_FORMATTER = logging.Formatter()


def redact(text: str) -> str:
    """`text` with every check-in token and `me=` preview token replaced."""
    return _TOKENS.sub(lambda m: (m.group(1) or m.group(2)) + REDACTED, text)


class RedactTokens(logging.Filter):
    """Rewrites each record so that no handler or formatter sees a token."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            _as_refusal(record, error)
        elif record.msg == "Error handling request from %s":  # aiohttp.server: a raw address
            record.msg, record.args = "Error handling a request", None
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info:
            text = _FORMATTER.formatException(record.exc_info)
            record.exc_text = redact(text)
            if record.exc_text != text:  # the exception itself holds a token: keep only text
                record.exc_info = None
        for name, value in list(vars(record).items()):  # `extra` fields (the access log's)
            if isinstance(value, str) and name not in ("msg", "exc_text"):
                setattr(record, name, redact(value))
        return True


def _as_refusal(record: logging.LogRecord, error: HttpProcessingError) -> None:
    """aiohttp answered 400 to bytes that are not HTTP; say so in one line."""
    reason = (error.message or type(error).__name__).splitlines()[0].rstrip(":")
    record.levelno, record.levelname = logging.WARNING, "WARNING"
    record.msg, record.args = "refused a malformed HTTP request (%s): %s", (error.code, reason)
    record.exc_info, record.exc_text = None, None


def install() -> None:
    """Attach the filter to every logger that writes requests (once per logger)."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
