"""Token buckets: burst, refill, and independent clients."""

from __future__ import annotations

from handlers.web.limits import Rate, TokenBuckets


def test_burst_then_refill() -> None:
    now = [0.0]
    buckets = TokenBuckets(Rate(per_minute=6, burst=3), clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == 10.0  # one token every 10 s
    assert buckets.take("b") == 0.0  # another client has its own bucket
    now[0] = 10.0
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    now[0] = 1000.0
    assert [buckets.take("a") for _ in range(4)][:3] == [0.0, 0.0, 0.0]  # capped at burst
