"""The App Home by role, as pure functions from bot.home.HomeData to a Block Kit view.

Sections: admin (open activities with KPI bars, funnel, 14-day chart, health, buttons),
salesperson (my leads by state with outcome and timeline buttons), employee (my shares,
rank, top 10, open activities). Someone with several roles gets each section. A view holds
at most 100 blocks (Block Kit reference): each list is capped with "and N more", and
`capped` keeps the whole view within the limit whatever the data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot import phones
from bot.activities import format_when
from bot.home import HomeData, OpenLead
from bot.i18n import N_, _
from bot.reports.service import TITLES
from bot.stats import ActivityReport, Progress
from handlers.slack import ids
from handlers.slack.blocks import (
    Block,
    balance_line,
    button,
    context,
    more_line,
    page_of,
    plain,
    points_count,
    points_rule,
    section,
    signups_count,
    stat_line,
    status_label,
    views_count,
    visitors_count,
)
from handlers.slack.markup import Bold, Date, Piece, Said, plain_text, rich_text

VIEW_MAX = 100
ADMIN_CHARTS = 2  # chart images: the newest open activities'
LEADS_PER_STATE = 5  # 2 blocks each
SHARES = 10  # 2 blocks each
OPEN = 10
BAR_WIDTH = 10
STATE_LABELS = {
    "new": N_("🆕 New"),
    "awaiting": N_("⏳ Awaiting outcome"),
    "follow_up": N_("📞 Follow-up due"),
}
LEVEL_MARKS = {"ok": "✅", "warn": "⚠️", "bad": "❌"}

# Builds a chart image URL for (activity id, chart kind); None: no images (no public URL).
ChartUrl = Callable[[int, str], str | None]


def progress_bar(value: int, target: int, width: int = BAR_WIDTH) -> str:
    """A text bar (Block Kit has no progress element): `▓▓▓░░░░░░░`; full past the target."""
    if target <= 0:
        return "░" * width
    filled = min(width, round(width * value / target))
    if value > 0:
        filled = max(filled, 1)  # something happened: never an empty bar
    return "▓" * filled + "░" * (width - filled)


def kpi_line(item: Progress) -> str:
    label = _(item.label)
    if item.target <= 0:
        return _("{label}: {value} (no target)").format(label=label, value=item.value)
    return f"`{progress_bar(item.value, item.target)}` " + _(
        "{label}: {value} / {target} ({percent}%)"
    ).format(label=label, value=item.value, target=item.target, percent=item.percent)


def funnel_line(report: ActivityReport) -> str:
    t = report.totals
    return _(
        "{views} → {visitors} → {signups} → {attended} attended → {converted} converted"
    ).format(
        views=views_count(t.views),
        visitors=visitors_count(t.unique_visitors),
        signups=signups_count(t.signups),
        attended=t.attended,
        converted=t.converted,
    )


def _activity_blocks(report: ActivityReport, chart_url: str | None) -> list[Block]:
    activity = report.activity
    assert activity.id is not None
    lines = "\n".join(kpi_line(p) for p in report.progress)
    blocks: list[Block] = [
        rich_text(
            [
                Said(activity.name, strong=True),
                f" (#{activity.id}, {status_label(activity.status)}) — {format_when(activity)}",
            ]
        ),
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"{lines}\n*" + _("Funnel") + f":* {funnel_line(report)}",
            },
            "accessory": button(_("Export CSV"), ids.HOME_EXPORT, str(activity.id)),
        },
    ]
    if chart_url:
        title = _("{title} (14 days)").format(title=_(TITLES["daily"]))
        blocks.append(
            {
                "type": "image",
                "image_url": chart_url,
                "alt_text": f"{title}: {activity.name}"[:2000],
                "title": plain(title),
            }
        )
    return blocks


def admin_section(data: HomeData, chart_url: ChartUrl, console_url: str) -> list[Block]:
    blocks: list[Block] = [
        {"type": "header", "text": plain(_("🛠 Admin"))},
        {
            "type": "actions",
            "block_id": "home_admin",
            "elements": [
                button(_("New activity"), ids.HOME_NEW_ACTIVITY, "", "primary"),
                {
                    "type": "button",
                    "text": plain(_("Open console")),
                    "action_id": ids.HOME_CONSOLE,
                    "url": console_url,
                },
            ],
        },
    ]
    if not data.open_reports:
        blocks.append(context(_("No open activities. Create one with *New activity*.")))
    for index, report in enumerate(data.open_reports):
        assert report.activity.id is not None
        url = chart_url(report.activity.id, "daily") if index < ADMIN_CHARTS else None
        blocks.extend(_activity_blocks(report, url))
    hidden = data.open_total - len(data.open_reports)
    if hidden > 0:
        blocks.append(more_line(hidden, _("`/sharetrail stats` and `/sharetrail list`.")))
    health = "\n".join(f"{LEVEL_MARKS.get(line.level, '•')} {line.text}" for line in data.health)
    blocks.append(section("*" + _("Health") + f"*\n{health}"))
    return blocks


def lead_pieces(item: OpenLead) -> list[Piece]:
    lead = item.lead
    company: list[Piece] = [" (", Said(lead.company), ")"] if lead.company else []
    return [
        Bold(f"#{lead.id} "),
        Said(lead.name),
        *company,
        " — ",
        Said(item.activity_name),
        " · ",
        # One format everywhere (bot/phones.py), never broken across two lines.
        Said(phones.display(lead.phone).replace(" ", "\u00a0")),
        " · ",
        Date(lead.created_at),  # signed up; in the salesperson's zone and language
    ]


def lead_actions(lead_id: int, block_id: str) -> Block:
    """The lead's outcome buttons and its timeline, in one row."""
    value = str(lead_id)
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [
            button(_("Attended"), ids.LEAD_OUTCOME_ATTENDED, value, "primary"),
            button(_("No-show"), ids.LEAD_OUTCOME_NO_SHOW, value),
            button(_("Converted"), ids.LEAD_OUTCOME_CONVERTED, value, "primary"),
            button(_("🕒 Timeline"), ids.LEAD_TIMELINE, value),
        ],
    }


def sales_section(data: HomeData) -> list[Block]:
    blocks: list[Block] = [{"type": "header", "text": plain(_("📇 My leads"))}]
    if not data.leads:
        blocks.append(context(_("No open leads. New sign-ups assigned to you show here.")))
        return blocks
    for state, label in STATE_LABELS.items():
        leads = data.leads_in(state)
        if not leads:
            continue
        blocks.append(section(f"*{_(label)}* ({len(leads)})"))
        for item in leads[:LEADS_PER_STATE]:
            assert item.lead.id is not None
            blocks.append(rich_text(lead_pieces(item)))
            blocks.append(lead_actions(item.lead.id, f"home_lead_{item.lead.id}"))
        if len(leads) > LEADS_PER_STATE:
            blocks.append(more_line(len(leads) - LEADS_PER_STATE, "`/sharetrail leads`"))
    return blocks


LEADS_PAGE = 15  # 3 blocks each at most, within a message's 50


def leads_page(leads: list[OpenLead], page: int = 1) -> list[Block]:
    """One page of `/sharetrail leads`: each lead with its state, outcome and timeline."""
    if not leads:
        return [section(_("No open leads. New sign-ups assigned to you show here."))]
    pages = max(1, -(-len(leads) // LEADS_PAGE))
    page = min(max(page, 1), pages)
    shown = leads[(page - 1) * LEADS_PAGE : page * LEADS_PAGE]
    title = "*" + _("Your open leads") + f"* ({len(leads)})" + page_of(page, pages)
    blocks: list[Block] = [section(title)]
    for item in shown:
        assert item.lead.id is not None
        blocks.append(rich_text([f"{_(STATE_LABELS[item.state])} · ", *lead_pieces(item)]))
        blocks.append(lead_actions(item.lead.id, f"leads_{item.lead.id}"))
    later = len(leads) - page * LEADS_PAGE
    if later > 0:
        blocks.append(more_line(later, f"`/sharetrail leads {page + 1}`"))
    return blocks


def employee_actions() -> list[dict[str, Any]]:
    """Buttons under the employee's points (rewards: helper `spend`'s redeem modal)."""
    return [button(_("🎁 Redeem points"), ids.REDEEM_POINTS, "home")]


def _top_lines(data: HomeData) -> str:
    medals = {1: "🥇", 2: "🥈", 3: "🥉"}
    return "\n".join(
        f"{medals.get(rank, f'{rank}.')} <@{employee.user_id}> — {points_count(row.points)}"
        for rank, (employee, row) in enumerate(data.top, start=1)
    )


def employee_section(data: HomeData) -> list[Block]:
    blocks: list[Block] = [{"type": "header", "text": plain(_("📣 My shares"))}]
    if data.rank is not None:
        standing = _("You have *{points}*: rank #{rank} of {ranked}.").format(
            points=points_count(data.my_points), rank=data.rank, ranked=data.ranked
        )
    else:
        standing = _("No points yet: share an activity below to get on the board.")
    blocks.append(section(standing))
    if data.balance is not None:
        blocks.append(section("*" + _("Your points") + f":* {balance_line(data.balance)}"))
    actions = employee_actions()
    if actions:
        blocks.append({"type": "actions", "block_id": "home_points", "elements": actions})
    if not data.overview:
        blocks.append(context(_("Nothing shared yet. Pick an activity below and get your card.")))
    for activity, row in data.overview[:SHARES]:
        assert activity.id is not None
        blocks.append(
            {
                "type": "section",
                "text": plain_text(f"{activity.name} — {format_when(activity)}", 3000),
                "accessory": button(_("My stats"), ids.MY_STATS, str(activity.id)),
            }
        )
        blocks.append(context(stat_line(row)))
    if len(data.overview) > SHARES:
        blocks.append(more_line(len(data.overview) - SHARES, _("`/sharetrail me` lists them all.")))
    if data.top:
        blocks.append(section("*" + _("Top 10") + f"*\n{_top_lines(data)}"))
    shared = {activity.id for activity, _row in data.overview}
    others = [a for a in data.open_activities if a.id not in shared]
    if others:
        blocks.append({"type": "divider"})
        blocks.append(section("*" + _("Open activities") + "*"))
        for activity in others[:OPEN]:
            assert activity.id is not None
            blocks.append(
                {
                    "type": "section",
                    "text": plain_text(f"{activity.name} — {format_when(activity)}", 3000),
                    "accessory": button(
                        _("Get my share card"), ids.GET_SHARE_CARD, str(activity.id), "primary"
                    ),
                }
            )
        if len(others) > OPEN:
            blocks.append(more_line(len(others) - OPEN, _("`/sharetrail list` shows them.")))
    blocks.append(context(points_rule() + " " + _("(Activities may set their own: see My stats.)")))
    return blocks


def capped(blocks: list[Block], limit: int = VIEW_MAX) -> list[Block]:
    """At most `limit` blocks: the last one says how many were left out."""
    if len(blocks) <= limit:
        return blocks
    hidden = len(blocks) - (limit - 1)
    return [
        *blocks[: limit - 1],
        more_line(hidden, _("`/sharetrail me`, `/sharetrail leads`.")),
    ]


def home_view(
    data: HomeData, *, chart_url: ChartUrl = lambda _a, _k: None, console_url: str = ""
) -> dict[str, Any]:
    blocks: list[Block] = []
    if data.is_admin:
        blocks += admin_section(data, chart_url, console_url)
        blocks.append({"type": "divider"})
    if data.is_salesperson:
        blocks += sales_section(data)
        blocks.append({"type": "divider"})
    blocks += employee_section(data)
    return {"type": "home", "blocks": capped(blocks)}


def without_images(view: dict[str, Any]) -> dict[str, Any]:
    """The view minus its chart images: Slack refuses a whole view whose image it cannot
    download (`invalid_blocks`, e.g. PUBLIC_BASE_URL not reachable from the internet)."""
    return {**view, "blocks": [b for b in view["blocks"] if b.get("type") != "image"]}
