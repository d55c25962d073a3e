"""The opt-in daily digest (bot/digests.py) at chosen moments, on a migrated database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot import outbox as outbox_mod
from bot.digests import daily_digests, digest_window
from bot.notifications import DailyDigest, DigestLine
from store.db import Database
from store.models import Activity, Employee, Lead, OutboxMessage, Share, View

# 09:00 in Shanghai is 01:00 UTC; in London (winter) 09:00 UTC.
DAY = datetime(2026, 12, 2, tzinfo=UTC)


async def seed(db: Database) -> dict[str, int]:
    """Two activities; Ann (London) and Li (Shanghai) want digests, Bob does not.
    Each employee's views and sign-ups land on 1 December, UTC."""
    async with db.session() as session:
        launch = Activity(
            name="Launch",
            starts_at=DAY,
            ends_at=DAY + timedelta(hours=1),
            material_type="video",
            created_by="U_ADMIN",
        )
        webinar = Activity(
            name="Webinar",
            starts_at=DAY,
            ends_at=DAY + timedelta(hours=1),
            material_type="video",
            created_by="U_ADMIN",
        )
        people = {
            "ann": Employee(user_id="U_ANN", name="Ann", tz="Europe/London", digest=True),
            "li": Employee(user_id="U_LI", name="Li", tz="Asia/Shanghai", digest=True),
            "bob": Employee(user_id="U_BOB", name="Bob", tz="Europe/London"),
        }
        session.add_all([launch, webinar, *people.values()])
        await session.flush()
        ids = {name: e.id or 0 for name, e in people.items()}
        for name, employee in people.items():
            for activity in (launch, webinar) if name == "ann" else (launch,):
                share = Share(activity_id=activity.id or 0, employee_id=employee.id or 0)
                session.add(share)
                await session.flush()
                for n, hour in enumerate((3, 4, 4, 20)):  # 4 views, 3 visitors
                    session.add(
                        View(
                            share_id=share.id or 0,
                            activity_id=share.activity_id,
                            employee_id=share.employee_id,
                            visitor_key=f"v{min(n, 2)}",
                            visitor_hash="h",
                            ua_class="mobile",
                            counted=True,
                            at=DAY - timedelta(days=1) + timedelta(hours=hour),
                        )
                    )
                session.add(  # a preview bot: not in the digest
                    View(
                        share_id=share.id or 0,
                        activity_id=share.activity_id,
                        employee_id=share.employee_id,
                        visitor_key="bot",
                        visitor_hash="b",
                        ua_class="bot",
                        is_bot=True,
                        at=DAY - timedelta(hours=12),
                    )
                )
                if activity is launch:
                    session.add(
                        Lead(
                            share_id=share.id or 0,
                            activity_id=share.activity_id,
                            employee_id=share.employee_id,
                            name="Zhang",
                            phone="+8613900000000",
                            visitor_key="v1",
                            visitor_hash="h",
                            created_at=DAY - timedelta(hours=10),
                        )
                    )
    return ids


async def digests(db: Database) -> dict[str, DailyDigest]:
    async with db.session() as session:
        rows = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.key).startswith("digest:"))
            )
        ).all()
    return {row.key: outbox_mod.decode(row.kind, row.payload) for row in rows}  # type: ignore[misc]


def test_the_window_is_the_day_before_nine_local() -> None:
    day, since, until = digest_window(datetime(2026, 12, 2, 8, 59, tzinfo=UTC), "Europe/London")
    assert (day, since.isoformat(), until.isoformat()) == (
        "2026-11-30",
        "2026-11-30T09:00:00+00:00",
        "2026-12-01T09:00:00+00:00",
    )
    day, since, until = digest_window(datetime(2026, 12, 2, 1, 0, tzinfo=UTC), "Asia/Shanghai")
    assert day == "2026-12-01" and until == datetime(2026, 12, 2, 1, tzinfo=UTC)
    assert digest_window(DAY, "Not/AZone")[0] == "2026-11-30"  # unknown zones read as UTC


def test_the_window_follows_summer_time() -> None:
    """Nine o'clock local is 08:00 UTC in a London summer; the day the clocks go back is
    25 hours long."""
    _, _, until = digest_window(datetime(2026, 7, 1, 8, 0, tzinfo=UTC), "Europe/London")
    assert until == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    day, since, until = digest_window(datetime(2026, 10, 25, 9, 30, tzinfo=UTC), "Europe/London")
    assert day == "2026-10-24"
    assert (since, until) == (
        datetime(2026, 10, 24, 8, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
    )


async def test_each_subscriber_gets_their_day_once_at_nine_their_time(db: Database) -> None:
    """Views on 1 Dec (UTC) at 03:00 (v0), 04:00 (v1, v2) and 20:00 (v2); a sign-up at 14:00."""
    ids = await seed(db)
    async with db.session() as session:
        # 01:00 UTC is nine in Shanghai: the 24 h from 1 Dec 01:00 UTC. (London's digest
        # for the 30th came due 16 h ago: too late for a morning message.)
        assert await daily_digests(session=session, now=DAY + timedelta(hours=1)) == 1
    sent = await digests(db)
    assert sent == {
        f"digest:{ids['li']}:2026-12-01": DailyDigest(
            "U_LI", "2026-12-01", (DigestLine("Launch", 4, 3, 1),)
        )
    }

    async with db.session() as session:
        assert await daily_digests(session=session, now=DAY + timedelta(hours=9)) == 1
        assert await daily_digests(session=session, now=DAY + timedelta(hours=10)) == 0  # once
    ann = (await digests(db))[f"digest:{ids['ann']}:2026-12-01"]
    assert ann.lines == (DigestLine("Launch", 1, 1, 1), DigestLine("Webinar", 1, 1, 0))
    assert not [key for key in await digests(db) if key.startswith(f"digest:{ids['bob']}:")]


async def test_a_late_run_sends_within_two_hours_then_skips(db: Database) -> None:
    """A morning digest is sent up to two hours late (a restart), never in the afternoon."""
    ids = await seed(db)
    async with db.session() as session:
        # 12:00 UTC on the 2nd: London's 09:00 digest is 3 h late, Shanghai's 11 h: skipped.
        assert await daily_digests(session=session, now=DAY + timedelta(hours=12)) == 0
        # 10:45 UTC: London's is 1 h 45 min late: sent.
        assert await daily_digests(session=session, now=DAY + timedelta(hours=10, minutes=45)) == 1
    assert list(await digests(db)) == [f"digest:{ids['ann']}:2026-12-01"]


async def test_quiet_days_and_unsubscribed_people_get_nothing(db: Database) -> None:
    ids = await seed(db)
    async with db.session() as session:
        for employee in (await session.exec(select(Employee))).all():
            employee.digest = employee.user_id == "U_BOB"  # Bob had views on the 1st too
            session.add(employee)
    async with db.session() as session:
        # Nine in London: Bob's 1 Dec (a view at 20:00, a sign-up); Ann no longer wants one.
        assert await daily_digests(session=session, now=DAY + timedelta(hours=9)) == 1
        # Five days later nobody had a view: nothing for Bob either.
        assert await daily_digests(session=session, now=DAY + timedelta(days=5, hours=9)) == 0
    assert list(await digests(db)) == [f"digest:{ids['bob']}:2026-12-01"]
