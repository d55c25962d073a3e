"""What someone's home screen shows, by role: read in one go, platform-neutral.

An admin sees the open activities (KPI progress, funnel) and the health of delivery; a
salesperson their leads by state; everyone their own shares, rank and the top 10. A person
with several roles gets every section that applies. The Slack App Home renders this
(handlers/slack/home_blocks.py); so could WeCom's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import col, select

from bot import health as health_mod
from bot import stats as stats_mod
from bot.activities import list_activities
from bot.directory import employee_by_user
from bot.ledger import Balance
from bot.roles import on_a_roster
from bot.service import ShareTrail
from store.models import Activity, Employee, EmployeeStats, Lead
from store.queries import StatRow

# Leads a salesperson sees by state (DESIGN.md's outcomes; `converted` is done):
#   new: no outcome yet and the activity has not started (nothing to record yet);
#   awaiting outcome: no outcome and the activity has started (the reminders ask for it);
#   follow-up due: attended or no-show, not converted yet (call them back).
LEAD_STATES: tuple[str, ...] = ("new", "awaiting", "follow_up")
LEADS_READ = 300  # newest open leads read per salesperson; the surfaces show fewer


@dataclass(frozen=True)
class OpenLead:
    lead: Lead
    activity_name: str
    state: str  # one of LEAD_STATES


@dataclass(frozen=True)
class HomeData:
    user_id: str
    is_admin: bool
    is_salesperson: bool
    # admin
    open_reports: list[stats_mod.ActivityReport] = field(default_factory=list)
    open_total: int = 0  # open activities in all (the reports are the newest of them)
    health: list[health_mod.Line] = field(default_factory=list)
    # salesperson
    leads: list[OpenLead] = field(default_factory=list)
    # everyone
    overview: list[tuple[Activity, StatRow]] = field(default_factory=list)
    open_activities: list[Activity] = field(default_factory=list)
    my_points: int = 0
    rank: int | None = None  # None: no points row yet
    ranked: int = 0  # how many people have a rank
    top: list[tuple[Employee, StatRow]] = field(default_factory=list)
    balance: Balance | None = None  # points available, pending, in review (bot/ledger.py)

    def leads_in(self, state: str) -> list[OpenLead]:
        return [item for item in self.leads if item.state == state]


def lead_state(lead: Lead, activity: Activity | None, now: datetime) -> str | None:
    """The lead's state in a salesperson's list; None once converted (nothing to do)."""
    if lead.outcome == "converted":
        return None
    if lead.outcome in ("attended", "no_show"):
        return "follow_up"
    starts = activity.starts_at if activity is not None else None
    if starts is not None and starts.tzinfo is None:
        starts = starts.replace(tzinfo=UTC)
    if starts is not None and starts > now:
        return "new"
    return "awaiting"


async def open_leads(
    services: ShareTrail, user_id: str, *, now: datetime | None = None
) -> list[OpenLead]:
    """The salesperson's leads that still need something, newest first."""
    now = now or datetime.now(UTC)
    async with services.db.session() as session:
        leads = (
            await session.exec(
                select(Lead)
                .where(Lead.salesperson_id == user_id)
                .where((col(Lead.outcome).is_(None)) | (col(Lead.outcome) != "converted"))
                .order_by(col(Lead.id).desc())
                .limit(LEADS_READ)
            )
        ).all()
        ids = {lead.activity_id for lead in leads}
        activities = {
            a.id: a
            for a in (await session.exec(select(Activity).where(col(Activity.id).in_(ids)))).all()
        }
    result = []
    for lead in leads:
        activity = activities.get(lead.activity_id)
        state = lead_state(lead, activity, now)
        if state is not None:
            result.append(OpenLead(lead, activity.name if activity else "", state))
    return result


async def _rank(services: ShareTrail, employee_id: int | None) -> tuple[int, int | None, int]:
    """(my points, my rank among everyone with points, how many have points)."""
    async with services.db.session() as session:
        ranked = int(
            (await session.exec(select(func.count()).select_from(EmployeeStats))).one() or 0
        )
        if employee_id is None:
            return 0, None, ranked
        mine = await session.get(EmployeeStats, employee_id)
        if mine is None:
            return 0, None, ranked
        above = (
            await session.exec(
                select(func.count())
                .select_from(EmployeeStats)
                .where(col(EmployeeStats.points) > mine.points)
            )
        ).one()
    return mine.points, int(above or 0) + 1, ranked


async def home_data(services: ShareTrail, user_id: str, *, admin_reports: int = 5) -> HomeData:
    """Everything the person's home shows, each read its own short unit of work."""
    is_admin = await services.is_admin(user_id)
    async with services.db.session() as session:
        is_salesperson = await on_a_roster(session=session, user_id=user_id)
        employee = await employee_by_user(session=session, user_id=user_id)
        open_activities = await list_activities(session=session, include_closed=False)
    overview, _ = await services.overview(user_id)
    points, rank, ranked = await _rank(services, employee.id if employee else None)
    top = await services.leaderboard(None, limit=10)
    balance = await services.points.balance(user_id)
    reports: list[stats_mod.ActivityReport] = []
    lines: list[health_mod.Line] = []
    if is_admin:
        for activity in open_activities[:admin_reports]:
            assert activity.id is not None
            reports.append(await services.report(activity.id))
        outbox = await services.outbox.health()
        lines = health_mod.explain(outbox, views_queued=services.recorder.pending)
    leads = await open_leads(services, user_id) if is_salesperson else []
    return HomeData(
        user_id=user_id,
        is_admin=is_admin,
        is_salesperson=is_salesperson,
        open_reports=reports,
        open_total=len(open_activities) if is_admin else 0,
        health=lines,
        leads=leads,
        overview=overview,
        open_activities=[a for a in open_activities if a.status == "published"],
        my_points=points,
        rank=rank,
        ranked=ranked,
        top=top,
        balance=balance,
    )
