"""`export ID` and the App Home's Export button: the CSV, named for its activity, by DM."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.i18n import _, ngettext
from bot.service import ShareTrail
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
        title=_("ShareTrail export — {name}").format(name=activity.name),
        # A file comment cannot carry blocks: the activity name is escaped, not bold.
        comment=ngettext(
            "Export of {name} (activity {id}): {num} employee.",
            "Export of {name} (activity {id}): {num} employees.",
            employees,
        ).format(name=escape(activity.name), id=activity_id, num=employees),
    )
    return channel, activity.name
