"""The audit log: who did what, when (issue 15 §4).

Record an entry in the same unit of work as the change it describes, so a change and its
entry commit or roll back together:

    await audit.record(session, actor=user_id, action=audit.ACTIVITY_CREATE,
                       subject=audit.subject("activity", activity.id), details={"name": ...})

Entries are append-only: this module has no update or delete, and the database refuses
both (a trigger on SQLite and PostgreSQL). Never put a customer's name or phone in an
entry: erasure must leave no trace of them (log ids, counts or `phone_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import AuditEntry

# Actions, as stored (`action` column). Add yours here so the console can list them.
ACTIVITY_CREATE = "activity.create"
ACTIVITY_EDIT = "activity.edit"
ACTIVITY_PUBLISH = "activity.publish"
ACTIVITY_CLOSE = "activity.close"
ROSTER_ADD = "roster.add"
ROSTER_REMOVE = "roster.remove"
EXPORT_CSV = "export.csv"
EXPORT_XLSX = "export.xlsx"
POINTS_ADJUST = "points.adjust"
LEAD_CLAWBACK = "lead.clawback"
REVIEW_APPROVE = "review.approve"
REVIEW_REJECT = "review.reject"
REWARD_CHANGE = "reward.change"
REDEMPTION_CREATE = "redemption.create"
REDEMPTION_FULFIL = "redemption.fulfil"
REDEMPTION_REFUSE = "redemption.refuse"
PRIVACY_ERASE = "privacy.erase"
PRIVACY_ACCESS = "privacy.access_export"
RETENTION_FOLD = "retention.fold"

ACTIONS = (
    ACTIVITY_CREATE,
    ACTIVITY_EDIT,
    ACTIVITY_PUBLISH,
    ACTIVITY_CLOSE,
    ROSTER_ADD,
    ROSTER_REMOVE,
    EXPORT_CSV,
    EXPORT_XLSX,
    POINTS_ADJUST,
    LEAD_CLAWBACK,
    REVIEW_APPROVE,
    REVIEW_REJECT,
    REWARD_CHANGE,
    REDEMPTION_CREATE,
    REDEMPTION_FULFIL,
    REDEMPTION_REFUSE,
    PRIVACY_ERASE,
    PRIVACY_ACCESS,
    RETENTION_FOLD,
)

CLI = "cli"  # the actor of `sharetrail …` commands run on the server
SYSTEM = "system"  # the actor of scheduled jobs

ACTOR_MAX = 64
ACTION_MAX = 64
SUBJECT_MAX = 200


def subject(kind: str, ident: object) -> str:
    """The conventional subject text: "activity:12", "lead:40", "user:U123"."""
    return f"{kind}:{ident}"


def phone_digest(secret: str, phone: str) -> str:
    """A keyed hash of a normalised phone: lets an auditor match two entries about the same
    person without the log holding the number (HMAC, so it cannot be brute-forced offline)."""
    return hmac.new(secret.encode(), phone.encode(), hashlib.sha256).hexdigest()[:16]


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    subject: str = "",
    details: Mapping[str, object] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction. `details` must be JSON-serialisable
    (non-JSON values are written with str())."""
    entry = AuditEntry(
        at=at or datetime.now(UTC),
        actor=actor[:ACTOR_MAX],
        action=action[:ACTION_MAX],
        subject=subject[:SUBJECT_MAX],
        details=json.dumps(dict(details or {}), ensure_ascii=False, sort_keys=True, default=str),
    )
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """What /console/audit narrows to; empty means everything."""

    actor: str = ""
    action: str = ""
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def details_of(entry: AuditEntry) -> dict[str, object]:
    try:
        value = json.loads(entry.details or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def entries(
    session: AsyncSession, *, where: AuditFilter = AuditFilter(), page: int = 1, per_page: int = 50
) -> AuditPage:
    """Newest first, one page of them."""
    conditions = []
    if where.actor:
        conditions.append(col(AuditEntry.actor) == where.actor)
    if where.action:
        conditions.append(col(AuditEntry.action) == where.action)
    if where.since is not None:
        conditions.append(col(AuditEntry.at) >= where.since)
    if where.until is not None:
        conditions.append(col(AuditEntry.at) < where.until)
    total = (
        await session.exec(select(func.count()).select_from(AuditEntry).where(*conditions))
    ).one()
    page = max(1, page)
    rows = (
        await session.exec(
            select(AuditEntry)
            .where(*conditions)
            .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    ).all()
    return AuditPage(list(rows), int(total), page, per_page)
