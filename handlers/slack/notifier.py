"""Turns domain notifications into Slack messages, for the outbox (bot/outbox.py).

Each notification renders to one or more messages ("parts"). Every message carries its
idempotency key in Slack message metadata, so after a crash or an unclear failure (a
timeout, a 500, a dropped connection) the outbox can ask Slack whether a part already
landed instead of sending it twice: conversations.history for top-level messages,
conversations.replies for thread replies (history never returns replies). Only the
outbox retries a post: the client has no blind retry for posting calls (app.make_client).
Sends are paced under Slack's limits (handlers/slack/pacing.py); a 429 becomes a
DeliveryError carrying Retry-After, and the outbox reschedules it exactly; an HTTP-200
`rate_limited` (no Retry-After) pauses the method's budget and backs off.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import DomainError
from bot.i18n import DEFAULT_LOCALE, N_, _, current_locale, ngettext, supported, use_locale
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
    LeadThread,
    MessageErased,
    MessageRef,
    NoRosterAlert,
    Notification,
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
from bot.platforms import SLACK, platform_of
from handlers.slack import blocks, erase, ids, records_blocks, report_images, rewards_blocks
from handlers.slack.errors import slack_error
from handlers.slack.markup import Block, Code, Mention, Piece, Said, compose, fill, mrkdwn
from handlers.slack.pacing import Paced, Pacer
from handlers.slack.stamps import api_method, find_stamped, stamp
from store.models import Lead

log = logging.getLogger(__name__)

DEVICE_LABELS = {
    "mobile": N_("a phone"),
    "tablet": N_("a tablet"),
    "desktop": N_("a computer"),
    "wechat": N_("WeChat"),
}
SOURCE_LABELS = {
    "card_qr": N_("your card's QR code"),
    "dm": N_("a direct message"),
    "channel": N_("a channel post"),
    "email": N_("email"),
    "wechat": N_("WeChat"),
    "linkedin": "LinkedIn",
    "other": N_("your link"),
}
OUTCOME_SENTENCES = {
    "attended": N_("{customer} attended {activity}"),
    "no_show": N_("{customer} did not show up for {activity}"),
    "converted": N_("{customer} converted at {activity}"),
}


def seen_where(device: str, source: str) -> str:
    """E.g. 'on a phone, via your card's QR code'."""
    return _("on {device}, via {source}").format(
        device=_(DEVICE_LABELS.get(device, N_("a device"))), source=_(SOURCE_LABELS[source])
    )


def viewed_message(event: CardViewed) -> tuple[str, list[Block]]:
    where = seen_where(event.device, event.source)
    who: Piece = Said(event.lead_name) if event.lead_name else _("Someone")
    if event.visits > 1:
        template = _("{who} is viewing your card for {activity} again — {ordinal} visit ({where}).")
    else:
        template = _("{who} is viewing your card for {activity} ({where}).")
    return compose(
        "👀 ",
        *fill(
            template,
            who=who,
            activity=Said(event.activity_name, strong=True),
            ordinal=records_blocks.ordinal(event.visits),
            where=where,
        ),
    )


def tally_message(event: ViewsTallied) -> tuple[str, list[Block]]:
    """E.g. '👀 12 people viewed your card for Launch in the last 10 minutes (…).'"""
    minutes = max(1, math.ceil((event.latest_at - event.since).total_seconds() / 60))
    span = ngettext("minute", "{num} minutes", minutes).format(num=minutes)
    latest = seen_where(event.device, event.source)
    viewed = ngettext(
        "{num} person viewed your card for {activity} in the last {span} (latest {latest}).",
        "{num} people viewed your card for {activity} in the last {span} (latest {latest}).",
        event.count,
    )
    return compose(
        "👀 ",
        *fill(
            viewed,
            num=str(event.count),
            activity=Said(event.activity_name, strong=True),
            span=span,
            latest=latest,
        ),
    )


LocaleOf = Callable[[str], Awaitable[str]]

# How long a message waits for its reader's Slack locale (users.info, cached by the
# directory) before it goes out in LANGUAGE.
LOCALE_WAIT_S = 2.0


class SlackNotifier:
    def __init__(
        self,
        client: AsyncWebClient,
        pacer: Pacer | None = None,
        *,
        admin_client: AsyncWebClient | None = None,
        locale_of: LocaleOf | None = None,
        language: str = DEFAULT_LOCALE,
    ) -> None:
        self._client = client
        self._pacer = pacer or Pacer()
        self._dm_channels: dict[str, str] = {}
        # A workspace admin's user token (SLACK_ADMIN_TOKEN): deletes files people uploaded
        # when an erasure asks (handlers/slack/erase.py).
        self._admin_client = admin_client
        self._locale_of = locale_of
        self._language = supported(language)

    async def reader_locale(self, user_id: str | None) -> str:
        """The reader's Slack locale (users.info include_locale), else LANGUAGE."""
        if not user_id or self._locale_of is None:
            return self._language
        try:
            async with asyncio.timeout(LOCALE_WAIT_S):
                tag = await self._locale_of(user_id)
        except (DomainError, SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.info("locale of %s unknown (%s): %s", user_id, type(exc).__name__, self._language)
            return self._language
        return supported(tag, self._language)

    async def localized(self, event: Notification) -> list[Outgoing]:
        """Every part of `event` in its own reader's language (a sign-up tells the employee
        and the salesperson, each in theirs). Rendering is pure, so it is redone per
        language and the parts keep their order."""
        if getattr(event, "locale", None):  # known already (a broadcast, from users.list)
            return self.render(event)
        with use_locale(self._language):
            parts = self.render(event)
        rendered: dict[str, list[Outgoing]] = {self._language: parts}
        chosen = []
        for index, part in enumerate(parts):
            locale = await self.reader_locale(part.recipient())
            if locale not in rendered:
                with use_locale(locale):
                    rendered[locale] = self.render(event)
            chosen.append(rendered[locale][index])
        return chosen

    @property
    def client(self) -> AsyncWebClient:
        return self._client

    # the outbox's Deliverer ------------------------------------------------------------

    async def deliver(
        self,
        event: Notification,
        *,
        key: str,
        careful_since: datetime | None = None,
        prepaid: bool = False,
    ) -> MessageRef | None:
        """Send every part of `event`; with `careful_since`, skip parts Slack already has.
        `prepaid`: the pacer already reserved this send's slot when it was deferred."""
        if isinstance(event, MessageErased | FileErased):
            await self._erase(event)
            return None
        main: MessageRef | None = None
        ref: MessageRef | None = None
        posted = False
        outgoing: Outgoing | None = None
        try:
            for outgoing in await self.localized(event):
                part_key = f"{key}#{outgoing.part}"
                ref = None
                if (
                    careful_since is not None and outgoing.update_ts is None
                ):  # updates repeat safely
                    ref = await self._find(outgoing, part_key, careful_since)
                if ref is None:
                    ref = await self._post(
                        outgoing,
                        part_key,
                        paced=not (prepaid and not posted),
                        careful_since=careful_since,
                    )
                    posted = True
                if outgoing.main:
                    main = ref
        except Paced as exc:
            raise DeliveryError(
                "paced" if not posted else "paced:partial", permanent=False, retry_after=exc.wait
            ) from None
        except SlackApiError as exc:
            error = delivery_error(exc)
            if error.code == "rate_limited":  # Slack gave no Retry-After: everyone waits a bit
                self._pacer.penalize(
                    api_method(exc), RATE_LIMITED_PAUSE, outgoing.channel if outgoing else ""
                )
            if posted:  # an earlier part landed: the retry must look before it leaps
                error.code += ":partial"
            raise error from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(type(exc).__name__, permanent=False) from None
        return main or ref

    async def _erase(self, event: MessageErased | FileErased) -> None:
        """An erased customer's message rewritten, or their file deleted (bot/privacy.py)."""
        try:
            if isinstance(event, MessageErased):
                await erase.erase_message(
                    self._client, self._pacer, event, max_wait=MAX_PACING_WAIT
                )
            else:
                await erase.delete_file(
                    self._client,
                    self._admin_client,
                    self._pacer,
                    event,
                    max_wait=MAX_PACING_WAIT,
                )
        except Paced as exc:
            raise DeliveryError("paced", permanent=False, retry_after=exc.wait) from None
        except SlackApiError as exc:
            error = delivery_error(exc)
            if error.code == "rate_limited":
                self._pacer.penalize(api_method(exc), RATE_LIMITED_PAUSE)
            raise error from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(type(exc).__name__, permanent=False) from None

    async def notify(self, event: Notification) -> MessageRef | None:
        """Send now, outside the outbox (replies to someone's own action); failures logged."""
        try:
            return await self.deliver(event, key=f"direct:{uuid.uuid4().hex}")
        except DeliveryError as exc:
            log.warning("Slack refused %s: %s", type(event).__name__, exc.code)
            return None

    # rendering -------------------------------------------------------------------------

    def render(self, event: Notification) -> list[Outgoing]:
        if isinstance(event, CardViewed):
            text, words = viewed_message(event)
            return [Outgoing("viewed", event.employee_user_id, text, blocks=words)]
        if isinstance(event, ViewsTallied):
            text, words = tally_message(event)
            if event.target is None:
                return [Outgoing("tally", event.employee_user_id, text, blocks=words)]
            channel, ts = event.target
            return [
                Outgoing(
                    "tally",
                    channel,
                    text,
                    blocks=words,
                    update_ts=ts,
                    fallback_channel=event.employee_user_id,
                )
            ]
        if isinstance(event, DailyDigest):
            return [
                Outgoing(
                    "digest",
                    event.user_id,
                    blocks.daily_digest_text(event),
                    blocks=blocks.daily_digest(event),
                )
            ]
        if isinstance(event, LeadCreated):
            return self._lead_created(event)
        if isinstance(event, OutcomeRecorded):
            text, words = outcome_message(event)
            return [Outgoing("outcome", event.employee_user_id, text, blocks=words)]
        if isinstance(event, ContactLogged):
            contact = records_blocks.contact_logged_message(event)
            return [self._in_thread("contact", event.thread, contact)]
        if isinstance(event, CheckedIn):
            checked_in = records_blocks.checked_in_message(event)
            return [self._in_thread("checkin", event.thread, checked_in)]
        if isinstance(event, CustomerReturned):
            text, words = records_blocks.customer_returned_message(event)
            return [Outgoing("returned", event.thread.salesperson_user_id, text, blocks=words)]
        if isinstance(event, NoRosterAlert):
            text, words = compose(
                "⚠️ ",
                *fill(
                    _(
                        "A customer signed up for {activity} (lead #{id}) but no salesperson is "
                        "on the roster. Add some with {command}."
                    ),
                    activity=Said(event.activity_name, strong=True),
                    id=str(event.lead_id),
                    command=Code("/sharetrail sales add @user"),
                ),
            )
            return [
                Outgoing(f"admin-{admin}", admin, text, blocks=words)
                for admin in event.admin_user_ids
            ]
        if isinstance(event, ViewEngaged):
            text = engaged_text(event)
            if event.thread_channel and event.thread_ts:
                return [
                    Outgoing(
                        "read",
                        event.thread_channel,
                        text,
                        thread_ts=event.thread_ts,
                        fallback_channel=event.employee_user_id,
                    )
                ]
            return [Outgoing("read", event.employee_user_id, text)]
        if isinstance(event, ActivityAnnounced):
            with use_locale(event.locale or current_locale()):  # the recipient's language
                return self._announced(event)
        if isinstance(event, AnnouncementClosed):
            with use_locale(event.locale or current_locale()):
                return self._announcement_closed(event)
        if isinstance(event, ShareReminder):
            return [
                Outgoing(
                    "remind-share",
                    event.user_id,
                    blocks.share_reminder_text(event),
                    blocks=blocks.share_reminder(event),
                )
            ]
        if isinstance(event, OutcomeReminder):
            return [
                Outgoing(
                    "remind-outcome",
                    event.salesperson_user_id,
                    blocks.outcome_reminder_text(event),
                    blocks=blocks.outcome_reminder(event),
                )
            ]
        if isinstance(event, ReviewWaiting):
            return [
                Outgoing(
                    "review",
                    event.admin_user_id,
                    blocks.review_waiting_text(event),
                    blocks=blocks.review_waiting(event),
                )
            ]
        if isinstance(event, WeeklyReport):
            return [
                Outgoing(
                    "weekly",
                    event.admin_user_id,
                    blocks.weekly_report_text(event),
                    blocks=blocks.weekly_report(event) + report_images.chart_blocks(event.charts),
                )
            ]
        if isinstance(event, RedemptionDecided):
            text, words = rewards_blocks.redemption_decided(event)
            return [Outgoing("redemption", event.user_id, text, blocks=words)]
        if isinstance(event, RedemptionRequested):
            text, words = rewards_blocks.redemption_requested(event)
            return [Outgoing("redemption-admin", event.admin_user_id, text, blocks=words)]
        raise TypeError(f"no Slack rendering for {type(event).__name__}")

    def _announced(self, event: ActivityAnnounced) -> list[Outgoing]:
        return [
            Outgoing(
                "announce",
                event.user_id,
                mrkdwn(
                    [
                        "📣 ",
                        *fill(
                            _("New activity: {name}. Get your personal share card."),
                            name=Said(event.activity_name),
                        ),
                    ]
                ),
                blocks=blocks.announcement_dm(event.activity_id, event.activity_name, event.when),
            )
        ]

    def _announcement_closed(self, event: AnnouncementClosed) -> list[Outgoing]:
        return [
            Outgoing(
                "announce-closed",
                event.channel,
                mrkdwn(["🔒 ", *fill(_("Closed: {name}."), name=Said(event.activity_name))]),
                blocks=blocks.closed_announcement_dm(event.activity_name, event.when),
                update_ts=event.ts,
                reader=event.user_id,
            )
        ]

    def _in_thread(
        self, part: str, thread: LeadThread, rendered: tuple[str, list[Block]]
    ) -> Outgoing:
        """Under the salesperson's lead DM; their DM itself if that message is unknown."""
        text, words = rendered
        if thread.channel and thread.ts:
            return Outgoing(
                part,
                thread.channel,
                text,
                blocks=words,
                thread_ts=thread.ts,
                fallback_channel=thread.salesperson_user_id,
            )
        return Outgoing(part, thread.salesperson_user_id, text, blocks=words)

    def _lead_created(self, event: LeadCreated) -> list[Outgoing]:
        by: list[Piece] = [_("An admin will assign a salesperson.")]
        follows = _("{salesperson} will follow up.")
        if event.salesperson_user_id and platform_of(event.salesperson_user_id) == SLACK:
            by = fill(follows, salesperson=Mention(event.salesperson_user_id))
        elif event.salesperson_user_id:  # a WeCom salesperson: no Slack mention exists
            name = Said(event.salesperson_name) if event.salesperson_name else _("A salesperson")
            by = fill(follows, salesperson=name)
        signed_up, words = compose(
            "🎉 ",
            *fill(
                _("{customer} signed up for {activity} through your card!"),
                customer=Said(event.customer_name, strong=True),
                activity=Said(event.activity_name, strong=True),
            ),
            " ",
            *by,
        )
        parts = []
        if event.audience in ("employee", "all"):
            parts.append(
                Outgoing(
                    "employee",
                    event.employee_user_id,
                    signed_up,
                    blocks=records_blocks.signup_dm_blocks(words, event.lead_id),
                )
            )
        if not event.salesperson_user_id or event.audience == "employee":
            return parts
        lead = Lead(
            id=event.lead_id,
            share_id=0,
            activity_id=event.activity_id,
            employee_id=0,
            name=event.customer_name,
            phone=event.customer_phone,
            company=event.company,
            note=event.note,
            visitor_key="",
            visitor_hash="",
            source=event.source,
        )
        parts.append(
            Outgoing(
                "sales",
                event.salesperson_user_id,
                mrkdwn(
                    fill(
                        _("New lead for {activity}: {customer}, {phone}"),
                        activity=Said(event.activity_name),
                        customer=Said(event.customer_name),
                        phone=Said(event.customer_phone),
                    )
                ),
                blocks=blocks.lead_dm(
                    lead,
                    activity_name=event.activity_name,
                    employee_user_id=event.employee_user_id,
                    sticky=event.sticky,
                ),
                event_type=ids.LEAD_DM_EVENT,
                payload={"lead_id": event.lead_id},
                main=True,
            )
        )
        return parts

    # Slack calls -----------------------------------------------------------------------

    async def _channel_id(self, channel: str) -> str:
        """conversations.history wants the DM's id, not the user's."""
        if not channel.startswith(("U", "W")):
            return channel
        if channel not in self._dm_channels:
            await self._pacer.acquire("conversations.open")
            response = await self._client.conversations_open(users=channel)
            self._dm_channels[channel] = str(response["channel"]["id"])
        return self._dm_channels[channel]

    async def _post(
        self,
        outgoing: Outgoing,
        key: str,
        *,
        paced: bool = True,
        careful_since: datetime | None = None,
    ) -> MessageRef:
        if outgoing.update_ts is not None:
            return await self._update(outgoing, key, paced=paced, careful_since=careful_since)
        metadata = stamp(key, outgoing.event_type, **outgoing.payload)
        extra: dict[str, Any] = {"unfurl_links": False, "metadata": metadata}
        if outgoing.blocks:
            extra["blocks"] = outgoing.blocks
        channel = outgoing.channel
        try:
            if paced:
                await self._pacer.acquire("chat.postMessage", channel, max_wait=MAX_PACING_WAIT)
            try:
                response = await self._client.chat_postMessage(
                    channel=channel, text=outgoing.text, thread_ts=outgoing.thread_ts, **extra
                )
            except SlackApiError as exc:
                if not report_images.refused_for_images(exc, outgoing.blocks):
                    raise
                # Slack could not download an image: the message goes out without them.
                log.warning(
                    "%s sent without its images: Slack refused them (%s)",
                    key,
                    "; ".join(report_images.reasons(exc)) or slack_error(exc),
                )
                extra["blocks"] = report_images.without_images(outgoing.blocks)
                await self._pacer.acquire("chat.postMessage", channel, max_wait=MAX_PACING_WAIT)
                response = await self._client.chat_postMessage(
                    channel=channel, text=outgoing.text, thread_ts=outgoing.thread_ts, **extra
                )
        except SlackApiError as exc:
            gone = slack_error(exc) in ("thread_not_found", "message_not_found")
            if not (gone and outgoing.fallback_channel):
                raise
            await self._pacer.acquire("chat.postMessage", outgoing.fallback_channel)
            response = await self._client.chat_postMessage(
                channel=outgoing.fallback_channel, text=outgoing.text, **extra
            )
        return str(response["channel"]), str(response["ts"])

    async def _update(
        self, outgoing: Outgoing, key: str, *, paced: bool, careful_since: datetime | None
    ) -> MessageRef:
        """Rewrite a message; if it is gone, post the text as a new one instead (once: a
        careful retry looks for that post first)."""
        assert outgoing.update_ts is not None
        metadata = stamp(key, outgoing.event_type, **outgoing.payload)
        try:
            if paced:
                await self._pacer.acquire("chat.update", max_wait=MAX_PACING_WAIT)
            response = await self._client.chat_update(
                channel=outgoing.channel,
                ts=outgoing.update_ts,
                text=outgoing.text,
                blocks=outgoing.blocks or None,
                metadata=metadata,
            )
        except SlackApiError as exc:
            gone = slack_error(exc) in ("message_not_found", "cant_update_message")
            if not (gone and outgoing.fallback_channel):
                raise
            instead = replace(outgoing, channel=outgoing.fallback_channel, update_ts=None)
            if careful_since is not None:
                found = await self._find(instead, key, careful_since)
                if found is not None:
                    return found
            return await self._post(instead, key)
        return str(response["channel"]), str(response["ts"])

    async def _find(self, outgoing: Outgoing, key: str, since: datetime) -> MessageRef | None:
        """The message stamped with `key` posted since `since`, if Slack has it. A reply is
        only in its thread (conversations.history lists top-level messages only); a reply
        whose thread was gone went to the fallback channel instead."""
        channel = await self._channel_id(outgoing.channel)
        if outgoing.thread_ts is None:
            return await self._search(channel, key, since)
        try:
            return await self._search(channel, key, since, thread_ts=outgoing.thread_ts)
        except SlackApiError as exc:
            if slack_error(exc) != "thread_not_found" or not outgoing.fallback_channel:
                raise
        return await self._search(await self._channel_id(outgoing.fallback_channel), key, since)

    async def _search(
        self, channel: str, key: str, since: datetime, *, thread_ts: str | None = None
    ) -> MessageRef | None:
        return await find_stamped(
            self._client, channel, key, since, thread_ts=thread_ts, pace=self._pacer.acquire
        )


# An HTTP-200 `rate_limited` carries no Retry-After: pause the method's budget this long
# (the message itself comes back with the outbox's exponential backoff).
RATE_LIMITED_PAUSE = 2.0


# A message that would wait longer than this for its channel's budget goes back to the
# outbox (due when the budget allows) instead of holding one of the sender's slots.
MAX_PACING_WAIT = 0.25

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "user_not_found",
        "users_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "user_disabled",
        "cannot_dm_bot",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "missing_scope",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "messages_tab_disabled",
        "team_access_not_granted",
        "msg_too_long",
        "no_text",
        "invalid_arguments",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "cant_delete_file",
        "file_deleting_disabled",
        "delete_not_allowed",
    }
)


def delivery_error(exc: SlackApiError) -> DeliveryError:
    """What the outbox does next: a 429 waits Retry-After; an HTTP-200 `rate_limited`
    (no Retry-After) backs off exponentially; permanent refusals are not retried."""
    code = slack_error(exc)
    if exc.response.status_code == 429:
        retry_after = float(exc.response.headers.get("Retry-After", 1) or 1)
        return DeliveryError("ratelimited", permanent=False, retry_after=retry_after)
    if code in ("ratelimited", "rate_limited"):
        return DeliveryError("rate_limited", permanent=False)
    return DeliveryError(code, permanent=code in PERMANENT_ERRORS)


CLICK_LABELS = {
    "phone": N_("your phone number"),
    "email": N_("your email"),
    "signup": N_("sign up"),
}


def engaged_text(event: ViewEngaged) -> str:
    """E.g. '📖 Read for 2 min, scrolled 90% of the page, tapped your phone number.'"""
    seconds = round(event.dwell_ms / 1000)
    read = (
        _("{minutes} min").format(minutes=seconds // 60)
        if seconds >= 90
        else _("{seconds} s").format(seconds=seconds)
    )
    parts = [
        _("Read for {duration}").format(duration=read),
        _("scrolled {percent}% of the page").format(percent=event.scroll_pct),
    ]
    if event.clicks:
        tapped = _(" and ").join(
            _(CLICK_LABELS[c]) if c in CLICK_LABELS else c for c in event.clicks
        )
        parts.append(_("tapped {what}").format(what=tapped))
    return "📖 " + _(", ").join(parts) + _(".")


def outcome_message(event: OutcomeRecorded) -> tuple[str, list[Block]]:
    sentence = fill(
        _(OUTCOME_SENTENCES[event.outcome]),
        customer=Said(event.customer_name, strong=True),
        activity=Said(event.activity_name, strong=True),
    )
    changed: list[Piece] = (
        [" " + _("(changed from {previous})").format(previous=blocks.outcome_label(event.previous))]
        if event.previous
        else []
    )
    return compose(
        "📌 ",
        *sentence,
        *changed,
        *fill(_(", recorded by {who}."), who=Mention(event.by_user_id)),
    )


@dataclass(frozen=True)
class Outgoing:
    """One Slack message a notification becomes."""

    part: str
    channel: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    update_ts: str | None = None  # rewrite this message (chat.update) instead of posting
    fallback_channel: str | None = None
    event_type: str = "sharetrail"
    payload: dict[str, Any] = field(default_factory=dict)
    main: bool = False
    reader: str | None = None  # whose language, when the channel is not a person (a DM id)

    def recipient(self) -> str | None:
        """The person who reads this message: its language is theirs."""
        if self.reader:
            return self.reader
        if self.channel.startswith(("U", "W")):
            return self.channel
        return self.fallback_channel
