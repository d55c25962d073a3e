"""Listeners for what happens after a share: tagged links, contact records, check-ins,
timelines, and files dropped into a lead's thread."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import Forbidden, InvalidInput, NotFound
from bot.i18n import _
from bot.records import FileMeta, size_label
from bot.service import ShareTrail
from handlers.slack import ids, records_blocks
from handlers.slack.errors import reporting_errors, slack_error
from handlers.slack.markup import Piece, Said, compose
from handlers.slack.parsing import parse_id
from handlers.slack.payloads import action_value, user_of

log = logging.getLogger(__name__)


def file_meta(file: dict[str, Any]) -> FileMeta:
    """Our copy of the metadata Slack sends for a file (payload, event or files.info)."""
    size = file.get("size")
    return FileMeta(
        id=str(file.get("id", "")),
        name=str(file.get("name") or file.get("title") or ""),
        mimetype=str(file.get("mimetype") or ""),
        size=int(size) if isinstance(size, int | float) and not isinstance(size, bool) else None,
        url=str(file.get("permalink") or file.get("url_private") or ""),
    )


async def complete_file(client: AsyncWebClient, file: dict[str, Any]) -> FileMeta:
    """Slack may send a file as a stub ("file_access": "check_file_info"); ask for the rest."""
    meta = file_meta(file)
    if meta.size is not None and meta.name:
        return meta
    response = await client.files_info(file=meta.id)
    return file_meta(dict(response["file"]))


# --- share_link_for -------------------------------------------------------------------


async def share_link_for(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: dict[str, Any],
) -> None:
    """The employee picked where they will post: answer with the link tagged for it."""
    await ack()
    services: ShareTrail = context["services"]
    activity_id, source = records_blocks.parse_source_value(
        (action.get("selected_option") or {}).get("value")
    )
    user_id = user_of(body)
    link = await services.records.tagged_link(user_id, activity_id, source)
    channel = (body.get("container") or {}).get("channel_id") or user_id
    text, blocks = records_blocks.tagged_link_message(link)
    await client.chat_postMessage(
        channel=str(channel),
        text=text,
        blocks=blocks,
        unfurl_links=False,
        unfurl_media=False,
    )


# --- log_contact ----------------------------------------------------------------------


async def open_contact_modal(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    await ack()
    services: ShareTrail = context["services"]
    lead_id = parse_id(action_value(body), "lead")
    lead = await services.records.contact_target(lead_id, user_id=user_of(body))
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=records_blocks.contact_modal(
            lead, now=services.records.clock(), max_file_bytes=services.records.max_file_bytes
        ),
    )


async def submit_contact(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: dict[str, Any],
) -> None:
    """Stored before the modal closes, so an error shows on the form and nothing is lost."""
    services: ShareTrail = context["services"]
    form = records_blocks.parse_contact_form(view)
    file = None
    if form.files:
        try:
            file = await complete_file(client, form.files[0])
        except SlackApiError as exc:
            log.warning("files.info failed: %s", slack_error(exc))
            await ack(
                response_action="errors",
                errors={ids.BLOCK_CONTACT_FILE: _("I could not read that file from Slack. Retry?")},
            )
            return
    try:
        lead_id = parse_id(str(view.get("private_metadata") or ""), "lead")
        await services.records.log_contact(
            lead_id,
            user_id=user_of(body),
            kind=form.kind,
            at=form.at,
            summary=form.summary,
            file=file,
        )
    except InvalidInput as exc:
        errors = {
            records_blocks.CONTACT_FIELD_TO_BLOCK[name]: message
            for name, message in exc.fields.items()
            if name in records_blocks.CONTACT_FIELD_TO_BLOCK
        } or {ids.BLOCK_CONTACT_SUMMARY: str(exc)}
        await ack(response_action="errors", errors=errors)
        return
    except (Forbidden, NotFound) as exc:
        await ack(response_action="errors", errors={ids.BLOCK_CONTACT_SUMMARY: str(exc)})
        return
    await ack()


# --- check_in -------------------------------------------------------------------------


async def send_check_in_link(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    await ack()
    services: ShareTrail = context["services"]
    user_id = user_of(body)
    lead_id = parse_id(action_value(body), "lead")
    link = await services.records.check_in_link(lead_id, user_id=user_id)
    text, blocks = records_blocks.check_in_dm(link)
    await client.chat_postMessage(
        channel=user_id, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
    )


async def just_ack(ack: AsyncAck) -> None:
    """URL buttons still send an action; the browser does the work."""
    await ack()


# --- lead_timeline --------------------------------------------------------------------


async def show_timeline(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    await ack()
    services: ShareTrail = context["services"]
    timeline = await services.records.timeline(
        parse_id(action_value(body), "lead"), user_id=user_of(body)
    )
    await client.views_open(
        trigger_id=body["trigger_id"], view=records_blocks.timeline_modal(timeline)
    )


# --- files in a lead's thread (called by events.on_message) -----------------------------


async def on_thread_files(
    event: dict[str, Any], files: list[dict[str, Any]], client: AsyncWebClient, services: ShareTrail
) -> None:
    """Files the salesperson drops under a lead DM become the lead's contact records."""
    channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
    metas = []
    for file in files:
        try:
            metas.append(await complete_file(client, file))
        except SlackApiError as exc:
            log.warning("files.info failed for a thread file: %s", slack_error(exc))
            metas.append(file_meta(file))
    result = await services.records.attach_thread_files(
        channel=channel,
        thread_ts=str(event.get("thread_ts", "")),
        author_id=str(event.get("user", "")),
        files=[m for m in metas if m.id],
        message_ts=ts,
        text=str(event.get("text") or ""),
    )
    if result is None:
        return
    if result.added:
        # The records are saved; the reaction is only a courtesy (or already there).
        with contextlib.suppress(SlackApiError):
            await client.reactions_add(channel=channel, timestamp=ts, name="paperclip")
    if result.too_big:
        pieces: list[Piece] = ["⚠️ " + _("Not added to the lead:") + " "]
        for index, meta in enumerate(result.too_big):
            pieces += [", " if index else "", Said(meta.name or meta.id)]
            pieces.append(f" ({size_label(meta.size or 0)})")
        pieces.append(
            ". "
            + _("Files up to {size} are kept as records; share a link in a note instead.").format(
                size=size_label(services.records.max_file_bytes)
            )
        )
        text, words = compose(*pieces)
        await client.chat_postMessage(
            channel=channel, thread_ts=str(event.get("thread_ts", "")), text=text, blocks=words
        )


def register(app: AsyncApp) -> None:
    app.action(ids.SHARE_LINK_FOR)(reporting_errors(share_link_for))
    app.action(ids.LOG_CONTACT)(reporting_errors(open_contact_modal))
    app.action(ids.CHECK_IN)(reporting_errors(send_check_in_link))
    app.action(ids.CHECK_IN_OPEN)(reporting_errors(just_ack))
    app.action(ids.LEAD_TIMELINE)(reporting_errors(show_timeline))
    app.view(ids.LOG_CONTACT_MODAL)(reporting_errors(submit_contact))
