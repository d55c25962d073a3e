"""Security headers on every response of the server, computed once at start-up.

The pages' scripts are inline (one request per page on a phone) and allowed by their
SHA-256 in the Content-Security-Policy, never by 'unsafe-inline': each lives in
assets/static/*.js, templates insert it with `{{ inline_script("name") }}` and the policy
lists the hash of exactly that text. Per-page values reach a script through data-*
attributes, so the text (and its hash) is the same on every page, and a rendered page can
be cached. A new script is a new file there: nothing else to register.

Inline styles stay allowed ('unsafe-inline' in style-src): styles cannot run code, and with
img-src, font-src and connect-src limited to this origin CSS cannot send data elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from markupsafe import Markup

# Check-in links carry their capability in the path: no Referer leaves those pages at all.
TOKEN_PATHS = ("/checkin/",)


@dataclass(frozen=True)
class InlineScripts:
    """The pages' scripts by name (landing, checkin), as templates insert them."""

    texts: Mapping[str, str]

    @classmethod
    def load(cls, directory: Path) -> InlineScripts:
        return cls({path.stem: path.read_text("utf-8") for path in sorted(directory.glob("*.js"))})

    def markup(self, name: str) -> Markup:
        """The script's text for a template; a name without a file fails the render loudly."""
        return Markup(self.texts[name])

    @property
    def hashes(self) -> list[str]:
        """CSP source expressions: 'sha256-…' of each script exactly as inserted."""
        return [
            "'sha256-{}'".format(
                base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
            )
            for text in self.texts.values()
        ]


def content_security_policy(scripts: InlineScripts) -> str:
    """Same-origin everything; scripts only by hash; no framing, no <base>, no plugins."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + (" ".join(scripts.hashes) or "'none'"),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",  # navigator.sendBeacon
            "form-action 'self'",
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ]
    )


PrepareHook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


def security_headers(scripts: InlineScripts) -> PrepareHook:
    """An on_response_prepare hook adding the headers to every response (pages, errors,
    404s, JSON); values are built here once, a response costs a few dict insertions."""
    common = (
        ("Content-Security-Policy", content_security_policy(scripts)),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),  # frame-ancestors for browsers without CSP level 2
    )
    pages = (*common, ("Referrer-Policy", "strict-origin-when-cross-origin"))
    token_pages = (*common, ("Referrer-Policy", "no-referrer"))

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        for name, value in token_pages if request.path.startswith(TOKEN_PATHS) else pages:
            headers.setdefault(name, value)  # a route may have said something stricter

    return add_headers


def install(app: web.Application, scripts_dir: Path) -> InlineScripts:
    """Load the scripts and add the headers to every response of `app`."""
    scripts = InlineScripts.load(scripts_dir)
    app.on_response_prepare.append(security_headers(scripts))
    return scripts
