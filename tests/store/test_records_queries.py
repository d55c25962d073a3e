"""Lead records against both databases: the timeline's view query, the thread-file upsert
(ON CONFLICT on lead + file), single-use check-in nonces, and the per-source breakdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.records import (
    CheckInForm,
    CheckInTicket,
    FileMeta,
    LinkUsed,
    add_thread_file,
    record_check_in,
    source_breakdown,
    timeline_entries,
)
from store.db import Database
from store.models import Activity, Employee, Lead, Outcome, Share, View
from store.queries import bump_share_stats

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def seed(db: Database) -> Lead:
    async with db.session() as session:
        activities = [
            Activity(name=n, starts_at=T0, ends_at=T0, material_type="article") for n in "AB"
        ]
        employee = Employee(user_id="U_ANN", name="Ann")
        session.add_all([*activities, employee])
        await session.flush()
        shares = [Share(activity_id=a.id or 0, employee_id=employee.id or 0) for a in activities]
        session.add_all(shares)
        await session.flush()
        a, b = activities
        share_a, share_b = shares

        def view(share: Share, minutes: int, **kw: object) -> View:
            values: dict[str, object] = {
                "share_id": share.id,
                "activity_id": share.activity_id,
                "employee_id": employee.id,
                "visitor_key": "v1",
                "visitor_hash": "h",
                "ua_class": "mobile",
                "counted": True,
                "source": "dm",
                "at": T0 + timedelta(minutes=minutes),
            }
            values.update(kw)
            return View(**values)  # type: ignore[arg-type]

        lead = Lead(
            share_id=share_a.id or 0,
            activity_id=a.id or 0,
            employee_id=employee.id or 0,
            name="Wang Fang",
            phone="+8613812345678",
            visitor_key="v1",
            visitor_hash="h",
            source="dm",
            salesperson_id="U_SALES1",
            created_at=T0 + timedelta(minutes=5),
        )
        session.add(lead)
        await session.flush()
        session.add_all(
            [
                view(share_a, 0),  # before the sign-up, same visitor: theirs
                view(share_a, 1, counted=False),  # a repeat: listed, not counted
                view(share_a, 2, is_bot=True, ua_class="bot"),  # a preview bot: not theirs
                view(share_a, 3, is_own=True),  # the employee's own look: not theirs
                view(share_a, 4, visitor_key="v2"),  # someone else
                view(share_b, 6),  # same visitor key, another activity: not theirs
                view(share_a, 40, lead_id=lead.id, source="wechat"),  # after, attributed
                Outcome(lead_id=lead.id or 0, status="attended", by_user_id="U_SALES1", at=T0),
            ]
        )
        for source, views in (("dm", 2), ("wechat", 1)):
            await bump_share_stats(
                session,
                share_id=share_a.id or 0,
                source=source,
                activity_id=a.id or 0,
                employee_id=employee.id or 0,
                deltas={"views": views, "signups": int(source == "dm")},
            )
        assert b.id is not None
    return lead


async def test_timeline_views_and_order(db: Database) -> None:
    lead = await seed(db)
    async with db.session() as session:
        entries = await timeline_entries(session=session, lead=lead, viewer_role="admin")
    assert [(e.kind, e.source, e.counted) for e in entries] == [
        ("view", "dm", True),
        ("outcome", None, True),
        ("view", "dm", False),
        ("signup", "dm", True),
        ("view", "wechat", True),
    ]


async def test_thread_files_are_recorded_once(db: Database) -> None:
    lead = await seed(db)
    file = FileMeta("F1", "quote.pdf", "application/pdf", 12, "https://files/F1")
    async with db.session() as session:
        first = await add_thread_file(
            session=session,
            lead=lead,
            by_user_id="U_SALES1",
            file=file,
            message_ts="1.1",
            text="quote",
            now=T0,
        )
        again = await add_thread_file(
            session=session,
            lead=lead,
            by_user_id="U_SALES1",
            file=file,
            message_ts="1.1",
            text="quote",
            now=T0,
        )
    assert (first, again) == (True, False)


async def test_a_nonce_checks_in_once(db: Database) -> None:
    lead = await seed(db)
    assert lead.id is not None
    ticket = CheckInTicket(lead.id, "U_SALES1", "nonce-1")
    form = CheckInForm(31.23, 121.47, 25.0, T0, "")
    async with db.session() as session:
        await record_check_in(session=session, ticket=ticket, form=form, tz="UTC", now=T0)
    with pytest.raises(LinkUsed):
        async with db.session() as session:
            await record_check_in(session=session, ticket=ticket, form=form, tz="UTC", now=T0)


async def test_source_breakdown_per_employee(db: Database) -> None:
    lead = await seed(db)
    async with db.session() as session:
        breakdown = await source_breakdown(session=session, activity_id=lead.activity_id)
        everywhere = await source_breakdown(session=session, activity_id=None)
    [(employee_id, sources)] = breakdown.items()
    assert employee_id == lead.employee_id
    assert {s: (r.views, r.signups) for s, r in sources.items()} == {
        "dm": (2, 1),
        "wechat": (1, 0),
    }
    assert everywhere == breakdown
