"""A customer's rights over what ShareTrail holds about them (issue 15 §4, PIPL / GDPR):
erasure (`sharetrail forget --phone`, the console) and access (everything, as JSON).

A customer is found by phone, however it is written: spaces, dashes, brackets, a leading
+ or 00, full-width digits (Chinese keyboards) all name the same number. Erasure keeps the
counts (a lead stays a sign-up in every stat, export and ledger) and removes the person:
name, phone, company and note, the link from their views, contact records with their file
metadata, check-in and thread notes, and the queued/sent message payloads that carried them.
The audit entry holds a keyed hash of the number and the counts, never the number.

What was already posted in chat is erased too, through the outbox (durable, retried and
paced like every message, so an erasure is never lost while a platform is down): each
message the bot posted about the customer (`lead_messages`, and the outbox's sent rows)
is rewritten to a neutral "customer data erased" one without buttons, and each file kept
as a contact record is deleted (bot/notifications.py MessageErased, FileErased). What the
platforms cannot do is said where it is rendered (handlers/slack/notifier.py,
handlers/wecom/notifier.py).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import audit
from bot import outbox as outbox_mod
from bot.errors import InvalidInput
from bot.i18n import _
from bot.notifications import FileErased, MessageErased, MessageRef, NoRosterAlert, Notification
from bot.phones import display
from bot.platforms import recipient
from store.models import (
    Activity,
    CheckIn,
    ContactRecord,
    Employee,
    Lead,
    LeadMessage,
    LeadNote,
    OutboxMessage,
    Outcome,
    ShareVisitor,
    View,
    aware,
)
from store.queries import insert_if_absent

CN_MOBILE = re.compile(r"861[3-9]\d{9}")
MIN_DIGITS = 6  # as the sign-up form requires: fewer could match strangers' numbers
# Payload fields that carry the customer's own words (bot/notifications.py events).
PERSONAL_FIELDS = frozenset({"customer_name", "customer_phone", "company", "note", "lead_name"})
ERASED_PREFIX = "erased:"


def phone_key(raw: str) -> str:
    """The digits of a phone number as people type it: full-width digits folded (NFKC),
    an international 00 read as +, every other character dropped. '' when not a number."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if text.startswith("00"):
        text = text[2:]
    digits = "".join(c for c in text if c.isdigit() and c.isascii())
    if CN_MOBILE.fullmatch(digits):  # +86 138 0013 8000 is the 138 0013 8000 people type
        digits = digits[2:]
    return digits


def checked_phone(raw: str) -> str:
    key = phone_key(raw)
    if len(key) < MIN_DIGITS or len(key) > 20:
        raise InvalidInput(_("Give the customer's phone number (at least 6 digits)."))
    return key


async def leads_with_phone(session: AsyncSession, phone: str) -> list[Lead]:
    """Every lead whose phone is this number (compared as digits, so formats never hide one).

    Read whole and compared here: stored phones keep what the customer typed (minus
    spaces), full-width digits included, which SQL cannot fold the same way on both
    backends. An erasure is rare; its read of (id, phone) is cheap."""
    key = checked_phone(phone)
    rows = (await session.exec(select(Lead.id, Lead.phone))).all()
    ids = [lead_id for lead_id, stored in rows if stored and phone_key(stored) == key]
    if not ids:
        return []
    leads = (
        await session.exec(select(Lead).where(col(Lead.id).in_(ids)).order_by(col(Lead.id)))
    ).all()
    return list(leads)


@dataclass(frozen=True)
class Erasure:
    """What an erasure changed (counts only: it is shown and audited)."""

    leads: int = 0
    views_unlinked: int = 0
    contacts_deleted: int = 0
    check_in_notes_cleared: int = 0
    notes_cleared: int = 0
    outcome_notes_cleared: int = 0
    messages_scrubbed: int = 0
    chat_messages_erased: int = 0  # posted messages queued to be rewritten
    chat_files_deleted: int = 0  # files queued to be deleted


def _variants(values: Iterable[str]) -> list[str]:
    """The texts to remove: each value as stored, as JSON writes it, and phones as shown."""
    found: set[str] = set()
    for value in values:
        value = value.strip()
        if len(value) < 2:
            continue
        found.add(value)
        found.add(json.dumps(value)[1:-1])  # escaped quotes, backslashes
    return sorted(found, key=len, reverse=True)


def _phone_texts(leads: list[Lead], raw: str) -> list[str]:
    texts: set[str] = {raw.strip(), phone_key(raw)}
    for lead in leads:
        texts |= {lead.phone, display(lead.phone), phone_key(lead.phone)}
        texts.add(lead.phone.lstrip("+"))
    return [t for t in texts if len(phone_key(t)) >= MIN_DIGITS]


def _scrub(value: Any, texts: list[str]) -> Any:
    """`value` (parsed JSON) with every text removed; personal fields emptied when they
    held any of it."""
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            new = _scrub(item, texts)
            if key in PERSONAL_FIELDS and isinstance(item, str) and new != item:
                new = ""
            cleaned[key] = new
        return cleaned
    if isinstance(value, list):
        return [_scrub(item, texts) for item in value]
    if isinstance(value, str):
        for text in texts:
            value = value.replace(text, "")
        return value
    return value


async def _scrub_outbox(
    session: AsyncSession, leads: list[Lead], texts: list[str], lead_fields: dict[int, list[str]]
) -> int:
    """Queued and sent message payloads about these leads, or quoting their name or
    phone, rewritten without them (the rows stay: they are the record of what was sent)."""
    conditions: list[ColumnElement[bool]] = []
    for lead in leads:
        conditions.append(col(OutboxMessage.key).startswith(f"lead:{lead.id}:", autoescape=True))
        conditions.append(col(OutboxMessage.key).startswith(f"outcome:{lead.id}:", autoescape=True))
    conditions += [col(OutboxMessage.payload).contains(t, autoescape=True) for t in texts]
    rows = (await session.exec(select(OutboxMessage).where(or_(*conditions)))).all()
    scrubbed = 0
    for row in rows:
        try:
            payload = json.loads(row.payload)
        except ValueError:
            payload = row.payload
        lead_id = payload.get("lead_id") if isinstance(payload, dict) else None
        extra = lead_fields.get(lead_id, []) if isinstance(lead_id, int) else []
        cleaned = _scrub(payload, _variants([*texts, *extra]))
        text = cleaned if isinstance(cleaned, str) else json.dumps(cleaned, ensure_ascii=False)
        if text != row.payload:
            row.payload = text
            session.add(row)
            scrubbed += 1
    return scrubbed


async def remember_message(
    session: AsyncSession, *, lead_id: int, user_id: str, ref: MessageRef | None, kind: str
) -> None:
    """Where a message about a lead landed, so an erasure can rewrite it later."""
    if ref is None or not ref[0] or not ref[1]:
        return
    await insert_if_absent(
        session,
        LeadMessage,
        {
            "lead_id": lead_id,
            "user_id": user_id[:64],
            "channel": ref[0][:64],
            "ts": ref[1][:128],
            "kind": kind[:40],
            "at": datetime.now(UTC),
        },
        ["channel", "ts"],
    )


async def remember_sent(session: AsyncSession, event: Notification, ref: MessageRef | None) -> None:
    """A message that shows a customer went out (outbox or direct): remember where."""
    lead_id = lead_of(event)
    if lead_id is None or isinstance(event, MessageErased | FileErased | NoRosterAlert):
        return
    await remember_message(
        session, lead_id=lead_id, user_id=recipient(event), ref=ref, kind=type(event).__name__
    )


def lead_of(event: object) -> int | None:
    """The lead a notification is about, if it names one."""
    lead_id = getattr(event, "lead_id", None)
    return lead_id if isinstance(lead_id, int) else None


async def _posted(
    session: AsyncSession, leads: list[Lead], phones: list[str]
) -> list[MessageErased]:
    """Every message the bot posted that showed these customers: their recorded messages,
    the lead DM, and the outbox's sent rows about them (keyed to the lead, carrying its id
    or a view of it, or quoting the phone). Read before anything is scrubbed."""
    ids = [lead.id for lead in leads if lead.id is not None]
    found: dict[tuple[str, str], MessageErased] = {}

    def add(user_id: str, channel: str, ts: str, lead_id: int, at: datetime | None) -> None:
        if user_id and channel and ts:
            found.setdefault(
                (channel, ts),
                MessageErased(user_id, channel, ts, lead_id, aware(at) if at is not None else None),
            )

    for kept in (
        await session.exec(select(LeadMessage).where(col(LeadMessage.lead_id).in_(ids)))
    ).all():
        add(kept.user_id, kept.channel, kept.ts, kept.lead_id, kept.at)
    for lead in leads:
        assert lead.id is not None
        if lead.salesperson_id and lead.sales_channel and lead.sales_ts:
            add(lead.salesperson_id, lead.sales_channel, lead.sales_ts, lead.id, lead.created_at)
    view_ids = {
        view_id: lead_id
        for view_id, lead_id in (
            await session.exec(select(View.id, View.lead_id).where(col(View.lead_id).in_(ids)))
        ).all()
        if view_id is not None and lead_id is not None
    }
    conditions: list[ColumnElement[bool]] = []
    for lead_id in ids:
        for prefix in ("lead", "outcome", "remind-outcome"):
            conditions.append(
                col(OutboxMessage.key).startswith(f"{prefix}:{lead_id}:", autoescape=True)
            )
    if view_ids:
        conditions.append(col(OutboxMessage.key).in_([f"view:{v}" for v in view_ids]))
    conditions += [col(OutboxMessage.payload).contains(p, autoescape=True) for p in phones]
    rows = (
        await session.exec(
            select(OutboxMessage).where(
                or_(*conditions),
                col(OutboxMessage.channel).is_not(None),
                col(OutboxMessage.ts).is_not(None),
            )
        )
    ).all()
    for row in rows:
        if row.kind in (MessageErased.__name__, FileErased.__name__):
            continue
        try:
            event = outbox_mod.decode(row.kind, row.payload)
            user_id = recipient(event)
        except (ValueError, TypeError, KeyError):
            continue
        about = lead_of(event)
        if about not in ids:
            view_id = getattr(event, "view_id", None)
            about = view_ids.get(view_id) if isinstance(view_id, int) else None
        assert row.channel is not None and row.ts is not None
        add(user_id, row.channel, row.ts, about if about is not None else ids[0], row.sent_at)
    return list(found.values())


async def _queue_chat_erasure(
    session: AsyncSession, messages: list[MessageErased], files: list[FileErased]
) -> tuple[int, int]:
    """The rewrites and deletions, as outbox rows in the erasure's own transaction."""
    rewrites = deletions = 0
    for message in messages:
        rewrites += await outbox_mod.enqueue(
            session=session,
            key=f"erase:{message.lead_id}:{message.channel}:{message.ts}",
            event=message,
        )
    for file in files:
        deletions += await outbox_mod.enqueue(
            session=session, key=f"erase-file:{file.lead_id}:{file.file_id}", event=file
        )
    return rewrites, deletions


async def erase_customer(session: AsyncSession, *, phone: str, actor: str, secret: str) -> Erasure:
    """Erase the customer with this phone everywhere, in the caller's transaction, and
    audit it. Counts are kept; nothing else of the person is."""
    leads = await leads_with_phone(session, phone)
    key = checked_phone(phone)
    digest = audit.phone_digest(secret, key)
    if not leads:
        await audit.record(
            session,
            actor=actor,
            action=audit.PRIVACY_ERASE,
            subject=f"phone-hash:{digest}",
            details=asdict(Erasure()),
        )
        return Erasure()
    ids = [lead.id for lead in leads if lead.id is not None]
    names = [lead.name for lead in leads]
    lead_fields = {
        lead.id: [lead.name, lead.company, lead.note] for lead in leads if lead.id is not None
    }
    phones = _phone_texts(leads, phone)
    texts = _variants([*phones, *names])
    posted = await _posted(session, leads, phones)
    files = [
        FileErased(by_user_id, file_id, lead_id)
        for lead_id, file_id, by_user_id in (
            await session.exec(
                select(
                    ContactRecord.lead_id, ContactRecord.file_id, ContactRecord.by_user_id
                ).where(
                    col(ContactRecord.lead_id).in_(ids), col(ContactRecord.file_id).is_not(None)
                )
            )
        ).all()
        if file_id
    ]

    views = await _changed(
        session, update(View).where(col(View.lead_id).in_(ids)).values(lead_id=None)
    )
    await _changed(
        session, update(ShareVisitor).where(col(ShareVisitor.lead_id).in_(ids)).values(lead_id=None)
    )
    contacts = await _changed(
        session, delete(ContactRecord).where(col(ContactRecord.lead_id).in_(ids))
    )
    check_ins = await _changed(
        session,
        update(CheckIn)
        .where(col(CheckIn.lead_id).in_(ids), col(CheckIn.note) != "")
        .values(note=""),
    )
    notes = await _changed(
        session,
        update(LeadNote)
        .where(col(LeadNote.lead_id).in_(ids), col(LeadNote.text) != "")
        .values(text=""),
    )
    outcome_notes = await _changed(
        session,
        update(Outcome)
        .where(col(Outcome.lead_id).in_(ids), col(Outcome.note) != "")
        .values(note=""),
    )
    messages = await _scrub_outbox(session, leads, texts, lead_fields)
    rewrites, deletions = await _queue_chat_erasure(session, posted, files)
    for lead in leads:
        lead.name = ""
        lead.phone = ""
        lead.company = ""
        lead.note = ""
        # A fresh key per lead: matches no visitor, so neither the timeline nor salesperson
        # assignment can tie this lead to a browser again.
        lead.visitor_key = f"{ERASED_PREFIX}{lead.id}"
        lead.visitor_hash = ""
        session.add(lead)
    await session.flush()
    erasure = Erasure(
        leads=len(leads),
        views_unlinked=views,
        contacts_deleted=contacts,
        check_in_notes_cleared=check_ins,
        notes_cleared=notes,
        outcome_notes_cleared=outcome_notes,
        messages_scrubbed=messages,
        chat_messages_erased=rewrites,
        chat_files_deleted=deletions,
    )
    await audit.record(
        session,
        actor=actor,
        action=audit.PRIVACY_ERASE,
        subject=f"phone-hash:{digest}",
        details={**asdict(erasure), "lead_ids": ids},
    )
    return erasure


async def _changed(session: AsyncSession, statement: Any) -> int:
    """Run an UPDATE or DELETE; the number of rows it changed."""
    result = await session.exec(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def _iso(moment: datetime | None) -> str | None:
    return aware(moment).isoformat() if moment is not None else None


async def customer_data(
    session: AsyncSession, *, phone: str, actor: str, secret: str
) -> dict[str, Any]:
    """Everything held about the customer with this phone (an access request), as
    JSON-ready data; the request itself is audited (without the number)."""
    leads = await leads_with_phone(session, phone)
    ids = [lead.id for lead in leads if lead.id is not None]
    activities = {
        a.id: a
        for a in (
            await session.exec(
                select(Activity).where(col(Activity.id).in_({lead.activity_id for lead in leads}))
            )
        ).all()
    }
    employees = {
        e.id: e
        for e in (
            await session.exec(
                select(Employee).where(col(Employee.id).in_({lead.employee_id for lead in leads}))
            )
        ).all()
    }

    async def rows(model: Any, column: Any) -> list[Any]:
        if not ids:
            return []
        return list((await session.exec(select(model).where(col(column).in_(ids)))).all())

    views = await rows(View, View.lead_id)
    outcomes = await rows(Outcome, Outcome.lead_id)
    contacts = await rows(ContactRecord, ContactRecord.lead_id)
    check_ins = await rows(CheckIn, CheckIn.lead_id)
    notes = await rows(LeadNote, LeadNote.lead_id)
    result: dict[str, Any] = {"phone": phone_key(phone), "leads": []}
    for lead in leads:
        activity = activities.get(lead.activity_id)
        employee = employees.get(lead.employee_id)
        result["leads"].append(
            {
                "id": lead.id,
                "name": lead.name,
                "phone": lead.phone,
                "company": lead.company,
                "note": lead.note,
                "signed_up_at": _iso(lead.created_at),
                "activity": activity.name if activity else None,
                "shared_by": employee.name if employee else None,
                "salesperson": lead.salesperson_id,
                "source": lead.source,
                "outcome": lead.outcome,
                "views": [
                    {
                        "at": _iso(v.at),
                        "source": v.source,
                        "device": v.ua_class,
                        "dwell_ms": v.dwell_ms,
                        "scroll_pct": v.scroll_pct,
                    }
                    for v in views
                    if v.lead_id == lead.id
                ],
                "outcomes": [
                    {"status": o.status, "by": o.by_user_id, "note": o.note, "at": _iso(o.at)}
                    for o in outcomes
                    if o.lead_id == lead.id
                ],
                "contacts": [
                    {
                        "kind": c.kind,
                        "at": _iso(c.at),
                        "by": c.by_user_id,
                        "summary": c.summary,
                        "file_name": c.file_name,
                    }
                    for c in contacts
                    if c.lead_id == lead.id
                ],
                "check_ins": [
                    {
                        "met_at": _iso(c.met_at),
                        "by": c.user_id,
                        "lat": c.lat,
                        "lon": c.lon,
                        "note": c.note,
                    }
                    for c in check_ins
                    if c.lead_id == lead.id
                ],
                "notes": [
                    {"by": n.author_id, "text": n.text, "at": _iso(n.at)}
                    for n in notes
                    if n.lead_id == lead.id
                ],
            }
        )
    await audit.record(
        session,
        actor=actor,
        action=audit.PRIVACY_ACCESS,
        subject=f"phone-hash:{audit.phone_digest(secret, checked_phone(phone))}",
        details={"leads": len(leads), "lead_ids": ids},
    )
    return result
