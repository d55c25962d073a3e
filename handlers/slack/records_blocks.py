"""Block Kit for push-source links, contact records, check-ins and lead timelines (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.codes import PUSH_SOURCES
from bot.errors import InvalidInput
from bot.i18n import N_, _, current_locale, pgettext
from bot.notifications import CheckedIn, ContactLogged, CustomerReturned
from bot.records import (
    CONTACT_KINDS,
    FILE_KIND,
    MAX_TIMELINE_VIEWS,
    SUMMARY_MAX,
    CheckInLink,
    TaggedLink,
    Timeline,
    TimelineEntry,
    osm_url,
    size_label,
)
from handlers.slack import ids
from handlers.slack.blocks import Block, button, context, outcome_label, plain, source_label
from handlers.slack.markup import (
    Bold,
    Date,
    Italic,
    Link,
    Mention,
    Piece,
    Quote,
    Said,
    compose,
    escape,
    fill,
    mrkdwn,
    plain_text,
    rich_text,
)
from store.models import Activity, Lead

SOURCE_CHOICES: dict[str, str] = {
    "card_qr": N_("Printed card or QR code"),
    "dm": N_("Direct message"),
    "channel": N_("Group or channel post"),
    "email": N_("Email"),
    "wechat": N_("WeChat"),
    "linkedin": "LinkedIn",
    "other": N_("Somewhere else"),
}
assert tuple(SOURCE_CHOICES) == PUSH_SOURCES  # one label per push source, same order

CONTACT_LABELS = {
    "call": N_("📞 Call"),
    "email": N_("✉️ Email"),
    "chat": N_("💬 Chat"),
    "meeting": N_("🤝 Meeting"),
}
CONTACT_LOGGED = {
    "call": N_("Call logged"),
    "email": N_("Email logged"),
    "chat": N_("Chat logged"),
    "meeting": N_("Meeting logged"),
}
CONTACT_TITLES = {
    "call": N_("Call"),
    "email": N_("Email"),
    "chat": N_("Chat"),
    "meeting": N_("Meeting"),
}
KIND_ICONS = {**{k: v.split()[0] for k, v in CONTACT_LABELS.items()}, FILE_KIND: "📎"}
DEVICE_WORDS = {
    "mobile": N_("a phone"),
    "tablet": N_("a tablet"),
    "desktop": N_("a computer"),
    "wechat": N_("WeChat"),
}


def device_words(device: str | None) -> str:
    return _(DEVICE_WORDS.get(device or "", N_("a device")))


SECTION_CHARS = 2900
MAX_TIMELINE_LINES = 300


def duration(ms: int) -> str:
    seconds = round(ms / 1000)
    if seconds < 60:
        return _("{seconds} s").format(seconds=seconds)
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("{minutes} min").format(minutes=minutes)
    return _("{hours} h {minutes} min").format(hours=minutes // 60, minutes=minutes % 60)


def shorten(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- push sources -------------------------------------------------------------------------


def source_value(activity_id: int, source: str) -> str:
    return f"{activity_id}:{source}"


def parse_source_value(raw: object) -> tuple[int, str]:
    """(activity id, source) from a share_link_for option value."""
    text = str(raw or "")
    activity, _sep, source = text.partition(":")
    if not re.fullmatch(r"[0-9]{1,9}", activity) or source not in PUSH_SOURCES:  # as parse_id
        raise InvalidInput(_("That choice is not one I know. Pick a place from the list."))
    return int(activity), source


def share_link_picker(activity: Activity) -> list[Block]:
    """Sent right after the card (a file message cannot carry blocks)."""
    assert activity.id is not None
    options = [
        {"text": plain(_(label)), "value": source_value(activity.id, source)}
        for source, label in SOURCE_CHOICES.items()
    ]
    return [
        {
            "type": "section",
            "block_id": f"share_link_{activity.id}",
            "text": {
                "type": "mrkdwn",
                "text": _(
                    "*Posting it somewhere else?* Pick where, and I'll give you a link that "
                    "counts views and sign-ups from there separately."
                ),
            },
            "accessory": {
                "type": "static_select",
                "action_id": ids.SHARE_LINK_FOR,
                "placeholder": plain(_("Where will you post it?")),
                "options": options,
            },
        }
    ]


def share_link_picker_text(activity: Activity) -> str:
    return _("Get a link for {name} tagged for where you post it.").format(
        name=escape(activity.name)
    )


def tagged_link_message(link: TaggedLink) -> tuple[str, list[Block]]:
    """The link tagged for a push source: (text fallback, blocks)."""
    return compose(
        "🔗 ",
        *fill(
            _("Your link for {name} — {where}:"),
            name=Said(link.activity.name, strong=True),
            where=Bold(_(SOURCE_CHOICES[link.source])),
        ),
        "\n",
        Link(link.url, link.url),
        "\n",
        *fill(
            _(
                "Views and sign-ups through it count under {source}; it is the same share as "
                "your card, so your totals stay together."
            ),
            source=source_label(link.source),
        ),
    )


# --- contact records ----------------------------------------------------------------------


def lead_title(lead: Lead) -> str:
    return _("Lead #{id}: {name}").format(id=lead.id, name=lead.name)


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


def contact_modal(lead: Lead, *, now: datetime, max_file_bytes: int) -> dict[str, Any]:
    assert lead.id is not None
    kinds = [{"text": plain(_(CONTACT_LABELS[kind])), "value": kind} for kind in CONTACT_KINDS]
    return {
        "type": "modal",
        "callback_id": ids.LOG_CONTACT_MODAL,
        "private_metadata": str(lead.id),
        "title": plain(_("Log contact")),
        "submit": plain(_("Save")),
        "close": plain(_("Cancel")),
        "blocks": [
            {"type": "context", "elements": [plain_text(lead_title(lead))]},
            _input(ids.BLOCK_CONTACT_KIND, _("Kind"), {"type": "static_select", "options": kinds}),
            _input(
                ids.BLOCK_CONTACT_AT,
                _("When"),
                {"type": "datetimepicker", "initial_date_time": int(now.timestamp())},
            ),
            _input(
                ids.BLOCK_CONTACT_SUMMARY,
                _("Summary"),
                {
                    "type": "plain_text_input",
                    "multiline": True,
                    "max_length": SUMMARY_MAX,
                    "placeholder": plain(_("What was discussed, what happens next")),
                },
            ),
            _input(
                ids.BLOCK_CONTACT_FILE,
                _("File"),
                {"type": "file_input", "max_files": 1},
                optional=True,
                hint=_("A call recording, an email export or a screenshot, up to {size}.").format(
                    size=size_label(max_file_bytes)
                ),
            ),
        ],
    }


CONTACT_FIELD_TO_BLOCK = {
    "kind": ids.BLOCK_CONTACT_KIND,
    "at": ids.BLOCK_CONTACT_AT,
    "summary": ids.BLOCK_CONTACT_SUMMARY,
    "file": ids.BLOCK_CONTACT_FILE,
}


@dataclass(frozen=True)
class ContactForm:
    kind: str | None
    at: datetime | None
    summary: str
    files: list[dict[str, Any]]


def _element(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    element = (values.get(block_id) or {}).get(ids.VALUE)
    return element if isinstance(element, dict) else {}


def parse_contact_form(view: dict[str, Any]) -> ContactForm:
    values = (view.get("state") or {}).get("values") or {}
    kind = (_element(values, ids.BLOCK_CONTACT_KIND).get("selected_option") or {}).get("value")
    raw_at = _element(values, ids.BLOCK_CONTACT_AT).get("selected_date_time")
    try:
        at = datetime.fromtimestamp(int(raw_at), UTC) if raw_at not in (None, "") else None
    except (TypeError, ValueError, OverflowError, OSError):
        at = None
    summary = str(_element(values, ids.BLOCK_CONTACT_SUMMARY).get("value") or "")
    files = _element(values, ids.BLOCK_CONTACT_FILE).get("files") or []
    return ContactForm(
        str(kind) if kind else None,
        at,
        summary,
        [f for f in files if isinstance(f, dict) and f.get("id")],
    )


def contact_logged_message(event: ContactLogged) -> tuple[str, list[Block]]:
    """A contact record in the lead's thread; the summary and file name verbatim."""
    icon = KIND_ICONS.get(event.kind, "🗒️")
    if event.kind == FILE_KIND:
        what = _("File added")
    elif event.kind in CONTACT_LOGGED:
        what = _(CONTACT_LOGGED[event.kind])
    else:
        what = _("{kind} logged").format(kind=event.kind.capitalize())
    pieces: list[Piece] = [
        f"{icon} ",
        *fill(
            _("{what} by {who} — {when}"),
            what=Bold(what),
            who=Mention(event.by_user_id),
            when=Date(event.at),
        ),
    ]
    if event.summary:
        pieces.append(Quote(shorten(event.summary, 1500)))
    if event.file_name:
        name = event.file_name
        pieces += ["\n📎 ", Link(event.file_url, name) if event.file_url else Said(name)]
    return compose(*pieces)


# --- check-ins ----------------------------------------------------------------------------


def check_in_dm(link: CheckInLink) -> tuple[str, list[Block]]:
    lead = link.lead
    text = mrkdwn(
        [
            "📍 ",
            *fill(
                _(
                    "Check-in link for {name} (lead #{id}). Open it on your phone when you "
                    "meet: {url}"
                ),
                name=Said(lead.name),
                id=str(lead.id),
                url=link.url,
            ),
        ]
    )
    intro = rich_text(
        [
            "📍 ",
            *[  # our words bold, the customer's name as typed
                Bold(piece) if isinstance(piece, str) else piece
                for piece in fill(_("Check in with {name}"), name=Said(lead.name))
            ],
            " " + _("(lead #{id})").format(id=lead.id) + "\n",
            *fill(
                _(
                    "Open this on your phone when you meet: it records where and when, with a "
                    "note. It works once and expires {time}."
                ),
                time=Date(link.expires_at, "{time}"),
            ),
        ]
    )
    open_button = {
        "type": "button",
        "action_id": ids.CHECK_IN_OPEN,
        "text": plain(_("Open check-in page")),
        "url": link.url,
        "style": "primary",
    }
    return text, [intro, {"type": "actions", "elements": [open_button]}]


def checked_in_message(event: CheckedIn) -> tuple[str, list[Block]]:
    """A check-in in the lead's thread; the customer's name and the note verbatim."""
    accuracy = f" (±{event.accuracy_m:.0f} m)" if event.accuracy_m else ""
    on_map = _("{lat}, {lon} on the map").format(lat=f"{event.lat:.5f}", lon=f"{event.lon:.5f}")
    pieces: list[Piece] = [
        "📍 ",
        *fill(
            _("{checked_in} with {customer} by {who} — met {when}"),
            checked_in=Bold(_("Checked in")),
            customer=Said(event.customer_name),
            who=Mention(event.by_user_id),
            when=Date(
                event.met_at, tz=event.tz
            ),  # the check-in page's zone, for clients without the token
        ),
        "\n",
        Link(osm_url(event.lat, event.lon), on_map),
        accuracy,
    ]
    if event.note:
        pieces.append(Quote(shorten(event.note, 1000)))
    return compose(*pieces)


# --- known customers ----------------------------------------------------------------------


def customer_returned_message(event: CustomerReturned) -> tuple[str, list[Block]]:
    again = (
        " — " + _("{ordinal} visit").format(ordinal=ordinal(event.visits))
        if event.visits > 1
        else ""
    )
    read = (
        _(", read {duration} so far").format(duration=duration(event.read_ms))
        if event.read_ms >= 1000
        else ""
    )
    return compose(
        "👀 ",
        *fill(
            _(
                "Your customer {customer} (lead #{id}) is looking at {activity} again{again}{read} "
                "(on {device}, via {source})."
            ),
            customer=Said(event.customer_name, strong=True),
            id=str(event.lead_id),
            activity=Said(event.activity_name, strong=True),
            again=again,
            read=read,
            device=device_words(event.device),
            source=source_label(event.source),
        ),
    )


# --- timeline -----------------------------------------------------------------------------


def ordinal(n: int) -> str:
    """ "2nd" in English; the bare number elsewhere (the sentence around it says "the Nth")."""
    if current_locale() != "en":
        return str(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def timeline_button(lead_id: int) -> Block:
    return {
        "type": "actions",
        "block_id": f"lead_timeline_{lead_id}",
        "elements": [button(_("🕒 Timeline"), ids.LEAD_TIMELINE, str(lead_id))],
    }


def signup_dm_blocks(words: list[Block], lead_id: int) -> list[Block]:
    """The employee's "signed up" DM: its words, plus the Timeline button."""
    return [*words, timeline_button(lead_id)]


def _by(entry: TimelineEntry) -> list[Piece]:
    return fill(_(" by {who}"), who=Mention(entry.by_user_id)) if entry.by_user_id else []


def entry_line(entry: TimelineEntry) -> list[Piece]:
    """One timeline entry; what people typed (notes, summaries, file names) verbatim."""
    when: list[Piece] = [Date(entry.at), "  "]
    if entry.kind == "view":
        line: list[Piece] = [
            *when,
            "👀 ",
            _("Viewed via {source} on {device}").format(
                source=source_label(entry.source or ""), device=device_words(entry.device)
            ),
        ]
        if entry.dwell_ms:
            line.append(" · " + _("read {duration}").format(duration=duration(entry.dwell_ms)))
        if entry.scroll_pct is not None:
            line.append(" · " + _("scrolled {percent}%").format(percent=entry.scroll_pct))
        if not entry.counted:
            line += [" · ", Italic(_("repeat within 30 min, not counted"))]
        return line
    if entry.kind == "signup":
        note: list[Piece] = ["\n      “", Said(shorten(entry.text, 300)), "”"] if entry.text else []
        signed_up = fill(
            _("{signed_up} via {source}"),
            signed_up=Bold(_("Signed up")),
            source=source_label(entry.source or ""),
        )
        return [*when, "✍️ ", *signed_up, *note]
    if entry.kind == "outcome":
        return [*when, outcome_label(entry.label) if entry.label else "", *_by(entry)]
    if entry.kind == "contact":
        icon = KIND_ICONS.get(entry.label, "🗒️")
        title = (
            _("File")
            if entry.label == FILE_KIND
            else _(CONTACT_TITLES[entry.label])
            if entry.label in CONTACT_TITLES
            else entry.label.capitalize()
        )
        line = [*when, f"{icon} ", Bold(title), *_by(entry)]
        if entry.text:
            line += [": ", Said(shorten(entry.text, 300))]
        if entry.file_name:
            size = f" ({size_label(entry.file_size)})" if entry.file_size else ""
            name = entry.file_name
            if entry.file_url:
                line += ["\n      📎 ", Link(entry.file_url, name), size]
            else:
                line += [" 📎 ", Said(name)]
        return line
    if entry.kind == "check_in":
        assert entry.lat is not None and entry.lon is not None
        accuracy = f" ±{entry.accuracy_m:.0f} m" if entry.accuracy_m else ""
        line = [*when, "📍 ", Bold(_("Met in person")), *_by(entry), " — "]
        line += [Link(osm_url(entry.lat, entry.lon), _("map")), accuracy]
        if entry.text:
            line += [": ", Said(shorten(entry.text, 300))]
        return line
    return [*when, "🗒️ " + _("Note"), *_by(entry), ": ", Said(shorten(entry.text, 300))]


def _size(line: list[Piece]) -> int:
    return len(mrkdwn(line))


def _pack(lines: list[list[Piece]]) -> list[Block]:
    """Lines into as few rich_text blocks as keep each under SECTION_CHARS of text."""
    blocks: list[Block] = []
    current: list[Piece] = []
    size = 0
    for line in lines:
        length = _size(line) + 1
        if current and size + length > SECTION_CHARS:
            blocks.append(rich_text(current))
            current, size = [], 0
        current += ["\n", *line] if current else line
        size += length
    if current:
        blocks.append(rich_text(current))
    return blocks


def timeline_modal(timeline: Timeline) -> dict[str, Any]:
    lead = timeline.lead
    assert lead.id is not None
    sales: Piece = Mention(lead.salesperson_id) if lead.salesperson_id else _("unassigned")
    company: list[Piece] = [" · ", Said(lead.company)] if lead.company else []
    header = rich_text(
        [
            Said(lead.name),
            " · ",
            Said(timeline.phone),
            *company,
            "\n",
            Said(timeline.activity_name),
            " · ",
            *fill(
                _("shared by {employee} via {source} · salesperson {salesperson} · {outcome}"),
                employee=Mention(timeline.employee_user_id),
                source=source_label(lead.source),
                salesperson=sales,
                outcome=outcome_label(lead.outcome),
            ),
        ]
    )
    by_source = timeline.views_by_source
    views = " · ".join(f"`{s}` {n}" for s, n in sorted(by_source.items(), key=lambda kv: -kv[1]))
    read = (
        " · " + _("read {duration} in total").format(duration=duration(timeline.read_ms))
        if timeline.read_ms >= 1000
        else ""
    )
    summary = _("Counted views by source: {views}").format(views=views or _("none yet")) + read
    lines = [entry_line(entry) for entry in timeline.entries]
    dropped = 0
    if len(lines) > MAX_TIMELINE_LINES:
        dropped = len(lines) - MAX_TIMELINE_LINES
        lines = lines[-MAX_TIMELINE_LINES:]
    blocks: list[Block] = [header, context(summary), {"type": "divider"}]
    packed = _pack(lines)
    if len(packed) > 90:  # only with very long texts: keep the newest, say so
        packed, dropped = packed[-90:], dropped + 1
    view_count = sum(e.kind == "view" for e in timeline.entries)
    if dropped or view_count >= MAX_TIMELINE_VIEWS:
        blocks.append(context(_("Only the most recent entries are shown.")))
    blocks += packed
    if timeline.viewer_role == "employee":
        blocks.append(
            context(
                _(
                    "You shared the link this customer used; the phone is hidden, and contacts, "
                    "check-ins and notes are the salesperson's."
                )
            )
        )
    return {
        "type": "modal",
        "callback_id": ids.TIMELINE_MODAL,
        "private_metadata": str(lead.id),
        "title": plain(_("Lead #{id}").format(id=lead.id)[:24]),
        "close": plain(pgettext("dialog", "Close")),
        "blocks": blocks,
    }
