"""The App Home tab by role (bot/home.py gathers, home_blocks.py draws)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import i18n
from bot.home import home_data
from bot.service import ShareTrail
from handlers.slack import blocks, exports, home_blocks, ids
from handlers.slack.errors import reporting_errors, slack_error
from handlers.slack.parsing import parse_id
from handlers.slack.payloads import action_value, user_of

log = logging.getLogger(__name__)


async def publish_home(client: AsyncWebClient, services: ShareTrail, user_id: str) -> None:
    data = await home_data(services, user_id)

    def chart_url(activity_id: int, kind: str) -> str | None:
        # In the viewer's language (set per request, handlers/slack/app.py).
        return services.chart_links.url(activity_id, kind, locale=i18n.current_locale())

    view = home_blocks.home_view(
        data,
        chart_url=chart_url,
        console_url=f"{services.public_base_url.rstrip('/')}/console",
    )
    try:
        await client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        if slack_error(exc) != "invalid_blocks" or view == home_blocks.without_images(view):
            raise
        # Slack could not download a chart (a PUBLIC_BASE_URL it cannot reach): the rest.
        log.warning("App Home without charts: Slack refused the images (%s)", slack_error(exc))
        await client.views_publish(user_id=user_id, view=home_blocks.without_images(view))


async def app_home_opened(
    event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    if event.get("tab", "home") != "home":
        return
    await publish_home(client, context["services"], str(event.get("user", "")))


async def new_activity(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    await ack()
    await context["services"].require_admin(user_of(body))
    await client.views_open(trigger_id=body["trigger_id"], view=blocks.activity_modal())


async def export(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """The CSV goes to the admin's DM; the home stays as it is."""
    await ack()
    activity_id = parse_id(action_value(body))
    await exports.send_export(context["services"], client, user_of(body), activity_id)


async def acknowledge(ack: AsyncAck) -> None:
    """A URL button (Open console): the browser opens it; Slack still sends the tap."""
    await ack()


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(reporting_errors(app_home_opened))
    app.action(ids.HOME_NEW_ACTIVITY)(reporting_errors(new_activity))
    app.action(ids.HOME_EXPORT)(reporting_errors(export))
    app.action(ids.HOME_CONSOLE)(acknowledge)
    app.action(ids.OPEN_DM)(acknowledge)
