"""Who is this visitor: the signed first-party cookie, else the daily-salted IP+UA hash.

The cookie's value *is* the first day's hash, so a visitor who accepts the cookie and one
who refuses it are counted the same way on their first visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from bot.errors import DomainError
from bot.service import ShareTrail
from bot.tracking import visitor_hash

COOKIE = "st_v"
OWN_COOKIE = "st_own"  # set by the employee's own preview link: their visits are not counted
COOKIE_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Visitor:
    key: str
    hash: str
    new_cookie: str | None

    @property
    def known(self) -> bool:
        """Came back with our cookie (not merely the same IP and browser)."""
        return self.new_cookie is None


TRUSTED_PROXIES = frozenset({"127.0.0.1", "::1"})


def client_ip(request: web.Request) -> str:
    """The client's address; X-Forwarded-For counts only from a proxy on this host
    (anyone else could forge it to dodge rate limits or pose as another visitor)."""
    peer = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if peer in TRUSTED_PROXIES and forwarded:
        return forwarded.split(",")[0].strip() or peer
    return peer


def identify(request: web.Request, services: ShareTrail) -> Visitor:
    user_agent = request.headers.get("User-Agent", "")
    hashed = visitor_hash(
        services.hash_key, client_ip(request), user_agent, datetime.now(UTC).date()
    )
    cookie = request.cookies.get(COOKIE)
    if cookie:
        try:
            return Visitor(services.visitor_cookies.unsign(cookie), hashed, None)
        except DomainError:
            pass  # A forged or stale cookie is ignored, like no cookie at all.
    return Visitor(hashed, hashed, services.visitor_cookies.sign(hashed))


def own_employee_id(request: web.Request, services: ShareTrail) -> int | None:
    """The employee this browser belongs to, if they opened their own preview link here."""
    cookie = request.cookies.get(OWN_COOKIE)
    if not cookie:
        return None
    try:
        return int(services.own_cookies.unsign(cookie))
    except (DomainError, ValueError):
        return None


def remember_owner(
    response: web.StreamResponse, services: ShareTrail, employee_id: int, *, secure: bool
) -> None:
    signed = services.own_cookies.sign(str(employee_id))
    response.headers.add("Set-Cookie", cookie_header(OWN_COOKIE, signed, secure=secure))


def cookie_header(name: str, value: str, *, secure: bool) -> str:
    """A year-long, first-party, script-proof cookie. Built directly rather than through
    http.cookies (a sixth of the landing page's own time): our values are signed tokens
    (letters, digits, '-', '_', '.'), which need no quoting."""
    assert value.replace("-", "").replace("_", "").replace(".", "").isalnum(), value
    return f"{name}={value}; HttpOnly; Max-Age={COOKIE_MAX_AGE}; Path=/; SameSite=Lax" + (
        "; Secure" if secure else ""
    )


def remember(response: web.StreamResponse, visitor: Visitor, *, secure: bool) -> None:
    if visitor.new_cookie:
        response.headers.add("Set-Cookie", cookie_header(COOKIE, visitor.new_cookie, secure=secure))
