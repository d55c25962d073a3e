"""Redemptions: points spent on a reward, debited at once, then fulfilled or refused.

One transaction per redemption, which cannot overdraw or oversell on any number of
replicas: the ledger's conditional debit (`available >= cost`, bot/ledger.py) and a
conditional `UPDATE rewards SET stock = stock - 1 WHERE stock > 0 AND cost = :cost`; if
either touches no row, the whole transaction rolls back and nothing was taken. Lock order:
point_balances, then rewards, then the outbox. A refusal gives the points back as a new
ledger row (`refunded`), never by editing the debit, and puts the item back in stock.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import audit, ledger
from bot import outbox as outbox_mod
from bot.directory import known_admins
from bot.errors import Closed, Gone, InvalidInput, NotFound
from bot.i18n import _
from bot.notifications import RedemptionDecided, RedemptionRequested
from store.models import Employee, Redemption, Reward, utcnow

STATUSES = ("pending", "fulfilled", "refused")
NOTE_MAX = 500


class NotEnoughPoints(InvalidInput):
    """The available balance does not cover the reward."""


class OutOfStock(Closed):
    """The last item went (or the reward was retired or repriced) meanwhile."""


async def redeem(
    *,
    session: AsyncSession,
    employee: Employee,
    reward_id: int,
    expected_cost: int | None = None,
    admin_ids: Iterable[str] = (),
    queue_url: str = "",
) -> Redemption:
    """Take the reward's cost from the employee's available points and one item off its
    stock, in the caller's transaction; raises (and the caller's rollback undoes
    everything) when either is not there. `expected_cost`: the cost the employee saw.
    Every admin the bot knows (`admin_ids` and the workspace admins it has seen) gets a DM
    through the outbox, in the same transaction, with a link to the fulfilment queue."""
    assert employee.id is not None
    reward = await session.get(Reward, reward_id, populate_existing=True)
    if reward is None or not reward.active:
        raise NotFound(_("That reward is no longer in the catalogue."))
    cost = reward.cost
    if expected_cost is not None and expected_cost != cost:
        raise OutOfStock(_("The cost of that reward changed. Please look again."))
    redemption = Redemption(
        reward_id=reward_id, employee_id=employee.id, reward_name=reward.name, cost=cost
    )
    session.add(redemption)
    await session.flush()
    assert redemption.id is not None
    debited = await ledger.try_debit(
        session,
        employee_id=employee.id,
        points=cost,
        reason="redemption",
        ref=f"redemption:{redemption.id}",
        kind="redeemed",
        by_user_id=employee.user_id,
    )
    if not debited:
        available = (await ledger.balance(session, employee.id)).available
        raise NotEnoughPoints(
            _("{name} costs {cost} points; you have {available} available.").format(
                name=reward.name, cost=cost, available=available
            )
        )
    table = Reward.__table__  # type: ignore[attr-defined]
    taken = await session.exec(
        update(table)
        .where(
            table.c.id == reward_id,
            table.c.stock > 0,
            table.c.active.is_(True),
            table.c.cost == cost,
        )
        .values(stock=table.c.stock - 1)
    )
    if taken.rowcount != 1:
        raise OutOfStock(_("{name} is out of stock. Nothing was taken.").format(name=reward.name))
    await audit.record(
        session,
        actor=employee.user_id,
        action=audit.REDEMPTION_CREATE,
        subject=audit.subject("redemption", redemption.id),
        details={"reward": reward_id, "points": cost},
    )
    stock_left = (await session.exec(select(Reward.stock).where(Reward.id == reward_id))).one()
    for admin in await known_admins(session=session, admin_ids=admin_ids):
        await outbox_mod.enqueue(
            session=session,
            key=f"redemption:{redemption.id}:requested:{admin}",
            event=RedemptionRequested(
                admin_user_id=admin,
                redemption_id=redemption.id,
                reward_name=reward.name,
                cost=cost,
                employee_user_id=employee.user_id,
                employee_name=employee.name,
                stock_left=int(stock_left),
                queue_url=queue_url,
            ),
        )
    return redemption


async def decide(
    *, session: AsyncSession, redemption_id: int, fulfil: bool, by_user_id: str, note: str = ""
) -> Redemption:
    """An admin fulfils or refuses a pending redemption; refusing refunds the points and
    returns the item to stock. The employee is told through the outbox."""
    note = " ".join(note.split())[:NOTE_MAX]
    table = Redemption.__table__  # type: ignore[attr-defined]
    status = "fulfilled" if fulfil else "refused"
    # Conditional, so two admins (or two replicas) cannot decide one redemption twice.
    changed = await session.exec(
        update(table)
        .where(table.c.id == redemption_id, table.c.status == "pending")
        .values(status=status, decided_by=by_user_id, decided_at=utcnow(), note=note)
    )
    redemption = await session.get(Redemption, redemption_id, populate_existing=True)
    if redemption is None:
        raise NotFound(_("There is no redemption {id}.").format(id=redemption_id))
    if changed.rowcount != 1:
        raise Gone(_("Redemption {id} was already decided.").format(id=redemption_id))
    employee = await session.get(Employee, redemption.employee_id)
    assert employee is not None
    if not fulfil:
        await ledger.credit(
            session,
            employee_id=redemption.employee_id,
            points=redemption.cost,
            reason="redemption",
            ref=f"redemption:{redemption_id}:refund",
            kind="refunded",
            by_user_id=by_user_id,
        )
        rewards = Reward.__table__  # type: ignore[attr-defined]
        await session.exec(
            update(rewards)
            .where(rewards.c.id == redemption.reward_id)
            .values(stock=rewards.c.stock + 1)
        )
    await audit.record(
        session,
        actor=by_user_id,
        action=audit.REDEMPTION_FULFIL if fulfil else audit.REDEMPTION_REFUSE,
        subject=audit.subject("redemption", redemption_id),
        details={"points": redemption.cost, "employee": employee.user_id},
    )
    await outbox_mod.enqueue(
        session=session,
        key=f"redemption:{redemption_id}:{status}",
        event=RedemptionDecided(
            user_id=employee.user_id,
            redemption_id=redemption_id,
            reward_name=redemption.reward_name,
            cost=redemption.cost,
            fulfilled=fulfil,
            note=note,
        ),
    )
    return redemption


async def queue(
    *, session: AsyncSession, status: str = "pending", limit: int = 100
) -> list[tuple[Redemption, Employee]]:
    """Redemptions in `status`, oldest first for pending (the fulfilment queue), newest
    first otherwise, with who redeemed them."""
    order = col(Redemption.id) if status == "pending" else col(Redemption.id).desc()
    rows = await session.exec(
        select(Redemption, Employee)
        .join(Employee, col(Employee.id) == col(Redemption.employee_id))
        .where(Redemption.status == status)
        .order_by(order)
        .limit(limit)
    )
    return [(r, e) for r, e in rows.all()]


async def mine(*, session: AsyncSession, employee_id: int, limit: int = 10) -> list[Redemption]:
    rows = await session.exec(
        select(Redemption)
        .where(Redemption.employee_id == employee_id)
        .order_by(col(Redemption.id).desc())
        .limit(limit)
    )
    return list(rows.all())


def requested_text(event: RedemptionRequested) -> str:
    """What each admin is told of a new redemption, in plain words (every platform)."""
    line = _(
        "🎁 {employee} redeemed {name} for {cost} points (redemption #{id}); "
        "it waits in the fulfilment queue."
    ).format(
        employee=event.employee_name or event.employee_user_id,
        name=event.reward_name,
        cost=event.cost,
        id=event.redemption_id,
    )
    if event.stock_left <= 0:
        line += "\n" + _("That was the last one: {name} is now out of stock.").format(
            name=event.reward_name
        )
    if event.queue_url:
        line += "\n" + _("Fulfilment queue: {url}").format(url=event.queue_url)
    return line


def decided_text(event: RedemptionDecided) -> str:
    """What the employee is told, in plain words (every platform)."""
    if event.fulfilled:
        line = _("🎁 Your reward {name} is ready: an admin fulfilled redemption #{id}.")
    else:
        line = _(
            "Your redemption #{id} of {name} was refused; its {cost} points are back "
            "in your available balance."
        )
    line = line.format(name=event.reward_name, id=event.redemption_id, cost=event.cost)
    if event.note:
        line += "\n" + _("Note from the admin: {note}").format(note=event.note)
    return line
