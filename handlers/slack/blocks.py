"""Block Kit builders: pure functions from domain objects to Slack JSON (no I/O)."""

from __future__ import annotations

from typing import Any

from bot import richtext
from bot.activities import MATERIAL_TYPES, format_when, intro_doc
from bot.codes import PUSH_SOURCE_LABELS
from bot.directory import NotifySettings
from bot.i18n import N_, _, current_locale, gettext
from bot.ledger import Balance
from bot.notifications import (
    ActivityWeek,
    DailyDigest,
    OutcomeReminder,
    ReviewWaiting,
    ShareReminder,
    WeeklyReport,
)
from bot.points import DEFAULTS, RULE_MAX, Rules, rules_line
from bot.stats import ActivityReport, Progress
from handlers.slack import ids
from handlers.slack.markup import (
    Bold,
    Mention,
    Piece,
    Quote,
    Said,
    doc_block,
    escape,
    mrkdwn,
    plain_text,
    rich_text,
)
from store.models import Activity, Lead
from store.queries import StatRow

Block = dict[str, Any]

OUTCOME_LABELS = {"attended": "✅ Attended", "no_show": "🚫 No-show", "converted": "💰 Converted"}

# Slack's limits (Block Kit reference): a message holds 50 blocks, a view 100, a section's
# text 3,000 characters. Each surface shows at most these many items, then "and N more".
TEXT_MAX = 3000
ME_PAGE = 40  # activities per page of `/sharetrail me`: 40 + 4 blocks
LIST_PAGE = 40  # lines per page of `/sharetrail list`
DIGEST_LINES = 40
INTRO_TEASER = 400  # characters of the intro in the channel announcement
WEEKLY_LINES = 40


def source_label(source: str) -> str:
    """A push source as people read it ("Card QR", "WeChat"), never its tag (`card_qr`)."""
    return gettext(PUSH_SOURCE_LABELS.get(source, PUSH_SOURCE_LABELS["other"]))


def text(value: str, *, kind: str = "mrkdwn") -> dict[str, Any]:
    return {"type": kind, "text": value}


def plain(value: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": value[:150], "emoji": True}


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(label),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def fit(value: str, limit: int = TEXT_MAX) -> str:
    """Mrkdwn within `limit` characters: cut after the last whole line that fits (unless that
    drops more than half; then before the last word), never inside an entity (`&lt;`) or a
    `<…>` mention or link; ends in "…"."""
    if len(value) <= limit:
        return value
    head = value[: limit - 1]
    line_end = head.rfind("\n")
    cut = line_end if line_end >= limit // 2 else _outside_tokens(head)
    return head[:cut].rstrip() + "…"


def _outside_tokens(head: str) -> int:
    """Where `head` may be cut: before an unclosed `<…>` or `&…;`, at a space if there is one."""
    cut = len(head)
    opened = head.rfind("<")
    if opened > head.rfind(">"):
        cut = opened
    amp = head.rfind("&", 0, cut)
    if amp >= 0 and ";" not in head[amp:cut]:
        cut = amp
    space = head.rfind(" ", 0, cut)
    return space if space > 0 else cut


def section(value: str) -> Block:
    return {"type": "section", "text": text(fit(value))}


def context(value: str) -> Block:
    return {"type": "context", "elements": [text(fit(value))]}


def more_line(hidden: int, where: str) -> Block:
    """The "and N more" line of a capped surface, saying where to see the rest."""
    return context(_("…and {hidden} more: {where}").format(hidden=hidden, where=where))


def activity_actions(activity_id: int) -> Block:
    value = str(activity_id)
    return {
        "type": "actions",
        "block_id": f"activity_{activity_id}",
        "elements": [
            button(_("Details"), ids.ACTIVITY_DETAILS, value),
            button(_("Get my share card"), ids.GET_SHARE_CARD, value, "primary"),
            button(_("My stats"), ids.MY_STATS, value),
        ],
    }


def activity_notification(activity: Activity, rules: Rules = DEFAULTS) -> list[Block]:
    assert activity.id is not None
    blocks: list[Block] = [
        {"type": "header", "text": plain_text(f"📣 {activity.name}")},
        {
            "type": "section",
            "fields": [
                text(_("*When*") + f"\n{format_when(activity)}"),
                text(_("*Material*") + f"\n{_(MATERIAL_TYPES.get(activity.material_type, ''))}"),
            ],
        },
    ]
    if activity.headline and activity.headline != activity.name:
        blocks.append(rich_text([Said(activity.headline)]))
    if activity.intro:
        blocks.append(doc_block(richtext.shorten(intro_doc(activity), INTRO_TEASER)))
    if activity.status == "closed":
        blocks.append(context(_("🔒 This activity is closed. Thanks to everyone who shared!")))
        return blocks
    blocks.append(
        context(
            _("Tap *Get my share card* for your personal card with your own tracked link.")
            + " "
            + escape(rules_line(rules))
        )
    )
    blocks.append(activity_actions(activity.id))
    return blocks


def announcement_dm(activity_id: int, name: str, when: str) -> list[Block]:
    """The activity, DM'd to one employee by `publish ID --dm-all`."""
    return [
        {"type": "header", "text": plain_text(f"📣 {name}")},
        section(_("*When:* {when}").format(when=escape(when))),
        context(_("Tap *Get my share card* for your personal card with your own tracked link.")),
        activity_actions(activity_id),
    ]


def closed_announcement_dm(name: str, when: str) -> list[Block]:
    """The same DM once the activity is closed: no live button left to tap."""
    return [
        {"type": "header", "text": plain_text(f"📣 {name}")},
        section(_("*When:* {when}").format(when=escape(when))),
        context(_("🔒 This activity is closed. Thanks to everyone who shared!")),
    ]


def notification_fallback(activity: Activity) -> str:
    return _("New activity: {name} ({when})").format(
        name=escape(activity.name), when=format_when(activity)
    )


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = ""
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": {**element, "action_id": ids.VALUE},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


LANGUAGE_NAMES = {"en": "English", "zh": "中文"}  # each in its own language, as pickers do


def language_select() -> dict[str, Any]:
    """en / zh, starting at the language of the person filling the form (else LANGUAGE)."""
    options = [{"text": plain(label), "value": code} for code, label in LANGUAGE_NAMES.items()]
    initial = next(o for o in options if o["value"] == current_locale())
    return {"type": "static_select", "options": options, "initial_option": initial}


def activity_modal(*, channel_id: str | None = None) -> dict[str, Any]:
    """The admin's 'new activity' form (DESIGN.md section 4)."""
    material_options = [
        {"text": plain(_(label)), "value": value} for value, label in MATERIAL_TYPES.items()
    ]
    channel_element: dict[str, Any] = {
        "type": "conversations_select",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel_id:
        channel_element["initial_conversation"] = channel_id
    number = {"type": "number_input", "is_decimal_allowed": False}
    return {
        "type": "modal",
        "callback_id": ids.ACTIVITY_MODAL,
        "title": plain(_("New activity")),
        "submit": plain(_("Create")),
        "close": plain(_("Cancel")),
        "blocks": [
            _input(ids.BLOCK_NAME, _("Name"), {"type": "plain_text_input", "max_length": 200}),
            _input(ids.BLOCK_STARTS_AT, _("Starts"), {"type": "datetimepicker"}),
            _input(ids.BLOCK_ENDS_AT, _("Ends"), {"type": "datetimepicker"}),
            _input(
                ids.BLOCK_MATERIAL,
                _("Material type"),
                {"type": "static_select", "options": material_options},
            ),
            _input(
                ids.BLOCK_LANGUAGE,
                _("Language of the customer's page"),
                language_select(),
                optional=True,  # empty: the language of whoever fills it in
                hint=_("Visitors whose browser asks for English or Chinese get that instead."),
            ),
            _input(
                ids.BLOCK_HEADLINE,
                _("Landing page headline"),
                {"type": "plain_text_input", "max_length": 300},
                optional=True,
                hint=_("Shown big on the customer's page. Defaults to the name."),
            ),
            _input(
                ids.BLOCK_INTRO,
                _("Landing page intro"),
                {"type": "rich_text_input"},
                optional=True,
                hint=_("Bold, italics, links and lists show on the customer's page."),
            ),
            _input(ids.BLOCK_KPI_VIEWS, _("Target: views"), number, optional=True),
            _input(ids.BLOCK_KPI_SIGNUPS, _("Target: sign-ups"), number, optional=True),
            _input(ids.BLOCK_KPI_ATTENDANCE, _("Target: attendance"), number, optional=True),
            *points_inputs(),
            _input(
                ids.BLOCK_SALESPEOPLE,
                _("Salespeople for this activity"),
                {"type": "multi_users_select"},
                optional=True,
                hint=_("Empty means the global roster (/sharetrail sales list)."),
            ),
            _input(
                ids.BLOCK_CHANNEL,
                _("Publish to channel"),
                channel_element,
                optional=True,
                hint=_("Leave empty to publish later with /sharetrail publish."),
            ),
        ],
    }


RULE_LABELS = {
    "unique_visitor": N_("Points per unique visitor"),
    "signup": N_("Points per sign-up"),
    "attended": N_("Points per attendee"),
    "converted": N_("Points per conversion"),
    "daily_cap": N_("Daily points cap per employee"),
}


def points_inputs(rules: Rules = DEFAULTS) -> list[Block]:
    """The activity's points rules, prefilled with the defaults of bot/points.py."""
    values = rules.as_dict()
    return [
        _input(
            ids.BLOCK_POINTS_PREFIX + name,
            _(label),
            {
                "type": "number_input",
                "is_decimal_allowed": False,
                "min_value": "0",
                "max_value": str(RULE_MAX),
                "initial_value": str(values[name]),
            },
            optional=True,
            hint=_("From visitors and sign-ups, per day.") if name == "daily_cap" else "",
        )
        for name, label in RULE_LABELS.items()
    ]


def details_modal(activity: Activity, report: ActivityReport | None = None) -> dict[str, Any]:
    assert activity.id is not None
    blocks: list[Block] = [
        {"type": "header", "text": plain_text(activity.name)},
        {
            "type": "section",
            "fields": [
                text(f"*When*\n{format_when(activity)}"),
                text(f"*Material*\n{MATERIAL_TYPES.get(activity.material_type, '')}"),
                text(f"*Status*\n{activity.status.capitalize()}"),
            ],
        },
        rich_text([Bold("Landing page"), "\n", Said(activity.headline)]),
    ]
    if activity.intro:
        blocks.append(doc_block(intro_doc(activity)))
    if report is not None:
        blocks.append({"type": "divider"})
        blocks.append(section("*Targets*\n" + progress_lines(report.progress)))
    if activity.status != "closed":
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    button("Get my share card", ids.GET_SHARE_CARD, str(activity.id), "primary")
                ],
            }
        )
    return {
        "type": "modal",
        "callback_id": ids.DETAILS_MODAL,
        "title": plain("Activity details"),
        "close": plain("Close"),
        "blocks": blocks,
    }


def progress_lines(progress: list[Progress]) -> str:
    lines = []
    for item in progress:
        if item.target > 0:
            lines.append(f"{item.label}: {item.value} / {item.target} ({item.percent}%)")
        else:
            lines.append(f"{item.label}: {item.value} (no target)")
    return "\n".join(lines)


def stat_fields(row: StatRow) -> list[dict[str, Any]]:
    return [
        text(f"*Views*\n{row.views}"),
        text(f"*Unique visitors*\n{row.unique_visitors}"),
        text(f"*Sign-ups*\n{row.signups}"),
        text(f"*Attended*\n{row.attended}"),
        text(f"*Converted*\n{row.converted}"),
        text(f"*Points*\n{row.points}"),
    ]


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


def stat_pieces(row: StatRow) -> list[Piece]:
    """One activity's numbers, points in bold."""
    return [
        f"{plural(row.views, 'view')} · {row.unique_visitors} unique · "
        f"{plural(row.signups, 'sign-up')} · {row.attended} attended · "
        f"{row.converted} converted · ",
        Bold(plural(row.points, "pt")),
    ]


def stat_line(row: StatRow) -> str:
    return mrkdwn(stat_pieces(row))


def balance_line(balance: Balance) -> str:
    """Available and held points apart: held ones cannot be spent yet."""
    line = f"*{balance.available}* available · {balance.pending} pending"
    if balance.review:
        line += f" · {balance.review} in review"
    return line


def my_stats_modal(
    activity: Activity, row: StatRow, rules: Rules = DEFAULTS, balance: Balance | None = None
) -> dict[str, Any]:
    extra: list[Block] = [section(f"*Points:* {balance_line(balance)}")] if balance else []
    return {
        "type": "modal",
        "callback_id": ids.STATS_MODAL,
        "title": plain("My stats"),
        "close": plain("Close"),
        "blocks": [
            {"type": "header", "text": plain_text(activity.name)},
            {"type": "section", "fields": stat_fields(row)},
            *extra,
            context(points_rule(rules)),
        ],
    }


def points_rule(rules: Rules = DEFAULTS) -> str:
    """The rules as bot/points.py words them, escaped for mrkdwn."""
    return escape(rules_line(rules))


def notify_line(settings: NotifySettings) -> str:
    live = "on" if settings.live else "off"
    digest = "on" if settings.digest else "off"
    return (
        f"Live notifications are {live}; the daily digest is {digest} "
        "(`me notify on|off`, `me notify digest on|off`)."
    )


def me_pages(shared: int) -> int:
    """How many pages `/sharetrail me` has for this many shared activities."""
    return max(1, -(-shared // ME_PAGE))


def me_blocks(
    overview: list[tuple[Activity, StatRow]], settings: NotifySettings, page: int = 1
) -> list[Block]:
    """One page of the employee's shares (ME_PAGE of them), the totals of all of them."""
    if not overview:
        return [
            section("You have not shared any activity yet. Tap *Get my share card* on one."),
            context(notify_line(settings)),
        ]
    pages = me_pages(len(overview))
    page = min(max(page, 1), pages)
    shown = overview[(page - 1) * ME_PAGE : page * ME_PAGE]
    title = "*Your shares*" + (f" (page {page} of {pages})" if pages > 1 else "")
    blocks: list[Block] = [section(title)]
    for activity, row in shown:
        blocks.append(rich_text([Said(activity.name), f" (#{activity.id})\n", *stat_pieces(row)]))
    later = len(overview) - page * ME_PAGE
    if later > 0:
        blocks.append(more_line(later, f"`/sharetrail me {page + 1}`"))
    total = StatRow(
        None, *[sum(getattr(r, f) for _, r in overview) for f in StatRow.__dataclass_fields__][1:]
    )
    blocks.append(context(f"All {len(overview)} activities: {stat_line(total)}"))
    blocks.append(context(notify_line(settings)))
    return blocks


def report_blocks(report: ActivityReport) -> list[Block]:
    activity = report.activity
    blocks: list[Block] = [
        rich_text(
            [
                Said(activity.name),
                f" (#{activity.id}, {activity.status}) — {format_when(activity)}\n"
                f"{report.sharers} employees shared it.",
            ]
        ),
        {"type": "section", "fields": stat_fields(report.totals)},
        section("*Targets*\n" + progress_lines(report.progress)),
    ]
    if report.by_source:
        lines = [
            f"{source_label(source)}: {row.views} views, {row.signups} sign-ups"
            for source, row in sorted(report.by_source.items(), key=lambda kv: -kv[1].views)
        ]
        blocks.append(section("*By push source*\n" + "\n".join(lines)))
    return blocks


def source_line(sources: dict[str, StatRow]) -> str:
    """Per push source, busiest first: where this employee's views and sign-ups came from."""
    ranked = sorted(sources.items(), key=lambda kv: (-kv[1].views, -kv[1].signups, kv[0]))
    parts = [
        f"{source_label(source)} {plural(row.views, 'view')}, {plural(row.signups, 'sign-up')}"
        for source, row in ranked
        if row.views or row.signups
    ]
    return "\n      ↳ " + " · ".join(parts) if parts else ""


def activity_list_blocks(activities: list[Activity], page: int = 1) -> list[Block]:
    """One page of `/sharetrail list` (LIST_PAGE activities), then where the rest are."""
    if not activities:
        return [section("No activities yet. An admin can create one with `/sharetrail new`.")]
    pages = max(1, -(-len(activities) // LIST_PAGE))
    page = min(max(page, 1), pages)
    shown = activities[(page - 1) * LIST_PAGE : page * LIST_PAGE]
    pieces: list[Piece] = [Bold("Activities" + (f" (page {page} of {pages})" if pages > 1 else ""))]
    for a in shown:
        pieces += ["\n", Bold(f"#{a.id}"), " ", Said(a.name), f" — {a.status} — {format_when(a)}"]
    blocks = [rich_text(pieces)]
    later = len(activities) - page * LIST_PAGE
    if later > 0:
        blocks.append(more_line(later, f"`/sharetrail list {page + 1}`"))
    return blocks


def lead_dm(lead: Lead, *, activity_name: str, employee_user_id: str, sticky: bool) -> list[Block]:
    """The salesperson's lead message, with the outcome buttons."""
    assert lead.id is not None
    pieces: list[Piece] = [
        Bold("Customer: "),
        Said(lead.name),
        "\n",
        Bold("Phone: "),
        Said(lead.phone),
        "\n",
        Bold("Activity: "),
        Said(activity_name),
        "\n",
        Bold("Shared by: "),
        Mention(employee_user_id),
    ]
    if lead.company:
        pieces += ["\n", Bold("Company: "), Said(lead.company)]
    pieces += ["\n", Bold("Source: "), source_label(lead.source)]
    if lead.note:
        pieces += ["\n", Bold("Note from the customer"), Quote(lead.note)]
    blocks: list[Block] = [
        {"type": "header", "text": plain_text(f"New lead #{lead.id}: {lead.name}")},
        rich_text(pieces),
    ]
    if sticky:
        blocks.append(context("You were assigned because this customer already knows you."))
    if lead.outcome:
        blocks.append(section(f"*Outcome:* {OUTCOME_LABELS[lead.outcome]}"))
    blocks.append(outcome_actions(lead.id))
    blocks.append(lead_record_actions(lead.id))
    blocks.append(mark_line(lead) if lead.marked else mark_actions(lead.id))
    blocks.append(context("Reply in this thread with notes or files to keep them on this lead."))
    return blocks


MARK_LABELS = {"spam": "spam", "duplicate": "a duplicate", "rejected": "rejected in review"}


def mark_actions(lead_id: int) -> Block:
    """Spam, duplicate: the lead's points are clawed back (after a confirmation)."""
    value = str(lead_id)
    elements = []
    for label, action_id, mark in (
        ("🚫 Spam", ids.LEAD_MARK_SPAM, "spam"),
        ("♊ Duplicate", ids.LEAD_MARK_DUPLICATE, "duplicate"),
    ):
        element = button(label, action_id, value)
        element["confirm"] = {
            "title": plain("Mark this lead?"),
            "text": plain(
                f"Mark lead #{lead_id} as {MARK_LABELS[mark]}? The points it earned are "
                "taken back and it earns none from now on."
            ),
            "confirm": plain("Mark it"),
            "deny": plain("Cancel"),
        }
        elements.append(element)
    return {"type": "actions", "block_id": f"lead_marks_{lead_id}", "elements": elements}


def mark_line(lead: Lead) -> Block:
    by = f" by <@{lead.marked_by}>" if lead.marked_by else ""
    return context(
        f"Marked {MARK_LABELS.get(lead.marked or '', escape(lead.marked or ''))}{by}; "
        "its points were taken back."
    )


def outcome_actions(lead_id: int) -> Block:
    """Attended, no-show, converted: on the lead DM and on the reminders about it."""
    value = str(lead_id)
    return {
        "type": "actions",
        "block_id": f"lead_{lead_id}",
        "elements": [
            button("Attended", ids.LEAD_OUTCOME_ATTENDED, value, "primary"),
            button("No-show", ids.LEAD_OUTCOME_NO_SHOW, value),
            button("Converted", ids.LEAD_OUTCOME_CONVERTED, value, "primary"),
        ],
    }


def share_reminder_pieces(event: ShareReminder) -> list[Piece]:
    return [
        "⏰ ",
        Said(event.activity_name, strong=True),
        f" starts within a day ({event.when}) and you have not shared it yet. "
        "Get your card and send it to a few customers.",
    ]


def share_reminder_text(event: ShareReminder) -> str:
    return mrkdwn(share_reminder_pieces(event))


def share_reminder(event: ShareReminder) -> list[Block]:
    """The day-before nudge to an employee who has not shared: the share card button."""
    return [rich_text(share_reminder_pieces(event)), activity_actions(event.activity_id)]


def outcome_reminder_pieces(event: OutcomeReminder) -> list[Piece]:
    company: list[Piece] = [" (", Said(event.company), ")"] if event.company else []
    return [
        "⏰ How did it go with ",
        Said(event.customer_name, strong=True),
        *company,
        " from ",
        Said(event.activity_name, strong=True),
        f"? Lead #{event.lead_id} has no outcome yet — tap one below.",
    ]


def outcome_reminder_text(event: OutcomeReminder) -> str:
    return mrkdwn(outcome_reminder_pieces(event))


def outcome_reminder(event: OutcomeReminder) -> list[Block]:
    """A salesperson's reminder with the lead's outcome buttons; a tap turns it into the lead."""
    return [
        rich_text(outcome_reminder_pieces(event)),
        outcome_actions(event.lead_id),
        {
            "type": "context",
            "elements": [
                plain_text(f"Phone {event.customer_phone}"),
                text(
                    f"· shared by <@{event.employee_user_id}> · "
                    f"reminder {event.number} of {event.of}"
                ),
            ],
        },
    ]


def review_waiting_text(event: ReviewWaiting) -> str:
    return (
        f"🔎 {plural(event.flags, 'flagged item')} ({plural(event.points, 'point')}) "
        "wait for your review: open *Review* in the ShareTrail web console (/console/review)."
    )


def review_waiting(event: ReviewWaiting) -> list[Block]:
    """The daily DM to admins while the review queue is not empty."""
    return [section(review_waiting_text(event))]


def weekly_report_text(event: WeeklyReport) -> str:
    days = f"{event.since:%-d %b}–{event.until:%-d %b %Y}"
    count = plural(len(event.activities), "activity", "activities")
    return f"📊 ShareTrail weekly report, {days}: {count}"


def _percent(value: int, target: int) -> str:
    return f" / {target} ({round(100 * value / target)}%)" if target > 0 else ""


def weekly_activity_line(line: ActivityWeek) -> list[Piece]:
    """One activity of the weekly report; its name verbatim."""
    top: list[Piece] = []
    for user, points in line.top:
        top += [", " if top else "\nTop: ", Mention(user), f" {plural(points, 'pt')}"]
    return [
        Said(line.name),
        f" (#{line.activity_id}, {line.status}) — {line.when}\n"
        f"Views {line.views}{_percent(line.views, line.kpi_views)}, +{line.week_views} this week · "
        f"Sign-ups {line.signups}{_percent(line.signups, line.kpi_signups)}, "
        f"+{line.week_signups} this week · "
        f"Attended {line.attended}{_percent(line.attended, line.kpi_attendance)} · "
        f"Converted {line.converted} · {plural(line.sharers, 'sharer')}",
        *top,
    ]


def weekly_report(event: WeeklyReport) -> list[Block]:
    blocks: list[Block] = [
        {"type": "header", "text": plain("📊 ShareTrail weekly report")},
        context(f"{event.since:%a %-d %b %H:%M} – {event.until:%a %-d %b %Y %H:%M} UTC"),
    ]
    blocks.extend(rich_text(weekly_activity_line(line)) for line in event.activities[:WEEKLY_LINES])
    hidden = event.more + max(len(event.activities) - WEEKLY_LINES, 0)
    if hidden:
        blocks.append(more_line(hidden, "`/sharetrail list` names them all."))
    blocks.append(context("Details: `/sharetrail stats ID`, `/sharetrail leaderboard ID`."))
    return blocks


def daily_digest_text(event: DailyDigest) -> str:
    views = sum(line.views for line in event.lines)
    signups = sum(line.signups for line in event.lines)
    return (
        f"☀️ Your ShareTrail day, {event.day}: {plural(views, 'view')}, "
        f"{plural(signups, 'sign-up')}."
    )


def daily_digest(event: DailyDigest) -> list[Block]:
    blocks: list[Block] = [section(f"*{daily_digest_text(event)}*")]
    blocks.extend(
        rich_text(
            [
                Said(line.activity_name),
                f": {plural(line.views, 'view')} "
                f"({plural(line.visitors, 'visitor')}), {plural(line.signups, 'sign-up')}",
            ]
        )
        for line in event.lines[:DIGEST_LINES]
    )
    if len(event.lines) > DIGEST_LINES:
        hidden = len(event.lines) - DIGEST_LINES
        blocks.append(more_line(hidden, "`/sharetrail me` has every activity's numbers."))
    blocks.append(context("Stop these with `/sharetrail me notify digest off`."))
    return blocks


def lead_record_actions(lead_id: int) -> Block:
    """Log contact, check in, timeline: what happens with the customer after the sign-up."""
    value = str(lead_id)
    return {
        "type": "actions",
        "block_id": f"lead_records_{lead_id}",
        "elements": [
            button("📝 Log contact", ids.LOG_CONTACT, value),
            button("📍 Check in", ids.CHECK_IN, value),
            button("🕒 Timeline", ids.LEAD_TIMELINE, value),
        ],
    }


def outcome_line(outcome: str, previous: str | None, by_user_id: str) -> str:
    if previous and previous != outcome:
        return (
            f"Outcome changed from {OUTCOME_LABELS[previous]} to {OUTCOME_LABELS[outcome]} "
            f"by <@{by_user_id}>."
        )
    return f"Outcome recorded: {OUTCOME_LABELS[outcome]} by <@{by_user_id}>."


EVERYONE_HELP = """*ShareTrail commands*
`/sharetrail list [page]` — all activities
`/sharetrail stats [ID]` — an activity's numbers and targets
`/sharetrail leaderboard [ID | month [YYYY-MM] | quarter [YYYY-Qn]]` — top sharers
`/sharetrail me [page]` — your numbers; `me notify on|off` — live alerts
`/sharetrail me leaderboard on|off` — show or hide you on the leaderboards
`/sharetrail me notify digest on|off` — a morning summary of yesterday
`/sharetrail lead ID` — a lead you shared or follow up: details and timeline
`/sharetrail help` — this list
Tap *Get my share card* under an activity (or on the ShareTrail Home tab) for your card."""

SALES_HELP = """*For salespeople*
`/sharetrail leads [page]` — your open leads: new, awaiting outcome, follow-up due
On a lead's DM: *Attended*, *No-show* or *Converted* records the outcome; *Log contact*, \
*Check in* (a link for the customer's visit) and *Timeline*; reply in its thread to add notes.
The Home tab lists your leads with the same buttons."""

ADMIN_HELP = """*For admins*
`/sharetrail new` — create an activity
`/sharetrail publish ID [#channel] [--dm-all]` — post it; `--dm-all` also DMs everyone
`/sharetrail close ID` — close an activity
`/sharetrail sales add|remove @user …` / `sales list` — the salespeople roster \
(mention people: type `@` and pick them, so Slack sends the mention)
`/sharetrail export ID` — CSV of every sharer's numbers
`/sharetrail health` — is everything working, in words"""

HELP_TEXT = "\n\n".join((EVERYONE_HELP, SALES_HELP, ADMIN_HELP))


def help_text(*, is_admin: bool, is_salesperson: bool) -> str:
    """The commands for this person's roles (everyone's, then salespeople's, then admins')."""
    parts = [EVERYONE_HELP]
    if is_salesperson or is_admin:
        parts.append(SALES_HELP)
    if is_admin:
        parts.append(ADMIN_HELP)
    return "\n\n".join(parts)
