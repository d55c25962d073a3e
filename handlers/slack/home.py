"""The App Home tab: the employee's activities and numbers."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.service import ShareTrail
from handlers.slack import blocks
from handlers.slack.errors import reporting_errors


async def publish_home(client: AsyncWebClient, services: ShareTrail, user_id: str) -> None:
    overview, _ = await services.overview(user_id)
    open_activities = [a for a in await services.activities() if a.status == "published"]
    balance = await services.points.balance(user_id)
    await client.views_publish(
        user_id=user_id, view=blocks.home_view(overview, open_activities, balance)
    )


async def app_home_opened(
    event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    if event.get("tab", "home") != "home":
        return
    await publish_home(client, context["services"], str(event.get("user", "")))


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(reporting_errors(app_home_opened))
