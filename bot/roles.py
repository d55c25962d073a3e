"""Who someone is to ShareTrail: admin, salesperson or employee (the console's roles)."""

from __future__ import annotations

from enum import IntEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import NotFound
from bot.service import ShareTrail
from store.models import Employee, RosterEntry


class Role(IntEnum):
    """Ordered: each role may do what the ones below it may."""

    EMPLOYEE = 1
    SALESPERSON = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


async def on_a_roster(*, session: AsyncSession, user_id: str) -> bool:
    """Whether the person is on the global roster or an activity's roster."""
    entry = (
        await session.exec(select(RosterEntry.id).where(RosterEntry.user_id == user_id).limit(1))
    ).first()
    return entry is not None


async def role_of(services: ShareTrail, user_id: str) -> Role:
    """Admin as the bot decides it (ADMIN_USER_IDS or a workspace admin), else salesperson
    when on a roster, else employee. Asked on every request: a change applies at once."""
    try:
        if await services.is_admin(user_id):
            return Role.ADMIN
    except NotFound:  # the directory no longer knows them: no admin rights
        pass
    async with services.db.session() as session:
        if await on_a_roster(session=session, user_id=user_id):
            return Role.SALESPERSON
    return Role.EMPLOYEE


async def names_of(services: ShareTrail, user_ids: list[str]) -> dict[str, str]:
    """Display names of people ShareTrail has seen (its cached profiles); others absent."""
    if not user_ids:
        return {}
    async with services.db.session() as session:
        rows = (
            await session.exec(select(Employee).where(col(Employee.user_id).in_(user_ids)))
        ).all()
    return {row.user_id: row.name for row in rows if row.name}
