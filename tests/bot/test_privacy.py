"""Erasure (`sharetrail forget --phone`, bot/privacy.py): the customer is gone from every
text column of every table (the schema is reflected, not listed), however the number is
written; counts, stats, the export and the leaderboard are the same before and after;
another customer is untouched; the audit log says what happened without the number.
On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import Connection, String, Text, column, inspect, select, table
from sqlmodel import select as sql_select

from bot import audit, privacy
from bot.errors import Forbidden, InvalidInput
from handlers import cli
from store.models import CheckIn, ContactRecord, Lead, LeadNote, Outcome, View
from tests.conftest import EMPLOYEE, Stack, make_settings
from tests.flows import sign_up, view_landing
from tests.records_flows import SALESPERSON, lead_setup

NAME = "Wang Fang"
DIGITS = "13800138000"
OTHER = "Zhou Min"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("+86 138 0013 8000", DIGITS),
        ("0086-138-0013-8000", DIGITS),
        ("(138) 0013 8000", DIGITS),
        ("１３８ ００１３ ８０００", DIGITS),  # full-width, as Chinese keyboards type
        ("+1 415 555 0110", "14155550110"),
        ("+44 20 7946 0958", "442079460958"),
    ],
)
def test_phone_key_reads_every_format(typed: str, key: str) -> None:
    assert privacy.phone_key(typed) == key


def test_too_short_a_number_is_refused() -> None:
    for bad in ("", "12345", "phone", "+" + "1" * 25):
        with pytest.raises(InvalidInput):
            privacy.checked_phone(bad)


def _text_values(connection: Connection) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text column of every table in the database."""
    found = []
    inspector = inspect(connection)
    for name in inspector.get_table_names():
        for info in inspector.get_columns(name):
            if not isinstance(info["type"], String | Text):
                continue
            column_name = info["name"]
            rows = connection.execute(select(column(column_name)).select_from(table(name)))
            found += [(name, column_name, v) for (v,) in rows if isinstance(v, str) and v]
    return found


def traces(values: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Values holding the customer's name or number (in any spacing or punctuation)."""
    return [
        (t, c, v)
        for t, c, v in values
        if NAME.lower() in v.lower() or DIGITS in re.sub(r"[\s\-().+]", "", v)
    ]


async def numbers(stack: Stack, activity_id: int) -> tuple[object, ...]:
    services = stack.services
    report = await services.report(activity_id)
    board = [(e.user_id, row) for e, row in await services.leaderboard(activity_id)]
    overall = [(e.user_id, row) for e, row in await services.leaderboard(None)]
    export = list(csv.reader(io.StringIO(await services.export_csv(activity_id))))
    return (report.totals, report.by_source, report.sharers, board, overall, export)


async def test_forget_erases_the_customer_everywhere_and_keeps_the_counts(
    stack: Stack, database_url: str, tmp_path: Path
) -> None:
    setup = await lead_setup(stack, phone="+86 138 0013 8000")
    async with aiohttp.ClientSession() as other_browser:
        await sign_up(
            stack,
            setup.card.url,
            {"name": OTHER, "phone": "139 0000 1111", "company": "Beta"},
            browser=other_browser,
        )
    await stack.settle()
    async with stack.services.db.session() as session:
        lead = (await session.exec(sql_select(Lead).where(Lead.name == NAME))).one()
    assert lead.id is not None and lead.phone == "+8613800138000"
    await stack.services.set_outcome(lead.id, "attended", by_user_id=SALESPERSON)
    now = datetime.now(UTC)
    async with stack.services.db.session() as session:  # what salespeople write about them
        session.add(
            ContactRecord(
                lead_id=lead.id,
                by_user_id=SALESPERSON,
                kind="call",
                at=now,
                summary=f"Called {NAME} on 138-0013-8000",
                file_id="F_ID",
                file_name="wang-fang.pdf",
                file_url="https://files.example/wang-fang.pdf",
            )
        )
        session.add(
            CheckIn(
                lead_id=lead.id,
                user_id=SALESPERSON,
                nonce="n1",
                lat=31.2,
                lon=121.5,
                accuracy_m=10,
                met_at=now,
                note=f"Met {NAME} at the booth",
            )
        )
        session.add(
            LeadNote(
                lead_id=lead.id,
                author_id=SALESPERSON,
                text=f"{NAME}: 13800138000 wants a quote",
                message_ts="1.1",
            )
        )
        session.add(
            Outcome(lead_id=lead.id, status="attended", by_user_id=SALESPERSON, note=f"{NAME} came")
        )
    await view_landing(stack, setup.card.url)  # the customer comes back: a view of the lead
    await stack.settle()
    async with stack.services.db.session() as session:
        assert (await session.exec(sql_select(View).where(View.lead_id == lead.id))).all()
    before = await numbers(stack, setup.activity_id)
    async with stack.services.db.engine.connect() as connection:
        assert traces(await connection.run_sync(_text_values)), "the setup stored the customer"

    settings = make_settings(tmp_path, "http://127.0.0.1:9/api/", 9, database_url=database_url)
    await cli.forget(settings, "0086 (138) 0013-8000")

    async with stack.services.db.engine.connect() as connection:
        assert traces(await connection.run_sync(_text_values)) == []
    assert await numbers(stack, setup.activity_id) == before
    async with stack.services.db.session() as session:
        erased = await session.get(Lead, lead.id)
        assert erased is not None
        assert (erased.name, erased.phone, erased.company, erased.note) == ("", "", "", "")
        assert erased.outcome == "attended"  # counts and state kept
        assert (await session.exec(sql_select(View).where(View.lead_id == lead.id))).all() == []
        assert (
            await session.exec(sql_select(ContactRecord).where(ContactRecord.lead_id == lead.id))
        ).all() == []
        check_in = (await session.exec(sql_select(CheckIn).where(CheckIn.lead_id == lead.id))).one()
        assert check_in.note == ""
        other = (await session.exec(sql_select(Lead).where(Lead.name == OTHER))).one()
        assert (other.phone, other.company) == ("13900001111", "Beta")
        [entry] = (
            await audit.entries(session, where=audit.AuditFilter(action=audit.PRIVACY_ERASE))
        ).entries
    assert entry.actor == audit.CLI and entry.subject.startswith("phone-hash:")
    details = audit.details_of(entry)
    assert details["leads"] == 1 and details["contacts_deleted"] == 1
    assert details["check_in_notes_cleared"] == 1 and details["messages_scrubbed"] >= 2
    assert details["lead_ids"] == [lead.id]

    # A second erasure finds nobody (and says so in the log); only admins may erase.
    again = await stack.services.forget_customer("+86 13800138000", by_user_id="U_ADMIN")
    assert again.leads == 0
    with pytest.raises(Forbidden):
        await stack.services.forget_customer("+86 13800138000", by_user_id=EMPLOYEE)
