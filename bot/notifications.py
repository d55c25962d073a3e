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
class ActivityAnnounced:
    """An activity announced to one employee by DM (`publish ID --dm-all`)."""

    user_id: str
    activity_id: int
    activity_name: str
    when: str
    broadcast_id: int


Notification = (
    CardViewed
    | LeadCreated
    | OutcomeRecorded
    | NoRosterAlert
    | ContactLogged
    | CheckedIn
    | CustomerReturned
    | ActivityAnnounced
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
        self, event: Notification, *, key: str, careful_since: datetime | None = None
    ) -> MessageRef | None:
        """The outbox's way to send (bot/outbox.py Deliverer): raises DeliveryError."""
        ...


class NullNotifier:
    """Used where no chat platform is connected (CLI exports, benchmarks)."""

    async def notify(self, event: Notification) -> MessageRef | None:
        return None

    async def deliver(
        self, event: Notification, *, key: str, careful_since: datetime | None = None
    ) -> MessageRef | None:
        return None
