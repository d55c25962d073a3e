"""Who is this visitor: a random id in our signed first-party cookie, made on the first visit.

A visitor is a browser, not a network address. Strangers behind one office or carrier
address with the same phone model send the same IP and user agent, so the day's IP+UA hash
can never say who someone is: it is stored beside each view for counting only and links
nobody (not salesperson assignment, "customer is back" alerts, lead timelines or the
repeat-view rule).

The choice for requests without our cookie: each one gets a fresh random id (and the cookie
that carries it). A fresh browser's first request is cookieless too, and nothing in it tells
it apart from a client that never keeps cookies; counting such requests by the IP+UA hash
would fold ten new customers in one office into one. So every cookieless request is a new
visitor: a client that refuses cookies is counted once per page load (never merged with
anyone), and what that could earn is bounded by the points cap per network
(`bot/tracking.py`: at most 10 rewarded visitors per /24 or /64, share and day).
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from bot.errors import DomainError
from bot.service import ShareTrail
from bot.tracking import network_hash, visitor_hash, window_networks

COOKIE = "st_v"
OWN_COOKIE = "st_own"  # set by the employee's own preview link: their visits are not counted
COOKIE_MAX_AGE = 365 * 24 * 3600


def new_visitor_id() -> str:
    """128 random bits: unguessable, and unique across replicas without coordination."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Visitor:
    key: str  # the browser's random id: from our cookie, or made for this request
    hash: str  # the day's IP+UA hash: stored for counting, never used to link anyone
    network: str  # the day's keyed hash of the /24 or /64: the points cap per network
    new_cookie: str | None
    window_networks: tuple[str, ...] = ()  # keys of the network-burst window (bot/tracking)

    @property
    def known(self) -> bool:
        """Came back with our cookie (not merely the same IP and browser)."""
        return self.new_cookie is None


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The reverse proxies whose X-Forwarded-For entries are believed (TRUSTED_PROXIES)."""

    def __init__(self, networks: Iterable[Network]) -> None:
        networks = tuple(networks)
        # Single addresses are matched as text, so the default (loopback) parses nothing on
        # the landing page's path; only real ranges need the ipaddress module.
        self._addresses = frozenset(
            text
            for n in networks
            if n.num_addresses == 1
            for text in (str(n.network_address), n.network_address.exploded)
        )
        self._networks = tuple(n for n in networks if n.num_addresses > 1)
        self._seen: dict[str, bool] = {}

    def trusts(self, address: str) -> bool:
        if address in self._addresses:
            return True
        if not self._networks:
            return False
        known = self._seen.get(address)
        if known is None:
            if len(self._seen) > 4096:  # the peers are few; forwarded entries are not
                self._seen.clear()
            known = self._seen[address] = self._lookup(address)
        return known

    def _lookup(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)


LOOPBACK_PROXIES = TrustedProxies(
    [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128")]
)
PROXIES = web.AppKey("trusted_proxies", TrustedProxies)


def client_ip(request: web.Request) -> str:
    """The client's address. X-Forwarded-For is read right to left, skipping our own proxies:
    each proxy appends the address it was reached from, so the right-most entry not ours is
    the last one a trusted proxy vouched for (anything left of it is the client's own claim)."""
    peer = request.remote or ""
    proxies = request.app.get(PROXIES) or LOOPBACK_PROXIES
    if not proxies.trusts(peer):
        return peer
    forwarded = request.headers.get("X-Forwarded-For", "")
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    for entry in reversed(entries):
        if not proxies.trusts(entry):
            return entry
    return entries[0] if entries else peer


def identify(request: web.Request, services: ShareTrail) -> Visitor:
    """The visitor of this request; see the module's docstring for cookieless requests."""
    ip = client_ip(request)
    now = datetime.now(UTC)
    today = now.date()
    hashed = visitor_hash(services.hash_key, ip, request.headers.get("User-Agent", ""), today)
    network = network_hash(services.hash_key, ip, today)
    windows = window_networks(services.hash_key, ip, now, today=network)  # hashed once
    cookie = request.cookies.get(COOKIE)
    if cookie:
        try:
            return Visitor(services.visitor_cookies.unsign(cookie), hashed, network, None, windows)
        except DomainError:
            pass  # A forged or stale cookie is ignored, like no cookie at all.
    key = new_visitor_id()
    return Visitor(key, hashed, network, services.visitor_cookies.sign(key), windows)


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


SIGNED_UP_COOKIE = "st_su"  # the activities this browser signed up for (signed ids)
SIGNED_UP_KEPT = 20


def signed_up_activities(request: web.Request, services: ShareTrail) -> frozenset[int]:
    """The activities this browser signed up for: our signed cookie says so, not the
    network address (strangers behind one office address are different people)."""
    cookie = request.cookies.get(SIGNED_UP_COOKIE)
    if not cookie:
        return frozenset()
    try:
        value = services.signed_up_cookies.unsign(cookie)
    except DomainError:
        return frozenset()
    return frozenset(int(part) for part in value.split("-") if part.isdigit() and len(part) < 10)


def remember_signup(
    response: web.StreamResponse,
    request: web.Request,
    services: ShareTrail,
    activity_id: int,
    *,
    secure: bool,
) -> None:
    """Add the activity to the browser's signed list (the latest SIGNED_UP_KEPT)."""
    earlier = [a for a in signed_up_activities(request, services) if a != activity_id]
    kept = [*sorted(earlier)[-(SIGNED_UP_KEPT - 1) :], activity_id]
    signed = services.signed_up_cookies.sign("-".join(str(a) for a in kept))
    response.headers.add("Set-Cookie", cookie_header(SIGNED_UP_COOKIE, signed, secure=secure))
