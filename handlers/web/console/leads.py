"""/console/leads: the leads a person may see (admins all, salespeople theirs), filtered
by activity, state and salesperson; a lead's timeline scoped by role as bot/records.py
scopes it; outcome buttons for the lead's salesperson (and admins)."""

from __future__ import annotations

import logging

from aiohttp import web
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import InvalidInput, NotFound
from bot.i18n import _
from bot.lead_lists import STATES, LeadFilter, leads_for
from bot.leads import OutcomeChange
from bot.points import OUTCOMES
from bot.roles import Role
from handlers.slack.actions import lead_dm_after_outcome
from handlers.web.console.core import (
    CONSOLE,
    Viewer,
    posted_form,
    render,
    require_role,
    services_of,
)

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


def _number(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) <= 9 else None


def _lead_id(request: web.Request) -> int:
    lead_id = _number(request.match_info["lead_id"])
    if lead_id is None:
        raise NotFound(
            _("There is no lead {id} you can see.").format(id=request.match_info["lead_id"][:20])
        )
    return lead_id


@routes.get("/console/leads")
@require_role(Role.SALESPERSON)
async def list_leads(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    services = services_of(request)
    state = request.query.get("state", "")
    wanted = LeadFilter(
        activity_id=_number(request.query.get("activity")),
        state=state if state in STATES else None,
        salesperson_id=(request.query.get("salesperson") or "").strip()[:64] or None,
    )
    rows = await leads_for(
        services, viewer_id=viewer.user_id, is_admin=viewer.is_admin, wanted=wanted
    )
    context = {
        "rows": rows,
        "wanted": wanted,
        "states": STATES,
        "activities": await services.activities(),
        "salespeople": await services.salespeople() if viewer.is_admin else [],
    }
    return render(request, "console/leads.html", context, viewer=viewer)


@routes.get("/console/leads/{lead_id}")
@require_role(Role.EMPLOYEE)
async def show_lead(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    services = services_of(request)
    timeline = await services.records.timeline(_lead_id(request), user_id=viewer.user_id)
    context = {
        "timeline": timeline,
        "lead": timeline.lead,
        "outcomes": OUTCOMES,
        "can_record": timeline.viewer_role in ("salesperson", "admin"),
        "notice": "saved" in request.query,
        "marked": "marked" in request.query,
    }
    return render(request, "console/lead.html", context, viewer=viewer)


@routes.post("/console/leads/{lead_id}/outcome")
@require_role(Role.EMPLOYEE)
async def record_outcome(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The same rule as the lead DM's buttons: only its salesperson (or an admin)."""
    lead_id = _lead_id(request)
    status = (await posted_form(request)).get("outcome")
    if not isinstance(status, str) or status not in OUTCOMES:
        raise InvalidInput(_("Pick one of the outcome buttons."))
    services = services_of(request)
    await services.records.timeline(lead_id, user_id=viewer.user_id)  # NotFound if not theirs
    change = await services.set_outcome(lead_id, status, by_user_id=viewer.user_id)
    await _update_lead_dm(request, lead_id, status, change, viewer.user_id)
    raise web.HTTPSeeOther(f"/console/leads/{lead_id}?saved=1")


async def _update_lead_dm(
    request: web.Request, lead_id: int, status: str, change: OutcomeChange, user_id: str
) -> None:
    """The salesperson's lead DM shows the outcome, as when its button is tapped (the
    employee's DM about it is queued by set_outcome). Slack being down loses only this
    refresh: the outcome is saved, and the DM's buttons still work."""
    lead, activity, employee = await services_of(request).lead_context(lead_id)
    if not (lead.sales_channel and lead.sales_ts):
        return
    text, blocks = lead_dm_after_outcome(lead, activity, employee, status, change, user_id)
    try:
        await request.app[CONSOLE].slack.chat_update(
            channel=lead.sales_channel, ts=lead.sales_ts, text=text, blocks=blocks
        )
    except (SlackApiError, SlackClientError, OSError, TimeoutError) as exc:
        log.warning("lead %s: its DM could not be updated (%s)", lead_id, type(exc).__name__)
