"""The salespeople roster (global or per activity) and who gets a new lead."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import InvalidInput
from bot.i18n import _
from store.models import Lead, RosterEntry


async def add_salespeople(
    *, session: AsyncSession, user_ids: list[str], activity_id: int | None = None
) -> list[str]:
    """Add to the roster; returns the ids that were not already on it."""
    added = []
    for user_id in dict.fromkeys(user_ids):
        existing = (
            await session.exec(
                select(RosterEntry).where(
                    RosterEntry.user_id == user_id, RosterEntry.activity_id == activity_id
                )
            )
        ).first()
        if existing is None:
            session.add(RosterEntry(user_id=user_id, activity_id=activity_id))
            added.append(user_id)
    await session.flush()
    return added


async def remove_salespeople(
    *, session: AsyncSession, user_ids: list[str], activity_id: int | None = None
) -> list[str]:
    removed = []
    for user_id in dict.fromkeys(user_ids):
        entry = (
            await session.exec(
                select(RosterEntry).where(
                    RosterEntry.user_id == user_id, RosterEntry.activity_id == activity_id
                )
            )
        ).first()
        if entry is not None:
            await session.delete(entry)
            removed.append(user_id)
    if not removed:
        raise InvalidInput(_("None of those people are on the roster."))
    return removed


async def own_roster(*, session: AsyncSession, activity_id: int) -> list[str]:
    """The activity's own salespeople only (empty: it uses the global roster)."""
    return list(
        (
            await session.exec(
                select(RosterEntry.user_id)
                .where(RosterEntry.activity_id == activity_id)
                .order_by(col(RosterEntry.id))
            )
        ).all()
    )


async def roster_for(*, session: AsyncSession, activity_id: int | None) -> list[str]:
    """The activity's own roster if it has one, else the global roster."""
    if activity_id is not None:
        own = (
            await session.exec(
                select(RosterEntry.user_id)
                .where(RosterEntry.activity_id == activity_id)
                .order_by(col(RosterEntry.id))
            )
        ).all()
        if own:
            return list(own)
    return list(
        (
            await session.exec(
                select(RosterEntry.user_id)
                .where(col(RosterEntry.activity_id).is_(None))
                .order_by(col(RosterEntry.id))
            )
        ).all()
    )


@dataclass(frozen=True)
class Assignment:
    salesperson_id: str | None
    sticky: bool


async def assign_salesperson(
    *,
    session: AsyncSession,
    activity_id: int,
    phone: str,
    visitor_key: str | None,
    rng: random.Random,
    offered: str | None = None,
) -> Assignment:
    """Same customer (phone or visitor cookie) keeps their salesperson; else the one the
    landing page showed them (if still on the roster), else a uniformly random pick.

    `visitor_key` is None for a visitor without our cookie: an IP+UA hash alone would tie
    together strangers behind one office NAT with the same phone model."""
    same_customer: ColumnElement[bool] = col(Lead.phone) == phone
    if visitor_key is not None:
        same_customer = or_(same_customer, Lead.visitor_key == visitor_key)
    previous = (
        await session.exec(
            select(Lead.salesperson_id)
            .where(same_customer, col(Lead.salesperson_id).is_not(None))
            .order_by(col(Lead.id).desc())
            .limit(1)
        )
    ).first()
    if previous:
        return Assignment(previous, sticky=True)
    roster = await roster_for(session=session, activity_id=activity_id)
    if not roster:
        return Assignment(None, sticky=False)
    if offered in roster:
        return Assignment(offered, sticky=False)
    return Assignment(rng.choice(roster), sticky=False)


def offer_for_visitor(roster: list[str], visitor_key: str) -> str | None:
    """A stable, uniformly spread pick per visitor, so a reload shows the same person."""
    if not roster:
        return None
    return roster[int(hashlib.sha256(visitor_key.encode()).hexdigest()[:8], 16) % len(roster)]


async def sticky_salesperson(*, session: AsyncSession, visitor_key: str) -> str | None:
    return (
        await session.exec(
            select(Lead.salesperson_id)
            .where(Lead.visitor_key == visitor_key, col(Lead.salesperson_id).is_not(None))
            .order_by(col(Lead.id).desc())
            .limit(1)
        )
    ).first()
