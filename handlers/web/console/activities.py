"""/console/activities: list, create, edit, close, publish and the per-activity roster.

The form is read into the same ActivityDraft as the Slack modal and checked by the same
`validate_draft` (bot/activities.py): one rule, two renderings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from bot import audit, i18n
from bot.activities import (
    MATERIAL_TYPES,
    ActivityDraft,
    format_when,
    kpi_error,
    parse_target,
    validate_draft,
    zone,
)
from bot.codes import PUSH_SOURCE_LABELS, PUSH_SOURCES
from bot.errors import InvalidInput, NotFound
from bot.i18n import _, current_locale
from bot.points import rules_line
from bot.reports.service import KINDS
from bot.roles import Role, names_of
from bot.workbook import activity_workbook
from handlers.slack import publishing
from handlers.slack.parsing import parse_channel, parse_user
from handlers.web.console.charts import safe_svg
from handlers.web.console.core import (
    CONSOLE,
    Viewer,
    posted_form,
    render,
    require_role,
    services_of,
)
from handlers.web.forms import Form
from store.models import Activity, aware

routes = web.RouteTableDef()
TEXT_FIELDS = (
    "name",
    "starts_at",
    "ends_at",
    "material_type",
    "headline",
    "intro",
    "kpi_views",
    "kpi_signups",
    "kpi_attendance",
    "salespeople",
    "channel",
    "language",
)
NOTICES = ("published", "saved", "closed")  # ?published=1 after the redirect
FIELD_MAX = 10_000  # longer than any rule allows: the rules say what is wrong with it


def _activity_id(request: web.Request) -> int:
    raw = request.match_info["activity_id"]
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound(_("There is no activity {id}.").format(id=raw[:20]))
    return int(raw)


def local_input(moment: datetime, tz: str) -> str:
    """A stored time as an HTML datetime-local value in the activity's zone."""
    return aware(moment).astimezone(zone(tz)).strftime("%Y-%m-%dT%H:%M")


def local_time(moment: datetime, tz: str) -> str:
    """A stored time for a table: in `tz` (an activity's), with the zone by its city."""
    when = i18n.format_moment(aware(moment), tz or "UTC")
    return _("{time} ({zone})").format(time=when, zone=i18n.zone_label(tz or "UTC"))


def parse_local(raw: str, tz: str) -> datetime | None:
    """An HTML datetime-local value read in `tz`; None if empty or not a time."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz))
    return moment


def form_values(form: Form) -> dict[str, str]:
    values = {}
    for name in TEXT_FIELDS:
        value = form.get(name)
        values[name] = value[:FIELD_MAX] if isinstance(value, str) else ""
    return values


def read_draft(values: dict[str, str], *, tz: str) -> tuple[ActivityDraft, dict[str, str]]:
    """The draft and every problem with it, keyed by form field."""
    errors: dict[str, str] = {}
    targets: dict[str, int | None] = {}
    for name in ("kpi_views", "kpi_signups", "kpi_attendance"):
        targets[name], ok = parse_target(values[name])
        if not ok:
            errors[name] = kpi_error()
    salespeople = []
    for token in values["salespeople"].replace(",", " ").split():
        user_id = parse_user(token.lstrip("@"))
        if user_id is None:
            errors["salespeople"] = _("'{token}' is not a Slack user ID like U0123ABCD.").format(
                token=token[:40]
            )
        else:
            salespeople.append(user_id)
    channel = values["channel"].strip().lstrip("#")
    channel_id = parse_channel(channel) if channel else None
    if channel and channel_id is None:
        errors["channel"] = _("Give a channel ID like C0123ABCD (Slack: channel details).")
    draft = ActivityDraft(
        name=values["name"],
        starts_at=parse_local(values["starts_at"], tz) if values["starts_at"] else None,
        ends_at=parse_local(values["ends_at"], tz) if values["ends_at"] else None,
        material_type=values["material_type"] or None,
        headline=values["headline"],
        intro=values["intro"],
        kpi_views=targets["kpi_views"],
        kpi_signups=targets["kpi_signups"],
        kpi_attendance=targets["kpi_attendance"],
        salespeople=salespeople,
        channel_id=channel_id,
        tz=tz,
        language=values["language"],
    )
    for name, message in validate_draft(draft).items():
        errors.setdefault(name, message)
    return draft, errors


def activity_values(activity: Activity, roster: list[str]) -> dict[str, str]:
    def target(value: int) -> str:
        return str(value) if value else ""

    return {
        "name": activity.name,
        "starts_at": local_input(activity.starts_at, activity.tz),
        "ends_at": local_input(activity.ends_at, activity.tz),
        "material_type": activity.material_type,
        "headline": activity.headline,
        "intro": activity.intro,
        "kpi_views": target(activity.kpi_views),
        "kpi_signups": target(activity.kpi_signups),
        "kpi_attendance": target(activity.kpi_attendance),
        "salespeople": " ".join(roster),
        "channel": activity.channel_id or "",
        "language": activity.language or "",
    }


def form_page(
    request: web.Request,
    viewer: Viewer,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    tz: str,
    activity: Activity | None = None,
    message: str = "",
    status: int = 200,
) -> web.Response:
    context: dict[str, Any] = {
        "activity": activity,
        "values": values,
        "errors": errors,
        "tz": tz,
        "materials": MATERIAL_TYPES,
        "message": message,
    }
    return render(request, "console/activity_form.html", context, viewer=viewer, status=status)


async def _viewer_tz(request: web.Request, viewer: Viewer) -> str:
    """New activities are in the admin's Slack time zone, as the modal's are."""
    try:
        return (await services_of(request).directory.profile(viewer.user_id)).tz
    except NotFound:
        return "UTC"


@routes.get("/console/activities")
@require_role(Role.ADMIN)
async def list_activities(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    activities = await services_of(request).activities()
    return render(request, "console/activities.html", {"activities": activities}, viewer=viewer)


@routes.get("/console/activities/new")
@require_role(Role.ADMIN)
async def new_activity(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    values = {**dict.fromkeys(TEXT_FIELDS, ""), "language": current_locale()}
    return form_page(
        request, viewer, values=values, errors={}, tz=await _viewer_tz(request, viewer)
    )


@routes.post("/console/activities/new")
@require_role(Role.ADMIN)
async def create_activity(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    services = services_of(request)
    tz = await _viewer_tz(request, viewer)
    values = form_values(await posted_form(request))
    draft, errors = read_draft(values, tz=tz)
    if errors:
        return form_page(request, viewer, values=values, errors=errors, tz=tz, status=400)
    try:
        activity = await services.create_activity(draft, created_by=viewer.user_id)
    except InvalidInput as exc:
        return form_page(
            request, viewer, values=values, errors=exc.fields, tz=tz, message=str(exc), status=400
        )
    assert activity.id is not None
    if draft.channel_id:
        try:
            await _publish(request, viewer, activity, draft.channel_id)
        except InvalidInput as exc:  # created, not posted: say why on its page
            return await _detail(request, viewer, activity.id, message=str(exc), status=400)
        raise web.HTTPSeeOther(f"/console/activities/{activity.id}?published=1")
    raise web.HTTPSeeOther(f"/console/activities/{activity.id}")


async def _publish(
    request: web.Request, viewer: Viewer, activity: Activity, channel_id: str
) -> Activity:
    """Post the activity in the channel (handlers/slack/publishing.py, as `publish` does)."""
    services = services_of(request)
    slack = request.app[CONSOLE].slack
    return await publishing.publish(
        services, slack, activity, channel_id, by_user_id=viewer.user_id
    )


@routes.get("/console/activities/{activity_id}")
@require_role(Role.ADMIN)
async def show_activity(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return await _detail(request, viewer, _activity_id(request))


async def _detail(
    request: web.Request,
    viewer: Viewer,
    activity_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    status: int = 200,
) -> web.Response:
    services = services_of(request)
    activity = await services.activity(activity_id)
    own_roster = await services.own_roster(activity_id)
    rules = await services.points.rules(activity_id)
    context: dict[str, Any] = {
        "rules": rules.as_dict(),
        "rule_line": rules_line(rules),
        "activity": activity,
        "report": await services.report(activity_id),
        "roster": await _named(request, await services.salespeople(activity_id)),
        "own_roster": bool(own_roster),
        "values": values or activity_values(activity, own_roster),
        "errors": errors or {},
        "materials": MATERIAL_TYPES,
        "tz": activity.tz,
        "when": format_when(activity),
        "message": message,
        "notice": next((n for n in NOTICES if n in request.query), "") if status == 200 else "",
    }
    return render(request, "console/activity.html", context, viewer=viewer, status=status)


REPORT_EMPLOYEES = 500  # rows in the per-employee table; the CSV has everyone


@routes.get("/console/activities/{activity_id}/report")
@require_role(Role.ADMIN)
async def show_report(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Charts (inline SVG), then the numbers per employee and per push source."""
    services = services_of(request)
    activity_id = _activity_id(request)
    report = await services.report(activity_id)
    charts = []
    for kind in KINDS if report.totals.views or report.totals.signups else ():
        chart = await services.reports.chart(activity_id, kind, "svg")
        charts.append((kind, safe_svg(chart.content, prefix=f"{kind}-", label=chart.title)))
    order = {source: i for i, source in enumerate(PUSH_SOURCES)}
    sources = sorted(
        (
            (PUSH_SOURCE_LABELS.get(str(key), _("Other")), row)
            for key, row in report.by_source.items()
        ),
        key=lambda pair: (-pair[1].views, -pair[1].signups, order.get(str(pair[1].key), 99)),
    )
    context: dict[str, Any] = {
        "activity": report.activity,
        "report": report,
        "when": format_when(report.activity),
        "charts": charts,
        "employees": await services.leaderboard(activity_id, limit=REPORT_EMPLOYEES),
        "sources": sources,
    }
    return render(request, "console/report.html", context, viewer=viewer)


async def _named(request: web.Request, user_ids: list[str]) -> list[str]:
    """'Sam Sales (U_SALES1)' for people ShareTrail knows, else the bare ID."""
    names = await names_of(services_of(request), user_ids)
    return [f"{names[u]} ({u})" if u in names else u for u in user_ids]


@routes.post("/console/activities/{activity_id}")
@require_role(Role.ADMIN)
async def edit_activity(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    services = services_of(request)
    activity_id = _activity_id(request)
    activity = await services.activity(activity_id)
    values = form_values(await posted_form(request))
    values["channel"] = activity.channel_id or ""  # publishing has its own form
    draft, errors = read_draft(values, tz=activity.tz)
    if not errors:
        try:
            activity = await services.update_activity(activity_id, draft, by_user_id=viewer.user_id)
        except InvalidInput as exc:
            errors = exc.fields or {"name": str(exc)}
        except NotFound as exc:
            errors = {"salespeople": str(exc)}
    if errors:
        return await _detail(request, viewer, activity_id, values=values, errors=errors, status=400)
    await publishing.refresh(
        request.app[CONSOLE].slack, activity, await services.points.rules(activity_id)
    )
    raise web.HTTPSeeOther(f"/console/activities/{activity_id}?saved=1")


@routes.post("/console/activities/{activity_id}/publish")
@require_role(Role.ADMIN)
async def publish_activity(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    services = services_of(request)
    activity_id = _activity_id(request)
    activity = await services.activity(activity_id)
    raw = (await posted_form(request)).get("channel")
    channel = raw.strip().lstrip("#") if isinstance(raw, str) else ""
    channel_id = parse_channel(channel) if channel else activity.channel_id
    if activity.status == "closed":
        message = _("Activity {id} is closed; it cannot be published.").format(id=activity_id)
    elif channel_id is None:
        message = _("Give a channel ID like C0123ABCD (Slack: channel details).")
    else:
        try:
            await _publish(request, viewer, activity, channel_id)
        except InvalidInput as exc:
            message = str(exc)
        else:
            raise web.HTTPSeeOther(f"/console/activities/{activity_id}?published=1")
    return await _detail(request, viewer, activity_id, message=message, status=400)


@routes.post("/console/activities/{activity_id}/close")
@require_role(Role.ADMIN)
async def close_activity(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    services = services_of(request)
    activity_id = _activity_id(request)
    try:
        activity = await services.close_activity(activity_id, by_user_id=viewer.user_id)
    except InvalidInput as exc:
        return await _detail(request, viewer, activity_id, message=str(exc), status=400)
    await publishing.refresh(request.app[CONSOLE].slack, activity)
    raise web.HTTPSeeOther(f"/console/activities/{activity_id}?closed=1")


@routes.get("/console/activities/{activity_id}/export.csv")
@require_role(Role.ADMIN)
async def export_csv(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """DESIGN.md §5: UTF-8 with a byte-order mark, so Excel reads Chinese names."""
    activity_id = _activity_id(request)
    text = await services_of(request).export_csv(activity_id, audited_by=viewer.user_id)
    return web.Response(
        body=("\ufeff" + text).encode("utf-8"),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="activity-{activity_id}.csv"',
            "Cache-Control": "private, no-store",
        },
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@routes.get("/console/activities/{activity_id}/report.xlsx")
@require_role(Role.ADMIN)
async def export_xlsx(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Employees, leads and the daily series in one workbook (bot/workbook.py)."""
    activity_id = _activity_id(request)
    services = services_of(request)
    body = await activity_workbook(
        services, activity_id, viewer_id=viewer.user_id, is_admin=viewer.is_admin
    )
    await services.audit(
        actor=viewer.user_id,
        action=audit.EXPORT_XLSX,
        subject=audit.subject("activity", activity_id),
        details={"bytes": len(body)},
    )
    return web.Response(
        body=body,
        headers={
            "Content-Type": XLSX,
            "Content-Disposition": f'attachment; filename="activity-{activity_id}.xlsx"',
            "Cache-Control": "private, no-store",
        },
    )
