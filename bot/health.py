"""Delivery health in words an admin can act on, with the thresholds that colour them.

Shared by `/sharetrail health`, the admin's App Home and /console/health.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import _, ngettext
from bot.outbox import OutboxHealth

BACKLOG_WARN = 100  # messages waiting: more than a few minutes of Slack's pace


@dataclass(frozen=True)
class Line:
    """One sentence of the health page; `level` is ok, warn or bad (its colour)."""

    level: str
    text: str


def message_kind(key: str) -> str:
    """What an outbox key was, in words (keys: bot/outbox.py and its callers)."""
    prefix = key.split(":", 1)[0]
    kinds = {
        "lead": _("a new sign-up DM"),
        "outcome": _("an outcome DM to the sharing employee"),
        "no-roster": _("the 'no salesperson on the roster' alert to admins"),
        "view-read": _("a 'how your card was read' DM"),
        "tally": _("a 'someone viewed your card' DM"),
        "broadcast": _("an activity announcement DM"),
        "digest": _("a daily digest DM"),
        "weekly": _("the weekly report to admins"),
        "remind-outcome": _("a reminder to record an outcome"),
    }
    return kinds.get(prefix, _("a message"))


def error_words(error: str) -> str:
    """Slack's error code explained for an admin, with what to do about it."""
    words = {
        "channel_not_found": _("the conversation no longer exists or the app cannot see it"),
        "not_in_channel": _("the app is not in that channel: invite it with /invite"),
        "is_archived": _("the channel is archived"),
        "user_not_found": _("Slack does not know that person (left the workspace?)"),
        "account_inactive": _("that person's account is deactivated"),
        "cannot_dm_bot": _("the recipient is a bot, which cannot get DMs"),
        "invalid_auth": _("the bot token is not valid: reinstall the app"),
        "token_revoked": _("the bot token was revoked: reinstall the app"),
        "missing_scope": _("the app lacks a permission: reinstall it from the manifest"),
        "invalid_blocks": _("Slack refused the message's layout (a bug: tell the developers)"),
        "msg_too_long": _("the message was too long for Slack"),
        "ratelimited": _("Slack asked us to slow down, and the retries ran out"),
        "interrupted": _("the server stopped while sending; it is retried"),
    }
    if error.startswith("http_"):
        return _("Slack answered with a server error ({code}); it is retried").format(code=error)
    return words.get(error, _("Slack answered '{code}'").format(code=error or "?"))


def explain(outbox: OutboxHealth, *, views_queued: int) -> list[Line]:
    """The state of delivery as sentences an admin can act on."""
    lines: list[Line] = []
    waiting = outbox.pending + outbox.sending
    if waiting == 0:
        lines.append(Line("ok", _("Every message has been sent; nothing is waiting.")))
    else:
        level = "warn" if waiting > BACKLOG_WARN else "ok"
        text = ngettext(
            "{n} message is waiting to be sent to Slack.",
            "{n} messages are waiting to be sent to Slack.",
            waiting,
        ).format(n=waiting)
        lines.append(Line(level, text))
    lines.append(
        Line(
            "ok",
            ngettext("{n} message sent so far.", "{n} messages sent so far.", outbox.sent).format(
                n=outbox.sent
            ),
        )
    )
    if outbox.failed:
        text = ngettext(
            "{n} message could not be delivered and will not be retried.",
            "{n} messages could not be delivered and will not be retried.",
            outbox.failed,
        ).format(n=outbox.failed)
        lines.append(Line("bad", text))
    if views_queued:
        text = ngettext(
            "{n} page view is being saved.", "{n} page views are being saved.", views_queued
        ).format(n=views_queued)
        lines.append(Line("ok", text))
    return lines


def sentence(text: str) -> str:
    """Upper-case the first letter only (str.capitalize lowers 'DM')."""
    return text[:1].upper() + text[1:]


def failures(outbox: OutboxHealth) -> list[str]:
    """The latest failures, each as 'what could not be sent: why'."""
    return [
        _("{what} could not be sent: {why}.").format(
            what=sentence(message_kind(key)), why=error_words(error)
        )
        for key, error in outbox.recent_failures
    ]
