"""Block Kit for spending points: the leaderboards, the redeem modal, redemption DMs."""

from __future__ import annotations

from bot.i18n import _
from bot.leaderboards import Ranked
from bot.notifications import RedemptionDecided
from handlers.slack.blocks import context, plural, section, source_line
from handlers.slack.markup import Block, Piece, Said, compose, plain_text
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
            line = f"{medal} <@{row.employee.user_id}> — *{plural(row.points, 'pt')}*"
            if row.signups is not None:
                line += (
                    f" ({row.visitors} visitors, {row.signups} sign-ups, {row.attended} attended)"
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
            "🎁 Your reward ",
            Said(event.reward_name, strong=True),
            f" is ready: an admin fulfilled redemption #{event.redemption_id}.",
        ]
    else:
        pieces = [
            f"Your redemption #{event.redemption_id} of ",
            Said(event.reward_name, strong=True),
            f" was refused; its {plural(event.cost, 'point')} are back in your available balance.",
        ]
    if event.note:
        pieces += ["\nNote from the admin: ", Said(event.note)]
    return compose(*pieces)
