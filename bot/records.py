"""What happened with each customer after the share: contact records, field check-ins and
the lead's timeline; plus links of a share tagged for a push source.

Service functions take the session keyword-only; `LeadRecords` is the façade the handlers
call (attached to ShareTrail as `services.records`), one unit of work per method.
"""

from __future__ import annotations

import math
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.activities import get_activity
from bot.codes import PUSH_SOURCES, Signer
from bot.directory import employee_by_user
from bot.errors import Forbidden, Gone, InvalidInput, NotFound
from bot.i18n import _, format_moment, use_zone, viewer_zone
from bot.leads import get_lead
from bot.notifications import CheckedIn, ContactLogged, CustomerReturned, LeadThread
from bot.privacy import remember_sent
from bot.shares import get_or_create_share, share_url
from store.models import (
    Activity,
    CheckIn,
    ContactRecord,
    Lead,
    LeadNote,
    Outcome,
    Share,
    View,
    aware,
    utcnow,
)
from store.queries import StatRow, insert_if_absent, stats_by

if TYPE_CHECKING:
    from bot.service import ShareTrail
    from bot.tracking import ViewResult, Visit

CONTACT_KINDS: tuple[str, ...] = ("call", "email", "chat", "meeting")
FILE_KIND = "file"
SUMMARY_MAX = 3000
NOTE_MAX = 1000
MAX_FILE_BYTES = 20 * 1024 * 1024
CONTACT_FUTURE_SLACK = timedelta(minutes=10)  # clocks differ a little; the future does not
CHECK_IN_PURPOSE = "check-in"
CHECK_IN_TTL = timedelta(hours=2)
# A page opened before expiry may still be submitted this long after it, so a note typed
# at the end of a meeting is not thrown away.
CHECK_IN_SUBMIT_GRACE = timedelta(minutes=15)
CHECK_IN_MAX_AGE = timedelta(days=30)
CHECK_IN_MAX_FUTURE = timedelta(hours=1)
MAX_TIMELINE_VIEWS = 500
ZERO = timedelta(0)

Clock = Callable[[], datetime]


# --- small helpers ------------------------------------------------------------------------


def zone(name: str) -> tzinfo:
    """The named time zone, or UTC when the name is unknown (a stale or odd profile)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def mask_phone(phone: str) -> str:
    """Enough of the number to recognise it, not enough to call it."""
    return phone[:3] + "*" * max(len(phone) - 5, 0) + phone[-2:] if len(phone) > 5 else "***"


def osm_url(lat: float, lon: float) -> str:
    return (
        f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=17/{lat:.6f}/{lon:.6f}"
    )


def thread_of(lead: Lead) -> LeadThread:
    assert lead.salesperson_id is not None
    return LeadThread(lead.salesperson_id, lead.sales_channel, lead.sales_ts)


# --- communication records ----------------------------------------------------------------


@dataclass(frozen=True)
class FileMeta:
    """Our copy of a chat file's metadata; the bytes stay with the chat platform."""

    id: str
    name: str = ""
    mimetype: str = ""
    size: int | None = None
    url: str = ""


@dataclass(frozen=True)
class ContactDraft:
    kind: str
    at: datetime
    summary: str
    file: FileMeta | None = None


def size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def _signed_up_at(moment: datetime) -> str:
    """The sign-up as the person logging reads it: their zone, else UTC named as such."""
    if viewer_zone():
        return format_moment(moment)
    return f"{format_moment(moment, 'UTC')} UTC"


def validate_contact(
    *,
    kind: str | None,
    at: datetime | None,
    summary: str,
    file: FileMeta | None,
    now: datetime,
    max_file_bytes: int = MAX_FILE_BYTES,
    lead_since: datetime | None = None,
) -> ContactDraft:
    """A clean record, or InvalidInput naming each bad field (kind, at, summary, file).
    `lead_since`: when the lead signed up; nobody was contacted about it before that."""
    errors: dict[str, str] = {}
    if kind not in CONTACT_KINDS:
        errors["kind"] = _("Pick call, email, chat or meeting.")
    if at is None:
        errors["at"] = _("When did it happen?")
    elif at > now + CONTACT_FUTURE_SLACK:
        errors["at"] = _("That is in the future. Log a contact once it has happened.")
    elif lead_since is not None and at < aware(lead_since).replace(second=0, microsecond=0):
        # Slack's picker has whole minutes: the minute of the sign-up itself is allowed.
        errors["at"] = _(
            "That is before this customer signed up ({when}). Pick a later time."
        ).format(when=_signed_up_at(aware(lead_since)))
    text = summary.strip()
    if not text:
        errors["summary"] = _("Write a line or two about what was said.")
    elif len(text) > SUMMARY_MAX:
        errors["summary"] = _("Please keep the summary under {n} characters.").format(n=SUMMARY_MAX)
    if file is not None and file.size is not None and file.size > max_file_bytes:
        errors["file"] = _(
            "{file} is {size}; the limit is {limit}. Attach a smaller file or a link in the "
            "summary."
        ).format(
            file=file.name or _("That file"),
            size=size_label(file.size),
            limit=size_label(max_file_bytes),
        )
    if errors:
        raise InvalidInput(_("Please check the highlighted fields."), errors)
    assert kind is not None and at is not None
    return ContactDraft(kind, at, text, file)


def _file_columns(file: FileMeta | None) -> dict[str, object]:
    if file is None:
        return {}
    return {
        "file_id": file.id[:64],
        "file_name": file.name[:255],
        "file_mimetype": file.mimetype[:128],
        "file_size": file.size,
        "file_url": file.url[:1000],
    }


async def add_contact(
    *, session: AsyncSession, lead: Lead, by_user_id: str, draft: ContactDraft, now: datetime
) -> ContactRecord:
    assert lead.id is not None
    record = ContactRecord(
        lead_id=lead.id,
        by_user_id=by_user_id,
        kind=draft.kind,
        at=draft.at,
        summary=draft.summary,
        created_at=now,
        **_file_columns(draft.file),  # type: ignore[arg-type]
    )
    session.add(record)
    await session.flush()
    return record


async def add_thread_file(
    *,
    session: AsyncSession,
    lead: Lead,
    by_user_id: str,
    file: FileMeta,
    message_ts: str,
    text: str,
    now: datetime,
) -> bool:
    """A file dropped into the lead's thread becomes a record; False if it already is one."""
    assert lead.id is not None
    return await insert_if_absent(
        session,
        ContactRecord,
        {
            "lead_id": lead.id,
            "by_user_id": by_user_id,
            "kind": FILE_KIND,
            "at": now,
            "summary": text.strip()[:SUMMARY_MAX],
            "message_ts": message_ts[:32],
            "created_at": now,
            **_file_columns(file),
        },
        ["lead_id", "file_id"],
    )


# --- check-ins ----------------------------------------------------------------------------


class LinkUsed(Gone):
    """A single-use link that has done its job."""


@dataclass(frozen=True)
class CheckInTicket:
    lead_id: int
    user_id: str
    nonce: str


class CheckInTokens:
    """Signed, expiring check-in tokens bound to a lead, a salesperson and a one-off nonce."""

    def __init__(self, secret: str) -> None:
        self._signer = Signer(secret, CHECK_IN_PURPOSE)

    def issue(self, lead_id: int, user_id: str, *, now: datetime, ttl: timedelta) -> str:
        nonce = secrets.token_urlsafe(12)
        return self._signer.sign(
            f"{lead_id}:{user_id}:{nonce}",
            ttl_seconds=int(ttl.total_seconds()),
            now=now.timestamp(),
        )

    def read(self, token: str, *, now: datetime) -> CheckInTicket:
        """The ticket; NotFound if forged or malformed, Gone if expired."""
        try:
            value = self._signer.unsign(token, now=now.timestamp())
        except NotFound:
            raise NotFound(
                _(
                    "This check-in link is not valid. Open the link ShareTrail sent you, or tap "
                    "Check in on the lead again."
                )
            ) from None
        except Gone:
            raise Gone(
                _(
                    "This check-in link has expired. "
                    "Tap Check in on the lead in Slack for a new one."
                )
            ) from None
        except ValueError:  # a signed but unreadable expiry: not one of ours
            raise NotFound(_("This check-in link is not valid.")) from None
        parts = value.split(":")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1] or not parts[2]:
            raise NotFound(_("This check-in link is not valid."))
        return CheckInTicket(int(parts[0]), parts[1], parts[2])

    @staticmethod
    def expiry(token: str) -> datetime | None:
        """When a token `read` accepted stops working (its signed expiry)."""
        try:
            return datetime.fromtimestamp(int(token.rsplit(".", 2)[1]), UTC)
        except (IndexError, ValueError, OverflowError, OSError):
            return None


FORM_FIELDS = ("lat", "lon", "accuracy", "met_at", "note")


@dataclass(frozen=True)
class CheckInForm:
    lat: float
    lon: float
    accuracy_m: float
    met_at: datetime
    note: str


def _number(raw: str, low: float | None, high: float | None) -> float | None:
    try:
        value = float(raw.strip().replace(",", "."))
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        return None
    return value


def parse_local_time(raw: str, tz: tzinfo) -> datetime | None:
    """An HTML datetime-local value (2026-11-25T14:30) in `tz`; None if it is not one."""
    text = raw.strip()
    if not text or len(text) > 32:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def local_input_value(moment: datetime, tz: tzinfo) -> str:
    """What a datetime-local input shows for `moment` in `tz`."""
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def validate_check_in(fields: dict[str, str], *, tz: tzinfo, now: datetime) -> CheckInForm:
    """A clean check-in, or InvalidInput naming each bad field (lat, lon, accuracy, met_at…)."""
    errors: dict[str, str] = {}
    values = {name: (fields.get(name) or "").strip() for name in FORM_FIELDS}
    if not values["lat"] and not values["lon"]:
        errors["location"] = _(
            "We need your location. Allow location access in your browser, or type the "
            "latitude and longitude."
        )
    lat = _number(values["lat"], -90, 90)
    lon = _number(values["lon"], -180, 180)
    if lat is None and "location" not in errors:
        errors["lat"] = _("Latitude must be a number from -90 to 90.")
    if lon is None and "location" not in errors:
        errors["lon"] = _("Longitude must be a number from -180 to 180.")
    accuracy = _number(values["accuracy"], 0, None) if values["accuracy"] else None
    if values["accuracy"] and accuracy is None:
        errors["accuracy"] = _("Accuracy must be a number of metres, 0 or more.")
    met_at = parse_local_time(values["met_at"], tz)
    if met_at is None:
        errors["met_at"] = _("When did you meet? Use the date and time picker.")
    elif met_at > now + CHECK_IN_MAX_FUTURE:
        errors["met_at"] = _("That is in the future. Check in once you have met.")
    elif met_at < now - CHECK_IN_MAX_AGE:
        errors["met_at"] = _("That is more than 30 days ago.")
    if len(values["note"]) > NOTE_MAX:
        errors["note"] = _("Please keep the note under {n} characters.").format(n=NOTE_MAX)
    if errors:
        raise InvalidInput(_("Please check the highlighted fields."), errors)
    assert lat is not None and lon is not None and met_at is not None
    return CheckInForm(lat, lon, accuracy or 0.0, met_at, values["note"])


async def check_in_used(*, session: AsyncSession, nonce: str) -> bool:
    found = (await session.exec(select(CheckIn.id).where(CheckIn.nonce == nonce))).first()
    return found is not None


async def record_check_in(
    *,
    session: AsyncSession,
    ticket: CheckInTicket,
    form: CheckInForm,
    tz: str,
    now: datetime,
) -> CheckIn:
    """Store the check-in; the unique nonce makes a second use fail, even when racing."""
    check_in = CheckIn(
        lead_id=ticket.lead_id,
        user_id=ticket.user_id,
        nonce=ticket.nonce,
        lat=form.lat,
        lon=form.lon,
        accuracy_m=form.accuracy_m,
        met_at=form.met_at,
        tz=tz,
        note=form.note,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(check_in)
    except IntegrityError:
        raise LinkUsed(
            _("This check-in link was already used. Tap Check in on the lead for a new one.")
        ) from None
    return check_in


# --- timeline -----------------------------------------------------------------------------

KIND_ORDER = {"view": 0, "signup": 1, "outcome": 2, "contact": 3, "check_in": 4, "note": 5}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # view | signup | outcome | contact | check_in | note
    by_user_id: str | None = None
    label: str = ""  # the outcome, or the contact's kind
    text: str = ""
    source: str | None = None
    counted: bool = True
    device: str = ""
    dwell_ms: int | None = None
    scroll_pct: int | None = None
    file_name: str = ""
    file_url: str = ""
    file_size: int | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    tz: str = ""


@dataclass(frozen=True)
class Timeline:
    lead: Lead
    phone: str
    activity_name: str
    employee_user_id: str
    viewer_role: str  # admin | salesperson | employee
    entries: list[TimelineEntry] = field(default_factory=list)

    @property
    def views_by_source(self) -> dict[str, int]:
        """Counted views per push source: the numbers the stats and the export add up."""
        return dict(Counter(e.source or "" for e in self.entries if e.kind == "view" and e.counted))

    @property
    def signups_by_source(self) -> dict[str, int]:
        return dict(Counter(e.source or "" for e in self.entries if e.kind == "signup"))

    @property
    def read_ms(self) -> int:
        return sum(e.dwell_ms or 0 for e in self.entries if e.kind == "view")


def _lead_views(lead: Lead) -> ColumnElement[bool]:
    """The customer's views: attributed to the lead, or from the same visitor before sign-up."""
    return and_(
        col(View.is_bot).is_(False),
        col(View.is_own).is_(False),
        or_(
            col(View.lead_id) == lead.id,
            and_(
                col(View.activity_id) == lead.activity_id, col(View.visitor_key) == lead.visitor_key
            ),
        ),
    )


async def lead_views(*, session: AsyncSession, lead: Lead) -> list[View]:
    """Oldest first; at most the latest MAX_TIMELINE_VIEWS (a bound for pathological cases)."""
    statement = (
        select(View)
        .where(_lead_views(lead))
        .order_by(col(View.at).desc(), col(View.id).desc())
        .limit(MAX_TIMELINE_VIEWS)
    )
    return list(reversed((await session.exec(statement)).all()))


async def customer_entries(*, session: AsyncSession, lead: Lead) -> list[TimelineEntry]:
    """What the customer did and how it ended: views, the sign-up, outcomes."""
    assert lead.id is not None
    entries = [
        TimelineEntry(
            at=view.at,
            kind="view",
            source=view.source,
            counted=view.counted,
            device=view.ua_class,
            dwell_ms=view.dwell_ms,
            scroll_pct=view.scroll_pct,
        )
        for view in await lead_views(session=session, lead=lead)
    ]
    entries.append(
        TimelineEntry(at=lead.created_at, kind="signup", source=lead.source, text=lead.note)
    )
    outcomes = await session.exec(select(Outcome).where(Outcome.lead_id == lead.id))
    entries += [
        TimelineEntry(at=o.at, kind="outcome", by_user_id=o.by_user_id, label=o.status)
        for o in outcomes.all()
    ]
    return entries


async def sales_entries(*, session: AsyncSession, lead: Lead) -> list[TimelineEntry]:
    """The salesperson's own records: contacts, check-ins and thread notes."""
    assert lead.id is not None
    contacts = await session.exec(select(ContactRecord).where(ContactRecord.lead_id == lead.id))
    entries = [
        TimelineEntry(
            at=c.at,
            kind="contact",
            by_user_id=c.by_user_id,
            label=c.kind,
            text=c.summary,
            file_name=c.file_name,
            file_url=c.file_url,
            file_size=c.file_size,
        )
        for c in contacts.all()
    ]
    check_ins = await session.exec(select(CheckIn).where(CheckIn.lead_id == lead.id))
    entries += [
        TimelineEntry(
            at=c.met_at,
            kind="check_in",
            by_user_id=c.user_id,
            text=c.note,
            lat=c.lat,
            lon=c.lon,
            accuracy_m=c.accuracy_m,
            tz=c.tz,
        )
        for c in check_ins.all()
    ]
    notes = await session.exec(select(LeadNote).where(LeadNote.lead_id == lead.id))
    entries += [
        TimelineEntry(at=n.at, kind="note", by_user_id=n.author_id, text=n.text)
        for n in notes.all()
        if n.text.strip()
    ]
    return entries


async def timeline_entries(
    *, session: AsyncSession, lead: Lead, viewer_role: str
) -> list[TimelineEntry]:
    """The lead's history as `viewer_role` may read it, oldest first. The sharing employee
    gets their customer's views, sign-up and outcomes; the salesperson's contacts, check-ins
    (a place) and thread notes are for the salesperson and admins, so not even read here."""
    entries = await customer_entries(session=session, lead=lead)
    if viewer_role != "employee":
        entries += await sales_entries(session=session, lead=lead)
    entries.sort(key=lambda e: (e.at, KIND_ORDER[e.kind]))
    return entries


# --- tagged share links -------------------------------------------------------------------


@dataclass(frozen=True)
class TaggedLink:
    activity: Activity
    share_id: int
    source: str
    url: str


async def source_breakdown(
    *, session: AsyncSession, activity_id: int | None
) -> dict[int, dict[str, StatRow]]:
    """Per employee, their numbers per push source (the same roll-up the stats read)."""
    where: dict[str, object] = {} if activity_id is None else {"activity_id": activity_id}
    rows = await stats_by(session, group=["employee_id", "source"], where=where)
    breakdown: dict[int, dict[str, StatRow]] = {}
    for row in rows:
        employee_id, source = row.key
        breakdown.setdefault(int(employee_id), {})[str(source)] = row
    return breakdown


async def find_share(*, session: AsyncSession, activity_id: int, employee_id: int) -> Share | None:
    query = select(Share).where(Share.activity_id == activity_id, Share.employee_id == employee_id)
    return (await session.exec(query)).first()


# --- the façade -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInLink:
    lead: Lead
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class CheckInPage:
    ticket: CheckInTicket
    lead: Lead
    activity: Activity
    tz: str
    now_value: str  # datetime-local value for "now" in the salesperson's zone
    expires_at: datetime | None = None


@dataclass(frozen=True)
class ThreadFiles:
    lead: Lead
    added: list[FileMeta]
    too_big: list[FileMeta]


class LeadRecords:
    """Contacts, check-ins, timelines and tagged links, one unit of work per method."""

    def __init__(
        self,
        trail: ShareTrail,
        *,
        clock: Clock = utcnow,
        check_in_ttl: timedelta = CHECK_IN_TTL,
        max_file_bytes: int = MAX_FILE_BYTES,
    ) -> None:
        self.trail = trail
        self.clock = clock
        self.check_in_ttl = check_in_ttl
        self.max_file_bytes = max_file_bytes
        self.tokens = CheckInTokens(trail.secret)

    # permissions ----------------------------------------------------------------------

    async def _own_lead(self, lead_id: int, *, user_id: str, refusal: str) -> Lead:
        """The lead if `user_id` is its salesperson or an admin; Forbidden(refusal) otherwise
        (`refusal` is translated, with `{id}` for the lead's number)."""
        async with self.trail.db.session() as session:
            lead = await get_lead(session=session, lead_id=lead_id)
        if lead.salesperson_id == user_id or await self.trail.is_admin(user_id):
            return lead
        raise Forbidden(refusal.format(id=lead_id))

    async def contact_target(self, lead_id: int, *, user_id: str) -> Lead:
        """Checked before the modal opens, so nobody fills in a form they cannot submit."""
        return await self._own_lead(
            lead_id,
            user_id=user_id,
            refusal=_("Only the salesperson assigned to lead #{id} can log contacts for it."),
        )

    # tagged links ---------------------------------------------------------------------

    async def tagged_link(self, user_id: str, activity_id: int, source: str) -> TaggedLink:
        """The employee's one share for the activity, tagged for where they will post it."""
        if source not in PUSH_SOURCES:
            raise InvalidInput(_("Unknown push source {source}.").format(source=repr(source)))
        async with self.trail.db.session() as session:
            employee = await employee_by_user(session=session, user_id=user_id)
        if employee is None:
            employee = await self.trail.sync_employee(user_id)
        assert employee.id is not None
        async with self.trail.db.session() as session:
            activity = await get_activity(session=session, activity_id=activity_id)
            assert activity.id is not None
            share = await find_share(
                session=session, activity_id=activity.id, employee_id=employee.id
            )
            if share is None:  # a closed activity refuses here, with its own message
                share = await get_or_create_share(
                    session=session, activity=activity, employee=employee
                )
        assert share.id is not None
        url = share_url(self.trail.codec, self.trail.public_base_url, share.id, source)
        return TaggedLink(activity, share.id, source, url)

    async def source_breakdown(self, activity_id: int | None) -> dict[int, dict[str, StatRow]]:
        async with self.trail.db.session() as session:
            return await source_breakdown(session=session, activity_id=activity_id)

    # communication records ------------------------------------------------------------

    async def log_contact(
        self,
        lead_id: int,
        *,
        user_id: str,
        kind: str | None,
        at: datetime | None,
        summary: str,
        file: FileMeta | None = None,
    ) -> ContactRecord:
        now = self.clock()
        lead = await self.contact_target(lead_id, user_id=user_id)
        draft = validate_contact(
            kind=kind,
            at=at,
            summary=summary,
            file=file,
            now=now,
            max_file_bytes=self.max_file_bytes,
            lead_since=lead.created_at,
        )
        async with self.trail.db.session() as session:
            record = await add_contact(
                session=session, lead=lead, by_user_id=user_id, draft=draft, now=now
            )
        self._tell(
            ContactLogged(
                lead_id=lead_id,
                customer_name=lead.name,
                thread=self._thread(lead, user_id),
                by_user_id=user_id,
                kind=draft.kind,
                at=draft.at,
                summary=draft.summary,
                file_name=draft.file.name if draft.file else "",
                file_url=draft.file.url if draft.file else "",
            ),
            name=f"contact:{record.id}",
        )
        return record

    async def attach_thread_files(
        self,
        *,
        channel: str,
        thread_ts: str,
        author_id: str,
        files: list[FileMeta],
        message_ts: str,
        text: str = "",
    ) -> ThreadFiles | None:
        """Files the salesperson drops into a lead's thread; None if it is not a lead thread."""
        now = self.clock()
        async with self.trail.db.session() as session:
            lead = (
                await session.exec(
                    select(Lead).where(Lead.sales_channel == channel, Lead.sales_ts == thread_ts)
                )
            ).first()
            if lead is None or lead.salesperson_id != author_id:
                return None
            added: list[FileMeta] = []
            too_big: list[FileMeta] = []
            for file in files:
                if file.size is not None and file.size > self.max_file_bytes:
                    too_big.append(file)
                elif await add_thread_file(
                    session=session,
                    lead=lead,
                    by_user_id=author_id,
                    file=file,
                    message_ts=message_ts,
                    text=text,
                    now=now,
                ):
                    added.append(file)
        return ThreadFiles(lead, added, too_big)

    # check-ins ------------------------------------------------------------------------

    async def check_in_link(self, lead_id: int, *, user_id: str) -> CheckInLink:
        lead = await self._own_lead(
            lead_id,
            user_id=user_id,
            refusal=_(
                "Only the salesperson assigned to lead #{id} can check in with this customer."
            ),
        )
        now = self.clock()
        token = self.tokens.issue(lead_id, user_id, now=now, ttl=self.check_in_ttl)
        url = f"{self.trail.public_base_url}/checkin/{token}"
        return CheckInLink(lead, url, now + self.check_in_ttl)

    async def _ticket(self, token: str, *, grace: timedelta = ZERO) -> CheckInPage:
        """Refuse expired (Gone), used (LinkUsed), foreign (Forbidden) or forged (NotFound)."""
        now = self.clock()
        ticket = self.tokens.read(token, now=now - grace)
        async with self.trail.db.session() as session:
            lead = await session.get(Lead, ticket.lead_id)
            if lead is None:
                raise NotFound(_("This check-in link is not valid."))
            if await check_in_used(session=session, nonce=ticket.nonce):
                raise LinkUsed(
                    _(
                        "This check-in link was already used. Tap Check in on the lead for a new "
                        "one."
                    )
                )
            activity = await get_activity(session=session, activity_id=lead.activity_id)
            person = await employee_by_user(session=session, user_id=ticket.user_id)
        if lead.salesperson_id != ticket.user_id and not await self.trail.is_admin(ticket.user_id):
            raise Forbidden(
                _(
                    "This check-in link belongs to someone else: the customer is now assigned "
                    "to another salesperson."
                )
            )
        # The salesperson's zone as stored with them, else the activity's (never plain UTC).
        tz = person.tz if person and person.tz else activity.tz
        return CheckInPage(
            ticket, lead, activity, tz, local_input_value(now, zone(tz)), self.tokens.expiry(token)
        )

    async def check_in_page(self, token: str, *, submitting: bool = False) -> CheckInPage:
        """The page's data, or why the link is refused (a submission gets a short grace)."""
        return await self._ticket(token, grace=CHECK_IN_SUBMIT_GRACE if submitting else ZERO)

    async def check_in(self, token: str, fields: dict[str, str]) -> tuple[CheckInPage, CheckIn]:
        """Validate and store a check-in, then post it in the lead's thread."""
        page = await self._ticket(token, grace=CHECK_IN_SUBMIT_GRACE)
        now = self.clock()
        form = validate_check_in(fields, tz=zone(page.tz), now=now)
        async with self.trail.db.session() as session:
            check_in = await record_check_in(
                session=session, ticket=page.ticket, form=form, tz=page.tz, now=now
            )
        self._tell(
            CheckedIn(
                lead_id=page.ticket.lead_id,
                customer_name=page.lead.name,
                thread=self._thread(page.lead, page.ticket.user_id),
                by_user_id=page.ticket.user_id,
                lat=form.lat,
                lon=form.lon,
                accuracy_m=form.accuracy_m,
                met_at=form.met_at,
                tz=page.tz,
                note=form.note,
            ),
            name=f"check-in:{check_in.id}",
        )
        return page, check_in

    # timeline -------------------------------------------------------------------------

    async def timeline(self, lead_id: int, *, user_id: str) -> Timeline:
        """Admins see any lead, the salesperson theirs, the sharing employee theirs (phone
        masked; their customer's views, sign-up and outcomes only); anyone else is told
        there is no such lead."""
        lead, activity, employee = await self.trail.lead_context(lead_id)
        if lead.salesperson_id == user_id:
            role = "salesperson"
        elif await self.trail.is_admin(user_id):
            role = "admin"
        elif employee.user_id == user_id:
            role = "employee"
        else:
            raise NotFound(_("There is no lead {id} you can see.").format(id=lead_id))
        async with self.trail.db.session() as session:
            entries = await timeline_entries(session=session, lead=lead, viewer_role=role)
        phone = mask_phone(lead.phone) if role == "employee" else lead.phone
        return Timeline(lead, phone, activity.name, employee.user_id, role, entries)

    # known customers ------------------------------------------------------------------

    async def customer_returned(self, visit: Visit, result: ViewResult) -> None:
        """Tell the salesperson that a customer they own is reading the page again."""
        if result.lead_id is None:
            return
        async with self.trail.db.session() as session:
            lead = await session.get(Lead, result.lead_id)
            # Views are committed in batches: one made just before the sign-up can land after
            # it and carry the lead's id. Only a visit after the sign-up is a return.
            if lead is None or lead.salesperson_id is None or visit.at <= lead.created_at:
                return
            activity = await session.get(Activity, lead.activity_id)
            read_ms = sum(v.dwell_ms or 0 for v in await lead_views(session=session, lead=lead))
        assert lead.id is not None
        await self._notify_and_remember(
            CustomerReturned(
                lead_id=lead.id,
                customer_name=lead.name,
                activity_name=activity.name if activity else "",
                thread=thread_of(lead),
                visits=result.visits,
                source=visit.source,
                device=visit.classification.ua_class,
                read_ms=read_ms,
            )
        )

    # plumbing -------------------------------------------------------------------------

    def _thread(self, lead: Lead, user_id: str) -> LeadThread:
        if lead.salesperson_id is None:  # an admin acting on an unassigned lead
            return LeadThread(user_id)
        return thread_of(lead)

    def _tell(self, event: ContactLogged | CheckedIn, *, name: str) -> None:
        """Post after the record is committed; the notifier retries, the record is safe.
        Times in it are in the actor's zone only when the actor is the thread's reader."""
        reader = event.thread.salesperson_user_id == event.by_user_id
        with use_zone(viewer_zone() if reader else None):  # the task copies it when made
            self.trail.tasks.spawn(self._notify_and_remember(event), name=name)

    async def _notify_and_remember(
        self, event: ContactLogged | CheckedIn | CustomerReturned
    ) -> None:
        """Send now; remember where it landed, so erasing the customer can rewrite it."""
        ref = await self.trail.notifier.notify(event)
        if ref is not None:
            async with self.trail.db.session() as session:
                await remember_sent(session, event, ref)
