"""The points services the adapters call (Slack, console): rules, balances, clawback, review.
Each call is one unit of work; admin-only calls check the caller on the server."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import audit, ledger, points_flags, points_marks
from bot.errors import InvalidInput, NotFound
from bot.i18n import _
from bot.points import Rules, rules_for, set_rules, validate_rules
from store.models import Activity, Employee, Lead, PointBalance, PointFlag, PointsEntry

if TYPE_CHECKING:
    from bot.service import ShareTrail


ADJUST_MAX = 100_000  # points one manual adjustment may add or remove
ADJUST_NOTE_MAX = 300


@dataclass(frozen=True)
class ReviewItem:
    flag: PointFlag
    employee: Employee | None
    activity_name: str
    reason_text: str
    detail_text: str


async def activity_balance(
    session: AsyncSession, *, employee_id: int, activity_id: int
) -> ledger.Balance:
    """An employee's points of one activity, per bucket (sums of the ledger rows)."""
    rows = (
        await session.exec(
            select(PointsEntry.bucket, func.sum(PointsEntry.points))
            .where(PointsEntry.employee_id == employee_id, PointsEntry.activity_id == activity_id)
            .group_by(col(PointsEntry.bucket))
        )
    ).all()
    sums = {bucket: int(total or 0) for bucket, total in rows}
    return ledger.Balance(sums.get("available", 0), sums.get("pending", 0), sums.get("review", 0))


class PointsDesk:
    def __init__(self, services: ShareTrail) -> None:
        self.services = services
        self.db = services.db

    async def rules(self, activity_id: int) -> Rules:
        async with self.db.session() as session:
            return await rules_for(session=session, activity_id=activity_id)

    async def set_rules(
        self, activity_id: int, fields: dict[str, str], *, by_user_id: str
    ) -> Rules:
        """Validate and store an activity's rules (admins); InvalidInput changes nothing."""
        await self.services.require_admin(by_user_id)
        rules = validate_rules(fields)
        async with self.db.session() as session:
            if await session.get(Activity, activity_id) is None:
                raise NotFound(_("There is no activity {id}.").format(id=activity_id))
            await set_rules(
                session=session, activity_id=activity_id, rules=rules, by_user_id=by_user_id
            )
            await audit.record(
                session,
                actor=by_user_id,
                action=audit.ACTIVITY_EDIT,
                subject=audit.subject("activity", activity_id),
                details={"points_rules": rules.as_dict()},
            )
        return rules

    async def balance(self, user_id: str) -> ledger.Balance:
        async with self.db.session() as session:
            employee = (
                await session.exec(select(Employee).where(Employee.user_id == user_id))
            ).first()
            if employee is None or employee.id is None:
                return ledger.Balance()
            return await ledger.balance(session, employee.id)

    async def activity_balance(self, user_id: str, activity_id: int) -> ledger.Balance:
        async with self.db.session() as session:
            employee = (
                await session.exec(select(Employee).where(Employee.user_id == user_id))
            ).first()
            if employee is None or employee.id is None:
                return ledger.Balance()
            return await activity_balance(session, employee_id=employee.id, activity_id=activity_id)

    async def mark_lead(
        self, lead_id: int, mark: str, *, by_user_id: str
    ) -> points_marks.MarkResult:
        is_admin = await self.services.is_admin(by_user_id)

        async def work(session: AsyncSession) -> points_marks.MarkResult:
            return await points_marks.mark_lead(
                session=session,
                lead_id=lead_id,
                mark=mark,
                by_user_id=by_user_id,
                is_admin=is_admin,
            )

        result = await self.db.transaction(work)
        self.services.changed()
        return result

    async def review_queue(self, *, user_id: str, limit: int = 200) -> list[ReviewItem]:
        await self.services.require_admin(user_id)
        async with self.db.session() as session:
            flags = await points_flags.open_flags(session=session, limit=limit)
            employees = {
                e.id: e
                for e in (
                    await session.exec(
                        select(Employee).where(col(Employee.id).in_({f.employee_id for f in flags}))
                    )
                ).all()
            }
            names = {
                a.id: a.name
                for a in (
                    await session.exec(
                        select(Activity).where(
                            col(Activity.id).in_({f.activity_id for f in flags if f.activity_id})
                        )
                    )
                ).all()
            }
            return [
                ReviewItem(
                    f,
                    employees.get(f.employee_id),
                    names.get(f.activity_id or 0, ""),
                    points_flags.reason_text(f.reason),
                    points_flags.detail_text(f.reason, f.detail),
                )
                for f in flags
            ]

    async def decide(self, flag_id: int, decision: str, *, by_user_id: str) -> PointFlag:
        await self.services.require_admin(by_user_id)

        async def work(session: AsyncSession) -> PointFlag:
            return await points_flags.decide(
                session=session, flag_id=flag_id, decision=decision, by_user_id=by_user_id
            )

        flag = await self.db.transaction(work)
        self.services.changed()
        return flag

    async def balances(self, *, user_id: str) -> list[tuple[Employee, ledger.Balance]]:
        """Every employee ShareTrail knows with their balance (admins): the adjustment form."""
        await self.services.require_admin(user_id)
        async with self.db.session() as session:
            people = (await session.exec(select(Employee).order_by(col(Employee.name)))).all()
            rows = (await session.exec(select(PointBalance))).all()
        held = {
            row.employee_id: ledger.Balance(row.available, row.pending, row.review) for row in rows
        }
        return [(e, held.get(e.id or 0, ledger.Balance())) for e in people]

    async def adjust(
        self, employee_user_id: str, points: int, note: str, *, by_user_id: str
    ) -> ledger.Balance:
        """An admin's manual correction: `points` (positive adds, negative removes) to the
        employee's available balance, as a new ledger entry (old ones are never edited),
        with the admin's reason in the audit log. Removing more than is available is
        refused and changes nothing."""
        await self.services.require_admin(by_user_id)
        note = " ".join(note.split())
        errors: dict[str, str] = {}
        if not note:
            errors["note"] = _("Say why: the reason is kept in the audit log.")
        elif len(note) > ADJUST_NOTE_MAX:
            errors["note"] = _("Keep the reason under %(n)d characters.") % {"n": ADJUST_NOTE_MAX}
        if not points or abs(points) > ADJUST_MAX:
            errors["points"] = _("Give a whole number of points from 1 to %(n)d.") % {
                "n": ADJUST_MAX
            }
        if errors:
            raise InvalidInput(next(iter(errors.values())), fields=errors)

        async def work(session: AsyncSession) -> ledger.Balance:
            employee = (
                await session.exec(select(Employee).where(Employee.user_id == employee_user_id))
            ).first()
            if employee is None or employee.id is None:
                raise NotFound(_("ShareTrail does not know %(user)s.") % {"user": employee_user_id})
            ref = f"adjust:{uuid.uuid4().hex}"
            if points > 0:
                await ledger.credit(
                    session,
                    employee_id=employee.id,
                    points=points,
                    reason="adjustment",
                    ref=ref,
                    kind="adjusted",
                    by_user_id=by_user_id,
                )
            elif not await ledger.try_debit(
                session,
                employee_id=employee.id,
                points=-points,
                reason="adjustment",
                ref=ref,
                kind="adjusted",
                by_user_id=by_user_id,
            ):
                available = (await ledger.balance(session, employee.id)).available
                message = _(
                    "%(name)s has only %(available)d points available: remove at most that."
                ) % {"name": employee.name or employee.user_id, "available": available}
                raise InvalidInput(message, fields={"points": message})
            after = await ledger.balance(session, employee.id)
            await audit.record(
                session,
                actor=by_user_id,
                action=audit.POINTS_ADJUST,
                subject=audit.subject("employee", employee.user_id),
                details={
                    "points": points,
                    "reason": note,
                    "ref": ref,
                    "available": after.available,
                },
            )
            return after

        balance = await self.db.transaction(work)
        self.services.changed()
        return balance

    async def lead(self, lead_id: int) -> Lead | None:
        async with self.db.session() as session:
            return await session.get(Lead, lead_id)
