"""What ShareTrail does with a WeCom callback, after WeCom has had its answer.

Text runs the same subcommands as Slack's `/sharetrail` (DESIGN.md section 8), in English
or Chinese; a tap on a template card (`template_card_event`, EventKey `ACTION_ID:ID`) runs
the same service call as the Slack button with that action_id, then turns the card's
buttons into one grey label with the event's ResponseCode (update_template_card: usable
once, within 72 hours); opening the app (`enter_agent`) sends the person's home at most
once a day; the app's menu (`click`) offers the share cards, one's numbers and the console.
Replies go straight to the person (answers to their own action, like Slack's ephemeral
messages); what others are told goes through the outbox.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.activities import format_when
from bot.errors import DomainError, InvalidInput, NotFound
from bot.i18n import N_, _, use_locale
from bot.platforms import wecom_user_id
from bot.records import mask_phone
from bot.service import ShareTrail
from handlers.slack import ids
from handlers.wecom import messages
from handlers.wecom.api import WeComApi, WeComError
from handlers.wecom.callbacks import Callback

log = logging.getLogger(__name__)

# The app's custom menu (应用自定义菜单, click buttons): 获取分享卡, 我的数据, 管理后台.
MENU_SHARE_CARDS = "menu_share_cards"
MENU_MY_NUMBERS = "menu_my_numbers"
MENU_CONSOLE = "menu_console"

COMMANDS = {
    "help": "help",
    "帮助": "help",
    "list": "list",
    "活动": "list",
    "me": "me",
    "我的": "me",
    "stats": "stats",
    "数据": "stats",
    "leaderboard": "leaderboard",
    "排行榜": "leaderboard",
    "lead": "lead",
    "线索": "lead",
}
HELP = N_(
    "ShareTrail commands (English or 中文):\n"
    "help / 帮助 — this list\n"
    "list / 活动 — the activities\n"
    "me / 我的 — your numbers\n"
    "stats / 数据 [ID] — an activity's numbers\n"
    "leaderboard / 排行榜 [ID] — the top sharers\n"
    "lead / 线索 ID — one of your leads"
)
MARKED_SPAM = N_("Lead #{lead} marked spam: {points} points taken back.")
MARKED_DUPLICATE = N_("Lead #{lead} marked duplicate: {points} points taken back.")
MAX_CARDS = 3  # activity cards sent by the menu at once
LOCALE = "zh"  # WeCom is Chinese first (issue 16 §4): every WeCom surface speaks zh


@dataclass
class WeComBot:
    """The WeCom adapter's long-lived parts."""

    services: ShareTrail
    api: WeComApi
    console_url: str

    # replies -------------------------------------------------------------------------------

    async def reply(self, userid: str, content: str) -> None:
        try:
            await self.api.send(userid, "text", {"content": messages.cut_bytes(content)})
        except WeComError as exc:
            log.warning("WeCom refused a reply: %s", exc.code)

    async def send_card(self, message: messages.Message) -> None:
        try:
            await self.api.send(message.touser, message.msgtype, message.body)
        except WeComError as exc:
            log.warning("WeCom refused a card: %s", exc.code)

    # dispatch ------------------------------------------------------------------------------

    async def handle(self, callback: Callback) -> None:
        """Never raises: a failure is told to the person when it is theirs to fix."""
        userid = callback.from_user
        user_id = wecom_user_id(userid)
        with use_locale(LOCALE):
            await self._handle(userid, user_id, callback)

    async def _handle(self, userid: str, user_id: str, callback: Callback) -> None:
        try:
            if callback.msg_type == "text":
                await self.command(userid, user_id, callback.content)
            elif callback.msg_type == "event" and callback.event == "template_card_event":
                await self.tap(userid, user_id, callback)
            elif callback.msg_type == "event" and callback.event == "enter_agent":
                await self.home_once(userid, user_id)
            elif callback.msg_type == "event" and callback.event == "click":
                await self.menu(userid, user_id, callback.event_key)
        except DomainError as exc:
            await self.reply(userid, str(exc))
        except WeComError as exc:
            log.warning("WeCom refused a call while handling a callback: %s", exc)

    # text commands -----------------------------------------------------------------------

    async def command(self, userid: str, user_id: str, content: str) -> None:
        words = content.split()
        name = COMMANDS.get(words[0].lower()) if words else "help"
        args = words[1:]
        if name is None or name == "help":
            await self.reply(userid, _(HELP))
        elif name == "list":
            await self.reply(userid, await self.activity_list())
        elif name == "me":
            await self.reply(userid, await self.numbers(user_id))
        elif name == "stats":
            await self.reply(userid, await self.stats(parse_id(args)))
        elif name == "leaderboard":
            await self.reply(userid, await self.leaderboard(parse_id(args) if args else None))
        elif name == "lead":
            await self.reply(userid, await self.lead(user_id, parse_id(args)))

    async def activity_list(self) -> str:
        shown = [a for a in await self.services.activities() if a.status != "closed"][:10]
        if not shown:
            return _("No activities yet.")
        lines = [f"#{a.id} 《{a.name}》 {format_when(a)}" for a in shown]
        return _("Activities:") + "\n" + "\n".join(lines)

    async def numbers(self, user_id: str) -> str:
        overview, _settings = await self.services.overview(user_id)
        if not overview:
            return _("You have not shared an activity yet. Open the menu: 获取分享卡.")
        lines = [
            _("《{name}》: {views} views, {signups} sign-ups, {points} points").format(
                name=activity.name, views=row.views, signups=row.signups, points=row.points
            )
            for activity, row in overview[:10]
        ]
        return _("Your numbers:") + "\n" + "\n".join(lines)

    async def stats(self, activity_id: int) -> str:
        report = await self.services.report(activity_id)
        totals = report.totals
        return _(
            "《{name}》: {views} views ({visitors} people), {signups} sign-ups, "
            "{attended} attended, {converted} converted, {sharers} sharers"
        ).format(
            name=report.activity.name,
            views=totals.views,
            visitors=totals.unique_visitors,
            signups=totals.signups,
            attended=totals.attended,
            converted=totals.converted,
            sharers=report.sharers,
        )

    async def leaderboard(self, activity_id: int | None) -> str:
        rows = await self.services.leaderboard(activity_id)
        if not rows:
            return _("Nobody has shared yet.")
        lines = [
            _("{rank}. {name}: {points} points").format(
                rank=rank, name=employee.name or employee.user_id, points=row.points
            )
            for rank, (employee, row) in enumerate(rows, start=1)
        ]
        return _("Leaderboard:") + "\n" + "\n".join(lines)

    async def lead(self, user_id: str, lead_id: int) -> str:
        lead, activity, employee = await self.services.visible_lead(lead_id, user_id=user_id)
        see_phone = lead.salesperson_id == user_id or await self.services.is_admin(user_id)
        outcome = messages.DONE_LABELS.get(lead.outcome or "", N_("no outcome yet"))
        return _(
            "Lead #{id}: {name} ({phone}) for 《{activity}》, shared by {employee}; {outcome}"
        ).format(
            id=lead.id,
            name=lead.name,
            phone=lead.phone if see_phone else mask_phone(lead.phone),
            activity=activity.name,
            employee=employee.name or employee.user_id,
            outcome=_(outcome),
        )

    # taps ----------------------------------------------------------------------------------

    async def tap(self, userid: str, user_id: str, callback: Callback) -> None:
        action, _sep, raw_id = callback.event_key.partition(":")
        if not raw_id.isdigit():
            log.info("ignored a card tap with an unknown key")
            return
        item_id = int(raw_id)
        if action == ids.GET_SHARE_CARD:
            await self.share_card(userid, user_id, item_id)
        elif action == ids.MY_STATS:
            activity, row = await self.services.my_stats(user_id, item_id)
            await self.reply(
                userid,
                _("《{name}》: {views} views, {signups} sign-ups, {points} points").format(
                    name=activity.name, views=row.views, signups=row.signups, points=row.points
                ),
            )
        elif action in ids.OUTCOME_BY_ACTION:
            outcome = ids.OUTCOME_BY_ACTION[action]
            await self.services.set_outcome(item_id, outcome, by_user_id=user_id)
            if callback.response_code:
                await self.api.update_card(
                    userid, callback.response_code, _(messages.DONE_LABELS[outcome])
                )
        elif action in ids.MARK_BY_ACTION:
            await self.mark(userid, user_id, item_id, ids.MARK_BY_ACTION[action], callback)

    async def mark(
        self, userid: str, user_id: str, lead_id: int, mark: str, callback: Callback
    ) -> None:
        """Spam or duplicate: the same service call as Slack's button, which checks on the
        server that the tapper is the lead's salesperson or an admin (Forbidden otherwise,
        told to them); the points are reversed by new ledger rows."""
        result = await self.services.points.mark_lead(lead_id, mark, by_user_id=user_id)
        if callback.response_code and result.changed:
            await self.api.update_card(
                userid, callback.response_code, _(messages.MARKED_LABELS[mark])
            )
        if result.changed:
            told = MARKED_SPAM if mark == "spam" else MARKED_DUPLICATE
            await self.reply(userid, _(told).format(lead=lead_id, points=result.reversed_points))
        else:
            await self.reply(userid, _("This lead was already marked; nothing changed."))

    async def share_card(self, userid: str, user_id: str, activity_id: int) -> None:
        """The card image (media/upload, then an image message), then the link as text."""
        card = await self.services.share_card(user_id, activity_id)
        media_id = await self.api.upload_image(card.png, f"sharetrail-{activity_id}.png")
        await self.api.send(userid, "image", {"media_id": media_id})
        await self.reply(
            userid,
            _("Your link for 《{name}》 (share it, or the card above): {url}").format(
                name=card.activity.name, url=card.url
            ),
        )

    # opening the app and its menu ------------------------------------------------------

    async def home_once(self, userid: str, user_id: str) -> None:
        day = datetime.now(UTC).date().isoformat()
        if not await self.services.first_delivery(f"wecom:home:{userid}:{day}"):
            return
        await self.reply(userid, await self.home(user_id))

    async def home(self, user_id: str) -> str:
        return "\n\n".join(
            [
                _("Welcome to ShareTrail."),
                await self.activity_list(),
                await self.numbers(user_id),
                HELP,
            ]
        )

    async def menu(self, userid: str, user_id: str, key: str) -> None:
        if key == MENU_SHARE_CARDS:
            open_ones = [a for a in await self.services.activities() if a.status == "published"][
                :MAX_CARDS
            ]
            if not open_ones:
                await self.reply(userid, _("No activities to share right now."))
            for activity in open_ones:
                assert activity.id is not None
                await self.send_card(
                    messages.activity_card(
                        "menu",
                        user_id,
                        f"menu-{uuid.uuid4().hex}",
                        activity_id=activity.id,
                        name=activity.name,
                        when=format_when(activity),
                    )
                )
        elif key == MENU_MY_NUMBERS:
            await self.reply(userid, await self.numbers(user_id))
        elif key == MENU_CONSOLE:
            await self.reply(userid, _("The console: {url}").format(url=self.console_url))


def parse_id(args: list[str]) -> int:
    if not args or not args[0].lstrip("#").isdigit():
        raise InvalidInput(_("Add the number, e.g. `stats 12` / `数据 12`."))
    value = int(args[0].lstrip("#"))
    if value <= 0 or value > 2**31:
        raise NotFound(_("There is no number {id}.").format(id=value))
    return value
