"""Domain notifications as WeCom messages (pure functions, no network).

Text and markdown for news; `template_card` of card_type `button_interaction` where
someone has something to tap (an activity to share, a lead's outcome). A button's key is
`ACTION_ID:ID` with the Slack action_ids of DESIGN.md section 4, so both adapters run the
same service call for the same tap. Customer-typed text goes into WeCom as plain text
(text messages and card fields are not markup); markdown is used only for our own words
and numbers. WeCom limits (消息类型 doc): text and markdown content 2048 bytes; a card's
main title about 26 characters, a horizontal value 26, at most 6 buttons and 6 rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import N_, _
from bot.notifications import (
    ActivityAnnounced,
    AnnouncementClosed,
    CardViewed,
    CheckedIn,
    ContactLogged,
    CustomerReturned,
    DailyDigest,
    LeadCreated,
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
from bot.platforms import wecom_userid
from bot.redemptions import decided_text, requested_text
from handlers.slack import ids

TEXT_LIMIT = 2048  # bytes
TITLE_LIMIT = 26
VALUE_LIMIT = 26
TASK_ID_LIMIT = 128

DEVICE = {
    "mobile": N_("phone"),
    "tablet": N_("tablet"),
    "desktop": N_("computer"),
    "wechat": N_("WeChat"),
}
SOURCE = {
    "card_qr": N_("your card's QR code"),
    "dm": N_("a direct message"),
    "channel": N_("a channel post"),
    "email": N_("email"),
    "wechat": N_("WeChat"),
    "linkedin": N_("LinkedIn"),
    "other": N_("your link"),
}
OUTCOME_LABELS = {
    ids.LEAD_OUTCOME_ATTENDED: N_("Attended"),
    ids.LEAD_OUTCOME_NO_SHOW: N_("No-show"),
    ids.LEAD_OUTCOME_CONVERTED: N_("Converted"),
}
MARK_LABELS = {
    ids.LEAD_MARK_SPAM: N_("Spam"),
    ids.LEAD_MARK_DUPLICATE: N_("Duplicate"),
}
MARKED_LABELS = {
    "spam": N_("Marked spam ✓"),
    "duplicate": N_("Marked duplicate ✓"),
}
DONE_LABELS = {
    "attended": N_("Attended ✓"),
    "no_show": N_("No-show ✓"),
    "converted": N_("Converted ✓"),
}


@dataclass(frozen=True)
class Message:
    """One message/send: `part` names it within its notification (key + '#' + part)."""

    part: str
    touser: str  # the WeCom userid
    msgtype: str  # text | markdown | template_card
    body: dict[str, Any] = field(default_factory=dict)
    main: bool = False  # its reference is the notification's (a lead card)


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut_bytes(text: str, limit: int = TEXT_LIMIT) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "…"


def task_id(key: str) -> str:
    """WeCom's task_id: unique per app, only letters, digits and `_-@`, 128 bytes at most.
    Made from the outbox key so a retry of the same card carries the same task id."""
    clean = re.sub(r"[^A-Za-z0-9_\-@]", "-", key)
    return clean[-TASK_ID_LIMIT:]


def text(part: str, user_id: str, content: str) -> Message:
    return Message(part, wecom_userid(user_id), "text", {"content": cut_bytes(content)})


def markdown(part: str, user_id: str, content: str) -> Message:
    return Message(part, wecom_userid(user_id), "markdown", {"content": cut_bytes(content)})


def button_card(
    part: str,
    user_id: str,
    *,
    key: str,
    title: str,
    desc: str,
    rows: list[tuple[str, str]],
    buttons: list[tuple[str, str, int]],
    main: bool = False,
) -> Message:
    """A button_interaction template card; `buttons` are (label, key, style 1-4)."""
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": "ShareTrail"},
        "main_title": {"title": cut(title, TITLE_LIMIT), "desc": cut(desc, 40)},
        "task_id": task_id(key),
        "button_list": [
            {"text": cut(label, 20), "style": style, "key": button_key}
            for label, button_key, style in buttons[:6]
        ],
    }
    shown = [(name, value) for name, value in rows if value][:6]
    if shown:
        card["horizontal_content_list"] = [
            {"keyname": cut(name, 5), "value": cut(value, VALUE_LIMIT)} for name, value in shown
        ]
    return Message(part, wecom_userid(user_id), "template_card", card, main=main)


def button_key(action_id: str, item_id: int) -> str:
    return f"{action_id}:{item_id}"


# the notifications ------------------------------------------------------------------------


def activity_card(
    part: str, user_id: str, key: str, *, activity_id: int, name: str, when: str, note: str = ""
) -> Message:
    """An activity to share: the share-card button (Slack's announcement DM)."""
    return button_card(
        part,
        user_id,
        key=key,
        title=name,
        desc=when,
        rows=[(_("Note"), note)],
        buttons=[
            (_("Get my share card"), button_key(ids.GET_SHARE_CARD, activity_id), 1),
            (_("My stats"), button_key(ids.MY_STATS, activity_id), 4),
        ],
    )


def lead_card(event: LeadCreated | OutcomeReminder, key: str, *, user_id: str) -> Message:
    title = _("New lead: {name}") if isinstance(event, LeadCreated) else _("Outcome? {name}")
    return button_card(
        "sales" if isinstance(event, LeadCreated) else "remind-outcome",
        user_id,
        key=key,
        title=title.format(name=event.customer_name),
        desc=event.activity_name,
        rows=[
            (_("Phone"), event.customer_phone),
            (_("Company"), event.company),
            (_("Lead"), f"#{event.lead_id}"),
        ],
        buttons=[
            (_(OUTCOME_LABELS[action]), button_key(action, event.lead_id), style)
            for action, style in (
                (ids.LEAD_OUTCOME_ATTENDED, 1),
                (ids.LEAD_OUTCOME_NO_SHOW, 4),
                (ids.LEAD_OUTCOME_CONVERTED, 3),
            )
        ]
        # Clawback, as on Slack's lead DM (bot/points_marks.py): 5 buttons of WeCom's 6.
        + [
            (_(MARK_LABELS[action]), button_key(action, event.lead_id), 2)
            for action in (ids.LEAD_MARK_SPAM, ids.LEAD_MARK_DUPLICATE)
        ],
        main=isinstance(event, LeadCreated),
    )


def where(device: str, source: str) -> str:
    return _("on a {device}, via {source}").format(
        device=_(DEVICE.get(device, N_("device"))), source=_(SOURCE.get(source, N_("your link")))
    )


def render(event: Notification, key: str) -> list[Message]:
    """Every message one notification becomes on WeCom."""
    if isinstance(event, CardViewed):
        who = event.lead_name or _("Someone")
        again = _(" again (visit {n})").format(n=event.visits) if event.visits > 1 else ""
        return [
            text(
                "viewed",
                event.employee_user_id,
                _("👀 {who} is viewing your card for 《{activity}》{again}, {where}.").format(
                    who=who,
                    activity=event.activity_name,
                    again=again,
                    where=where(event.device, event.source),
                ),
            )
        ]
    if isinstance(event, ViewsTallied):
        # WeCom cannot edit a sent text: the count is a message of its own.
        return [
            text(
                "tally",
                event.employee_user_id,
                _("👀 {count} people viewed your card for 《{activity}》 (latest {where}).").format(
                    count=event.count,
                    activity=event.activity_name,
                    where=where(event.device, event.source),
                ),
            )
        ]
    if isinstance(event, LeadCreated):
        messages = []
        if event.audience in ("employee", "all"):
            by = (
                _("{name} will follow up.").format(
                    name=event.salesperson_name or _("A salesperson")
                )
                if event.salesperson_user_id
                else _("An admin will assign a salesperson.")
            )
            messages.append(
                text(
                    "employee",
                    event.employee_user_id,
                    _("🎉 {customer} signed up for 《{activity}》 through your card! {by}").format(
                        customer=event.customer_name, activity=event.activity_name, by=by
                    ),
                )
            )
        if event.salesperson_user_id and event.audience in ("salesperson", "all"):
            messages.append(lead_card(event, f"{key}-sales", user_id=event.salesperson_user_id))
        return messages
    if isinstance(event, OutcomeRecorded):
        return [
            text(
                "outcome",
                event.employee_user_id,
                _("📋 {customer} ({activity}): {outcome}.").format(
                    customer=event.customer_name,
                    activity=event.activity_name,
                    outcome=_(DONE_LABELS.get(event.outcome, event.outcome)),
                ),
            )
        ]
    if isinstance(event, AnnouncementClosed):
        return []  # WeCom messages cannot be edited: nothing to redraw
    if isinstance(event, ActivityAnnounced):
        return [
            activity_card(
                "announce",
                event.user_id,
                key,
                activity_id=event.activity_id,
                name=event.activity_name,
                when=event.when,
            )
        ]
    if isinstance(event, ShareReminder):
        return [
            activity_card(
                "remind-share",
                event.user_id,
                key,
                activity_id=event.activity_id,
                name=event.activity_name,
                when=event.when,
                note=_("Starts soon"),
            )
        ]
    if isinstance(event, OutcomeReminder):
        return [lead_card(event, key, user_id=event.salesperson_user_id)]
    if isinstance(event, NoRosterAlert):
        return [
            text(
                f"admin-{admin}",
                admin,
                _(
                    "⚠️ A customer signed up for 《{activity}》 (lead #{lead}) "
                    "but no salesperson is on the roster."
                ).format(activity=event.activity_name, lead=event.lead_id),
            )
            for admin in event.admin_user_ids
        ]
    if isinstance(event, DailyDigest):
        lines = "\n".join(
            _("> {activity}: {views} views, {signups} sign-ups").format(
                activity=line.activity_name, views=line.views, signups=line.signups
            )
            for line in event.lines
        )
        return [
            markdown(
                "digest",
                event.user_id,
                _("**Your ShareTrail day, {day}**").format(day=event.day) + "\n" + lines,
            )
        ]
    if isinstance(event, RedemptionDecided):
        return [text("redemption", event.user_id, decided_text(event))]
    if isinstance(event, RedemptionRequested):
        return [text("redemption-admin", event.admin_user_id, requested_text(event))]
    if isinstance(event, WeeklyReport):
        lines = "\n".join(
            _(
                "> {name} (#{id}): {views} views (+{week_views}), "
                "{signups} sign-ups (+{week_signups}), {attended} attended"
            ).format(
                name=line.name,
                id=line.activity_id,
                views=line.views,
                week_views=line.week_views,
                signups=line.signups,
                week_signups=line.week_signups,
                attended=line.attended,
            )
            for line in event.activities
        )
        return [
            markdown(
                "weekly",
                event.admin_user_id,
                _("**ShareTrail weekly report {week}**").format(week=event.week) + "\n" + lines,
            )
        ]
    if isinstance(event, ReviewWaiting):
        return [
            text(
                "review",
                event.admin_user_id,
                _(
                    "🔎 {flags} flagged item(s) ({points} points) wait for your review: "
                    "open Review in the ShareTrail web console (/console/review)."
                ).format(flags=event.flags, points=event.points),
            )
        ]
    if isinstance(event, ViewEngaged):
        seconds = max(1, round(event.dwell_ms / 1000))
        return [
            text(
                "read",
                event.employee_user_id,
                _("📖 They read for {seconds} s and scrolled {scroll}%.").format(
                    seconds=seconds, scroll=event.scroll_pct
                ),
            )
        ]
    if isinstance(event, CustomerReturned):
        return [
            text(
                "returned",
                event.thread.salesperson_user_id,
                _("🔁 {customer} is back on the page for 《{activity}》 (visit {n}).").format(
                    customer=event.customer_name, activity=event.activity_name, n=event.visits
                ),
            )
        ]
    if isinstance(event, ContactLogged):
        return [
            text(
                "contact",
                event.thread.salesperson_user_id,
                _("📝 Lead #{lead} {customer}: {kind} logged. {summary}").format(
                    lead=event.lead_id,
                    customer=event.customer_name,
                    kind=event.kind,
                    summary=event.summary,
                ),
            )
        ]
    if isinstance(event, CheckedIn):
        return [
            text(
                "checkin",
                event.thread.salesperson_user_id,
                _("📍 Lead #{lead} {customer}: checked in.").format(
                    lead=event.lead_id, customer=event.customer_name
                ),
            )
        ]
    raise TypeError(f"no WeCom rendering for {type(event).__name__}")
