"""Modal submissions: the admin's new-activity form."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot import richtext
from bot.activities import ActivityDraft, kpi_error, parse_target, validate_draft
from bot.errors import DomainError, InvalidInput
from bot.i18n import _
from bot.points import DEFAULTS, RULE_FIELDS, Rules, validate_rules
from bot.service import ShareTrail
from handlers.slack import ids, publishing
from handlers.slack.errors import reporting_errors
from handlers.slack.markup import (
    ChannelRef,
    Code,
    Piece,
    Said,
    compose,
    doc_from_rich_text,
    fill,
)
from store.models import Activity

log = logging.getLogger(__name__)

DRAFT_FIELD_TO_BLOCK = {
    "name": ids.BLOCK_NAME,
    "starts_at": ids.BLOCK_STARTS_AT,
    "ends_at": ids.BLOCK_ENDS_AT,
    "material_type": ids.BLOCK_MATERIAL,
    "headline": ids.BLOCK_HEADLINE,
    "intro": ids.BLOCK_INTRO,
    "kpi_views": ids.BLOCK_KPI_VIEWS,
    "kpi_signups": ids.BLOCK_KPI_SIGNUPS,
    "kpi_attendance": ids.BLOCK_KPI_ATTENDANCE,
}


def _element(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    element = (values.get(block_id) or {}).get(ids.VALUE)
    return element if isinstance(element, dict) else {}


def _text(values: dict[str, Any], block_id: str) -> str:
    return str(_element(values, block_id).get("value") or "")


def _intro(values: dict[str, Any]) -> tuple[str, richtext.Doc | None]:
    """(plain text, formatting) of the intro: a rich_text_input's value, or the plain text a
    modal opened before rich text (a plain_text_input) still sends."""
    element = _element(values, ids.BLOCK_INTRO)
    if "rich_text_value" not in element:
        return str(element.get("value") or ""), None
    doc = doc_from_rich_text(element.get("rich_text_value"))
    return richtext.plain_text(doc), doc or None


def _number(values: dict[str, Any], block_id: str) -> tuple[int | None, bool]:
    """(value, ok): the console reads its number fields by the same rule."""
    return parse_target(_text(values, block_id))


def _when(values: dict[str, Any], block_id: str) -> datetime | None:
    raw = _element(values, block_id).get("selected_date_time")
    if raw in (None, ""):
        return None
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def parse_activity_form(view: dict[str, Any], *, tz: str) -> tuple[ActivityDraft, dict[str, str]]:
    """The draft and any parse errors, keyed by block_id."""
    values = (view.get("state") or {}).get("values") or {}
    errors: dict[str, str] = {}
    kpis: dict[str, int | None] = {}
    for block_id in (ids.BLOCK_KPI_VIEWS, ids.BLOCK_KPI_SIGNUPS, ids.BLOCK_KPI_ATTENDANCE):
        kpis[block_id], ok = _number(values, block_id)
        if not ok:
            errors[block_id] = kpi_error()
    material = (_element(values, ids.BLOCK_MATERIAL).get("selected_option") or {}).get("value")
    intro, intro_doc = _intro(values)
    draft = ActivityDraft(
        name=_text(values, ids.BLOCK_NAME),
        starts_at=_when(values, ids.BLOCK_STARTS_AT),
        ends_at=_when(values, ids.BLOCK_ENDS_AT),
        material_type=str(material) if material else None,
        headline=_text(values, ids.BLOCK_HEADLINE),
        intro=intro,
        intro_doc=intro_doc,
        kpi_views=kpis[ids.BLOCK_KPI_VIEWS],
        kpi_signups=kpis[ids.BLOCK_KPI_SIGNUPS],
        kpi_attendance=kpis[ids.BLOCK_KPI_ATTENDANCE],
        salespeople=[
            str(u) for u in _element(values, ids.BLOCK_SALESPEOPLE).get("selected_users") or []
        ],
        channel_id=_element(values, ids.BLOCK_CHANNEL).get("selected_conversation") or None,
        tz=tz,
        language=str(
            (_element(values, ids.BLOCK_LANGUAGE).get("selected_option") or {}).get("value") or ""
        ),
    )
    return draft, errors


def parse_rules(view: dict[str, Any]) -> tuple[Rules | None, dict[str, str]]:
    """The points rules of the modal (blank: the default), or errors keyed by block_id."""
    values = (view.get("state") or {}).get("values") or {}
    fields = {name: _text(values, ids.BLOCK_POINTS_PREFIX + name) for name in RULE_FIELDS}
    try:
        return validate_rules(fields), {}
    except InvalidInput as exc:
        return None, {ids.BLOCK_POINTS_PREFIX + k: v for k, v in (exc.fields or {}).items()}


async def submit_activity(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: dict[str, Any],
) -> None:
    services: ShareTrail = context["services"]
    user_id = str((body.get("user") or {}).get("id", ""))
    profile = await services.directory.profile(user_id)
    draft, errors = parse_activity_form(view, tz=profile.tz)
    for field, message in validate_draft(draft).items():
        errors.setdefault(DRAFT_FIELD_TO_BLOCK[field], message)
    rules, rule_errors = parse_rules(view)
    errors.update(rule_errors)
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    try:
        activity = await services.create_activity(draft, created_by=user_id)
        if rules is not None and rules != DEFAULTS and activity.id is not None:
            await services.points.set_rules(activity.id, rules.as_dict_text(), by_user_id=user_id)
        note: list[Piece] = fill(
            _("Created activity #{id}: {name}."),
            id=str(activity.id),
            name=Said(activity.name, strong=True),
        )
    except DomainError as exc:
        note = [f"⚠️ {exc}"]
    else:
        note += await publish_chosen(
            services, client, activity, draft.channel_id, by_user_id=user_id
        )
    text, words = compose(*note)
    await client.chat_postMessage(channel=user_id, text=text, blocks=words)


async def publish_chosen(
    services: ShareTrail,
    client: AsyncWebClient,
    activity: Activity,
    channel_id: str | None,
    *,
    by_user_id: str,
) -> list[Piece]:
    """Publish a new activity where the modal said; a refusal (say, a private channel
    I am not in) is told after "Created", since the activity exists either way."""
    if not channel_id:
        return [
            " ",
            *fill(
                _("Publish it with {command}."),
                command=Code(f"/sharetrail publish {activity.id} #channel"),
            ),
        ]
    try:
        activity = await publishing.publish(
            services, client, activity, channel_id, by_user_id=by_user_id
        )
    except DomainError as exc:
        return [f" ⚠️ {exc}"]
    return [" ", *fill(_("Published in {channel}."), channel=ChannelRef(str(activity.channel_id)))]


def register(app: AsyncApp) -> None:
    app.view(ids.ACTIVITY_MODAL)(reporting_errors(submit_activity))
