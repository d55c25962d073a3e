"""Leads as lists: who may see which (admins all, a salesperson theirs), filtered by
activity, state and salesperson. The console's leads page reads these."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from bot.points import OUTCOMES
from bot.records import mask_phone
from bot.service import ShareTrail
from store.models import Activity, Employee, Lead

STATES: tuple[str, ...] = ("new", *OUTCOMES)  # new: no outcome recorded yet
LIMIT = 200


@dataclass(frozen=True)
class LeadFilter:
    activity_id: int | None = None
    state: str | None = None  # one of STATES
    salesperson_id: str | None = None


@dataclass(frozen=True)
class LeadRow:
    lead: Lead
    activity_name: str
    employee_name: str
    salesperson_name: str
    phone: str  # masked unless the viewer is an admin or the lead's salesperson


async def leads_for(
    services: ShareTrail,
    *,
    viewer_id: str,
    is_admin: bool,
    wanted: LeadFilter,
    limit: int | None = LIMIT,
) -> list[LeadRow]:
    """The newest leads the viewer may see that match `wanted` (all when limit is None)."""
    statement = select(Lead).order_by(col(Lead.id).desc())
    if limit is not None:
        statement = statement.limit(limit)
    if not is_admin:
        statement = statement.where(Lead.salesperson_id == viewer_id)
    elif wanted.salesperson_id:
        statement = statement.where(Lead.salesperson_id == wanted.salesperson_id)
    if wanted.activity_id is not None:
        statement = statement.where(Lead.activity_id == wanted.activity_id)
    if wanted.state == "new":
        statement = statement.where(col(Lead.outcome).is_(None))
    elif wanted.state in OUTCOMES:
        statement = statement.where(Lead.outcome == wanted.state)
    async with services.db.session() as session:
        leads = list((await session.exec(statement)).all())
        activity_ids = {lead.activity_id for lead in leads}
        activities = {
            a.id: a.name
            for a in (
                await session.exec(select(Activity).where(col(Activity.id).in_(activity_ids)))
            ).all()
        }
        people = {lead.salesperson_id for lead in leads if lead.salesperson_id}
        employees = (
            await session.exec(
                select(Employee).where(
                    col(Employee.id).in_({lead.employee_id for lead in leads})
                    | col(Employee.user_id).in_(people)
                )
            )
        ).all()
    by_id = {e.id: e.name for e in employees}
    by_user = {e.user_id: e.name for e in employees}
    return [
        LeadRow(
            lead=lead,
            activity_name=activities.get(lead.activity_id, ""),
            employee_name=by_id.get(lead.employee_id, ""),
            salesperson_name=by_user.get(lead.salesperson_id or "", lead.salesperson_id or ""),
            phone=lead.phone
            if is_admin or lead.salesperson_id == viewer_id
            else mask_phone(lead.phone),
        )
        for lead in leads
    ]
