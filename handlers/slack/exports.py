"""`export ID` and the App Home's Export button: the CSV, named for its activity, by DM."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.service import ShareTrail
from handlers.slack.blocks import plural
from handlers.slack.markup import escape
from handlers.slack.uploads import dm_file


async def send_export(
    services: ShareTrail, client: AsyncWebClient, user_id: str, activity_id: int
) -> tuple[str, str]:
    """Upload the activity's CSV to the admin's DM; (the DM's channel id, activity name)."""
    await services.require_admin(user_id)
    activity = await services.activity(activity_id)
    csv_text = await services.export_csv(activity_id, audited_by=user_id)
    employees = csv_text.count("\n") - 1
    channel = await dm_file(
        client,
        user_id,
        content=csv_text.encode("utf-8"),
        filename=f"sharetrail-activity-{activity_id}.csv",
        title=f"ShareTrail export — {activity.name}",
        # A file comment cannot carry blocks: the activity name is escaped, not bold.
        comment=(
            f"Export of {escape(activity.name)} (activity {activity_id}): "
            f"{plural(employees, 'employee')}."
        ),
    )
    return channel, activity.name
