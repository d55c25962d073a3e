"""What the bot tells people, as platform-neutral events; a platform notifier renders them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class CardViewed:
    """Someone (a person, not a preview bot) is looking at an employee's page."""

    employee_user_id: str
    activity_id: int
    activity_name: str
    share_id: int
    view_id: int
    visits: int
    source: str
    device: str
    lead_name: str | None = None
    at: datetime | None = None  # when the view happened: it opens a coalescing window


def view_window(share_id: int) -> str:
    """The outbox batch holding a share's "viewing" DMs and their counts."""
    return f"views:{share_id}"


@dataclass(frozen=True)
class ViewsTallied:
    """More people viewed one share within the coalescing window (bot/view_alerts.py).

    Instead of a DM per view, the window's first "viewing" DM (the outbox row `rewrites`)
    is rewritten with the count. `target` is filled in by the outbox at send time, once
    that first DM has gone out; without one the tally is posted as a message of its own."""

    employee_user_id: str
    activity_name: str
    share_id: int
    count: int
    since: datetime
    latest_at: datetime
    source: str
    device: str
    rewrites: str
    target: MessageRef | None = None


@dataclass(frozen=True)
class LeadCreated:
    lead_id: int
    activity_id: int
    activity_name: str
    employee_user_id: str
    employee_name: str
    salesperson_user_id: str | None
    salesperson_name: str
    customer_name: str
    customer_phone: str
    company: str
    note: str
    source: str
    sticky: bool
    # Who this message is for: the employee's "signed up" DM and the salesperson's lead DM
    # are separate outbox rows, so a busy salesperson never delays the employee's news.
    audience: str = "all"  # employee | salesperson | all


@dataclass(frozen=True)
class OutcomeRecorded:
    lead_id: int
    activity_name: str
    employee_user_id: str
    customer_name: str
    outcome: str
    previous: str | None
    by_user_id: str


@dataclass(frozen=True)
class NoRosterAlert:
    """A lead arrived but nobody is on the roster to take it; sent once per activity."""

    admin_user_ids: tuple[str, ...]
    activity_id: int
    activity_name: str
    lead_id: int


@dataclass(frozen=True)
class LeadThread:
    """Where a lead's conversation lives: the salesperson's lead DM, or their DM if it failed."""

    salesperson_user_id: str
    channel: str | None = None
    ts: str | None = None


@dataclass(frozen=True)
class ContactLogged:
    """A communication record was added to a lead (from the modal or a file in the thread)."""

    lead_id: int
    customer_name: str
    thread: LeadThread
    by_user_id: str
    kind: str
    at: datetime
    summary: str
    file_name: str = ""
    file_url: str = ""


@dataclass(frozen=True)
class CheckedIn:
    """A salesperson checked in with a lead in the field."""

    lead_id: int
    customer_name: str
    thread: LeadThread
    by_user_id: str
    lat: float
    lon: float
    accuracy_m: float
    met_at: datetime
    tz: str
    note: str


@dataclass(frozen=True)
class CustomerReturned:
    """A known customer (signed up before) is looking at the page again."""

    lead_id: int
    customer_name: str
    activity_name: str
    thread: LeadThread
    visits: int
    source: str
    device: str
    read_ms: int = 0


@dataclass(frozen=True)
class ViewEngaged:
    """What a visitor did on the page (the page's beacon), told under the "viewing" DM."""

    employee_user_id: str
    view_id: int
    dwell_ms: int
    scroll_pct: int
    clicks: tuple[str, ...]
    thread_channel: str | None = None
    thread_ts: str | None = None


@dataclass(frozen=True)
class ActivityAnnounced:
    """An activity announced to one employee by DM (`publish ID --dm-all`)."""

    user_id: str
    activity_id: int
    activity_name: str
    when: str
    broadcast_id: int
    locale: str | None = None  # the recipient's (users.list), else the activity's language


@dataclass(frozen=True)
class AnnouncementClosed:
    """An announcement DM of a closed activity, redrawn without its live button."""

    user_id: str
    channel: str
    ts: str
    activity_id: int
    activity_name: str
    when: str
    locale: str | None = None  # the announcement DM's own language


@dataclass(frozen=True)
class ShareReminder:
    """The activity starts within a day and this employee has not shared it yet."""

    user_id: str
    activity_id: int
    activity_name: str
    when: str


@dataclass(frozen=True)
class OutcomeReminder:
    """A lead still has no outcome a day (then two, then three) after its activity."""

    salesperson_user_id: str
    lead_id: int
    activity_name: str
    customer_name: str
    customer_phone: str
    company: str
    employee_user_id: str
    number: int  # 1, 2 or 3
    of: int


@dataclass(frozen=True)
class ActivityWeek:
    """One activity's line in the weekly report: totals so far, and what the week added."""

    activity_id: int
    name: str
    status: str
    when: str
    views: int
    signups: int
    attended: int
    converted: int
    week_views: int
    week_signups: int
    sharers: int
    kpi_views: int
    kpi_signups: int
    kpi_attendance: int
    top: tuple[tuple[str, int], ...]  # (user id, points), best first


@dataclass(frozen=True)
class ReportChart:
    """A chart image of the weekly report: a signed link per locale (bot/reports/links.py),
    so the notifier shows the one in its reader's language."""

    activity_id: int
    activity_name: str
    kind: str  # bot.reports.links.KINDS
    urls: tuple[tuple[str, str], ...]  # (locale, image URL)

    def url(self, locale: str) -> str:
        """The link drawn in `locale`, else the first one."""
        return next((url for code, url in self.urls if code == locale), self.urls[0][1])


@dataclass(frozen=True)
class WeeklyReport:
    """Monday's summary for one admin of the activities that were open during the week."""

    admin_user_id: str
    week: str  # ISO week of the report, e.g. "2026-W49"
    since: datetime
    until: datetime
    activities: tuple[ActivityWeek, ...]
    more: int = 0  # activities of the week beyond the report's limit
    charts: tuple[ReportChart, ...] = ()  # images; none when no public URL serves them


@dataclass(frozen=True)
class DigestLine:
    activity_name: str
    views: int
    visitors: int
    signups: int


@dataclass(frozen=True)
class DailyDigest:
    """The opt-in morning summary (`me notify digest on`) of one employee's previous day."""

    user_id: str
    day: str  # the local date it covers, e.g. "2026-11-27"
    lines: tuple[DigestLine, ...]


@dataclass(frozen=True)
class ReviewWaiting:
    """The daily DM to an admin while flagged points wait in the review queue."""

    admin_user_id: str
    day: str  # the UTC date it is sent for, e.g. "2026-12-04"
    flags: int
    points: int


@dataclass(frozen=True)
class RedemptionDecided:
    """An admin fulfilled or refused an employee's redemption (refused: points refunded)."""

    user_id: str
    redemption_id: int
    reward_name: str
    cost: int
    fulfilled: bool
    note: str = ""


@dataclass(frozen=True)
class MessageErased:
    """A message that showed an erased customer, to be rewritten as "customer data erased"
    (bot/privacy.py): `channel`/`ts` as the platform gave them when it was sent, `sent_at`
    when that was (WeCom can only take a message back for a while)."""

    user_id: str  # whom the message was for: their platform rewrites it
    channel: str
    ts: str
    lead_id: int
    sent_at: datetime | None = None


@dataclass(frozen=True)
class FileErased:
    """A file a salesperson kept as an erased customer's contact record, to be deleted."""

    user_id: str  # who kept it: their platform deletes it
    file_id: str
    lead_id: int


@dataclass(frozen=True)
class RedemptionRequested:
    """An employee redeemed a reward: each admin is told, with a link to the fulfilment
    queue; `stock_left` 0 means that was the last item."""

    admin_user_id: str
    redemption_id: int
    reward_name: str
    cost: int
    employee_user_id: str
    employee_name: str
    stock_left: int
    queue_url: str


Notification = (
    CardViewed
    | ViewsTallied
    | DailyDigest
    | LeadCreated
    | OutcomeRecorded
    | NoRosterAlert
    | ContactLogged
    | CheckedIn
    | CustomerReturned
    | ActivityAnnounced
    | AnnouncementClosed
    | ViewEngaged
    | ShareReminder
    | OutcomeReminder
    | WeeklyReport
    | ReviewWaiting
    | RedemptionDecided
    | MessageErased
    | FileErased
    | RedemptionRequested
)

# (conversation id, message id) of a message the platform posted.
MessageRef = tuple[str, str]


class Notifier(Protocol):
    async def notify(self, event: Notification) -> MessageRef | None:
        """Send now, outside the outbox (answers to someone's own action); never raises.

        Returns where the main message landed (the salesperson's lead DM for LeadCreated).
        """
        ...

    async def deliver(
        self,
        event: Notification,
        *,
        key: str,
        careful_since: datetime | None = None,
        prepaid: bool = False,
    ) -> MessageRef | None:
        """The outbox's way to send (bot/outbox.py Deliverer): raises DeliveryError."""
        ...


class NullNotifier:
    """Used where no chat platform is connected (CLI exports, benchmarks)."""

    async def notify(self, event: Notification) -> MessageRef | None:
        return None

    async def deliver(
        self,
        event: Notification,
        *,
        key: str,
        careful_since: datetime | None = None,
        prepaid: bool = False,
    ) -> MessageRef | None:
        return None
