"""App Home's "Redeem points": the modal (balance, rewards in stock) and its submission,
which debits at once or says why not (not enough points, sold out) in the modal."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import DomainError
from bot.i18n import _
from bot.service import ShareTrail
from handlers.slack import ids, rewards_blocks
from handlers.slack.errors import reporting_errors
from handlers.slack.payloads import user_of


async def open_redeem(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    await ack()
    services: ShareTrail = context["services"]
    user_id = user_of(body)
    balance = await services.spending.balance(user_id)
    rewards = [r for r in await services.spending.catalogue() if r.stock > 0]
    await client.views_open(
        trigger_id=body["trigger_id"], view=rewards_blocks.redeem_modal(balance, rewards)
    )


def _picked(view: dict[str, Any]) -> tuple[int, int] | None:
    """(reward id, cost the employee saw) from the select; None if missing or garbled."""
    values = ((view.get("state") or {}).get("values") or {}).get(ids.BLOCK_REWARD) or {}
    option = (values.get(ids.VALUE) or {}).get("selected_option") or {}
    raw = str(option.get("value") or "")
    reward, _, cost = raw.partition(":")
    if not (reward.isascii() and reward.isdigit() and cost.isascii() and cost.isdigit()):
        return None
    if len(reward) > 9 or len(cost) > 9:
        return None
    return int(reward), int(cost)


async def submit_redeem(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    services: ShareTrail = context["services"]
    user_id = user_of(body)
    picked = _picked(view)
    if picked is None:
        await ack(response_action="errors", errors={ids.BLOCK_REWARD: _("Pick a reward.")})
        return
    try:
        redemption = await services.spending.redeem(user_id, picked[0], expected_cost=picked[1])
    except DomainError as exc:
        await ack(response_action="errors", errors={ids.BLOCK_REWARD: str(exc)[:150]})
        return
    balance = await services.spending.balance(user_id)
    await ack(response_action="update", view=rewards_blocks.redeemed_modal(redemption, balance))


def register(app: AsyncApp) -> None:
    app.action(ids.REDEEM_POINTS)(reporting_errors(open_redeem))
    app.view(ids.REDEEM_MODAL)(reporting_errors(submit_redeem))
