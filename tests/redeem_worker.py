"""One process of the redemption race (tests/test_redemption_race.py): opens its own
engine on the database, says "ready", waits for "go" on stdin, then redeems for every
employee id given, all at once, and prints what each attempt came to as JSON."""

from __future__ import annotations

import asyncio
import json
import sys

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import DomainError
from bot.redemptions import redeem
from store.db import Database
from store.models import Employee


async def main(url: str, reward_id: int, employee_ids: list[int]) -> None:
    database = Database.from_url(url)
    # One connection per attempt, opened before "go", so the attempts start together.
    sessions = [database._sessions() for _ in employee_ids]
    for session in sessions:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        await session.commit()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    async def attempt(session: AsyncSession, employee_id: int) -> str:
        async def once() -> str:
            async with session.begin():
                employee = await session.get(Employee, employee_id)
                assert employee is not None
                await redeem(session=session, employee=employee, reward_id=reward_id)
            return "ok"

        from store.db import with_retries

        try:
            return await with_retries(once)
        except DomainError as exc:
            return type(exc).__name__

    results = await asyncio.gather(
        *(attempt(s, e) for s, e in zip(sessions, employee_ids, strict=True))
    )
    print(json.dumps(list(zip(employee_ids, results, strict=True))), flush=True)
    for session in sessions:
        await session.close()
    await database.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), [int(a) for a in sys.argv[3].split(",")]))
