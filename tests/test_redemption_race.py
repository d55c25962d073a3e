"""Acceptance (issue 15): 20 simultaneous redemptions of the last 5 items from two
processes: exactly 5 succeed, nobody overdraws, balances and stock exact, the ledger
consistent. On PostgreSQL (the acceptance) and on SQLite (one file, two processes)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

from sqlmodel import select

from bot import ledger
from bot.redemptions import NotEnoughPoints, OutOfStock
from store.db import Database
from store.models import Employee, Redemption, Reward
from tests.ledger_support import assert_ledger_consistent

ROOT = Path(__file__).resolve().parents[1]
COST = 10
# Points each employee starts with: 1 + 1 + 3 + 3 = 8 items affordable, 5 in stock.
START = {"U_A": 10, "U_B": 10, "U_C": 30, "U_D": 30}


async def _seed(db: Database) -> tuple[int, dict[str, int]]:
    async with db.session() as session:
        people = {user: Employee(user_id=user, name=user) for user in START}
        session.add_all(people.values())
        reward = Reward(name="Team hoodie", cost=COST, stock=5)
        session.add(reward)
        await session.flush()
        for user, employee in people.items():
            assert employee.id is not None
            await ledger.credit(
                session,
                employee_id=employee.id,
                points=START[user],
                reason="seed",
                ref=f"seed:{user}",
                kind="adjusted",
            )
        assert reward.id is not None
        return reward.id, {user: e.id for user, e in people.items() if e.id is not None}


async def _worker(url: str, reward_id: int, employee_ids: list[int]) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "tests" / "redeem_worker.py"),
        url,
        str(reward_id),
        ",".join(map(str, employee_ids)),
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert (await process.stdout.readline()).strip() == b"ready"
    return process


async def test_twenty_redemptions_of_the_last_five_from_two_processes(
    db: Database, database_url: str
) -> None:
    reward_id, ids = await _seed(db)
    attempts = [ids[user] for user in START] * 5  # 20: each employee five times
    processes = [
        await _worker(database_url, reward_id, attempts[0::2]),
        await _worker(database_url, reward_id, attempts[1::2]),
    ]
    for process in processes:  # both are connected and waiting: start them together
        assert process.stdin is not None
        process.stdin.write(b"go\n")
        await process.stdin.drain()
    results: list[tuple[int, str]] = []
    for process in processes:
        out, _ = await process.communicate()
        assert process.returncode == 0
        results += [tuple(r) for r in json.loads(out.decode().strip().splitlines()[-1])]

    outcomes = Counter(result for _, result in results)
    assert outcomes["ok"] == 5 and sum(outcomes.values()) == 20, outcomes
    assert set(outcomes) <= {"ok", NotEnoughPoints.__name__, OutOfStock.__name__}, outcomes
    won = Counter(employee for employee, result in results if result == "ok")
    async with db.session() as session:
        reward = await session.get(Reward, reward_id)
        assert reward is not None and reward.stock == 0
        redemptions = (await session.exec(select(Redemption))).all()
        assert sorted(r.employee_id for r in redemptions) == sorted(won.elements())
        assert {r.status for r in redemptions} == {"pending"}
        for user, employee_id in ids.items():
            assert won[employee_id] <= START[user] // COST
            balance = await ledger.balance(session, employee_id)
            assert balance.available == START[user] - COST * won[employee_id], user
        await assert_ledger_consistent(session)
