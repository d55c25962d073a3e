"""ShareTrail's use cases: one method each, one unit of work each, no platform code.

Handlers (Slack, web, CLI) call these; the store and the rules live below.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import activities as activities_mod
from bot import audit as audit_mod
from bot import broadcasts as broadcasts_mod
from bot import leads as leads_mod
from bot import outbox as outbox_mod
from bot import privacy as privacy_mod
from bot import roster as roster_mod
from bot import stats as stats_mod
from bot import view_alerts
from bot.activities import ActivityDraft, format_when
from bot.background import BackgroundTasks
from bot.cache import MISSING, TTLCache
from bot.cards import CAPTION as CARD_CAPTION
from bot.cards import CardContent, CardRenderer
from bot.codes import ShareCodec, ShareRef, Signer
from bot.directory import (
    Directory,
    NotifySettings,
    Profile,
    employee_by_user,
    upsert_employee,
)
from bot.errors import Closed, Forbidden, Gone, NotFound
from bot.i18n import N_, current_locale, gettext, use_locale
from bot.notifications import (
    LeadCreated,
    MessageRef,
    NoRosterAlert,
    Notification,
    Notifier,
    OutcomeRecorded,
    ViewEngaged,
)
from bot.points_desk import PointsDesk
from bot.previews import PREVIEW_VISITOR, LinkPreview, preview_visit, share_code_in
from bot.recorder import BeaconItem, Followups, ViewItem, ViewRecorder
from bot.records import LeadRecords
from bot.reports.links import ChartLinks
from bot.reports.pool import ChartPool
from bot.reports.service import Reports
from bot.shares import get_or_create_share, share_url, short_url
from bot.spending import Spending
from bot.tracking import ViewResult, Visit
from store.db import Database
from store.models import Activity, Employee, Lead, Share, SlackDelivery, View
from store.queries import StatRow, insert_if_absent

log = logging.getLogger(__name__)

# Changed from "visitor-cookie" when the cookie stopped holding the IP+UA hash: those old
# cookies, shared by strangers on one address, are not accepted as anyone's id.
VISITOR_COOKIE_PURPOSE = "visitor-id"
OFFER_PURPOSE = "salesperson-offer"
OWN_LINK_PURPOSE = "own-preview-link"
OWN_COOKIE_PURPOSE = "own-cookie"
OWN_LINK_TTL = 90 * 24 * 3600
SIGNUP_FORM_PURPOSE = "signup-form"
# Long enough for someone who opens the page in the evening and signs up in the morning.
SIGNUP_FORM_TTL = 2 * 24 * 3600
SIGNED_UP_PURPOSE = "signed-up"
# The activity fields an edit's audit entry names when they change.
AUDITED_FIELDS = (
    "name",
    "starts_at",
    "ends_at",
    "material_type",
    "headline",
    "intro",
    "kpi_views",
    "kpi_signups",
    "kpi_attendance",
)
# Closed is not "ended": an activity may be closed to sign-ups weeks before it starts.
CLOSED_MESSAGE = N_("This activity takes no more sign-ups. Nothing was sent.")


@dataclass(frozen=True)
class ShareCard:
    activity: Activity
    employee: Employee
    share: Share
    url: str
    png: bytes
    preview_url: str  # the employee's own link: opens the page as them, never counted


@dataclass(frozen=True)
class LandingPage:
    code: str
    ref: ShareRef
    activity: Activity
    employee: Employee
    salesperson: Employee | None
    offer_token: str

    @property
    def when(self) -> str:
        return format_when(self.activity)

    @property
    def cache_key(self) -> tuple[str, str, str]:
        """The rendered page is the same for every visitor offered the same salesperson and
        reading the same language."""
        return (self.code, self.offer_token, current_locale())


@dataclass(frozen=True)
class SignupOutcome:
    lead: Lead
    salesperson: Employee | None
    employee: Employee
    duplicate: bool


class ShareTrail:
    def __init__(
        self,
        *,
        db: Database,
        secret: str,
        public_base_url: str,
        admin_ids: frozenset[str],
        directory: Directory,
        notifier: Notifier,
        cards: CardRenderer,
        tasks: BackgroundTasks | None = None,
        rng: random.Random | None = None,
        tracking_flush_ms: int = 0,
        charts: ChartPool | None = None,
    ) -> None:
        self.db = db
        self.secret = secret
        self.public_base_url = public_base_url
        self.admin_ids = admin_ids
        self.directory = directory
        self.notifier = notifier
        self.cards = cards
        self.tasks = tasks or BackgroundTasks()
        self.rng = rng or random.SystemRandom()
        self.codec = ShareCodec(secret)
        self.visitor_cookies = Signer(secret, VISITOR_COOKIE_PURPOSE)
        self.offers = Signer(secret, OFFER_PURPOSE)
        self._offer_tokens: dict[str, str] = {}
        self.own_links = Signer(secret, OWN_LINK_PURPOSE)
        self.own_cookies = Signer(secret, OWN_COOKIE_PURPOSE)
        self.signup_forms = Signer(secret, SIGNUP_FORM_PURPOSE)
        self.signed_up_cookies = Signer(secret, SIGNED_UP_PURPOSE)  # "you signed up" pages
        self.hash_key = secret.encode()
        self.landing_cache = TTLCache(ttl=30.0)
        # The landing page as rendered, per (code, salesperson offered): a few KB each.
        self.page_cache = TTLCache(ttl=30.0, max_entries=2_000)
        self.recorder = ViewRecorder(
            db,
            flush_ms=tracking_flush_ms,
            on_viewed=self._viewed,
            on_beacon=self._engaged,
            after_commit=self._woken,
        )
        self.outbox = outbox_mod.Outbox(db, notifier, on_sent=self._delivered)
        self._deliveries_seen = 0
        self.records = LeadRecords(self)  # contacts, check-ins, timelines (bot/records.py)
        self.points = PointsDesk(self)  # rules, balances, clawback, review (bot/points_desk.py)
        self.reports = Reports(db, charts)  # charts, drawn in worker processes (bot/reports/)
        self.spending = Spending(self)  # rewards, redemptions, leaderboards (bot/spending.py)
        self.chart_links = ChartLinks(secret, public_base_url)  # charts as signed image URLs
        # Called when an activity is created, published or closed (the scheduler listens).
        self.activity_listeners: list[Callable[[], None]] = []

    async def settle(self) -> None:
        """Wait until queued views are committed and the follow-up work is done."""
        while True:
            await self.recorder.flush()
            await self.tasks.drain()
            await self.outbox.drain()
            if self.recorder.idle and not len(self.tasks):
                return

    # --- broadcasts ---------------------------------------------------------------------

    async def start_broadcast(
        self,
        activity_id: int,
        *,
        by_user_id: str,
        user_ids: list[str],
        locales: Mapping[str, str] | None = None,
    ) -> broadcasts_mod.BroadcastStatus:
        """Queue one announcement DM per person (people already told are skipped), each in
        their language when `locales` knows it, else the activity's."""
        await self.require_admin(by_user_id)
        async with self.db.session() as session:
            broadcast = await broadcasts_mod.create_broadcast(
                session=session, activity_id=activity_id, requested_by=by_user_id
            )
        assert broadcast.id is not None
        people = list(dict.fromkeys(user_ids))  # unique, in order
        for start in range(0, len(people), outbox_mod.ENQUEUE_CHUNK):
            # A transaction per chunk: sending starts while the rest is still being queued.
            async with self.db.session() as session:
                await broadcasts_mod.queue_recipients(
                    session=session,
                    broadcast_id=broadcast.id,
                    user_ids=people[start : start + outbox_mod.ENQUEUE_CHUNK],
                    locales=locales,
                )
            self.outbox.wake()
        return await self.broadcast_status(broadcast.id)

    async def broadcast_status(self, broadcast_id: int) -> broadcasts_mod.BroadcastStatus:
        async with self.db.session() as session:
            return await broadcasts_mod.broadcast_status(session=session, broadcast_id=broadcast_id)

    async def unfinished_broadcasts(self) -> list[int]:
        async with self.db.session() as session:
            return [b.id for b in await broadcasts_mod.unfinished(session=session) if b.id]

    async def broadcast_progress_message(self, broadcast_id: int, channel: str, ts: str) -> None:
        async with self.db.session() as session:
            await broadcasts_mod.set_progress_message(
                session=session, broadcast_id=broadcast_id, channel=channel, ts=ts
            )

    async def finish_broadcast(self, broadcast_id: int) -> None:
        async with self.db.session() as session:
            await broadcasts_mod.finish(session=session, broadcast_id=broadcast_id)

    async def first_delivery(self, key: str) -> bool:
        """Record a platform request as handled; False if it already was (a retry)."""
        async with self.db.session() as session:
            first = await insert_if_absent(
                session, SlackDelivery, {"key": key[:200], "at": datetime.now(UTC)}, ["key"]
            )
            self._deliveries_seen += 1
            if self._deliveries_seen % 1000 == 0:  # keep the table to a few days of keys
                cutoff = datetime.now(UTC) - timedelta(days=3)
                await session.exec(delete(SlackDelivery).where(col(SlackDelivery.at) < cutoff))
        return first

    def _woken(self) -> None:
        self.outbox.wake()

    def changed(self) -> None:
        """Something the landing page shows changed: drop the cached reads and pages."""
        self.landing_cache.clear()
        self.page_cache.clear()

    def _activities_changed(self) -> None:
        for listener in list(self.activity_listeners):
            listener()

    async def audit(
        self,
        *,
        actor: str,
        action: str,
        subject: str = "",
        details: dict[str, object] | None = None,
    ) -> None:
        """An audit entry in its own unit of work, for actions that change nothing else
        (downloads); changes record theirs in their own transaction (bot/audit.py)."""
        async with self.db.session() as session:
            await audit_mod.record(
                session, actor=actor, action=action, subject=subject, details=details
            )

    # --- privacy ------------------------------------------------------------------------

    async def forget_customer(self, phone: str, *, by_user_id: str) -> privacy_mod.Erasure:
        """An admin erases a customer everywhere (bot/privacy.py), audited."""
        await self.require_admin(by_user_id)

        async def work(session: AsyncSession) -> privacy_mod.Erasure:
            return await privacy_mod.erase_customer(
                session, phone=phone, actor=by_user_id, secret=self.secret
            )

        erasure = await self.db.transaction(work)
        self.changed()
        self.outbox.wake()  # the chat messages and files to erase
        return erasure

    async def customer_data(self, phone: str, *, by_user_id: str) -> dict[str, object]:
        """An access request: everything held about this phone's customer, audited."""
        await self.require_admin(by_user_id)

        async def work(session: AsyncSession) -> dict[str, object]:
            return await privacy_mod.customer_data(
                session, phone=phone, actor=by_user_id, secret=self.secret
            )

        return await self.db.transaction(work)

    # --- people -------------------------------------------------------------------------

    async def is_admin(self, user_id: str) -> bool:
        if user_id in self.admin_ids:
            return True
        profile = await self.directory.profile(user_id)
        return profile.is_admin

    async def require_admin(self, user_id: str) -> None:
        if not await self.is_admin(user_id):
            raise Forbidden(
                gettext("Only ShareTrail admins can do that. Ask an admin, or see `help`.")
            )

    async def sync_employee(self, user_id: str) -> Employee:
        """Refresh the cached profile from the directory (name, title, phone, email)."""
        profile: Profile = await self.directory.profile(user_id)
        async with self.db.session() as session:
            employee = await upsert_employee(session=session, profile=profile)
        self.changed()
        return employee

    # --- activities ---------------------------------------------------------------------

    async def create_activity(self, draft: ActivityDraft, *, created_by: str) -> Activity:
        await self.require_admin(created_by)
        async with self.db.session() as session:
            activity = await activities_mod.create_activity(
                session=session, draft=draft, created_by=created_by
            )
            await audit_mod.record(
                session,
                actor=created_by,
                action=audit_mod.ACTIVITY_CREATE,
                subject=audit_mod.subject("activity", activity.id),
                details={"name": activity.name, "salespeople": list(draft.salespeople)},
            )
        for user_id in draft.salespeople:
            await self.sync_employee(user_id)
        self._activities_changed()
        return activity

    async def update_activity(
        self, activity_id: int, draft: ActivityDraft, *, by_user_id: str
    ) -> Activity:
        """An admin's edit (the console's form), validated like a new activity."""
        await self.require_admin(by_user_id)
        for user_id in draft.salespeople:
            await self.sync_employee(user_id)  # NotFound for someone Slack does not know
        async with self.db.session() as session:
            before = await activities_mod.get_activity(session=session, activity_id=activity_id)
            old = {name: getattr(before, name) for name in AUDITED_FIELDS}
            old_roster = await roster_mod.own_roster(session=session, activity_id=activity_id)
            activity = await activities_mod.update_activity(
                session=session, activity_id=activity_id, draft=draft
            )
            changed = [n for n in AUDITED_FIELDS if getattr(activity, n) != old[n]]
            details: dict[str, object] = {"name": activity.name, "changed": changed}
            new_roster = list(dict.fromkeys(draft.salespeople))
            if set(new_roster) != set(old_roster):
                details["roster_added"] = [u for u in new_roster if u not in old_roster]
                details["roster_removed"] = [u for u in old_roster if u not in new_roster]
            await audit_mod.record(
                session,
                actor=by_user_id,
                action=audit_mod.ACTIVITY_EDIT,
                subject=audit_mod.subject("activity", activity_id),
                details=details,
            )
        self.changed()
        self._activities_changed()
        return activity

    async def activity(self, activity_id: int) -> Activity:
        async with self.db.session() as session:
            return await activities_mod.get_activity(session=session, activity_id=activity_id)

    async def activities(self) -> list[Activity]:
        async with self.db.session() as session:
            return await activities_mod.list_activities(session=session)

    async def mark_published(
        self, activity_id: int, *, channel_id: str, ts: str, by_user_id: str
    ) -> Activity:
        async with self.db.session() as session:
            activity = await activities_mod.mark_published(
                session=session, activity_id=activity_id, channel_id=channel_id, message_ts=ts
            )
            await audit_mod.record(
                session,
                actor=by_user_id,
                action=audit_mod.ACTIVITY_PUBLISH,
                subject=audit_mod.subject("activity", activity_id),
                details={"name": activity.name, "channel": channel_id},
            )
        self.changed()
        self._activities_changed()
        return activity

    async def close_activity(self, activity_id: int, *, by_user_id: str) -> Activity:
        await self.require_admin(by_user_id)
        async with self.db.session() as session:
            activity = await activities_mod.close_activity(session=session, activity_id=activity_id)
            await audit_mod.record(
                session,
                actor=by_user_id,
                action=audit_mod.ACTIVITY_CLOSE,
                subject=audit_mod.subject("activity", activity_id),
                details={"name": activity.name},
            )
            await broadcasts_mod.queue_closed_announcements(session=session, activity=activity)
        self.outbox.wake()
        self.changed()
        self._activities_changed()
        return activity

    # --- roster -------------------------------------------------------------------------

    async def add_salespeople(self, user_ids: list[str], *, by_user_id: str) -> list[str]:
        await self.require_admin(by_user_id)
        for user_id in user_ids:
            await self.sync_employee(user_id)
        async with self.db.session() as session:
            added = await roster_mod.add_salespeople(session=session, user_ids=user_ids)
            if added:
                await audit_mod.record(
                    session,
                    actor=by_user_id,
                    action=audit_mod.ROSTER_ADD,
                    subject="roster:global",
                    details={"users": added},
                )
        self.changed()
        return added

    async def remove_salespeople(self, user_ids: list[str], *, by_user_id: str) -> list[str]:
        await self.require_admin(by_user_id)
        async with self.db.session() as session:
            removed = await roster_mod.remove_salespeople(session=session, user_ids=user_ids)
            if removed:
                await audit_mod.record(
                    session,
                    actor=by_user_id,
                    action=audit_mod.ROSTER_REMOVE,
                    subject="roster:global",
                    details={"users": removed},
                )
        self.changed()
        return removed

    async def salespeople(self, activity_id: int | None = None) -> list[str]:
        async with self.db.session() as session:
            return await roster_mod.roster_for(session=session, activity_id=activity_id)

    async def own_roster(self, activity_id: int) -> list[str]:
        """The activity's own salespeople (empty: the global roster applies)."""
        async with self.db.session() as session:
            return await roster_mod.own_roster(session=session, activity_id=activity_id)

    # --- share cards --------------------------------------------------------------------

    async def share_card(self, user_id: str, activity_id: int) -> ShareCard:
        """The employee's card and link (the same link on every tap)."""
        employee = await self.sync_employee(user_id)
        async with self.db.session() as session:
            activity = await activities_mod.get_activity(session=session, activity_id=activity_id)
            share = await get_or_create_share(session=session, activity=activity, employee=employee)
        assert share.id is not None
        url = share_url(self.codec, self.public_base_url, share.id)
        png = await asyncio.to_thread(self.cards.render, self.card_content(activity, employee, url))
        assert employee.id is not None
        token = self.own_links.sign(str(employee.id), ttl_seconds=OWN_LINK_TTL)
        return ShareCard(activity, employee, share, url, png, f"{url}?me={token}")

    async def card_sent_to(self, user_id: str, activity_id: int) -> str | None:
        """The conversation the employee's card for the activity was sent to, if it was."""
        async with self.db.session() as session:
            return (
                await session.exec(
                    select(Share.card_channel)
                    .join(Employee, col(Employee.id) == col(Share.employee_id))
                    .where(Employee.user_id == user_id, Share.activity_id == activity_id)
                )
            ).first()

    async def card_sent(self, share_id: int, channel: str) -> None:
        """Remember where the card went: a second tap points there instead of re-sending."""
        async with self.db.session() as session:
            share = await session.get(Share, share_id)
            if share is not None:
                share.card_channel = channel
                session.add(share)

    def share_link(self, share_id: int, source: str) -> str:
        return share_url(self.codec, self.public_base_url, share_id, source)

    def card_content(self, activity: Activity, employee: Employee, url: str) -> CardContent:
        """What the card prints, in the activity's language: its readers are the customers
        who scan it, like the landing page's fallback (not the employee asking for it)."""
        material = activities_mod.MATERIAL_TYPES.get(activity.material_type, "")
        with use_locale(activity.language or current_locale()):
            return CardContent(
                activity_name=activity.name,
                activity_time=format_when(activity),
                material_type=gettext(material) if material else "",
                employee_name=employee.name,
                employee_title=employee.title,
                phone=employee.phone,
                email=employee.email,
                share_url=url,
                short_url=short_url(url),
                headline=activity.headline,
                caption=gettext(CARD_CAPTION),
            )

    async def card_png(self, code: str) -> bytes:
        """The card image behind a share code (the landing page's Open Graph image)."""
        ref = self.codec.decode(code)
        async with self.db.session() as session:
            share, activity, employee = await self._share_parts(session, ref.share_id)
        url = share_url(self.codec, self.public_base_url, ref.share_id)
        return await asyncio.to_thread(
            self.cards.render, self.card_content(activity, employee, url)
        )

    # --- stats --------------------------------------------------------------------------

    async def my_stats(self, user_id: str, activity_id: int) -> tuple[Activity, StatRow]:
        async with self.db.session() as session:
            activity = await activities_mod.get_activity(session=session, activity_id=activity_id)
            employee = await employee_by_user(session=session, user_id=user_id)
            if employee is None or employee.id is None:
                return activity, StatRow(None)
            row = await stats_mod.employee_activity_stats(
                session=session, employee_id=employee.id, activity_id=activity_id
            )
            return activity, row

    async def overview(self, user_id: str) -> tuple[list[tuple[Activity, StatRow]], NotifySettings]:
        """Every activity the user shared with their numbers, and their notify settings."""
        async with self.db.session() as session:
            employee = await employee_by_user(session=session, user_id=user_id)
            if employee is None or employee.id is None:
                return [], NotifySettings()
            return (
                await stats_mod.employee_overview(session=session, employee_id=employee.id),
                NotifySettings(live=employee.notify, digest=employee.digest),
            )

    async def set_notify(
        self, user_id: str, *, live: bool | None = None, digest: bool | None = None
    ) -> None:
        """Change what the user hears; None leaves a setting as it is."""
        employee = await self.sync_employee(user_id)
        async with self.db.session() as session:
            if live is not None:
                employee.notify = live
            if digest is not None:
                employee.digest = digest
            session.add(employee)

    async def report(self, activity_id: int) -> stats_mod.ActivityReport:
        async with self.db.session() as session:
            return await stats_mod.activity_report(session=session, activity_id=activity_id)

    async def leaderboard(
        self, activity_id: int | None, limit: int = 10
    ) -> list[tuple[Employee, StatRow]]:
        async with self.db.session() as session:
            return await stats_mod.leaderboard(
                session=session, activity_id=activity_id, limit=limit
            )

    async def export_csv(self, activity_id: int, *, audited_by: str | None = None) -> str:
        """The activity's CSV; `audited_by` (who downloads it) records the export, in the
        same unit of work (None: a part of something audited as a whole, like the XLSX)."""
        async with self.db.session() as session:
            text = await stats_mod.export_csv(session=session, activity_id=activity_id)
            if audited_by is not None:
                await audit_mod.record(
                    session,
                    actor=audited_by,
                    action=audit_mod.EXPORT_CSV,
                    subject=audit_mod.subject("activity", activity_id),
                    details={"rows": max(0, text.count("\n") - 1)},
                )
            return text

    # --- landing page -------------------------------------------------------------------

    async def _share_parts(
        self, session: object, share_id: int
    ) -> tuple[Share, Activity, Employee]:

        assert isinstance(session, AsyncSession)
        share = await session.get(Share, share_id)
        if share is None:
            raise NotFound(gettext("There is no such share."))
        activity = await session.get(Activity, share.activity_id)
        employee = await session.get(Employee, share.employee_id)
        if activity is None or employee is None:
            raise NotFound(gettext("There is no such share."))
        return share, activity, employee

    async def _cached_parts(self, share_id: int) -> tuple[Share, Activity, Employee, list[str]]:
        async def load() -> tuple[Share, Activity, Employee, list[str]]:
            async with self.db.session() as session:
                share, activity, employee = await self._share_parts(session, share_id)
                roster = await roster_mod.roster_for(session=session, activity_id=activity.id)
            return share, activity, employee, roster

        parts: tuple[Share, Activity, Employee, list[str]]
        parts = await self.landing_cache.get_or_load(("share", share_id), load)
        return parts

    async def _cached_person(self, user_id: str) -> Employee | None:
        async def load() -> Employee | None:
            async with self.db.session() as session:
                return await employee_by_user(session=session, user_id=user_id)

        person: Employee | None = await self.landing_cache.get_or_load(("person", user_id), load)
        return person

    def _offer_token(self, user_id: str) -> str:
        """The signed salesperson offer for the sign-up form: the same for every visitor
        offered the same person, so signed once."""
        token = self._offer_tokens.get(user_id)
        if token is None:
            if len(self._offer_tokens) > 10_000:
                self._offer_tokens.clear()
            token = self._offer_tokens[user_id] = self.offers.sign(user_id)
        return token

    def cached_landing(self, code: str, *, visitor_key: str) -> LandingPage | None:
        """`landing` for a new visitor from the landing cache alone, without awaiting
        anything (the hot path); None when something must be read first. NotFound for
        forged codes."""
        ref = self.codec.decode(code)
        parts = self.landing_cache.peek(("share", ref.share_id))
        if parts is MISSING:
            return None
        _, activity, employee, roster = parts
        offered = roster_mod.offer_for_visitor(roster, visitor_key)
        salesperson = None
        if offered:
            salesperson = self.landing_cache.peek(("person", offered))
            if salesperson is MISSING:
                return None
        token = self._offer_token(offered or "")
        return LandingPage(code, ref, activity, employee, salesperson, token)

    async def landing(
        self, code: str, *, visitor_key: str, known_visitor: bool = True
    ) -> LandingPage:
        """Everything the customer's page shows; NotFound for forged codes, before any query.

        Reads come from the landing cache; only a returning visitor (our cookie) costs a
        query, to find the salesperson they already met."""
        ref = self.codec.decode(code)
        share, activity, employee, roster = await self._cached_parts(ref.share_id)
        offered = None
        if known_visitor:
            async with self.db.session() as session:
                offered = await roster_mod.sticky_salesperson(
                    session=session, visitor_key=visitor_key
                )
        if offered is None:
            offered = roster_mod.offer_for_visitor(roster, visitor_key)
        salesperson = await self._cached_person(offered) if offered else None
        token = self._offer_token(offered or "")
        return LandingPage(code, ref, activity, employee, salesperson, token)

    async def link_preview(self, url: str) -> LinkPreview | None:
        """A share link pasted in chat, as its unfurl shows it, recorded as a preview (never
        a view: not counted, rewarded or announced). None for any other URL."""
        code = share_code_in(url, self.public_base_url)
        if code is None:
            return None
        try:
            page = await self.landing(code, visitor_key=PREVIEW_VISITOR, known_visitor=False)
        except NotFound:
            return None
        assert page.activity.id is not None and page.employee.id is not None
        visit = preview_visit(
            share_id=page.ref.share_id,
            activity_id=page.activity.id,
            employee_id=page.employee.id,
            source=page.ref.source,
            at=datetime.now(UTC),
        )
        committed = self.record_visit(page, visit=visit)
        if committed is not None:
            await committed
        card_url = f"{self.public_base_url.rstrip('/')}/s/{code}/card.png"
        # Everyone in the conversation sees the unfurl: it speaks the activity's language,
        # not that of whoever pasted the link.
        with use_locale(page.activity.language):
            when = format_when(page.activity)
        return LinkPreview(url, page.activity, page.employee, when, card_url)

    def record_visit(self, page: LandingPage, *, visit: Visit) -> asyncio.Future[None] | None:
        """Queue the view for the next group commit. A future comes back when the view is
        written through (so configured, no writer thread, or the writer a backlog behind):
        the page waits for it."""
        return self.recorder.add_nowait(ViewItem(visit, page))

    async def _viewed(
        self, session: AsyncSession, views: list[tuple[ViewItem, ViewResult]], after: Followups
    ) -> None:
        """In the views' own transaction: queue the employees' DMs (coalesced per share);
        after the commit, wake the outbox and tell salespeople their customers are back."""
        announced = [(item, result) for item, result in views if result.announce]
        if not announced:
            return
        pages: list[LandingPage] = [item.context for item, _ in announced]
        listening = set(
            (
                await session.exec(
                    select(Employee.id).where(
                        col(Employee.id).in_({page.employee.id for page in pages}),
                        col(Employee.notify).is_(True),
                    )
                )
            ).all()
        )
        lead_ids = {result.lead_id for _, result in announced if result.lead_id is not None}
        lead_names = (
            {
                lead.id: lead.name
                for lead in (
                    await session.exec(select(Lead).where(col(Lead.id).in_(lead_ids)))
                ).all()
            }
            if lead_ids
            else {}
        )
        alerts = []
        for (item, result), page in zip(announced, pages, strict=True):
            if page.employee.id in listening:
                assert page.activity.id is not None
                alerts.append(
                    view_alerts.Announced(
                        view_id=result.view_id,
                        share_id=page.ref.share_id,
                        employee_user_id=page.employee.user_id,
                        activity_id=page.activity.id,
                        activity_name=page.activity.name,
                        visits=result.visits,
                        source=item.visit.source,
                        device=item.visit.classification.ua_class,
                        at=item.visit.at,
                        lead_name=lead_names.get(result.lead_id),
                    )
                )
            if result.lead_id is not None:  # a known customer: tell their salesperson too
                after.calls.append(functools.partial(self._customer_returned, item.visit, result))
        after.wake = await view_alerts.queue_view_alerts(session, alerts) or after.wake

    def _customer_returned(self, visit: Visit, result: ViewResult) -> None:
        self.tasks.spawn(self.records.customer_returned(visit, result), name="returned")

    async def _engaged(self, session: AsyncSession, view: View, after: Followups) -> None:
        """The first beacon of a counted view: tell the employee how it was read, in the
        thread of the "someone is viewing" DM of the view's window when that has gone out."""
        if not view.counted or view.id is None:
            return
        employee = await session.get(Employee, view.employee_id)
        if employee is None or not employee.notify:
            return
        viewed_dm = await view_alerts.window_message(session, view.share_id)
        queued = await outbox_mod.enqueue(
            session=session,
            key=f"view-read:{view.id}",
            event=ViewEngaged(
                employee_user_id=employee.user_id,
                view_id=view.id,
                dwell_ms=view.dwell_ms or 0,
                scroll_pct=view.scroll_pct or 0,
                clicks=tuple(c for c in view.clicks.split(",") if c),
                thread_channel=viewed_dm.channel if viewed_dm else None,
                thread_ts=viewed_dm.ts if viewed_dm else None,
            ),
        )
        after.wake = after.wake or queued

    async def record_beacon(
        self,
        share_id: int,
        visitor_key: str,
        *,
        dwell_ms: int | None = None,
        scroll_pct: int | None = None,
        clicks: list[str] | None = None,
    ) -> None:
        """Queued like views, so a beacon lands after the view it belongs to."""
        await self.recorder.add(
            BeaconItem(share_id, visitor_key, dwell_ms, scroll_pct, list(clicks or []))
        )

    def signup_form_token(self, code: str) -> str:
        """The token the landing page's form carries: bound to the share code by its MAC (the
        code itself is not repeated), valid for SIGNUP_FORM_TTL. The same for every visitor,
        so the rendered page stays cacheable."""
        signed = self.signup_forms.sign(code, ttl_seconds=SIGNUP_FORM_TTL)
        return signed[len(code) + 1 :]

    def check_signup_form(self, code: str, token: str) -> None:
        """Forbidden unless the form came from this share's page (another site cannot make
        its visitors' browsers sign up); Gone once it is too old."""
        try:
            if not token:
                raise NotFound("no form token")
            self.signup_forms.unsign(f"{code}.{token}")
        except (NotFound, ValueError):  # forged, for another code, or a mangled expiry
            raise Forbidden(
                gettext("This form did not come from this page. Please send it again from here.")
            ) from None
        except Gone:
            raise Gone(gettext("This form was open for too long. Please send it again.")) from None

    async def ensure_signups_open(self, code: str) -> None:
        """Closed (409) if the share's activity takes no more sign-ups; from the landing
        cache, so a refused post costs no query (the sign-up checks again in its unit of work)."""
        ref = self.codec.decode(code)
        _, activity, _, _ = await self._cached_parts(ref.share_id)
        if activity.status == "closed":
            raise Closed(gettext(CLOSED_MESSAGE))

    async def signup(
        self,
        code: str,
        fields: dict[str, str],
        *,
        visitor_key: str,
        visitor_hash: str,
        offer_token: str = "",
        form_token: str | None = None,
        known_visitor: bool = True,
        own_employee_id: int | None = None,
        at: datetime | None = None,
    ) -> SignupOutcome:
        """Validate, store the lead, assign a salesperson; notifications go out afterwards.

        `form_token` None skips the page check (callers that are not a browser's form);
        a closed activity stores nothing (Closed); the employee's own sign-up (their own-link
        cookie, or the phone of their chat profile) is kept but earns nothing."""
        ref = self.codec.decode(code)
        if form_token is not None:
            self.check_signup_form(code, form_token)
        form = leads_mod.validate_signup(fields)
        try:
            offered = self.offers.unsign(offer_token) or None
        except (NotFound, ValueError):
            offered = None

        # One unit of work, run again whole if PostgreSQL rolls it back for a deadlock
        # with the tracking writer: the customer never sees a 500 for it.
        async def work(session: AsyncSession) -> SignupOutcome:
            share, activity, employee = await self._share_parts(session, ref.share_id)
            if activity.status == "closed":
                raise Closed(gettext(CLOSED_MESSAGE))
            is_own = own_employee_id == employee.id or leads_mod.same_phone(
                form.phone, employee.phone
            )
            result = await leads_mod.create_lead(
                session=session,
                share=share,
                form=form,
                visitor_key=visitor_key,
                visitor_hash=visitor_hash,
                source=ref.source,
                rng=self.rng,
                offered=offered,
                known_visitor=known_visitor,
                is_own=is_own,
                at=at,
            )
            lead = result.lead
            salesperson = (
                await employee_by_user(session=session, user_id=lead.salesperson_id)
                if lead.salesperson_id
                else None
            )
            alert_admins = lead.salesperson_id is None and not activity.no_roster_alerted
            if alert_admins:
                activity.no_roster_alerted = True
                session.add(activity)
            if not result.duplicate:
                await self._queue_lead_messages(
                    session, lead, activity, employee, salesperson, result, alert_admins
                )
            return SignupOutcome(lead, salesperson, employee, result.duplicate)

        outcome = await self.db.transaction(work)
        self.outbox.wake()
        return outcome

    async def _queue_lead_messages(
        self,
        session: AsyncSession,
        lead: Lead,
        activity: Activity,
        employee: Employee,
        salesperson: Employee | None,
        result: leads_mod.SignupResult,
        alert_admins: bool,
    ) -> None:
        """The employee's and the salesperson's DMs, in the sign-up's own transaction."""
        assert lead.id is not None and activity.id is not None
        for audience in ("employee", "salesperson") if lead.salesperson_id else ("employee",):
            await outbox_mod.enqueue(
                session=session,
                key=f"lead:{lead.id}:{audience}",
                event=LeadCreated(
                    lead_id=lead.id,
                    activity_id=activity.id,
                    activity_name=activity.name,
                    employee_user_id=employee.user_id,
                    employee_name=employee.name,
                    salesperson_user_id=lead.salesperson_id,
                    salesperson_name=salesperson.name if salesperson else "",
                    customer_name=lead.name,
                    customer_phone=lead.phone,
                    company=lead.company,
                    note=lead.note,
                    source=lead.source,
                    sticky=result.assignment.sticky,
                    audience=audience,
                ),
            )
        if alert_admins:
            admins = tuple(sorted(self.admin_ids | {activity.created_by} - {""}))
            await outbox_mod.enqueue(
                session=session,
                key=f"no-roster:{activity.id}",
                event=NoRosterAlert(admins, activity.id, activity.name, lead.id),
            )

    async def _delivered(self, event: Notification, ref: MessageRef | None) -> None:
        """The outbox sent something; remember where a lead's DM landed (its thread), and
        where every message about a lead landed (an erasure rewrites them)."""
        if ref is not None and privacy_mod.lead_of(event) is not None:
            async with self.db.session() as session:
                await privacy_mod.remember_sent(session, event, ref)
        if (
            isinstance(event, LeadCreated)
            and ref is not None
            and event.salesperson_user_id
            and event.audience in ("salesperson", "all")
        ):
            async with self.db.session() as session:
                await leads_mod.record_sales_message(
                    session=session, lead_id=event.lead_id, channel=ref[0], ts=ref[1]
                )

    # --- salespeople --------------------------------------------------------------------

    async def set_outcome(
        self, lead_id: int, status: str, *, by_user_id: str
    ) -> leads_mod.OutcomeChange:
        is_admin = by_user_id in self.admin_ids

        async def work(session: AsyncSession) -> leads_mod.OutcomeChange:
            change = await leads_mod.set_outcome(
                session=session,
                lead_id=lead_id,
                status=status,
                by_user_id=by_user_id,
                is_admin=is_admin,
            )
            activity = await session.get(Activity, change.lead.activity_id)
            employee = await session.get(Employee, change.lead.employee_id)
            if change.changed and activity is not None and employee is not None:
                await outbox_mod.enqueue(
                    session=session,
                    key=f"outcome:{lead_id}:{uuid.uuid4().hex}",
                    event=OutcomeRecorded(
                        lead_id=lead_id,
                        activity_name=activity.name,
                        employee_user_id=employee.user_id,
                        customer_name=change.lead.name,
                        outcome=status,
                        previous=change.previous,
                        by_user_id=by_user_id,
                    ),
                )
            return change

        change = await self.db.transaction(work)
        self.outbox.wake()
        return change

    async def lead_context(self, lead_id: int) -> tuple[Lead, Activity, Employee]:
        async with self.db.session() as session:
            lead = await leads_mod.get_lead(session=session, lead_id=lead_id)
            activity = await activities_mod.get_activity(
                session=session, activity_id=lead.activity_id
            )
            employee = await session.get(Employee, lead.employee_id)
            assert employee is not None
            return lead, activity, employee

    async def visible_lead(self, lead_id: int, *, user_id: str) -> tuple[Lead, Activity, Employee]:
        """A lead as `user_id` may see it: admins any, salespeople theirs, employees theirs."""
        lead, activity, employee = await self.lead_context(lead_id)
        if lead.salesperson_id == user_id or employee.user_id == user_id:
            return lead, activity, employee
        if await self.is_admin(user_id):
            return lead, activity, employee
        raise NotFound(gettext("There is no lead {id} you can see.").format(id=lead_id))

    async def add_thread_note(
        self, *, channel: str, thread_ts: str, author_id: str, text: str, message_ts: str
    ) -> Lead | None:
        async with self.db.session() as session:
            return await leads_mod.add_thread_note(
                session=session,
                channel=channel,
                thread_ts=thread_ts,
                author_id=author_id,
                text=text,
                message_ts=message_ts,
            )

    # --- operations ---------------------------------------------------------------------

    async def database_answers(self) -> bool:
        """Whether the database answers a trivial query: all that /healthz tells anyone."""
        try:
            async with self.db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError) as exc:
            log.warning("health check: the database does not answer (%s)", type(exc).__name__)
            return False
        return True

    async def health(self) -> dict[str, object]:
        async with self.db.session() as session:
            activities = len((await session.exec(select(col(Activity.id)))).all())
        outbox = await self.outbox.health()
        report: dict[str, object] = {
            "database": "ok",
            "activities": activities,
            "pending_tasks": len(self.tasks),
            "views_queued": self.recorder.pending,
            "messages_pending": outbox.pending + outbox.sending,
            "messages_sent": outbox.sent,
            "messages_failed": outbox.failed,
        }
        if outbox.recent_failures:
            report["recent_failures"] = "; ".join(
                f"{key} ({error})" for key, error in outbox.recent_failures
            )
        return report
