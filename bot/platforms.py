"""The platform seam: each person belongs to one chat platform, and their user id says which.

Slack ids are Slack's own (U…, W…). WeCom members are stored as `wecom:` + their WeCom
userid (WeCom userids are letters, digits and `_-@.`, so never contain a colon, and no
Slack id starts with `wecom:`): the two can never collide, and one database holds both.
Activities, shares, leads, stats and the console are shared; what a person is told goes
through their platform's notifier, and their profile comes from their platform's
directory. A Slack employee's customer may be assigned to a WeCom salesperson: the
sign-up's two messages are separate outbox rows, each routed to its own person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from bot.directory import Directory, Profile
from bot.errors import NotFound
from bot.i18n import _
from bot.notifications import (
    ActivityAnnounced,
    AnnouncementClosed,
    CardViewed,
    CheckedIn,
    ContactLogged,
    CustomerReturned,
    DailyDigest,
    FileErased,
    LeadCreated,
    MessageErased,
    MessageRef,
    NoRosterAlert,
    Notification,
    Notifier,
    OutcomeRecorded,
    OutcomeReminder,
    RedemptionDecided,
    RedemptionRequested,
    ReviewWaiting,
    ShareReminder,
    ViewEngaged,
    ViewsTallied,
    WeeklyReport,
)
from bot.outbox import DeliveryError

SLACK = "slack"
WECOM = "wecom"
WECOM_PREFIX = "wecom:"


def platform_of(user_id: str) -> str:
    return WECOM if user_id.startswith(WECOM_PREFIX) else SLACK


def wecom_user_id(userid: str) -> str:
    """ShareTrail's id for a WeCom member's userid."""
    return WECOM_PREFIX + userid


def wecom_userid(user_id: str) -> str:
    """The WeCom userid behind a ShareTrail id (`wecom:zhangsan` -> `zhangsan`)."""
    return user_id.removeprefix(WECOM_PREFIX)


def recipient(event: Notification) -> str:
    """The one person an event is for (events for several are split by `per_person`)."""
    if isinstance(event, CardViewed | ViewsTallied | ViewEngaged | OutcomeRecorded):
        return event.employee_user_id
    if isinstance(
        event,
        DailyDigest
        | ActivityAnnounced
        | AnnouncementClosed
        | ShareReminder
        | RedemptionDecided
        | MessageErased
        | FileErased,
    ):
        return event.user_id
    if isinstance(event, LeadCreated):
        if event.audience == "salesperson" and event.salesperson_user_id:
            return event.salesperson_user_id
        return event.employee_user_id
    if isinstance(event, ContactLogged | CheckedIn | CustomerReturned):
        return event.thread.salesperson_user_id
    if isinstance(event, OutcomeReminder):
        return event.salesperson_user_id
    if isinstance(event, WeeklyReport | ReviewWaiting | RedemptionRequested):
        return event.admin_user_id
    if isinstance(event, NoRosterAlert):
        return event.admin_user_ids[0] if event.admin_user_ids else ""
    raise TypeError(f"no recipient for {type(event).__name__}")


def per_platform(event: Notification) -> list[tuple[str, Notification]]:
    """The event as each platform should send it: one part per platform involved."""
    if isinstance(event, NoRosterAlert):
        groups: dict[str, list[str]] = {}
        for admin in event.admin_user_ids:
            groups.setdefault(platform_of(admin), []).append(admin)
        return [
            (platform, replace(event, admin_user_ids=tuple(admins)))
            for platform, admins in groups.items()
        ]
    if (
        isinstance(event, LeadCreated)
        and event.audience == "all"
        and event.salesperson_user_id
        and platform_of(event.salesperson_user_id) != platform_of(event.employee_user_id)
    ):
        return [
            (platform_of(event.employee_user_id), replace(event, audience="employee")),
            (platform_of(event.salesperson_user_id), replace(event, audience="salesperson")),
        ]
    return [(platform_of(recipient(event)), event)]


class PlatformNotifier:
    """One Notifier (and outbox Deliverer) over every configured platform's notifier."""

    def __init__(self, notifiers: Mapping[str, Notifier]) -> None:
        self._notifiers = dict(notifiers)

    def _for(self, platform: str) -> Notifier | None:
        return self._notifiers.get(platform)

    async def deliver(
        self,
        event: Notification,
        *,
        key: str,
        careful_since: datetime | None = None,
        prepaid: bool = False,
    ) -> MessageRef | None:
        parts = per_platform(event)
        main: MessageRef | None = None
        for index, (platform, part) in enumerate(parts):
            notifier = self._for(platform)
            if notifier is None:
                if len(parts) == 1:
                    raise DeliveryError(f"{platform}_not_configured", permanent=True)
                continue
            part_key = key if len(parts) == 1 else f"{key}@{platform}"
            ref = await notifier.deliver(
                part, key=part_key, careful_since=careful_since, prepaid=prepaid and index == 0
            )
            if isinstance(part, LeadCreated) and part.audience == "salesperson":
                main = ref  # where the lead's conversation lives (ShareTrail._delivered)
            else:
                main = main or ref
        return main

    async def notify(self, event: Notification) -> MessageRef | None:
        main: MessageRef | None = None
        for platform, part in per_platform(event):
            notifier = self._for(platform)
            if notifier is not None:
                main = main or await notifier.notify(part)
        return main


class PlatformDirectory:
    """Profiles from the directory of the person's own platform."""

    def __init__(self, directories: Mapping[str, Directory]) -> None:
        self._directories = dict(directories)

    async def profile(self, user_id: str) -> Profile:
        directory = self._directories.get(platform_of(user_id))
        if directory is None:
            raise NotFound(
                _("{platform} is not connected, so {user} is unknown.").format(
                    platform=platform_of(user_id), user=user_id
                )
            )
        return await directory.profile(user_id)
