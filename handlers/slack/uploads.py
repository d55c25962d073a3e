"""Files to a user's DM with files_upload_v2 (getUploadURLExternal → upload → complete)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient


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
    """Upload into the user's DM; returns the DM channel id."""
    channel = await dm_channel(client, user_id)
    await client.files_upload_v2(
        channel=channel,
        content=content,
        filename=filename,
        title=title,
        initial_comment=comment,
    )
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
