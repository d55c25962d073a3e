"""Block Kit for spending points: the leaderboards, the redeem modal, redemption DMs."""

from __future__ import annotations

from typing import Any

from bot.i18n import _, ngettext, pgettext
from bot.leaderboards import Ranked
from bot.ledger import Balance
from bot.notifications import RedemptionDecided, RedemptionRequested
from handlers.slack import ids
from handlers.slack.blocks import (
    balance_line,
    context,
    points_count,
    section,
    signups_count,
    source_line,
)
from handlers.slack.markup import Block, Piece, Said, compose, escape, fill, plain_text
from store.models import Redemption, Reward
from store.queries import StatRow

MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


def ties_note() -> str:
    return _(
        "Equal points share a rank (1, 2, 2, 4). "
        "`/sharetrail me leaderboard off` takes you off the board, `on` puts you back."
    )


def leaderboard_blocks(
    title: str,
    rows: list[Ranked],
    by_source: dict[int, dict[str, StatRow]] | None = None,
    *,
    viewer_hidden: bool = False,
) -> list[Block]:
    """Rank lines (competition ranks), then how ties and the opt-out work."""
    blocks: list[Block] = [{"type": "header", "text": plain_text(title)}]
    if not rows:
        blocks.append(section(_("No points yet.")))
    else:
        lines = []
        for row in rows:
            medal = MEDALS.get(row.rank, f"{row.rank}.")
            line = f"{medal} <@{row.employee.user_id}> — *{points_count(row.points)}*"
            if row.signups is not None:
                line += " " + _("({visitors}, {signups}, {attended} attended)").format(
                    visitors=ngettext("{num} visitor", "{num} visitors", row.visitors or 0).format(
                        num=row.visitors
                    ),
                    signups=signups_count(row.signups),
                    attended=row.attended,
                )
            line += source_line((by_source or {}).get(row.employee.id or 0, {}))
            lines.append(line)
        blocks.append(section("\n".join(lines)))
    if viewer_hidden:
        blocks.append(
            context(_("You are not on the board: `/sharetrail me leaderboard on` to join it."))
        )
    blocks.append(context(ties_note()))
    return blocks


def redemption_decided(event: RedemptionDecided) -> tuple[str, list[Block]]:
    """The employee's DM: fulfilled or refused (refunded); names and the note verbatim."""
    if event.fulfilled:
        pieces: list[Piece] = [
            "🎁 ",
            *fill(
                _("Your reward {name} is ready: an admin fulfilled redemption #{id}."),
                name=Said(event.reward_name, strong=True),
                id=str(event.redemption_id),
            ),
        ]
    else:
        pieces = fill(
            ngettext(
                "Your redemption #{id} of {name} was refused; its {num} point is back in your "
                "available balance.",
                "Your redemption #{id} of {name} was refused; its {num} points are back in your "
                "available balance.",
                event.cost,
            ),
            id=str(event.redemption_id),
            name=Said(event.reward_name, strong=True),
            num=str(event.cost),
        )
    if event.note:
        pieces += ["\n" + _("Note from the admin:") + " ", Said(event.note)]
    return compose(*pieces)


def redemption_requested(event: RedemptionRequested) -> tuple[str, list[Block]]:
    """Each admin's DM of a new redemption: who, what, whether stock ran out, and a button
    to the console's fulfilment queue (a URL button; its action is acknowledged)."""
    line = _(
        "🎁 {employee} redeemed *{name}* for {cost} points (redemption #{id}); "
        "it waits in the fulfilment queue."
    ).format(
        employee=f"<@{event.employee_user_id}>",
        name=escape(event.reward_name),
        cost=event.cost,
        id=event.redemption_id,
    )
    if event.stock_left <= 0:
        line += "\n" + _("That was the last one: *{name}* is now out of stock.").format(
            name=escape(event.reward_name)
        )
    words: list[Block] = [section(line)]
    if event.queue_url:
        words.append(
            {
                "type": "actions",
                "block_id": "redemption_queue",
                "elements": [
                    {
                        "type": "button",
                        "text": plain_text(_("Open the fulfilment queue")),
                        "action_id": ids.HOME_CONSOLE,
                        "url": event.queue_url,
                    }
                ],
            }
        )
    return line, words


def _option(reward: Reward) -> dict[str, Any]:
    label = f"{reward.name} — " + _("{cost} ({stock} left)").format(
        cost=points_count(reward.cost), stock=reward.stock
    )
    if len(label) > 75:  # Slack's limit for an option's text
        label = label[:74] + "…"
    return {"text": plain_text(label, 75), "value": f"{reward.id}:{reward.cost}"}


def redeem_modal(balance: Balance, rewards: list[Reward]) -> dict[str, Any]:
    """The employee's available balance and the rewards in stock to pick from."""
    blocks: list[Block] = [
        section("*" + _("Your points") + f":* {balance_line(balance)}"),
        context(_("Only available points can be spent; pending ones become available later.")),
    ]
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": ids.REDEEM_MODAL,
        "title": plain_text(_("Redeem points"), 24),
        "close": plain_text(pgettext("dialog", "Close"), 24),
        "blocks": blocks,
    }
    if not rewards:
        blocks.append(section(_("Nothing is in stock right now. Ask an admin to add rewards.")))
        return view
    blocks.append(
        {
            "type": "input",
            "block_id": ids.BLOCK_REWARD,
            "label": plain_text(_("Reward")),
            "element": {
                "type": "static_select",
                "action_id": ids.VALUE,
                "placeholder": plain_text(_("Pick a reward")),
                "options": [_option(r) for r in rewards[:100]],
            },
        }
    )
    blocks.append(
        context(_("The points are taken at once; an admin fulfils it, or refuses and refunds."))
    )
    view["submit"] = plain_text(_("Redeem"), 24)
    return view


def redeemed_modal(redemption: Redemption, balance: Balance) -> dict[str, Any]:
    """What the modal turns into once the redemption is made."""
    pieces: list[Piece] = [
        "🎁 ",
        *fill(
            ngettext(
                "Redemption #{id}: {name} for {num} point. An admin will fulfil it; you will "
                "hear from me here.",
                "Redemption #{id}: {name} for {num} points. An admin will fulfil it; you will "
                "hear from me here.",
                redemption.cost,
            ),
            id=str(redemption.id),
            name=Said(redemption.reward_name, strong=True),
            num=str(redemption.cost),
        ),
    ]
    _text, words = compose(*pieces)
    return {
        "type": "modal",
        "callback_id": ids.REDEEM_MODAL,
        "title": plain_text(_("Redeem points"), 24),
        "close": plain_text(_("Done"), 24),
        "blocks": [
            *words,
            context(_("Points left: {balance}").format(balance=balance_line(balance))),
        ],
    }
