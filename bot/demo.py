"""Demo data: an activity, employees and salespeople, matching the sandbox workspace's users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.activities import ActivityDraft, create_activity
from bot.codes import ShareCodec
from bot.directory import Profile, upsert_employee
from bot.roster import add_salespeople
from bot.shares import get_or_create_share, share_url
from store.db import Database
from store.models import Activity

DEMO_ADMIN = Profile(
    "U_ADMIN",
    "Alex Admin",
    "Marketing Director",
    "+1 415 555 0100",
    "alex@example.com",
    "America/Los_Angeles",
    is_admin=True,
)
DEMO_EMPLOYEES = (
    Profile("U_LI", "李雷", "市场经理", "+86 138 0013 8000", "lilei@example.com", "Asia/Shanghai"),
    Profile(
        "U_HAN",
        "韩梅梅",
        "客户成功经理",
        "+86 139 0013 9000",
        "hanmeimei@example.com",
        "Asia/Shanghai",
    ),
    Profile(
        "U_ANN",
        "Ann Lee",
        "Account Manager",
        "+1 415 555 0101",
        "ann@example.com",
        "America/Los_Angeles",
    ),
    Profile(
        "U_BOB",
        "Bob Smith",
        "Solutions Engineer",
        "+1 415 555 0102",
        "bob@example.com",
        "America/New_York",
    ),
)
DEMO_SALES = (
    Profile(
        "U_SALES1",
        "Sam Sales",
        "Senior Account Executive",
        "+1 415 555 0110",
        "sam@example.com",
        "America/Los_Angeles",
    ),
    Profile(
        "U_SALES2",
        "Sara Seller",
        "Account Executive",
        "+1 415 555 0111",
        "sara@example.com",
        "Europe/London",
    ),
)
DEMO_ACTIVITY_NAME = "2026 产品发布会 · Product Launch Webinar"


async def seed_demo(db: Database, *, secret: str, base_url: str) -> list[str]:
    """Create the demo activity (once) and return one share URL per demo employee."""
    codec = ShareCodec(secret)
    async with db.session() as session:
        for profile in (DEMO_ADMIN, *DEMO_EMPLOYEES, *DEMO_SALES):
            await upsert_employee(session=session, profile=profile)
        activity = (
            await session.exec(select(Activity).where(Activity.name == DEMO_ACTIVITY_NAME))
        ).first()
        if activity is None:
            start = (datetime.now(UTC) + timedelta(days=7)).replace(
                hour=6, minute=0, second=0, microsecond=0
            )
            activity = await create_activity(
                session=session,
                draft=ActivityDraft(
                    name=DEMO_ACTIVITY_NAME,
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                    material_type="event_invitation",
                    headline="See what's new in 2026 — live, in 45 minutes",
                    intro=(
                        "Join our product team for a live tour of this year's launch, "
                        "with customer stories and a Q&A.\n欢迎参加 2026 新品发布会！"
                    ),
                    kpi_views=500,
                    kpi_signups=50,
                    kpi_attendance=30,
                    tz="Asia/Shanghai",
                ),
                created_by=DEMO_ADMIN.user_id,
            )
            activity.status = "published"
            session.add(activity)
            await add_salespeople(session=session, user_ids=[p.user_id for p in DEMO_SALES])
        urls = []
        for profile in DEMO_EMPLOYEES:
            employee = await upsert_employee(session=session, profile=profile)
            share = await get_or_create_share(session=session, activity=activity, employee=employee)
            assert share.id is not None
            urls.append(share_url(codec, base_url, share.id))
    return urls
