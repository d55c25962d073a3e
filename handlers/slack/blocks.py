"""Block Kit builders: pure functions from domain objects to Slack JSON (no I/O)."""

from __future__ import annotations

from typing import Any

from bot import richtext
from bot.activities import MATERIAL_TYPES, format_when, intro_doc
from bot.codes import PUSH_SOURCE_LABELS
from bot.directory import NotifySettings
from bot.i18n import N_, _, current_locale, format_skeleton, gettext, ngettext, pgettext
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
    fill,
    mrkdwn,
    plain_text,
    rich_text,
)
from store.models import Activity, Lead
from store.queries import StatRow

Block = dict[str, Any]

OUTCOME_LABELS = {
    "attended": N_("✅ Attended"),
    "no_show": N_("🚫 No-show"),
    "converted": N_("💰 Converted"),
}

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


STATUS_LABELS = {"draft": N_("Draft"), "published": N_("Published"), "closed": N_("Closed")}


def status_label(status: str) -> str:
    """An activity's status as people read it, in their language."""
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def outcome_label(outcome: str | None) -> str:
    """A lead's outcome with its emoji, or "no outcome yet"."""
    label = OUTCOME_LABELS.get(outcome or "")
    return _(label) if label else _("no outcome yet")


def details_modal(activity: Activity, report: ActivityReport | None = None) -> dict[str, Any]:
    assert activity.id is not None
    material = MATERIAL_TYPES.get(activity.material_type, "")
    blocks: list[Block] = [
        {"type": "header", "text": plain_text(activity.name)},
        {
            "type": "section",
            "fields": [
                text(_("*When*") + f"\n{format_when(activity)}"),
                text(_("*Material*") + f"\n{_(material) if material else ''}"),
                text(_("*Status*") + f"\n{status_label(activity.status)}"),
            ],
        },
        rich_text([Bold(_("Landing page")), "\n", Said(activity.headline)]),
    ]
    if activity.intro:
        blocks.append(doc_block(intro_doc(activity)))
    if report is not None:
        blocks.append({"type": "divider"})
        blocks.append(section(_("*Targets*") + "\n" + progress_lines(report.progress)))
    if activity.status != "closed":
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    button(_("Get my share card"), ids.GET_SHARE_CARD, str(activity.id), "primary")
                ],
            }
        )
    return {
        "type": "modal",
        "callback_id": ids.DETAILS_MODAL,
        "title": plain(_("Activity details")),
        "close": plain(pgettext("dialog", "Close")),
        "blocks": blocks,
    }


def progress_lines(progress: list[Progress]) -> str:
    lines = []
    for item in progress:
        label = _(item.label)
        if item.target > 0:
            lines.append(
                _("{label}: {value} / {target} ({percent}%)").format(
                    label=label, value=item.value, target=item.target, percent=item.percent
                )
            )
        else:
            lines.append(_("{label}: {value} (no target)").format(label=label, value=item.value))
    return "\n".join(lines)


def stat_fields(row: StatRow) -> list[dict[str, Any]]:
    return [
        text(_("*Views*") + f"\n{row.views}"),
        text(_("*Unique visitors*") + f"\n{row.unique_visitors}"),
        text(_("*Sign-ups*") + f"\n{row.signups}"),
        text(_("*Attended*") + f"\n{row.attended}"),
        text(_("*Converted*") + f"\n{row.converted}"),
        text(_("*Points*") + f"\n{row.points}"),
    ]


def views_count(n: int) -> str:
    return ngettext("{num} view", "{num} views", n).format(num=n)


def visitors_count(n: int) -> str:
    return ngettext("{num} visitor", "{num} visitors", n).format(num=n)


def signups_count(n: int) -> str:
    return ngettext("{num} sign-up", "{num} sign-ups", n).format(num=n)


def points_count(n: int) -> str:
    return ngettext("{num} pt", "{num} pts", n).format(num=n)


def stat_pieces(row: StatRow) -> list[Piece]:
    """One activity's numbers, points in bold."""
    return [
        _(
            "{views} · {unique} unique · {signups} · {attended} attended · {converted} converted · "
        ).format(
            views=views_count(row.views),
            unique=row.unique_visitors,
            signups=signups_count(row.signups),
            attended=row.attended,
            converted=row.converted,
        ),
        Bold(points_count(row.points)),
    ]


def stat_line(row: StatRow) -> str:
    return mrkdwn(stat_pieces(row))


def balance_line(balance: Balance) -> str:
    """Available and held points apart: held ones cannot be spent yet."""
    line = _("*{available}* available · {pending} pending").format(
        available=balance.available, pending=balance.pending
    )
    if balance.review:
        line += " · " + _("{review} in review").format(review=balance.review)
    return line


def my_stats_modal(
    activity: Activity, row: StatRow, rules: Rules = DEFAULTS, balance: Balance | None = None
) -> dict[str, Any]:
    extra: list[Block] = [section(_("*Points:*") + f" {balance_line(balance)}")] if balance else []
    return {
        "type": "modal",
        "callback_id": ids.STATS_MODAL,
        "title": plain(_("My stats")),
        "close": plain(pgettext("dialog", "Close")),
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
    if settings.live and settings.digest:
        state = _("Live notifications are on; the daily digest is on")
    elif settings.live:
        state = _("Live notifications are on; the daily digest is off")
    elif settings.digest:
        state = _("Live notifications are off; the daily digest is on")
    else:
        state = _("Live notifications are off; the daily digest is off")
    return f"{state} (`me notify on|off`, `me notify digest on|off`)."


def me_pages(shared: int) -> int:
    """How many pages `/sharetrail me` has for this many shared activities."""
    return max(1, -(-shared // ME_PAGE))


def page_of(page: int, pages: int) -> str:
    """ " (page 2 of 3)" after a title, or nothing for a single page."""
    if pages <= 1:
        return ""
    return " " + _("(page {page} of {pages})").format(page=page, pages=pages)


def me_blocks(
    overview: list[tuple[Activity, StatRow]], settings: NotifySettings, page: int = 1
) -> list[Block]:
    """One page of the employee's shares (ME_PAGE of them), the totals of all of them."""
    if not overview:
        return [
            section(_("You have not shared any activity yet. Tap *Get my share card* on one.")),
            context(notify_line(settings)),
        ]
    pages = me_pages(len(overview))
    page = min(max(page, 1), pages)
    shown = overview[(page - 1) * ME_PAGE : page * ME_PAGE]
    title = "*" + _("Your shares") + "*" + page_of(page, pages)
    blocks: list[Block] = [section(title)]
    for activity, row in shown:
        blocks.append(rich_text([Said(activity.name), f" (#{activity.id})\n", *stat_pieces(row)]))
    later = len(overview) - page * ME_PAGE
    if later > 0:
        blocks.append(more_line(later, f"`/sharetrail me {page + 1}`"))
    total = StatRow(
        None, *[sum(getattr(r, f) for _r, r in overview) for f in StatRow.__dataclass_fields__][1:]
    )
    everything = ngettext(
        "All {num} activity: {line}", "All {num} activities: {line}", len(overview)
    ).format(num=len(overview), line=stat_line(total))
    blocks.append(context(everything))
    blocks.append(context(notify_line(settings)))
    return blocks


def report_blocks(report: ActivityReport) -> list[Block]:
    activity = report.activity
    sharers = ngettext(
        "{num} employee shared it.", "{num} employees shared it.", report.sharers
    ).format(num=report.sharers)
    blocks: list[Block] = [
        rich_text(
            [
                Said(activity.name),
                f" (#{activity.id}, {status_label(activity.status)}) — {format_when(activity)}\n"
                f"{sharers}",
            ]
        ),
        {"type": "section", "fields": stat_fields(report.totals)},
        section(_("*Targets*") + "\n" + progress_lines(report.progress)),
    ]
    if report.by_source:
        lines = [
            _("{source}: {views}, {signups}").format(
                source=source_label(source),
                views=views_count(row.views),
                signups=signups_count(row.signups),
            )
            for source, row in sorted(report.by_source.items(), key=lambda kv: -kv[1].views)
        ]
        blocks.append(section(_("*By push source*") + "\n" + "\n".join(lines)))
    return blocks


def source_line(sources: dict[str, StatRow]) -> str:
    """Per push source, busiest first: where this employee's views and sign-ups came from."""
    ranked = sorted(sources.items(), key=lambda kv: (-kv[1].views, -kv[1].signups, kv[0]))
    parts = [
        f"{source_label(source)} {views_count(row.views)}, {signups_count(row.signups)}"
        for source, row in ranked
        if row.views or row.signups
    ]
    return "\n      ↳ " + " · ".join(parts) if parts else ""


def activity_list_blocks(activities: list[Activity], page: int = 1) -> list[Block]:
    """One page of `/sharetrail list` (LIST_PAGE activities), then where the rest are."""
    if not activities:
        return [section(_("No activities yet. An admin can create one with `/sharetrail new`."))]
    pages = max(1, -(-len(activities) // LIST_PAGE))
    page = min(max(page, 1), pages)
    shown = activities[(page - 1) * LIST_PAGE : page * LIST_PAGE]
    pieces: list[Piece] = [Bold(_("Activities") + page_of(page, pages))]
    for a in shown:
        pieces += [
            "\n",
            Bold(f"#{a.id}"),
            " ",
            Said(a.name),
            f" — {status_label(a.status)} — {format_when(a)}",
        ]
    blocks = [rich_text(pieces)]
    later = len(activities) - page * LIST_PAGE
    if later > 0:
        blocks.append(more_line(later, f"`/sharetrail list {page + 1}`"))
    return blocks


def lead_dm_title(lead_id: int, name: str) -> str:
    return _("New lead #{id}: {name}").format(id=lead_id, name=name)


def lead_dm(lead: Lead, *, activity_name: str, employee_user_id: str, sticky: bool) -> list[Block]:
    """The salesperson's lead message, with the outcome buttons."""
    assert lead.id is not None

    def label(words: str) -> Bold:
        return Bold(_("{label}: ").format(label=words))

    pieces: list[Piece] = [
        label(_("Customer")),
        Said(lead.name),
        "\n",
        label(_("Phone")),
        Said(lead.phone),
        "\n",
        label(_("Activity")),
        Said(activity_name),
        "\n",
        label(_("Shared by")),
        Mention(employee_user_id),
    ]
    if lead.company:
        pieces += ["\n", label(_("Company")), Said(lead.company)]
    pieces += ["\n", label(_("Source")), source_label(lead.source)]
    if lead.note:
        pieces += ["\n", Bold(_("Note from the customer")), Quote(lead.note)]
    blocks: list[Block] = [
        {"type": "header", "text": plain_text(lead_dm_title(lead.id, lead.name))},
        rich_text(pieces),
    ]
    if sticky:
        blocks.append(context(_("You were assigned because this customer already knows you.")))
    if lead.outcome:
        blocks.append(section(_("*Outcome:*") + f" {outcome_label(lead.outcome)}"))
    blocks.append(outcome_actions(lead.id))
    blocks.append(lead_record_actions(lead.id))
    blocks.append(mark_line(lead) if lead.marked else mark_actions(lead.id))
    blocks.append(context(_("Reply in this thread with notes or files to keep them on this lead.")))
    return blocks


MARK_LABELS = {
    "spam": N_("spam"),
    "duplicate": N_("a duplicate"),
    "rejected": N_("rejected in review"),
}


def mark_label(mark: str | None) -> str:
    label = MARK_LABELS.get(mark or "")
    return _(label) if label else escape(mark or "")


def mark_actions(lead_id: int) -> Block:
    """Spam, duplicate: the lead's points are clawed back (after a confirmation)."""
    value = str(lead_id)
    elements = []
    for label, action_id, mark in (
        (_("🚫 Spam"), ids.LEAD_MARK_SPAM, "spam"),
        (_("♊ Duplicate"), ids.LEAD_MARK_DUPLICATE, "duplicate"),
    ):
        element = button(label, action_id, value)
        element["confirm"] = {
            "title": plain(_("Mark this lead?")),
            "text": plain(
                _(
                    "Mark lead #{id} as {mark}? The points it earned are taken back and it "
                    "earns none from now on."
                ).format(id=lead_id, mark=mark_label(mark))
            ),
            "confirm": plain(_("Mark it")),
            "deny": plain(_("Cancel")),
        }
        elements.append(element)
    return {"type": "actions", "block_id": f"lead_marks_{lead_id}", "elements": elements}


def mark_line(lead: Lead) -> Block:
    if lead.marked_by:
        line = _("Marked {mark} by {who}; its points were taken back.").format(
            mark=mark_label(lead.marked), who=f"<@{lead.marked_by}>"
        )
    else:
        line = _("Marked {mark}; its points were taken back.").format(mark=mark_label(lead.marked))
    return context(line)


def outcome_actions(lead_id: int) -> Block:
    """Attended, no-show, converted: on the lead DM and on the reminders about it."""
    value = str(lead_id)
    return {
        "type": "actions",
        "block_id": f"lead_{lead_id}",
        "elements": [
            button(_("Attended"), ids.LEAD_OUTCOME_ATTENDED, value, "primary"),
            button(_("No-show"), ids.LEAD_OUTCOME_NO_SHOW, value),
            button(_("Converted"), ids.LEAD_OUTCOME_CONVERTED, value, "primary"),
        ],
    }


def share_reminder_pieces(event: ShareReminder) -> list[Piece]:
    return [
        "⏰ ",
        *fill(
            _(
                "{name} starts within a day ({when}) and you have not shared it yet. "
                "Get your card and send it to a few customers."
            ),
            name=Said(event.activity_name, strong=True),
            when=event.when,
        ),
    ]


def share_reminder_text(event: ShareReminder) -> str:
    return mrkdwn(share_reminder_pieces(event))


def share_reminder(event: ShareReminder) -> list[Block]:
    """The day-before nudge to an employee who has not shared: the share card button."""
    return [rich_text(share_reminder_pieces(event)), activity_actions(event.activity_id)]


def outcome_reminder_pieces(event: OutcomeReminder) -> list[Piece]:
    slots: dict[str, Piece] = {
        "customer": Said(event.customer_name, strong=True),
        "activity": Said(event.activity_name, strong=True),
        "id": str(event.lead_id),
    }
    if event.company:
        template = _(
            "How did it go with {customer} ({company}) from {activity}? "
            "Lead #{id} has no outcome yet — tap one below."
        )
        slots["company"] = Said(event.company)
    else:
        template = _(
            "How did it go with {customer} from {activity}? "
            "Lead #{id} has no outcome yet — tap one below."
        )
    return ["⏰ ", *fill(template, **slots)]


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
                plain_text(_("Phone {phone}").format(phone=event.customer_phone)),
                text(
                    _("· shared by {who} · reminder {number} of {of}").format(
                        who=f"<@{event.employee_user_id}>", number=event.number, of=event.of
                    )
                ),
            ],
        },
    ]


def review_waiting_text(event: ReviewWaiting) -> str:
    items = ngettext("{num} flagged item", "{num} flagged items", event.flags).format(
        num=event.flags
    )
    points = ngettext("{num} point", "{num} points", event.points).format(num=event.points)
    return "🔎 " + _(
        "{items} ({points}) wait for your review: open *Review* in the ShareTrail web "
        "console (/console/review)."
    ).format(items=items, points=points)


def review_waiting(event: ReviewWaiting) -> list[Block]:
    """The daily DM to admins while the review queue is not empty."""
    return [section(review_waiting_text(event))]


def weekly_report_text(event: WeeklyReport) -> str:
    days = "{since}–{until}".format(
        since=format_skeleton("MMMd", event.since, "UTC"),
        until=format_skeleton("yMMMd", event.until, "UTC"),
    )
    count = ngettext("{num} activity", "{num} activities", len(event.activities)).format(
        num=len(event.activities)
    )
    return "📊 " + _("ShareTrail weekly report, {days}: {count}").format(days=days, count=count)


def _percent(value: int, target: int) -> str:
    return f" / {target} ({round(100 * value / target)}%)" if target > 0 else ""


def weekly_activity_line(line: ActivityWeek) -> list[Piece]:
    """One activity of the weekly report; its name verbatim."""
    top: list[Piece] = []
    for user, points in line.top:
        top += [", " if top else "\n" + _("Top:") + " ", Mention(user), f" {points_count(points)}"]
    sharers = ngettext("{num} sharer", "{num} sharers", line.sharers).format(num=line.sharers)
    numbers = _(
        "Views {views}, +{week_views} this week · Sign-ups {signups}, +{week_signups} this "
        "week · Attended {attended} · Converted {converted} · {sharers}"
    ).format(
        views=f"{line.views}{_percent(line.views, line.kpi_views)}",
        week_views=line.week_views,
        signups=f"{line.signups}{_percent(line.signups, line.kpi_signups)}",
        week_signups=line.week_signups,
        attended=f"{line.attended}{_percent(line.attended, line.kpi_attendance)}",
        converted=line.converted,
        sharers=sharers,
    )
    return [
        Said(line.name),
        f" (#{line.activity_id}, {status_label(line.status)}) — {line.when}\n{numbers}",
        *top,
    ]


def weekly_report(event: WeeklyReport) -> list[Block]:
    span = "{since} – {until} UTC".format(
        since=format_skeleton("MMMEd", event.since, "UTC")
        + " "
        + format_skeleton("Hm", event.since, "UTC"),
        until=format_skeleton("yMMMEd", event.until, "UTC")
        + " "
        + format_skeleton("Hm", event.until, "UTC"),
    )
    blocks: list[Block] = [
        {"type": "header", "text": plain("📊 " + _("ShareTrail weekly report"))},
        context(span),
    ]
    blocks.extend(rich_text(weekly_activity_line(line)) for line in event.activities[:WEEKLY_LINES])
    hidden = event.more + max(len(event.activities) - WEEKLY_LINES, 0)
    if hidden:
        blocks.append(more_line(hidden, _("`/sharetrail list` names them all.")))
    blocks.append(context(_("Details: `/sharetrail stats ID`, `/sharetrail leaderboard ID`.")))
    return blocks


def daily_digest_text(event: DailyDigest) -> str:
    views = sum(line.views for line in event.lines)
    signups = sum(line.signups for line in event.lines)
    return "☀️ " + _("Your ShareTrail day, {day}: {views}, {signups}.").format(
        day=event.day, views=views_count(views), signups=signups_count(signups)
    )


def daily_digest(event: DailyDigest) -> list[Block]:
    blocks: list[Block] = [section(f"*{daily_digest_text(event)}*")]
    blocks.extend(
        rich_text(
            [
                Said(line.activity_name),
                ": "
                + _("{views} ({visitors}), {signups}").format(
                    views=views_count(line.views),
                    visitors=visitors_count(line.visitors),
                    signups=signups_count(line.signups),
                ),
            ]
        )
        for line in event.lines[:DIGEST_LINES]
    )
    if len(event.lines) > DIGEST_LINES:
        hidden = len(event.lines) - DIGEST_LINES
        blocks.append(more_line(hidden, _("`/sharetrail me` has every activity's numbers.")))
    blocks.append(context(_("Stop these with `/sharetrail me notify digest off`.")))
    return blocks


def lead_record_actions(lead_id: int) -> Block:
    """Log contact, check in, timeline: what happens with the customer after the sign-up."""
    value = str(lead_id)
    return {
        "type": "actions",
        "block_id": f"lead_records_{lead_id}",
        "elements": [
            button(_("📝 Log contact"), ids.LOG_CONTACT, value),
            button(_("📍 Check in"), ids.CHECK_IN, value),
            button(_("🕒 Timeline"), ids.LEAD_TIMELINE, value),
        ],
    }


def outcome_line(outcome: str, previous: str | None, by_user_id: str) -> str:
    if previous and previous != outcome:
        return _("Outcome changed from {previous} to {outcome} by {who}.").format(
            previous=outcome_label(previous),
            outcome=outcome_label(outcome),
            who=f"<@{by_user_id}>",
        )
    return _("Outcome recorded: {outcome} by {who}.").format(
        outcome=outcome_label(outcome), who=f"<@{by_user_id}>"
    )


EVERYONE_HELP = N_("""*ShareTrail commands*
`/sharetrail list [page]` — all activities
`/sharetrail stats [ID]` — an activity's numbers and targets
`/sharetrail leaderboard [ID | month [YYYY-MM] | quarter [YYYY-Qn]]` — top sharers
`/sharetrail me [page]` — your numbers; `me notify on|off` — live alerts
`/sharetrail me leaderboard on|off` — show or hide you on the leaderboards
`/sharetrail me notify digest on|off` — a morning summary of yesterday
`/sharetrail lead ID` — a lead you shared or follow up: details and timeline
`/sharetrail help` — this list
Tap *Get my share card* under an activity (or on the ShareTrail Home tab) for your card.""")

SALES_HELP = N_("""*For salespeople*
`/sharetrail leads [page]` — your open leads: new, awaiting outcome, follow-up due
On a lead's DM: *Attended*, *No-show* or *Converted* records the outcome; *Log contact*, \
*Check in* (a link for the customer's visit) and *Timeline*; reply in its thread to add notes.
The Home tab lists your leads with the same buttons.""")

ADMIN_HELP = N_("""*For admins*
`/sharetrail new` — create an activity
`/sharetrail publish ID [#channel] [--dm-all]` — post it; `--dm-all` also DMs everyone
`/sharetrail close ID` — close an activity
`/sharetrail sales add|remove @user …` / `sales list` — the salespeople roster \
(mention people: type `@` and pick them, so Slack sends the mention)
`/sharetrail export ID` — CSV of every sharer's numbers
`/sharetrail health` — is everything working, in words""")

HELP_TEXT = "\n\n".join((EVERYONE_HELP, SALES_HELP, ADMIN_HELP))


def help_text(*, is_admin: bool, is_salesperson: bool) -> str:
    """The commands for this person's roles (everyone's, then salespeople's, then admins')."""
    parts = [_(EVERYONE_HELP)]
    if is_salesperson or is_admin:
        parts.append(_(SALES_HELP))
    if is_admin:
        parts.append(_(ADMIN_HELP))
    return "\n\n".join(parts)
