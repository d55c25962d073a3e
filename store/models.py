"""SQLModel tables. All datetimes are timezone-aware UTC; the store knows nothing of Slack or HTTP.

`share_stats` is a roll-up kept exact in the same transaction as every view, sign-up and
outcome, so stats never scan the raw views table; `employee_stats` is its per-employee sum,
kept in the same transaction, so the all-activities leaderboard reads ten index entries.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import CheckConstraint, Index, LargeBinary, Text, UniqueConstraint, desc
from sqlmodel import Field, SQLModel


def aware(moment: datetime) -> datetime:
    """SQLite can hand datetimes back naive; every one we store is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class AppSecret(SQLModel, table=True):
    __tablename__ = "app_secret"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=256)


class Employee(SQLModel, table=True):
    """A chat user who shares cards, cached from the platform profile (users.info)."""

    __tablename__ = "employees"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    title: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=64)
    email: str = Field(default="", max_length=200)
    tz: str = Field(default="UTC", max_length=64)
    is_admin: bool = False
    notify: bool = True  # live DMs (views, sign-ups)
    digest: bool = False  # a daily summary DM (`me notify digest on`)
    on_leaderboard: bool = True  # shown on the public leaderboards (`me leaderboard off`)
    updated_at: datetime = Field(default_factory=utcnow)


class Activity(SQLModel, table=True):
    __tablename__ = "activities"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    starts_at: datetime
    ends_at: datetime
    tz: str = Field(default="UTC", max_length=64)
    # en or zh: a customer's page falls back to it when the browser asks for neither.
    # None (rows made without one): the page falls back to LANGUAGE.
    language: str | None = Field(
        default=None, max_length=8, sa_column_kwargs={"server_default": "en"}
    )
    material_type: str = Field(max_length=32)
    headline: str = Field(default="", max_length=300)
    intro: str = Field(default="", max_length=3000)  # plain text: previews, Open Graph
    # The intro's formatting (bot/richtext.py JSON); None for intros typed as plain text.
    intro_rich: str | None = Field(default=None, sa_type=Text)
    kpi_views: int = 0
    kpi_signups: int = 0
    kpi_attendance: int = 0
    status: str = Field(default="draft", max_length=16, index=True)
    channel_id: str | None = Field(default=None, max_length=64)
    message_ts: str | None = Field(default=None, max_length=32)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    no_roster_alerted: bool = False


class RosterEntry(SQLModel, table=True):
    """A salesperson; activity_id None means the global roster."""

    __tablename__ = "roster"
    __table_args__ = (UniqueConstraint("user_id", "activity_id", name="uq_roster_user_activity"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=64, index=True)
    name: str = Field(default="", max_length=200)
    activity_id: int | None = Field(default=None, foreign_key="activities.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Share(SQLModel, table=True):
    __tablename__ = "shares"
    __table_args__ = (UniqueConstraint("employee_id", "activity_id", name="uq_share_employee"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activities.id", index=True)
    employee_id: int = Field(foreign_key="employees.id", index=True)
    source: str = Field(default="card_qr", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    card_channel: str | None = Field(default=None, max_length=64)


class View(SQLModel, table=True):
    """One request for a landing page (bots included, flagged)."""

    __tablename__ = "views"
    __table_args__ = (Index("ix_views_share_at", "share_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    share_id: int = Field(foreign_key="shares.id")
    activity_id: int = Field(index=True)
    employee_id: int
    visitor_key: str = Field(max_length=64)
    visitor_hash: str = Field(max_length=64)
    ua_class: str = Field(max_length=16)
    is_bot: bool = False
    is_own: bool = False
    counted: bool = False
    source: str = Field(default="card_qr", max_length=16)
    lead_id: int | None = None
    dwell_ms: int | None = None
    scroll_pct: int | None = None
    clicks: str = Field(default="", max_length=200)
    at: datetime = Field(default_factory=utcnow)


class ShareVisitor(SQLModel, table=True):
    """First sight of a visitor per share: makes 'unique visitor' a constraint, not a scan."""

    __tablename__ = "share_visitors"
    __table_args__ = (UniqueConstraint("share_id", "visitor_key", name="uq_share_visitor"),)

    id: int | None = Field(default=None, primary_key=True)
    share_id: int = Field(foreign_key="shares.id")
    visitor_key: str = Field(max_length=64)
    first_seen: datetime = Field(default_factory=utcnow)
    last_counted_at: datetime = Field(default_factory=utcnow)
    visits: int = 1
    lead_id: int | None = None


class ViewRollup(SQLModel, table=True):
    """Counted views older than RETENTION_DAYS, per share and quarter hour (UTC): the raw
    rows are deleted (bot/retention.py), these keep every per-day count exact in any time
    zone, since every zone's days begin on a quarter hour."""

    __tablename__ = "view_rollups"
    __table_args__ = (UniqueConstraint("share_id", "bucket", name="uq_view_rollup"),)

    id: int | None = Field(default=None, primary_key=True)
    share_id: int = Field(foreign_key="shares.id")
    activity_id: int = Field(index=True)
    bucket: datetime
    views: int = 0


class NetworkVisitors(SQLModel, table=True):
    """New visitors per (share, network, day): points for views stop at the cap
    (bot/tracking.py); `network` is a daily-salted hash of the /24 or /64, never an address."""

    __tablename__ = "network_visitors"
    __table_args__ = (UniqueConstraint("share_id", "network", "day", name="uq_network_visitors"),)

    id: int | None = Field(default=None, primary_key=True)
    share_id: int = Field(foreign_key="shares.id")
    network: str = Field(max_length=32)
    day: date
    visitors: int = 0


class NetworkMinute(SQLModel, table=True):
    """New visitors per (share, network, UTC minute): the sliding window of the "many
    visitors from one network in a short time" flag (bot/points_flags.py). `network` is the
    daily-salted hash of the /24 or /64; a visit soon after UTC midnight is counted under
    the previous day's hash too, so a burst that straddles midnight stays one network.
    Rows older than a day are deleted by the scan."""

    __tablename__ = "network_minutes"
    __table_args__ = (
        UniqueConstraint("share_id", "network", "minute", name="uq_network_minutes"),
        Index("ix_network_minutes_minute", "minute"),
    )

    id: int | None = Field(default=None, primary_key=True)
    share_id: int = Field(foreign_key="shares.id")
    network: str = Field(max_length=32)
    minute: datetime
    visitors: int = 0


class Lead(SQLModel, table=True):
    __tablename__ = "leads"

    id: int | None = Field(default=None, primary_key=True)
    share_id: int = Field(foreign_key="shares.id", index=True)
    activity_id: int = Field(index=True)
    employee_id: int = Field(index=True)
    name: str = Field(max_length=100)
    phone: str = Field(max_length=32, index=True)
    company: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=1000)
    salesperson_id: str | None = Field(default=None, max_length=64, index=True)
    visitor_key: str = Field(max_length=64, index=True)
    visitor_hash: str = Field(max_length=64)
    source: str = Field(default="card_qr", max_length=16)
    # The sharing employee signed up on their own link: kept, but counted and rewarded nowhere.
    is_own: bool = False
    # Marked spam or duplicate (or its review rejected): its points were reversed and it
    # earns nothing more.
    marked: str | None = Field(default=None, max_length=16)
    marked_by: str = Field(default="", max_length=64)
    outcome: str | None = Field(default=None, max_length=16)
    sales_channel: str | None = Field(default=None, max_length=64)
    # Slack's message ts, or WeCom's msgid (63 characters): where the lead's DM landed.
    sales_ts: str | None = Field(default=None, max_length=128, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Outcome(SQLModel, table=True):
    __tablename__ = "outcomes"

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="leads.id", index=True)
    status: str = Field(max_length=16)
    by_user_id: str = Field(max_length=64)
    note: str = Field(default="", max_length=1000)
    at: datetime = Field(default_factory=utcnow)


class LeadNote(SQLModel, table=True):
    """A salesperson's thread reply under the lead DM."""

    __tablename__ = "lead_notes"

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="leads.id", index=True)
    author_id: str = Field(max_length=64)
    text: str = Field(max_length=4000)
    message_ts: str = Field(max_length=32, unique=True)
    at: datetime = Field(default_factory=utcnow)


class PointsEntry(SQLModel, table=True):
    """Append-only points ledger (bot/ledger.py is its only writer): rows are never edited.

    `bucket` says where the points sit: `available` (spendable), `pending` (a sign-up on
    hold until its lead has an outcome or HOLD_DAYS pass) or `review` (flagged, waiting for
    an admin). A move between buckets is two rows (minus here, plus there) with one `kind`;
    every balance is the sum of its rows (`point_balances` keeps that sum, same transaction).
    `share_id`/`activity_id` are None for rows that belong to no activity (redemptions).
    """

    __tablename__ = "points_ledger"
    __table_args__ = (
        Index("ix_points_activity_employee", "activity_id", "employee_id"),
        Index("ix_points_employee_bucket", "employee_id", "bucket"),
    )

    id: int | None = Field(default=None, primary_key=True)
    employee_id: int
    activity_id: int | None = None
    share_id: int | None = None
    points: int
    reason: str = Field(max_length=32)  # what for: unique_visitor, signup, attended, redemption…
    ref: str = Field(max_length=120)
    # earned | pending | released | held | approved | rejected | clawed_back | redeemed |
    # refunded | adjusted (bot/ledger.py KINDS)
    kind: str = Field(default="earned", max_length=16)
    bucket: str = Field(default="available", max_length=12)
    lead_id: int | None = Field(default=None, index=True)
    by_user_id: str = Field(default="", max_length=64)
    at: datetime = Field(default_factory=utcnow)


class PointBalance(SQLModel, table=True):
    """An employee's balances: always the sums of their ledger rows per bucket, bumped in
    the transaction of every ledger row (the row a redemption locks / updates conditionally)."""

    __tablename__ = "point_balances"

    employee_id: int = Field(foreign_key="employees.id", primary_key=True)
    available: int = 0
    pending: int = 0
    review: int = 0


class PointRules(SQLModel, table=True):
    """An activity's points rules; an activity without a row uses bot/points.py DEFAULT_RULES."""

    __tablename__ = "point_rules"

    activity_id: int = Field(foreign_key="activities.id", primary_key=True)
    unique_visitor: int
    signup: int
    attended: int
    converted: int
    daily_cap: int  # points from visitors and sign-ups per employee per activity per day
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)


class DailyPoints(SQLModel, table=True):
    """Points asked for per (share, UTC day) from visitors and sign-ups: the daily cap's
    counter, bumped and read back in one upsert like network_visitors."""

    __tablename__ = "daily_points"
    __table_args__ = (UniqueConstraint("share_id", "day", name="uq_daily_points"),)

    id: int | None = Field(default=None, primary_key=True)
    share_id: int = Field(foreign_key="shares.id")
    day: date
    points: int = 0


class PointFlag(SQLModel, table=True):
    """A fraud suspicion with its reason; its points wait in the `review` bucket until an
    admin approves (released) or rejects (reversed). `key` makes each suspicion once."""

    __tablename__ = "point_flags"
    __table_args__ = (
        UniqueConstraint("key", name="uq_point_flags_key"),
        Index("ix_point_flags_status", "status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160)
    employee_id: int = Field(index=True)
    activity_id: int | None = None
    share_id: int | None = None
    lead_id: int | None = None
    reason: str = Field(max_length=32)  # bot/flags.py REASONS
    detail: str = Field(default="", max_length=300)
    points: int = 0  # moved into review when flagged
    status: str = Field(default="open", max_length=12)  # open | approved | rejected
    decided_by: str = Field(default="", max_length=64)
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # The span of views a view flag covers (its points are those earned in it).
    window_start: datetime | None = None
    window_end: datetime | None = None


class ShareStats(SQLModel, table=True):
    """Roll-up per (share, push source), updated in the transaction of each counted event."""

    __tablename__ = "share_stats"
    __table_args__ = (
        Index("ix_share_stats_activity", "activity_id", "employee_id"),
        Index("ix_share_stats_employee", "employee_id"),
    )

    share_id: int = Field(foreign_key="shares.id", primary_key=True)
    source: str = Field(max_length=16, primary_key=True)
    activity_id: int
    employee_id: int
    views: int = 0
    unique_visitors: int = 0
    signups: int = 0
    attended: int = 0
    converted: int = 0
    points: int = 0


class EmployeeStats(SQLModel, table=True):
    """ShareStats summed per employee over every activity, bumped with it (store.queries)."""

    __tablename__ = "employee_stats"
    __table_args__ = (
        # In the leaderboard's order, so `ORDER BY … LIMIT n` reads n entries, no sort.
        Index(
            "ix_employee_stats_rank",
            desc("points"),
            desc("signups"),
            desc("views"),
            "employee_id",
        ),
    )

    employee_id: int = Field(foreign_key="employees.id", primary_key=True)
    views: int = 0
    unique_visitors: int = 0
    signups: int = 0
    attended: int = 0
    converted: int = 0
    points: int = 0


class ContactRecord(SQLModel, table=True):
    """One touch between the company and a lead: a call, email, chat, meeting or a file.

    Files stay in Slack; we keep the file id and our own copy of its metadata.
    """

    __tablename__ = "contact_records"
    __table_args__ = (
        # One record per file per lead: a redelivered file_share event adds nothing.
        UniqueConstraint("lead_id", "file_id", name="uq_contact_lead_file"),
        Index("ix_contact_records_lead_at", "lead_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="leads.id")
    by_user_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    at: datetime
    summary: str = Field(default="", max_length=3000)
    file_id: str | None = Field(default=None, max_length=64)
    file_name: str = Field(default="", max_length=255)
    file_mimetype: str = Field(default="", max_length=128)
    file_size: int | None = None
    file_url: str = Field(default="", max_length=1000)
    message_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


class LeadMessage(SQLModel, table=True):
    """A chat message the bot posted about a lead (its DM, sign-up news, thread records,
    check-ins, reminders): where it landed, so erasing the customer can rewrite it
    (bot/privacy.py). `channel`/`ts` are the platform's (Slack: conversation id and ts;
    WeCom: member userid and msgid); `user_id` is whom it was for (their platform)."""

    __tablename__ = "lead_messages"
    __table_args__ = (UniqueConstraint("channel", "ts", name="uq_lead_messages_channel_ts"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(index=True)
    user_id: str = Field(max_length=64)
    channel: str = Field(max_length=64)
    ts: str = Field(max_length=128)
    kind: str = Field(max_length=40)
    at: datetime = Field(default_factory=utcnow)


class CheckIn(SQLModel, table=True):
    """A salesperson's field check-in with a lead; `nonce` makes each signed link single-use."""

    __tablename__ = "check_ins"
    __table_args__ = (
        UniqueConstraint("nonce", name="uq_check_ins_nonce"),
        Index("ix_check_ins_lead_at", "lead_id", "met_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="leads.id")
    user_id: str = Field(max_length=64)
    nonce: str = Field(max_length=64)
    lat: float
    lon: float
    accuracy_m: float
    met_at: datetime
    tz: str = Field(default="UTC", max_length=64)
    note: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)


class OutboxMessage(SQLModel, table=True):
    """A message the bot owes someone, written with the change that caused it (bot/outbox.py)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key", name="uq_outbox_key"),
        Index("ix_outbox_status_due", "status", "due_at"),
        Index("ix_outbox_batch_status", "batch", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    payload: str = Field(max_length=20_000)
    status: str = Field(default="pending", max_length=12)  # pending|sending|sent|failed
    attempts: int = 0
    due_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    last_error: str = Field(default="", max_length=200)
    batch: str | None = Field(default=None, max_length=64)  # e.g. a broadcast's id
    channel: str | None = Field(default=None, max_length=64)
    ts: str | None = Field(default=None, max_length=128)  # Slack ts, or WeCom msgid
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class SlackDelivery(SQLModel, table=True):
    """Slack requests already handled (event id or trigger id): retries are not redone."""

    __tablename__ = "slack_deliveries"

    key: str = Field(primary_key=True, max_length=200)
    at: datetime = Field(default_factory=utcnow, index=True)


class PlatformToken(SQLModel, table=True):
    """An access token a chat platform issued (WeCom's gettoken), shared by every replica."""

    __tablename__ = "platform_tokens"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_type=Text)
    expires_at: datetime


class Broadcast(SQLModel, table=True):
    """`publish ID --dm-all`: one DM per employee, with a progress message for the admin."""

    __tablename__ = "broadcasts"

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activities.id")
    requested_by: str = Field(max_length=64)
    total: int = 0
    progress_channel: str | None = Field(default=None, max_length=64)
    progress_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class JobLock(SQLModel, table=True):
    """A lease: only the holder runs scheduled jobs, so replicas never double-send."""

    __tablename__ = "job_locks"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=64)
    expires_at: datetime


class AuditEntry(SQLModel, table=True):
    """Who did what, when (bot/audit.py). Append-only: the product has no update or delete
    path, and a trigger refuses UPDATE and DELETE on both backends (migration a1d17c0ffee5).
    Never holds a customer's name or phone: erasures log counts and a keyed hash."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),
        Index("ix_audit_log_action_at", "action", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=64)  # a chat user id, or "cli" / "system"
    action: str = Field(max_length=64)  # e.g. "activity.create" (bot/audit.py ACTIONS)
    subject: str = Field(default="", max_length=200)  # e.g. "activity:12"
    details: str = Field(default="{}", sa_type=Text)  # JSON object


class Reward(SQLModel, table=True):
    """An item of the rewards catalogue (bot/rewards.py). `stock` only goes down by a
    conditional UPDATE (stock > 0), so two replicas cannot sell the last item twice."""

    __tablename__ = "rewards"
    __table_args__ = (CheckConstraint("stock >= 0", name="ck_rewards_stock"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    cost: int
    stock: int = 0
    active: bool = True  # retired rewards stay for the redemptions that name them
    picture_type: str | None = Field(default=None, max_length=32)  # image/png | image/jpeg
    picture_version: int = 0  # bumped on each new picture: part of its URL (caching)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RewardPicture(SQLModel, table=True):
    """A reward's picture as re-encoded by bot/rewards.py (never the uploaded bytes), kept in
    the database so every replica serves it."""

    __tablename__ = "reward_pictures"

    reward_id: int = Field(foreign_key="rewards.id", primary_key=True)
    data: bytes = Field(sa_type=LargeBinary)


class Redemption(SQLModel, table=True):
    """An employee's redemption: debited at once, then fulfilled or refused (refunded)."""

    __tablename__ = "redemptions"
    __table_args__ = (Index("ix_redemptions_status_at", "status", "requested_at"),)

    id: int | None = Field(default=None, primary_key=True)
    reward_id: int = Field(foreign_key="rewards.id")
    employee_id: int = Field(foreign_key="employees.id", index=True)
    reward_name: str = Field(max_length=120)  # as it was when redeemed
    cost: int
    status: str = Field(default="pending", max_length=12)  # pending | fulfilled | refused
    note: str = Field(default="", max_length=500)  # the admin's word to the employee
    decided_by: str = Field(default="", max_length=64)
    decided_at: datetime | None = None
    requested_at: datetime = Field(default_factory=utcnow)
