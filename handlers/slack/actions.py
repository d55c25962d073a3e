"""Button clicks (block_actions): details, share card, my stats, lead outcomes."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.i18n import _, ngettext
from bot.leads import OutcomeChange
from bot.service import ShareTrail
from handlers.slack import blocks, home, ids, records_blocks
from handlers.slack.errors import reporting_errors, slack_error
from handlers.slack.markup import Bold, Said, compose, escape, fill
from handlers.slack.parsing import parse_id
from handlers.slack.payloads import action_value, user_of
from handlers.slack.uploads import dm_file
from store.models import Activity, Employee, Lead

log = logging.getLogger(__name__)


async def show_details(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    await ack()
    services: ShareTrail = context["services"]
    activity_id = parse_id(action_value(body))
    activity = await services.activity(activity_id)
    report = await services.report(activity_id)
    await client.views_open(
        trigger_id=body["trigger_id"], view=blocks.details_modal(activity, report)
    )


def _tapped_in(body: dict[str, Any]) -> str | None:
    """The channel of the message whose button was tapped (None: a modal or the Home tab)."""
    container = body.get("container") or {}
    if container.get("type") != "message":
        return None
    return str((body.get("channel") or {}).get("id") or container.get("channel_id") or "") or None


async def _tell(
    client: AsyncWebClient, user_id: str, where: str | None, dm: str, **message: Any
) -> None:
    """An answer only the person sees: ephemeral where they tapped, else in our DM."""
    if where and where != dm:
        await client.chat_postEphemeral(channel=where, user=user_id, **message)
    else:
        await client.chat_postMessage(channel=dm, **message)


async def send_share_card(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: dict[str, Any],
) -> None:
    """Ack first; render and upload afterwards (Slack's 3-second rule). Tapped in a channel,
    the person is told there (ephemeral) that the card is in their DMs; tapped again, they
    are pointed to the card they have, with "Send again" (which sends a new one)."""
    await ack()
    services: ShareTrail = context["services"]
    user_id = user_of(body)
    activity_id = parse_id(action_value(body))
    where = _tapped_in(body)
    again = action.get("action_id") == ids.SHARE_CARD_AGAIN
    sent_to = None if again else await services.card_sent_to(user_id, activity_id)
    if sent_to:
        activity = await services.activity(activity_id)
        link = f"https://slack.com/app_redirect?channel={sent_to}"
        text, words = compose(
            *fill(
                _(
                    "You already have your card for {name}: it is in our direct messages. "
                    "Tap {send_again} for a fresh copy."
                ),
                name=Said(activity.name, strong=True),
                send_again=Bold(_("Send again")),
            )
        )
        buttons = {
            "type": "actions",
            "elements": [
                blocks.button(_("Open our DM"), ids.OPEN_DM, "dm") | {"url": link},
                blocks.button(_("Send again"), ids.SHARE_CARD_AGAIN, str(activity_id)),
            ],
        }
        await _tell(client, user_id, where, sent_to, text=text, blocks=[*words, buttons])
        return
    card = await services.share_card(user_id, activity_id)
    preview_words = _("this preview link")
    channel = await dm_file(
        client,
        user_id,
        content=card.png,
        filename=f"sharetrail-card-{card.activity.id}.png",
        title=_("Your share card — {name}").format(name=card.activity.name),
        comment=(
            # A file comment cannot carry blocks: the activity name is escaped, not bold.
            _("Here is your share card for {name}. Share the image or your link: {url}").format(
                name=escape(card.activity.name), url=card.url
            )
            + "\n_"
            + _(
                "To look at your page yourself, use {link} (your own visits are not counted)."
            ).format(link=f"<{card.preview_url}|{preview_words}>")
            + "_"
        ),
    )
    assert card.share.id is not None
    await services.card_sent(card.share.id, channel)
    # A file message cannot carry blocks: the push-source picker follows it.
    try:
        await client.chat_postMessage(
            channel=channel,
            text=records_blocks.share_link_picker_text(card.activity),
            blocks=records_blocks.share_link_picker(card.activity),
        )
    except SlackApiError as exc:  # the card itself arrived; only the extra picker is missing
        log.warning("could not post the push-source picker: %s", slack_error(exc))
    if where and where != channel:
        text, _words = compose(
            "📬 ",
            *fill(
                _("Sent to your DMs: your card for {name}."),
                name=Said(card.activity.name, strong=True),
            ),
        )
        await client.chat_postEphemeral(channel=where, user=user_id, text=text)
    if (body.get("view") or {}).get("type") == "home":  # tapped on the App Home: redraw it,
        await home.publish_home(client, services, user_id)  # the activity among their shares


async def show_my_stats(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    await ack()
    services: ShareTrail = context["services"]
    user_id, activity_id = user_of(body), parse_id(action_value(body))
    activity, row = await services.my_stats(user_id, activity_id)
    rules = await services.points.rules(activity_id)
    balance = await services.points.activity_balance(user_id, activity_id)
    await client.views_open(
        trigger_id=body["trigger_id"], view=blocks.my_stats_modal(activity, row, rules, balance)
    )


async def record_outcome(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: dict[str, Any],
    respond: AsyncRespond | None,
) -> None:
    await ack()
    services: ShareTrail = context["services"]
    status = ids.OUTCOME_BY_ACTION[str(action.get("action_id"))]
    user_id = user_of(body)
    lead_id = parse_id(action_value(body), "lead")
    change = await services.set_outcome(lead_id, status, by_user_id=user_id)
    lead, activity, employee = await services.lead_context(lead_id)
    container = body.get("container") or {}
    if container.get("type") == "view":  # the App Home's lead list: redraw it
        await home.publish_home(client, services, user_id)
        return
    if container.get("is_ephemeral") and respond is not None:  # `/sharetrail leads`
        line = blocks.outcome_line(status, change.previous, user_id)
        text, _words = compose(
            *fill(_("Lead #{id}: {name}"), id=str(lead_id), name=Said(lead.name)), f" — {line}"
        )
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    if not (channel and message.get("ts")):
        return
    text, message_blocks = lead_dm_after_outcome(lead, activity, employee, status, change, user_id)
    await client.chat_update(channel=channel, ts=message["ts"], text=text, blocks=message_blocks)


def lead_dm_after_outcome(
    lead: Lead,
    activity: Activity,
    employee: Employee,
    status: str,
    change: OutcomeChange,
    user_id: str,
) -> tuple[str, list[dict[str, Any]]]:
    """The salesperson's lead DM once an outcome is recorded (from its buttons or the
    console): the lead again, and who recorded what."""
    line = (
        blocks.outcome_line(status, change.previous, user_id)
        if change.changed
        else _("Outcome already {outcome}; nothing changed.").format(
            outcome=blocks.outcome_label(status)
        )
    )
    text, _words = compose(
        *fill(_("Lead #{id}: {name}"), id=str(lead.id), name=Said(lead.name)),
        f" — {blocks.outcome_label(status)}",
    )
    return text, [
        *blocks.lead_dm(
            lead, activity_name=activity.name, employee_user_id=employee.user_id, sticky=False
        ),
        blocks.context(line),
    ]


async def mark_lead(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: dict[str, Any],
) -> None:
    """Spam or duplicate: claw the lead's points back and redraw the lead DM."""
    await ack()
    services: ShareTrail = context["services"]
    mark = ids.MARK_BY_ACTION[str(action.get("action_id"))]
    user_id = user_of(body)
    lead_id = parse_id(action_value(body), "lead")
    result = await services.points.mark_lead(lead_id, mark, by_user_id=user_id)
    lead, activity, employee = await services.lead_context(lead_id)
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    if not (channel and message.get("ts")):
        return
    line = (
        ngettext(
            "{num} point taken back from {who}.",
            "{num} points taken back from {who}.",
            result.reversed_points,
        ).format(num=result.reversed_points, who=f"<@{employee.user_id}>")
        if result.changed
        else _("This lead was already marked; nothing changed.")
    )
    text, _words = compose(
        *fill(_("Lead #{id}: {name}"), id=str(lead_id), name=Said(lead.name)),
        " — " + _("marked {mark}").format(mark=blocks.mark_label(lead.marked)),
    )
    await client.chat_update(
        channel=channel,
        ts=message["ts"],
        text=text,
        blocks=[
            *blocks.lead_dm(
                lead, activity_name=activity.name, employee_user_id=employee.user_id, sticky=False
            ),
            blocks.context(line),
        ],
    )


async def ignore_unknown(ack: AsyncAck, body: dict[str, Any]) -> None:
    """Unknown or retired action ids: acknowledge so the user sees no error, change nothing."""
    await ack()
    actions = body.get("actions") or [{}]
    log.info("ignored unknown action %r", str(actions[0].get("action_id"))[:64])


def register(app: AsyncApp) -> None:
    app.action(ids.ACTIVITY_DETAILS)(reporting_errors(show_details))
    app.action(ids.GET_SHARE_CARD)(reporting_errors(send_share_card))
    app.action(ids.SHARE_CARD_AGAIN)(reporting_errors(send_share_card))
    app.action(ids.MY_STATS)(reporting_errors(show_my_stats))
    for action_id in ids.OUTCOME_BY_ACTION:
        app.action(action_id)(reporting_errors(record_outcome))
    for action_id in ids.MARK_BY_ACTION:
        app.action(action_id)(reporting_errors(mark_lead))


def register_fallbacks(app: AsyncApp) -> None:
    """Registered last: bolt runs the first listener that matches."""
    app.action(re.compile(".*"))(ignore_unknown)
