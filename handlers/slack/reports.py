"""Chart images for `/sharetrail stats ID`, uploaded to the person's DM."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.i18n import _
from bot.reports.service import RenderedChart
from bot.service import ShareTrail
from handlers.slack.markup import escape
from handlers.slack.uploads import dm_files


def _upload(chart: RenderedChart) -> dict[str, object]:
    return {
        "content": chart.content,
        "filename": chart.filename,
        "title": chart.title,
        "alt_txt": chart.title,
    }


async def send_stats_charts(
    services: ShareTrail, client: AsyncWebClient, user_id: str, activity_id: int
) -> str:
    """The last 14 days and the funnel of one activity as PNGs in the user's DM.

    Sent once per command: a Slack retry of the same command is acknowledged and dropped
    before it reaches the listener (handlers/main.py, `first_delivery`)."""
    charts = await services.reports.stats_charts(activity_id)
    return await dm_files(
        client,
        user_id,
        files=[_upload(chart) for chart in charts],
        # A file comment cannot carry blocks: the activity name is escaped.
        comment=_("Charts for {name} (activity {id}): the last 14 days and the funnel.").format(
            name=escape(charts[0].activity_name), id=activity_id
        ),
    )
