"""Client-side pacing under Slack's rate limits, so bulk sends never meet a 429 storm.

One table of budgets (https://api.slack.com/apis/rate-limits): Web API tiers per method,
and chat.postMessage's "special" limit of about one message per second per channel with
short bursts, plus a workspace-wide budget for the bot's messages. Callers `await
pacer.acquire(method, channel)` before each call; the pacer sleeps just long enough.
A 429 that still happens (another process sharing the token, a stricter workspace)
is reported with `penalize`, which pauses that budget for Retry-After.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    per_minute: float
    burst: int
    per_channel: bool = False


TIER_2 = Budget(20, 20)
TIER_3 = Budget(50, 50)
TIER_4 = Budget(100, 100)

SLACK_BUDGETS: dict[str, Budget] = {
    "users.list": TIER_2,
    "conversations.history": TIER_3,
    "conversations.replies": TIER_3,
    "conversations.open": TIER_3,
    "chat.update": TIER_3,
    "files.delete": TIER_3,
    "users.info": TIER_4,
    "views.open": TIER_4,
    "views.publish": TIER_4,
    "chat.postEphemeral": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
    "chat.postMessage": Budget(60, 5, per_channel=True),
    # Slack does not publish one number; "several hundred messages a minute" per workspace.
    "chat.postMessage#workspace": Budget(600, 30),
}


class Paced(Exception):
    """The budget is exhausted for longer than the caller is willing to wait."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"paced for {wait:.2f} s")
        self.wait = wait


class _Bucket:
    def __init__(self, budget: Budget, now: float) -> None:
        self.rate = budget.per_minute / 60
        self.burst = float(budget.burst)
        self.tokens = self.burst
        self.stamp = now
        self.blocked_until = 0.0

    def wait_for_token(self, now: float) -> float:
        tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        return max(0.0 if tokens >= 1 else (1 - tokens) / self.rate, self.blocked_until - now)

    def reserve(self, now: float) -> float:
        """Take a token (possibly going into debt); the seconds to wait before using it."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1
        wait = 0.0 if self.tokens >= 0 else -self.tokens / self.rate
        return max(wait, self.blocked_until - now)


# Stay a little under each budget: requests reach Slack a little bunched up by the
# network, and one 429 costs a whole second of Retry-After.
HEADROOM = 0.97


class Pacer:
    def __init__(
        self,
        budgets: dict[str, Budget] | None = None,
        *,
        scale: float = 1.0,
        headroom: float = HEADROOM,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        table = budgets if budgets is not None else SLACK_BUDGETS
        self._budgets = {
            name: Budget(
                b.per_minute * scale * headroom,
                max(1, int(b.burst * scale * headroom)),
                b.per_channel,
            )
            for name, b in table.items()
        }
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self.waited = 0.0

    def _bucket(self, name: str, scope: str) -> _Bucket | None:
        budget = self._budgets.get(name)
        if budget is None:
            return None
        key = (name, scope if budget.per_channel else "")
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(budget, self._clock())
        return bucket

    def _buckets_for(self, method: str, channel: str) -> list[_Bucket]:
        names = (method, f"{method}#workspace")
        return [b for name in names if (b := self._bucket(name, channel)) is not None]

    def reserve(self, method: str, channel: str = "", max_wait: float = math.inf) -> float:
        """Take a slot and return the wait before using it. Over `max_wait` the slot is
        still taken (it is the caller's, later) and Paced says when: come back then, and
        send without asking again."""
        now = self._clock()
        wait = max((b.reserve(now) for b in self._buckets_for(method, channel)), default=0.0)
        if wait > max_wait:
            raise Paced(wait)
        return wait

    async def acquire(self, method: str, channel: str = "", max_wait: float = math.inf) -> None:
        wait = self.reserve(method, channel, max_wait)
        if wait > 0:
            self.waited += wait
            await asyncio.sleep(wait)

    def penalize(self, method: str, retry_after: float, channel: str = "") -> None:
        """Slack said 429 anyway: hold this budget back for Retry-After seconds."""
        until = self._clock() + retry_after
        for name in (method, f"{method}#workspace"):
            bucket = self._bucket(name, channel)
            if bucket is not None:
                bucket.blocked_until = max(bucket.blocked_until, until)
