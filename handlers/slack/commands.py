"""/sharetrail and its subcommands (DESIGN.md section 4)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import health as health_mod
from bot.digests import DIGEST_HOUR
from bot.errors import InvalidInput
from bot.home import open_leads
from bot.i18n import N_, _, format_number, ngettext
from bot.roles import on_a_roster
from bot.service import ShareTrail
from handlers.slack import (
    blocks,
    broadcast,
    exports,
    home_blocks,
    publishing,
    records_blocks,
    reports,
    rewards_blocks,
)
from handlers.slack.errors import reporting_errors
from handlers.slack.markup import ChannelRef, Mention, Piece, Said, compose, escape, fill
from handlers.slack.parsing import parse_channel, parse_id, parse_users


class ReplyRefused(Exception):
    """Slack answered the response_url post with an error (e.g. `invalid_blocks`)."""


@dataclass
class Invocation:
    services: ShareTrail
    client: AsyncWebClient
    respond: AsyncRespond
    user_id: str
    channel_id: str
    trigger_id: str
    args: list[str]

    async def reply(self, text: str, **extra: Any) -> None:
        response = await self.respond(text=text, response_type="ephemeral", **extra)
        if response.status_code != 200:  # bolt's respond never raises: say it went wrong
            raise ReplyRefused(f"Slack refused the reply: {response.status_code} {response.body}")


Subcommand = Callable[[Invocation], Awaitable[None]]


async def help_for(inv: Invocation) -> str:
    is_admin = await inv.services.is_admin(inv.user_id)
    async with inv.services.db.session() as session:
        is_salesperson = await on_a_roster(session=session, user_id=inv.user_id)
    return blocks.help_text(is_admin=is_admin, is_salesperson=is_salesperson)


async def cmd_help(inv: Invocation) -> None:
    await inv.reply(await help_for(inv))


async def cmd_leads(inv: Invocation) -> None:
    """The salesperson's open leads (as on their Home tab), LEADS_PAGE a page."""
    page = parse_id(inv.args[0], "page") if inv.args else 1
    leads = await open_leads(inv.services, inv.user_id)
    await inv.reply(_("Your leads"), blocks=home_blocks.leads_page(leads, page))


async def cmd_new(inv: Invocation) -> None:
    await inv.services.require_admin(inv.user_id)
    await inv.client.views_open(
        trigger_id=inv.trigger_id, view=blocks.activity_modal(channel_id=None)
    )


async def cmd_list(inv: Invocation) -> None:
    page = parse_id(inv.args[0], "page") if inv.args else 1
    activities = await inv.services.activities()
    await inv.reply(_("Activities"), blocks=blocks.activity_list_blocks(activities, page))


async def cmd_publish(inv: Invocation) -> None:
    await inv.services.require_admin(inv.user_id)
    dm_all = "--dm-all" in inv.args
    args = [a for a in inv.args if a != "--dm-all"]
    activity = await inv.services.activity(parse_id(args[0] if args else None))
    if activity.status == "closed":
        raise InvalidInput(
            _("Activity {id} is closed; it cannot be published.").format(id=activity.id)
        )
    channel = None
    if len(args) > 1:
        channel = parse_channel(args[1])
        if channel is None:
            raise InvalidInput(_("`{text}` is not a channel. Use `#channel`.").format(text=args[1]))
    channel = channel or activity.channel_id or inv.channel_id
    activity = await publishing.publish(
        inv.services, inv.client, activity, channel, by_user_id=inv.user_id
    )
    text, words = compose(
        *fill(
            _("Published {name} in {channel}."),
            name=Said(activity.name, strong=True),
            channel=ChannelRef(str(activity.channel_id)),
        )
    )
    await inv.reply(text, blocks=words)
    if dm_all:
        assert activity.id is not None
        status = await broadcast.announce_to_everyone(
            inv.services, inv.client, activity.id, admin_user_id=inv.user_id
        )
        await inv.reply(
            ngettext(
                "Announcing it by DM to {num} person; I will keep you posted in our DM.",
                "Announcing it by DM to {num} people; I will keep you posted in our DM.",
                status.queued,
            ).format(num=format_number(status.queued))
        )


async def cmd_close(inv: Invocation) -> None:
    activity_id = parse_id(inv.args[0] if inv.args else None)
    activity = await inv.services.close_activity(activity_id, by_user_id=inv.user_id)
    await publishing.refresh(inv.client, activity)
    text, words = compose(
        *fill(
            _("Closed {name}. Its links keep working; no new cards."),
            name=Said(activity.name, strong=True),
        )
    )
    await inv.reply(text, blocks=words)


async def cmd_sales(inv: Invocation) -> None:
    action = inv.args[0].lower() if inv.args else "list"
    if action == "list":
        roster = await inv.services.salespeople()
        listing = ", ".join(f"<@{user}>" for user in roster) or _("nobody yet")
        await inv.reply(_("*Salespeople (global roster):* {listing}").format(listing=listing))
        return
    if action not in ("add", "remove"):
        raise InvalidInput(_("Use `sales add @user …`, `sales remove @user …` or `sales list`."))
    users = parse_users(inv.args[1:])
    if action == "add":
        added = await inv.services.add_salespeople(users, by_user_id=inv.user_id)
        names = ", ".join(f"<@{u}>" for u in added) or _("nobody new (already on the roster)")
        await inv.reply(_("Added to the roster: {names}.").format(names=names))
    else:
        removed = await inv.services.remove_salespeople(users, by_user_id=inv.user_id)
        names = ", ".join(f"<@{u}>" for u in removed)
        await inv.reply(_("Removed from the roster: {names}.").format(names=names))


async def cmd_stats(inv: Invocation) -> None:
    if not inv.args:
        activities = await inv.services.activities()
        if not activities:
            await inv.reply(_("No activities yet."))
            return
        report_blocks: list[dict[str, Any]] = []
        for activity in activities[:5]:
            assert activity.id is not None
            report_blocks += blocks.report_blocks(await inv.services.report(activity.id))
            report_blocks.append({"type": "divider"})
        await inv.reply(_("Activity stats"), blocks=report_blocks[:50])
        return
    report = await inv.services.report(parse_id(inv.args[0]))
    title = _("Stats for {name}").format(name=escape(report.activity.name))
    await inv.reply(title, blocks=blocks.report_blocks(report))
    assert report.activity.id is not None
    await reports.send_stats_charts(inv.services, inv.client, inv.user_id, report.activity.id)


async def cmd_leaderboard(inv: Invocation) -> None:
    """`leaderboard [ID]`, `leaderboard month [YYYY-MM]`, `leaderboard quarter [YYYY-Qn]`."""
    spending = inv.services.spending
    kind = inv.args[0].lower() if inv.args else ""
    by_source = None
    if kind in ("month", "quarter"):
        season = spending.season(kind, inv.args[1] if len(inv.args) > 1 else None)
        rows = await spending.board(season=season)
        title = _("Leaderboard — {season} (UTC)").format(season=season.label)
    else:
        activity_id = parse_id(inv.args[0]) if inv.args else None
        rows = await spending.board(activity_id=activity_id)
        title = _("Leaderboard — all activities")
        if activity_id is not None:
            name = (await inv.services.activity(activity_id)).name
            title = _("Leaderboard — {name}").format(name=name)
        by_source = await inv.services.records.source_breakdown(activity_id)
    hidden = not await spending.on_board(inv.user_id)
    await inv.reply(
        escape(title),
        blocks=rewards_blocks.leaderboard_blocks(title, rows, by_source, viewer_hidden=hidden),
    )


async def cmd_export(inv: Invocation) -> None:
    activity_id = parse_id(inv.args[0] if inv.args else None)
    channel, name = await exports.send_export(inv.services, inv.client, inv.user_id, activity_id)
    template = (
        _("The CSV of {name} is above.")
        if channel == inv.channel_id
        else _("The CSV of {name} is in our direct message.")
    )
    text, words = compose(*fill(template, name=Said(name, strong=True)))
    await inv.reply(text, blocks=words)


NOTIFY_USAGE = N_(
    "Use `me notify on|off` (live alerts) or `me notify digest on|off` (a daily summary)."
)


async def cmd_me(inv: Invocation) -> None:
    if inv.args and inv.args[0].lower() == "notify":
        await _set_notify(inv, [a.lower() for a in inv.args[1:]])
        return
    if inv.args and inv.args[0].lower() == "leaderboard":
        await _set_leaderboard(inv, [a.lower() for a in inv.args[1:]])
        return
    page = parse_id(inv.args[0], "page") if inv.args else 1
    overview, settings = await inv.services.overview(inv.user_id)
    await inv.reply(_("Your ShareTrail numbers"), blocks=blocks.me_blocks(overview, settings, page))


async def _set_notify(inv: Invocation, args: list[str]) -> None:
    """`me notify on|off` or `me notify digest on|off`."""
    if len(args) == 1 and args[0] in ("on", "off"):
        await inv.services.set_notify(inv.user_id, live=args[0] == "on")
        await inv.reply(
            _("Live view notifications are now on.")
            if args[0] == "on"
            else _("Live view notifications are now off.")
        )
    elif len(args) == 2 and args[0] == "digest" and args[1] in ("on", "off"):
        await inv.services.set_notify(inv.user_id, digest=args[1] == "on")
        if args[1] == "on":
            await inv.reply(
                _(
                    "Daily digest on: every morning at {hour}:00 your time, on days with "
                    "something to tell."
                ).format(hour=f"{DIGEST_HOUR:02d}")
            )
        else:
            await inv.reply(_("Daily digest off: no more."))
    else:
        raise InvalidInput(_(NOTIFY_USAGE))


LEADERBOARD_USAGE = N_(
    "Use `me leaderboard off` (leave the public leaderboards) or `me leaderboard on`."
)


async def _set_leaderboard(inv: Invocation, args: list[str]) -> None:
    """`me leaderboard on|off`, parsed like `me notify on|off`."""
    if len(args) != 1 or args[0] not in ("on", "off"):
        raise InvalidInput(_(LEADERBOARD_USAGE))
    await inv.services.spending.set_on_board(inv.user_id, args[0] == "on")
    if args[0] == "on":
        await inv.reply(_("You are on the leaderboards again."))
    else:
        await inv.reply(
            _(
                "You are off the public leaderboards; your points and rewards are unchanged. "
                "`/sharetrail me leaderboard on` puts you back."
            )
        )


async def cmd_lead(inv: Invocation) -> None:
    lead_id = parse_id(inv.args[0] if inv.args else None, "lead")
    lead, activity, employee = await inv.services.visible_lead(lead_id, user_id=inv.user_id)
    phone = lead.phone if lead.salesperson_id == inv.user_id else mask_phone(lead.phone)
    if await inv.services.is_admin(inv.user_id):
        phone = lead.phone
    sales: Piece = Mention(lead.salesperson_id) if lead.salesperson_id else _("unassigned")
    text, words = compose(
        *fill(
            _(
                "Lead #{id}: {name} ({phone}) for {activity}\nShared by {employee} via "
                "{source} · salesperson {salesperson} · {outcome}"
            ),
            id=str(lead.id),
            name=Said(lead.name),
            phone=Said(phone),
            activity=Said(activity.name),
            employee=Mention(employee.user_id),
            source=blocks.source_label(lead.source),
            salesperson=sales,
            outcome=blocks.outcome_label(lead.outcome),
        )
    )
    assert lead.id is not None
    await inv.reply(text, blocks=[*words, records_blocks.timeline_button(lead.id)])


def mask_phone(phone: str) -> str:
    return phone[:3] + "*" * max(len(phone) - 5, 0) + phone[-2:] if len(phone) > 5 else "***"


async def cmd_health(inv: Invocation) -> None:
    """Delivery in words, coloured by thresholds (bot/health.py): admins only."""
    await inv.services.require_admin(inv.user_id)
    services = inv.services
    outbox = await services.outbox.health()
    marks = {"ok": "✅", "warn": "⚠️", "bad": "❌"}
    lines = [
        f"{marks[line.level]} {escape(line.text)}"
        for line in health_mod.explain(outbox, views_queued=services.recorder.pending)
    ]
    if await services.database_answers():
        lines.insert(0, "✅ " + _("The database answers."))
    else:
        lines.insert(0, "❌ " + _("The database does not answer: nothing can be saved."))
    lines += [f"❌ {escape(text)}" for text in health_mod.failures(outbox)]
    thresholds = _(
        "⚠️ when more than {num} messages wait; ❌ when a message could not be delivered."
    ).format(num=health_mod.BACKLOG_WARN)
    title = "*" + _("ShareTrail health") + "*"
    await inv.reply(title + "\n" + "\n".join(lines) + f"\n_{thresholds}_")


SUBCOMMANDS: dict[str, Subcommand] = {
    "help": cmd_help,
    "leads": cmd_leads,
    "new": cmd_new,
    "list": cmd_list,
    "publish": cmd_publish,
    "close": cmd_close,
    "sales": cmd_sales,
    "stats": cmd_stats,
    "leaderboard": cmd_leaderboard,
    "export": cmd_export,
    "me": cmd_me,
    "lead": cmd_lead,
    "health": cmd_health,
}


async def handle_sharetrail(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: dict[str, Any],
) -> None:
    await ack()
    words = str(command.get("text") or "").split()
    name = words[0].lower() if words else "help"
    subcommand = SUBCOMMANDS.get(name)
    invocation = Invocation(
        services=context["services"],
        client=client,
        respond=respond,
        user_id=str(command.get("user_id", "")),
        channel_id=str(command.get("channel_id", "")),
        trigger_id=str(command.get("trigger_id", "")),
        args=words[1:],
    )
    if subcommand is None:
        help_text = await help_for(invocation)
        unknown = _("I don't know `{name}`.").format(name=escape(name))
        await invocation.reply(f"{unknown}\n\n{help_text}")
        return
    await subcommand(invocation)


def register(app: AsyncApp) -> None:
    app.command("/sharetrail")(reporting_errors(handle_sharetrail))
