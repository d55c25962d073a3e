"""Files to a user's DM with files_upload_v2 (getUploadURLExternal → upload → complete)."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

SHARE_LOOKS = (0.1, 0.2, 0.4, 0.8, 1.5, 3.0)  # seconds to wait before each files.info


async def dm_channel(client: AsyncWebClient, user_id: str) -> str:
    response = await client.conversations_open(users=user_id)
    return str(response["channel"]["id"])


async def dm_file(
    client: AsyncWebClient,
    user_id: str,
    *,
    content: bytes,
    filename: str,
    title: str,
    comment: str,
) -> str:
    """Upload into the user's DM and wait until the file message is there (so what is
    posted next follows it); returns the DM channel id."""
    channel = await dm_channel(client, user_id)
    response = await client.files_upload_v2(
        channel=channel,
        content=content,
        filename=filename,
        title=title,
        initial_comment=comment,
    )
    files = response.get("files") or [response.get("file") or {}]
    if files and files[0].get("id"):
        await shared_in(client, str(files[0]["id"]), channel)
    return channel


async def dm_files(
    client: AsyncWebClient,
    user_id: str,
    *,
    files: list[dict[str, object]],
    comment: str,
) -> str:
    """Several files in one DM message (each: content, filename, title, alt_txt)."""
    channel = await dm_channel(client, user_id)
    await client.files_upload_v2(channel=channel, file_uploads=files, initial_comment=comment)
    return channel


async def shared_in(client: AsyncWebClient, file_id: str, channel: str) -> str | None:
    """The ts of the file's message in `channel` once Slack has posted it: Slack shares a
    file asynchronously after files.completeUploadExternal, so look with files.info a few
    times (about 6 s in all); None if it is still not there."""
    for delay in SHARE_LOOKS:
        await asyncio.sleep(delay)
        try:
            shares = (await client.files_info(file=file_id))["file"].get("shares") or {}
        except SlackApiError as exc:  # the file is uploaded; only the order is at stake
            log.warning("files.info failed waiting for a share: %s", exc.response.get("error"))
            return None
        for kind in ("private", "public"):
            posted = (shares.get(kind) or {}).get(channel)
            if posted:
                return str(posted[0].get("ts", ""))
    log.warning("file %s was not shared in %s in time", file_id, channel)
    return None
