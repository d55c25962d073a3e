"""Sign-up points on hold: released when the lead has an outcome (bot/leads.py) or, by the
scheduled job here, once HOLD_DAYS have passed since the sign-up."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import ledger
from bot.points import HOLD_DAYS
from store.models import Lead, PointsEntry


async def release_due(*, session: AsyncSession, now: datetime, limit: int = 500) -> int:
    """Release the pending points of every lead signed up HOLD_DAYS or more before `now`;
    how many leads were released. Idempotent: a released lead has nothing pending."""
    cutoff = now - timedelta(days=HOLD_DAYS)
    pending = (
        select(PointsEntry.lead_id)
        .where(PointsEntry.bucket == "pending", col(PointsEntry.lead_id).is_not(None))
        .group_by(col(PointsEntry.lead_id))
        .having(func.sum(PointsEntry.points) > 0)
    )
    leads = (
        await session.exec(
            select(Lead)
            .where(col(Lead.id).in_(pending), Lead.created_at <= cutoff)
            .order_by(col(Lead.id))
            .limit(limit)
        )
    ).all()
    released = 0
    for lead in leads:
        if await ledger.move_lead(
            session, lead, source="pending", target="available", kind="released"
        ):
            released += 1
    return released
