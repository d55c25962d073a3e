"""Files to a user's DM with files_upload_v2 (getUploadURLExternal → upload → complete).

Exactly once: when the answer is lost after the file may have been shared (a 5xx, a
dropped connection, a timeout), the DM is searched for a message sharing files with
these titles before the upload is tried again (once). The client never repeats
files.completeUploadExternal by itself (app.make_client).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from handlers.slack.errors import slack_error
from handlers.slack.stamps import api_method, find_message, unclear

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
    response = await upload_once(
        client,
        [title],
        channel=channel,
        content=content,
        filename=filename,
        title=title,
        initial_comment=comment,
    )
    if response is None:  # found already shared after a lost answer
        return channel
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
    titles = [str(f.get("title") or f.get("filename")) for f in files]
    await upload_once(client, titles, channel=channel, file_uploads=files, initial_comment=comment)
    return channel


async def upload_once(
    client: AsyncWebClient, titles: list[str], **upload: Any
) -> AsyncSlackResponse | None:
    """files_upload_v2; after an unclear failure, upload again only if the channel has
    no message sharing files with these titles. None: the first upload was shared."""
    started = datetime.now(UTC)
    try:
        return await client.files_upload_v2(**upload)
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        if not unclear(exc):
            raise
        if await was_shared(client, str(upload["channel"]), titles, started, exc):
            return None
        return await client.files_upload_v2(**upload)


async def was_shared(
    client: AsyncWebClient, channel: str, titles: list[str], since: datetime, error: Exception
) -> bool:
    """Did an upload that failed unclearly share its files after all? Slack shares a
    moment after files.completeUploadExternal, so look as long as that may take; a
    failure before the complete step shared nothing."""
    if isinstance(error, SlackApiError) and api_method(error) != "files.completeUploadExternal":
        return False
    for delay in (0.0, *SHARE_LOOKS):
        await asyncio.sleep(delay)
        if await find_message(client, channel, since, sharing(titles)) is not None:
            return True
    return False


def sharing(titles: list[str]) -> Callable[[dict[str, Any]], bool]:
    """Does a message share files with all these titles?"""

    def match(message: dict[str, Any]) -> bool:
        shared = {str(f.get("title")) for f in message.get("files") or [] if isinstance(f, dict)}
        return bool(shared) and set(titles) <= shared

    return match


async def shared_in(client: AsyncWebClient, file_id: str, channel: str) -> str | None:
    """The ts of the file's message in `channel` once Slack has posted it: Slack shares a
    file asynchronously after files.completeUploadExternal, so look with files.info a few
    times (about 6 s in all); None if it is still not there."""
    for delay in SHARE_LOOKS:
        await asyncio.sleep(delay)
        try:
            shares = (await client.files_info(file=file_id))["file"].get("shares") or {}
        except SlackApiError as exc:  # the file is uploaded; only the order is at stake
            log.warning("files.info failed waiting for a share: %s", slack_error(exc))
            return None
        for kind in ("private", "public"):
            posted = (shares.get(kind) or {}).get(channel)
            if posted:
                return str(posted[0].get("ts", ""))
    log.warning("file %s was not shared in %s in time", file_id, channel)
    return None
