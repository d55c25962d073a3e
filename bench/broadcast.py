"""Announcing an activity to 10,000 employees against Slack-like rate limits.

Run: python bench/broadcast.py [--people 10000] [--scale 20]   (about a minute)

The stand-in enforces Slack's limits (sandbox.emulator.RateLimits.slack_like: chat.
postMessage about 1/s per channel and a workspace budget of 600/min, Web API tiers),
multiplied by `--scale` so the run takes a minute instead of seventeen; ShareTrail's
pacer is given the same scale (SLACK_PACING_SCALE). The baseline is the minimum time
the limits allow: (people − initial burst) / workspace rate. Targets (issue 6): finish
time ≤ 1.1 × that minimum, and no 429s after the first.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from inprocess import running

from bot.activities import ActivityDraft
from handlers.slack.broadcast import workspace_people
from sandbox.emulator import RateLimits
from sandbox.workspace import add_people


async def main(people: int, scale: float) -> None:
    async with running(pacing_scale=scale) as bench:
        add_people(bench.slack.workspace, people - 7)  # plus the 7 seeded people
        limits = RateLimits.slack_like(scale)
        bench.slack.rate_limits = limits
        services = bench.runtime.services
        from datetime import UTC, datetime, timedelta

        start = datetime.now(UTC) + timedelta(days=3)
        activity = await services.create_activity(
            ActivityDraft("Launch", start, start + timedelta(hours=1), "video"),
            created_by="U_ADMIN",
        )
        assert activity.id is not None
        workspace = limits.limits["chat.postMessage#workspace"]
        floor = max(0, people - workspace.burst) / (workspace.per_minute / 60)

        started = time.perf_counter()
        recipients = await workspace_people(bench.runtime.client)
        listed = time.perf_counter() - started
        status = await services.start_broadcast(
            activity.id, by_user_id="U_ADMIN", user_ids=recipients
        )
        queued = time.perf_counter() - started
        await services.outbox.drain(timeout=3600)
        elapsed = time.perf_counter() - started

        health = await services.outbox.health()
        posts = bench.slack.calls_to("chat.postMessage")
        refused = [c for c in posts if c.error == "ratelimited"]
        print(f"people                 {people:,} (queued {status.queued:,})")
        print(f"users.list (paged)     {listed:8.2f} s")
        print(f"queued in the outbox   {queued - listed:8.2f} s")
        print(
            f"baseline: minimum      {floor:8.2f} s   ({workspace.per_minute / 60:.0f}/s, "
            f"burst {workspace.burst})"
        )
        print(f"finish time            {elapsed:8.2f} s")
        ratio = elapsed / floor if floor else float("nan")
        print(
            f"ratio                  {ratio:8.3f}   (target ≤ 1.1: "
            f"{'PASS' if ratio <= 1.1 else 'MISS'})"
        )
        print(
            f"429s received          {len(refused):8d}   (target 0 after the first: "
            f"{'PASS' if len(refused) <= 1 else 'MISS'})"
        )
        print(f"sent / failed          {health.sent:,} / {health.failed:,}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=20.0)
    args = parser.parse_args()
    asyncio.run(main(args.people, args.scale))
