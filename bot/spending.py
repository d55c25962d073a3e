"""Spending points and the boards people compete on: the use cases behind the rewards
catalogue (console), redemptions (App Home, fulfilment queue) and the leaderboards.
One unit of work per method, no platform code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import leaderboards, ledger
from bot import redemptions as redemptions_mod
from bot import rewards as rewards_mod
from bot.directory import employee_by_user
from bot.leaderboards import Ranked, Season
from store.models import Employee, Redemption, Reward

if TYPE_CHECKING:
    from bot.service import ShareTrail


class Spending:
    def __init__(self, trail: ShareTrail) -> None:
        self.trail = trail

    # --- catalogue ----------------------------------------------------------------------

    async def catalogue(self, *, include_retired: bool = False) -> list[Reward]:
        async with self.trail.db.session() as session:
            return await rewards_mod.catalogue(session=session, include_retired=include_retired)

    async def create_reward(
        self, fields: dict[str, str], picture: bytes | None, *, by_user_id: str
    ) -> Reward:
        """Checked like every form: InvalidInput names each bad field, nothing stored."""
        await self.trail.require_admin(by_user_id)
        draft = rewards_mod.validate_reward(fields)
        cleaned = rewards_mod.clean_picture(picture) if picture else None
        async with self.trail.db.session() as session:
            return await rewards_mod.create_reward(
                session=session, draft=draft, picture=cleaned, by_user_id=by_user_id
            )

    async def update_reward(
        self,
        reward_id: int,
        fields: dict[str, str],
        picture: bytes | None,
        *,
        active: bool,
        by_user_id: str,
    ) -> Reward:
        await self.trail.require_admin(by_user_id)
        draft = rewards_mod.validate_reward(fields)
        cleaned = rewards_mod.clean_picture(picture) if picture else None
        async with self.trail.db.session() as session:
            return await rewards_mod.update_reward(
                session=session, reward_id=reward_id, draft=draft, picture=cleaned, active=active
            )

    async def picture(self, reward_id: int) -> tuple[bytes, str]:
        async with self.trail.db.session() as session:
            return await rewards_mod.picture_of(session=session, reward_id=reward_id)

    # --- leaderboards -------------------------------------------------------------------

    async def board(
        self, *, activity_id: int | None = None, season: Season | None = None, limit: int = 10
    ) -> list[Ranked]:
        """A season's board, one activity's, or (neither given) all activities'."""
        async with self.trail.db.session() as session:
            if season is not None:
                return await leaderboards.season_board(session=session, season=season, limit=limit)
            if activity_id is not None:
                await self.trail.activity(activity_id)  # NotFound for an unknown id
            return await leaderboards.activity_board(
                session=session, activity_id=activity_id, limit=limit
            )

    def season(self, kind: str, when: str | None, now: datetime | None = None) -> Season:
        return leaderboards.parse_season(kind, when, now=now or datetime.now(UTC))

    async def on_board(self, user_id: str) -> bool:
        async with self.trail.db.session() as session:
            employee = await employee_by_user(session=session, user_id=user_id)
            return employee is None or employee.on_leaderboard

    async def set_on_board(self, user_id: str, public: bool) -> None:
        employee = await self.trail.sync_employee(user_id)
        async with self.trail.db.session() as session:
            await leaderboards.set_public(session=session, employee=employee, public=public)

    # --- redemptions --------------------------------------------------------------------

    async def balance(self, user_id: str) -> ledger.Balance:
        async with self.trail.db.session() as session:
            employee = await employee_by_user(session=session, user_id=user_id)
            if employee is None or employee.id is None:
                return ledger.Balance()
            return await ledger.balance(session, employee.id)

    async def redeem(
        self, user_id: str, reward_id: int, *, expected_cost: int | None = None
    ) -> Redemption:
        """One unit of work (run again whole on a deadlock); NotEnoughPoints, OutOfStock or
        NotFound leave everything as it was."""
        employee = await self.trail.sync_employee(user_id)

        async def work(session: AsyncSession) -> Redemption:
            return await redemptions_mod.redeem(
                session=session,
                employee=employee,
                reward_id=reward_id,
                expected_cost=expected_cost,
                admin_ids=self.trail.admin_ids,
                queue_url=self.trail.public_base_url.rstrip("/") + "/console/rewards",
            )

        return await self.trail.db.transaction(work)

    async def decide(
        self, redemption_id: int, *, fulfil: bool, by_user_id: str, note: str = ""
    ) -> Redemption:
        await self.trail.require_admin(by_user_id)

        async def work(session: AsyncSession) -> Redemption:
            return await redemptions_mod.decide(
                session=session,
                redemption_id=redemption_id,
                fulfil=fulfil,
                by_user_id=by_user_id,
                note=note,
            )

        decided = await self.trail.db.transaction(work)
        self.trail.outbox.wake()
        return decided

    async def queue(self, status: str = "pending") -> list[tuple[Redemption, Employee]]:
        async with self.trail.db.session() as session:
            return await redemptions_mod.queue(session=session, status=status)
