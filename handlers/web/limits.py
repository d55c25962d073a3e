"""Per-client token buckets for the routes a script could hammer (sign-up, beacon).

Buckets are keyed by a keyed hash of the client: its IPv4 address, or the /64 of its IPv6
address (one subscriber gets a whole /64 and can pick a new address in it per request), so
not even memory keeps raw addresses. They are per process: several processes behind a
balancer add up their budgets, which is fine for abuse limits.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from handlers.web.keys import SERVICES
from handlers.web.visitors import client_ip

MAX_BUCKETS = 100_000


@dataclass(frozen=True)
class Rate:
    per_minute: float
    burst: int


# A person signs up once or twice and their page sends a few beacons; scripts do more.
LIMITS: dict[str, Rate] = {
    "signup": Rate(per_minute=6, burst=10),
    "beacon": Rate(per_minute=60, burst=30),
}


class TooManyRequests(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests from your network. Try again in {retry_after} s.")
        self.retry_after = retry_after


class TokenBuckets:
    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        """0.0 if allowed (a token is taken), else the seconds until one is available."""
        now = self._clock()
        tokens, last = self._buckets.pop(key, (float(self.rate.burst), now))
        tokens = min(float(self.rate.burst), tokens + (now - last) * self.rate.per_minute / 60)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)  # re-insert: LRU order
        if len(self._buckets) > MAX_BUCKETS:
            del self._buckets[next(iter(self._buckets))]
        return 0.0 if allowed else (1 - tokens) * 60 / self.rate.per_minute


LIMITERS = web.AppKey("limiters", dict)


def client_key(ip: str) -> str:
    """What one client is for rate limiting: an IPv4 address, or an IPv6 /64."""
    if ":" not in ip:
        return ip
    try:
        address = ipaddress.IPv6Address(ip.split("%", 1)[0])
    except ValueError:
        return ip
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return address.exploded[:19] + "::/64"


def setup(app: web.Application) -> None:
    app[LIMITERS] = {name: TokenBuckets(rate) for name, rate in LIMITS.items()}


def limited(name: str) -> Callable[[Handler], Handler]:
    """Route decorator: 429 (with Retry-After) once the client's bucket is empty."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            salt = request.app[SERVICES].hash_key
            key = hashlib.blake2b(
                client_key(client_ip(request)).encode(), key=salt[:64], digest_size=12
            ).hexdigest()
            wait = request.app[LIMITERS][name].take(key)
            if wait > 0:
                raise TooManyRequests(max(1, math.ceil(wait)))
            return await handler(request)

        guarded.__name__ = getattr(handler, "__name__", name)
        return guarded

    return wrap
