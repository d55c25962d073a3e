"""Clawback: a salesperson or admin marks a lead spam or duplicate; its points are reversed
by new ledger rows (never by editing old ones) and it earns nothing more."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import audit, ledger
from bot.errors import Forbidden, InvalidInput
from bot.i18n import _
from bot.leads import get_lead
from store.models import Lead, PointFlag, utcnow

MARKS: tuple[str, ...] = ("spam", "duplicate")


@dataclass(frozen=True)
class MarkResult:
    lead: Lead
    reversed_points: int
    changed: bool


async def mark_lead(
    *, session: AsyncSession, lead_id: int, mark: str, by_user_id: str, is_admin: bool
) -> MarkResult:
    """Mark the lead and claw its points back; a second mark changes nothing."""
    if mark not in MARKS:
        raise InvalidInput(_("A lead can be marked spam or duplicate."))
    lead = await get_lead(session=session, lead_id=lead_id)
    if lead.salesperson_id != by_user_id and not is_admin:
        raise Forbidden(_("Only the lead's salesperson or an admin can mark it."))
    if lead.marked:
        return MarkResult(lead, 0, changed=False)
    lead.marked = mark
    lead.marked_by = by_user_id
    session.add(lead)
    await session.flush()
    taken = await ledger.reverse_lead(session, lead, kind="clawed_back", by_user_id=by_user_id)
    await audit.record(
        session,
        actor=by_user_id,
        action=audit.LEAD_CLAWBACK,
        subject=audit.subject("lead", lead_id),
        details={"mark": mark, "points": taken},
    )
    # Its open review flags are settled: nothing is left to approve.
    flags = await session.exec(
        select(PointFlag).where(PointFlag.lead_id == lead.id, PointFlag.status == "open")
    )
    for flag in flags:
        flag.status = "rejected"
        flag.decided_by = by_user_id
        flag.decided_at = utcnow()
        session.add(flag)
    return MarkResult(lead, taken, changed=True)
