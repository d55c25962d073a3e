"""Leaderboards through /sharetrail: all activities, one activity, a month and a quarter
(competition ranks 1, 2, 2, 4, said in the reply), and `me leaderboard off|on`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.activities import ActivityDraft
from store.models import PointsEntry, Share
from store.queries import StatChange, bump_stats
from tests.conftest import ADMIN, Stack
from tests.slack.test_commands import reply_to

ANN, BOB, LI, HAN = "U_ANN", "U_BOB", "U_LI", "U_HAN"
RANK = re.compile(r"(🥇|🥈|🥉|\d+\.) <@(U_[A-Z0-9_]+)> — \*(\d+) pts?\*")

# (who, points, when): November has a tie for second; HAN's December moves the quarter.
EARNED = [
    (ANN, 30, datetime(2026, 11, 3, 12, tzinfo=UTC)),
    (BOB, 20, datetime(2026, 11, 9, 12, tzinfo=UTC)),
    (LI, 20, datetime(2026, 11, 30, 23, 59, tzinfo=UTC)),
    (HAN, 10, datetime(2026, 11, 1, 0, 0, tzinfo=UTC)),
    (HAN, 50, datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
    (ANN, 100, datetime(2026, 9, 30, 23, 59, tzinfo=UTC)),  # the third quarter
]


def ranks(reply: str) -> list[tuple[str, str, int]]:
    """(rank, user, points) per line, as the reader sees them; medals as ranks 1-3."""
    medal = {"🥇": "1", "🥈": "2", "🥉": "3"}
    return [(medal.get(m, m.rstrip(".")), u, int(p)) for m, u, p in RANK.findall(reply)]


async def seed(stack: Stack) -> int:
    """One activity, four sharers, their points in the ledger and the stats roll-up."""
    services = stack.services
    start = datetime(2026, 9, 1, tzinfo=UTC)
    draft = ActivityDraft(
        name="Autumn tour",
        starts_at=start,
        ends_at=datetime(2026, 12, 31, tzinfo=UTC),
        material_type="poster",
    )
    activity = await services.create_activity(draft, created_by=ADMIN)
    assert activity.id is not None
    people = {user: await services.sync_employee(user) for user in (ANN, BOB, LI, HAN)}
    async with services.db.session() as session:
        shares = {}
        for user, employee in people.items():
            share = Share(activity_id=activity.id, employee_id=employee.id)
            session.add(share)
            await session.flush()
            shares[user] = share
        for user, points, at in EARNED:
            share, employee = shares[user], people[user]
            session.add(
                PointsEntry(
                    employee_id=employee.id,
                    activity_id=activity.id,
                    share_id=share.id,
                    points=points,
                    reason="signup",
                    ref=f"seed:{user}:{at.isoformat()}",
                    at=at,
                )
            )
            await bump_stats(
                session,
                [StatChange(share.id, "card_qr", activity.id, employee.id, {"points": points})],
            )
    return activity.id


async def test_boards_rank_ties_fairly_and_people_can_leave_them(stack: Stack) -> None:
    activity_id = await seed(stack)

    everything = await reply_to(stack, ANN, "leaderboard")
    assert ranks(everything) == [("1", ANN, 130), ("2", HAN, 60), ("3", BOB, 20), ("3", LI, 20)]
    assert "Equal points share a rank (1, 2, 2, 4)" in everything
    assert ranks(await reply_to(stack, ANN, f"leaderboard {activity_id}")) == ranks(everything)

    november = await reply_to(stack, ANN, "leaderboard month 2026-11")
    assert "2026-11" in november
    assert ranks(november) == [("1", ANN, 30), ("2", BOB, 20), ("2", LI, 20), ("4", HAN, 10)]
    quarter = await reply_to(stack, ANN, "leaderboard quarter 2026-Q4")
    assert ranks(quarter) == [("1", HAN, 60), ("2", ANN, 30), ("3", BOB, 20), ("3", LI, 20)]
    assert ranks(await reply_to(stack, ANN, "leaderboard quarter 2026-Q3")) == [("1", ANN, 100)]
    assert "No points yet" in await reply_to(stack, ANN, "leaderboard month 2025-01")

    for bad in ("month 2026-13", "quarter 2026-Q5", "month November", "quarter 99999-Q1"):
        answer = await reply_to(stack, ANN, f"leaderboard {bad}")
        assert "leaderboard month [YYYY-MM]" in answer and not ranks(answer), bad

    assert "off the public leaderboards" in await reply_to(stack, BOB, "me leaderboard off")
    hidden = await reply_to(stack, BOB, "leaderboard month 2026-11")
    assert ranks(hidden) == [("1", ANN, 30), ("2", LI, 20), ("3", HAN, 10)]
    assert "You are not on the board" in hidden
    assert "You are not on the board" not in await reply_to(stack, ANN, "leaderboard")
    assert BOB not in str(ranks(await reply_to(stack, ANN, "leaderboard")))
    assert "me leaderboard off" in await reply_to(stack, BOB, "me leaderboard maybe")

    assert "on the leaderboards again" in await reply_to(stack, BOB, "me leaderboard on")
    assert ranks(await reply_to(stack, ANN, "leaderboard month 2026-11"))[1] == ("2", BOB, 20)
