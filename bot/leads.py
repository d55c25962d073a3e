"""Customer sign-ups, salesperson outcomes and thread notes."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import ledger, points_flags
from bot.errors import Forbidden, InvalidInput, NotFound
from bot.i18n import _
from bot.points import OUTCOMES, outcome_deltas, rules_for
from bot.roster import Assignment, assign_salesperson
from store.models import Lead, LeadNote, Outcome, Share, ShareVisitor, utcnow
from store.queries import bump_share_stats, insert_if_absent

FIELD_LIMITS = {"name": 100, "phone": 32, "company": 200, "note": 1000}
_PHONE_JUNK = re.compile(r"[\s().\-]")
_PHONE_OK = re.compile(r"^\+?\d{6,20}$")


@dataclass(frozen=True)
class SignupForm:
    name: str
    phone: str
    company: str = ""
    note: str = ""


def normalize_phone(raw: str) -> str:
    return _PHONE_JUNK.sub("", raw.strip())


def same_phone(a: str, b: str) -> bool:
    """Two numbers as people write them (spaces, dashes, a leading +) are the same number."""
    digits_a, digits_b = normalize_phone(a).lstrip("+"), normalize_phone(b).lstrip("+")
    return bool(digits_a) and digits_a == digits_b


def validate_signup(fields: dict[str, str]) -> SignupForm:
    """A clean form, or InvalidInput naming every bad field; nothing is stored on error."""
    values = {name: (fields.get(name) or "").strip() for name in FIELD_LIMITS}
    errors: dict[str, str] = {}
    for name, limit in FIELD_LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = _("Please keep this under {limit} characters.").format(limit=limit)
    if "name" not in errors and not values["name"]:
        errors["name"] = _("Please tell us your name.")
    phone = normalize_phone(values["phone"])
    if "phone" not in errors:
        if not phone:
            errors["phone"] = _("Please give a phone number so we can reach you.")
        elif not _PHONE_OK.match(phone):
            errors["phone"] = _("That does not look like a phone number (digits, optional +).")
    if errors:
        raise InvalidInput(_("Please check the highlighted fields."), errors)
    return SignupForm(values["name"], phone, values["company"], values["note"])


@dataclass(frozen=True)
class SignupResult:
    lead: Lead
    assignment: Assignment
    duplicate: bool


async def create_lead(
    *,
    session: AsyncSession,
    share: Share,
    form: SignupForm,
    visitor_key: str,
    visitor_hash: str,
    source: str,
    rng: random.Random,
    offered: str | None = None,
    known_visitor: bool = True,
    is_own: bool = False,
    at: datetime | None = None,
) -> SignupResult:
    """Store the sign-up, assign a salesperson, and credit the employee (once per phone);
    the employee's own sign-up on their own link is kept but neither counted nor rewarded."""
    at = at or utcnow()
    assert share.id is not None
    existing = (
        await session.exec(
            select(Lead).where(Lead.activity_id == share.activity_id, Lead.phone == form.phone)
        )
    ).first()
    if existing is not None:
        return SignupResult(existing, Assignment(existing.salesperson_id, True), duplicate=True)
    assignment = await assign_salesperson(
        session=session,
        activity_id=share.activity_id,
        phone=form.phone,
        visitor_key=visitor_key if known_visitor else None,
        rng=rng,
        offered=offered,
    )
    lead = Lead(
        share_id=share.id,
        activity_id=share.activity_id,
        employee_id=share.employee_id,
        name=form.name,
        phone=form.phone,
        company=form.company,
        note=form.note,
        salesperson_id=assignment.salesperson_id,
        visitor_key=visitor_key,
        visitor_hash=visitor_hash,
        source=source,
        is_own=is_own,
        created_at=at,
    )
    session.add(lead)
    await session.flush()
    assert lead.id is not None
    first_seen = await _link_visitor(session, share.id, visitor_key, lead.id, at)
    if is_own:
        return SignupResult(lead, assignment, duplicate=False)
    suspicions = await points_flags.signup_suspicions(
        session=session, lead=lead, visitor_first_seen=first_seen
    )
    rules = await rules_for(session=session, activity_id=share.activity_id)
    day = (share.id, at.date())
    points = (await ledger.cap_daily(session, {day: (rules.signup, rules.daily_cap)}))[day]
    await bump_share_stats(
        session,
        share_id=share.id,
        source=source,
        activity_id=share.activity_id,
        employee_id=share.employee_id,
        deltas={"signups": 1, "points": points},
    )
    # On hold until the lead has an outcome or HOLD_DAYS pass (bot/points_holds.py); a
    # suspicious one waits for an admin's review instead (bot/points_flags.py).
    if suspicions:
        await points_flags.raise_flags(
            session=session, lead=lead, suspicions=suspicions, points=points
        )
    await ledger.post(
        session,
        [
            ledger.Entry(
                share.employee_id,
                points,
                "signup",
                f"lead:{lead.id}",
                kind="held" if suspicions else "pending",
                bucket="review" if suspicions else "pending",
                activity_id=share.activity_id,
                share_id=share.id,
                lead_id=lead.id,
                at=at,
            )
        ],
    )
    return SignupResult(lead, assignment, duplicate=False)


async def _link_visitor(
    session: AsyncSession, share_id: int, visitor_key: str, lead_id: int, at: datetime
) -> datetime | None:
    """Remember that this visitor is now a known customer (their later visits name them);
    when they first viewed the page (None: never, they only posted the form)."""
    await insert_if_absent(
        session,
        ShareVisitor,
        {
            "share_id": share_id,
            "visitor_key": visitor_key,
            "first_seen": at,
            "last_counted_at": at,
            "visits": 0,
        },
        ["share_id", "visitor_key"],
    )
    visitor = (
        await session.exec(
            select(ShareVisitor).where(
                ShareVisitor.share_id == share_id, ShareVisitor.visitor_key == visitor_key
            )
        )
    ).one()
    visitor.lead_id = lead_id
    session.add(visitor)
    return visitor.first_seen if visitor.visits else None


async def get_lead(*, session: AsyncSession, lead_id: int) -> Lead:
    lead = await session.get(Lead, lead_id)
    if lead is None:
        raise NotFound(_("There is no lead {id}.").format(id=lead_id))
    return lead


async def record_sales_message(
    *, session: AsyncSession, lead_id: int, channel: str, ts: str
) -> None:
    """Where the salesperson's lead DM lives, so thread replies find their lead."""
    lead = await get_lead(session=session, lead_id=lead_id)
    lead.sales_channel = channel
    lead.sales_ts = ts
    session.add(lead)


@dataclass(frozen=True)
class OutcomeChange:
    lead: Lead
    previous: str | None
    changed: bool


async def set_outcome(
    *, session: AsyncSession, lead_id: int, status: str, by_user_id: str, is_admin: bool = False
) -> OutcomeChange:
    """Record the salesperson's outcome; a second tap replaces the first and adjusts points."""
    if status not in OUTCOMES:
        raise InvalidInput(_("Unknown outcome {outcome}.").format(outcome=repr(status)))
    lead = await get_lead(session=session, lead_id=lead_id)
    if lead.salesperson_id != by_user_id and not is_admin:
        raise Forbidden(_("Only the salesperson assigned to this lead can record its outcome."))
    previous = lead.outcome
    if previous == status:
        return OutcomeChange(lead, previous, changed=False)
    assert lead.id is not None
    lead.outcome = status
    session.add(lead)
    session.add(Outcome(lead_id=lead.id, status=status, by_user_id=by_user_id))
    rules = await rules_for(session=session, activity_id=lead.activity_id)
    deltas = outcome_deltas(previous, status, rules)
    if lead.is_own:  # the employee's own sign-up: its outcome counts nowhere either
        deltas = dict.fromkeys(deltas, 0)
    if lead.marked:  # spam, duplicate or rejected: counted, never rewarded again
        deltas["points"] = 0
    held = await ledger.lead_buckets(session, lead.id)
    # A lead in review keeps its outcome points in review; otherwise they are available.
    bucket = "review" if held["review"] > 0 else "available"
    if deltas["points"] < 0:  # a downgrade takes back at most what is still there
        there = held["review"] if bucket == "review" else None
        if there is None:
            there = await ledger.take_available(session, lead.employee_id, -deltas["points"])
        deltas["points"] = -min(-deltas["points"], there)
    await bump_share_stats(
        session,
        share_id=lead.share_id,
        source=lead.source,
        activity_id=lead.activity_id,
        employee_id=lead.employee_id,
        deltas=deltas,
    )
    await ledger.post(
        session,
        [
            ledger.Entry(
                lead.employee_id,
                deltas["points"],
                f"outcome:{status}",
                f"lead:{lead.id}:outcome:{previous or 'none'}->{status}",
                bucket=bucket,
                activity_id=lead.activity_id,
                share_id=lead.share_id,
                lead_id=lead.id,
                by_user_id=by_user_id,
            )
        ],
    )
    # The lead is real: its sign-up points are no longer on hold.
    await ledger.move_lead(session, lead, source="pending", target="available", kind="released")
    return OutcomeChange(lead, previous, changed=True)


async def add_thread_note(
    *,
    session: AsyncSession,
    channel: str,
    thread_ts: str,
    author_id: str,
    text: str,
    message_ts: str,
) -> Lead | None:
    """Store the salesperson's reply under a lead DM as the lead's note; None if not a lead."""
    lead = (
        await session.exec(
            select(Lead).where(Lead.sales_channel == channel, Lead.sales_ts == thread_ts)
        )
    ).first()
    if lead is None or lead.salesperson_id != author_id or lead.id is None:
        return None
    await insert_if_absent(
        session,
        LeadNote,
        {
            "lead_id": lead.id,
            "author_id": author_id,
            "text": text[:4000],
            "message_ts": message_ts,
            "at": utcnow(),
        },
        ["message_ts"],
    )
    return lead


async def notes_for(*, session: AsyncSession, lead_id: int) -> list[LeadNote]:
    return list(
        (
            await session.exec(
                select(LeadNote).where(LeadNote.lead_id == lead_id).order_by(col(LeadNote.at))
            )
        ).all()
    )
