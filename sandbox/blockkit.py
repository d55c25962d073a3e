"""Block Kit → HTML, on the server, for the sandbox's chat UI.

Every string that came from the app is untrusted: it is escaped with markupsafe, links
are kept only for http(s)/mailto/tel, and a block or element this renderer does not know
becomes a visible placeholder instead of breaking the page. Interactive elements carry
data attributes (action id, block id, container) that `static/app.js` posts back; inputs
of a modal are named "block_id/action_id", the keys `sandbox.forms.view_state` accepts.

References: https://api.slack.com/reference/block-kit/blocks,
https://api.slack.com/reference/surfaces/formatting (mrkdwn).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from markupsafe import Markup, escape

from sandbox.forms import action_id_of, input_elements, typing_from_rich_text
from sandbox.workspace import Workspace

JSON = dict[str, Any]

SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:")
EMOJI = {
    "memo": "📝",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "tada": "🎉",
    "eyes": "👀",
    "warning": "⚠️",
    "rocket": "🚀",
    "mega": "📣",
    "loudspeaker": "📢",
    "pushpin": "📌",
    "lock": "🔒",
    "moneybag": "💰",
    "no_entry_sign": "🚫",
    "thumbsup": "👍",
    "+1": "👍",
    "fire": "🔥",
    "star": "⭐",
    "wave": "👋",
    "smile": "😄",
    "heart": "❤️",
    "x": "❌",
}


# --- what the renderer needs to know about the workspace ------------------------------


@dataclass(frozen=True)
class Names:
    """Display names for mentions and the options of user/channel selects."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    selectable_users: tuple[str, ...] = ()

    @classmethod
    def from_workspace(cls, workspace: Workspace) -> Names:
        users = {u.id: u.real_name or u.name for u in workspace.users.values()}
        users.setdefault("USLACKBOT", "Slackbot")
        channels = {c.id: c.name for c in workspace.channels.values() if not c.is_im}
        selectable = tuple(u.id for u in workspace.users.values() if not u.is_bot and not u.deleted)
        return cls(users, channels, selectable)

    def user(self, user_id: str, fallback: str = "") -> str:
        return self.users.get(user_id) or fallback or user_id

    def channel(self, channel_id: str, fallback: str = "") -> str:
        return self.channels.get(channel_id) or fallback or channel_id

    def user_options(self) -> list[tuple[str, str]]:
        ids = self.selectable_users or tuple(self.users)
        return [(user_id, self.user(user_id)) for user_id in ids]

    def channel_options(self) -> list[tuple[str, str]]:
        return [(channel_id, f"#{name}") for channel_id, name in self.channels.items()]


@dataclass(frozen=True)
class Container:
    """Where an interactive element lives: a message (channel + ts) or a view."""

    kind: str = "message"
    channel: str = ""
    ts: str = ""
    view_id: str = ""

    def attrs(self) -> dict[str, str | None]:
        return {
            "data-container": self.kind,
            "data-channel": self.channel or None,
            "data-ts": self.ts or None,
            "data-view-id": self.view_id or None,
        }


@dataclass(frozen=True)
class Context:
    names: Names = field(default_factory=Names)
    errors: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)
    tz: tzinfo = UTC
    form: bool = False
    """True inside a modal: input elements get form names and prefilled entered values."""


# --- HTML helpers ------------------------------------------------------------------------


def tag(name: str, attrs: Mapping[str, Any] | None = None, content: Any = "") -> Markup:
    """`<name attrs>content</name>`; None/False attributes are left out, True is bare."""
    parts = [Markup("<"), Markup(name)]
    for key, value in (attrs or {}).items():
        if value is None or value is False:
            continue
        if value is True:
            parts.append(Markup(" {}").format(Markup(key)))
        else:
            parts.append(Markup(' {}="{}"').format(Markup(key), value))
    parts.append(Markup(">"))
    if name in ("input", "img", "hr", "br"):
        return Markup("").join(parts)
    parts.extend((escape(content), Markup("</{}>").format(Markup(name))))
    return Markup("").join(parts)


def join(items: Iterable[Any]) -> Markup:
    return Markup("").join(escape(item) for item in items)


def safe_url(url: Any, *, relative: bool = True) -> str | None:
    """Only links a browser cannot turn into script: http(s), mailto, tel, or site-relative."""
    if not isinstance(url, str):
        return None
    cleaned: str = url.strip()
    if cleaned.lower().startswith(SAFE_SCHEMES):
        return cleaned
    if relative and cleaned.startswith("/") and not cleaned.startswith("//"):
        return cleaned
    return None


def placeholder(what: str, kind: Any) -> Markup:
    label = str(kind) if isinstance(kind, str) and kind else "?"
    return tag("div", {"class": "bk-unsupported"}, f"Unsupported {what}: {label}")


def inline_placeholder(kind: Any) -> Markup:
    label = str(kind) if isinstance(kind, str) and kind else "?"
    return tag("span", {"class": "bk-unsupported"}, f"Unsupported element: {label}")


# --- text --------------------------------------------------------------------------------

_ENTITY = re.compile(r"&(amp|lt|gt);")
_FENCE = re.compile(r"```\n?(.*?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_SPECIAL = re.compile(r"<([^<>\n]+)>")
_SLOT = re.compile(r"\x00(\d+)\x00")
_QUOTE = re.compile(r"^&gt; ?")
_SHORTCODE = re.compile(r":([a-z0-9_+\-]+):")
_BARE_URL = re.compile(r"https?://[^\s<>\x00]+")
_TRAILING = ".,;:!?)]}'\"*_~"


def _style(mark: str) -> re.Pattern[str]:
    m = re.escape(mark)
    return re.compile(rf"(?<![A-Za-z0-9{m}]){m}(?=\S)([^\n]*?\S){m}(?![A-Za-z0-9{m}])")


_STYLES = ((_style("*"), "strong"), (_style("_"), "em"), (_style("~"), "del"))


def unescape_slack(value: str) -> str:
    """Slack escapes only &, < and > in message text."""
    return _ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], value)


def emoji(name: str) -> str:
    return EMOJI.get(name, f":{name}:")


def _shortcode(match: re.Match[str]) -> str:
    """:memo: → 📝 for the emoji we know; others stay as typed."""
    return EMOJI.get(match.group(1), match.group(0))


def _special(body: str, names: Names) -> Markup:
    """`<@U…>`, `<#C…|name>`, `<!here>`, `<url|text>`; anything else stays visible text."""
    target, _, label = body.partition("|")
    label = unescape_slack(label)
    if target.startswith("@"):
        return tag("span", {"class": "bk-mention"}, "@" + names.user(target[1:], label))
    if target.startswith("#"):
        return tag("span", {"class": "bk-mention"}, "#" + names.channel(target[1:], label))
    if target.startswith("!"):
        command = target[1:]
        if command in ("here", "channel", "everyone"):
            return tag("span", {"class": "bk-mention"}, "@" + command)
        if command.startswith("subteam^"):
            return tag("span", {"class": "bk-mention"}, label or "@group")
        if command.startswith("date^"):
            return escape(label or command)
        return escape(label or body)
    url = safe_url(unescape_slack(target), relative=False)
    if url is None:
        return escape("<" + unescape_slack(body) + ">")
    text = label or url.removeprefix("mailto:")
    return tag("a", {"href": url, "target": "_blank", "rel": "noopener noreferrer"}, text)


def _bare_link(found: str, slot: Callable[[Markup], str]) -> str:
    """Slack links bare URLs in message text too; trailing punctuation is not the URL's."""
    url = found.rstrip(_TRAILING)
    rest = found[len(url) :]
    href = unescape_slack(url)
    link = tag("a", {"href": href, "target": "_blank", "rel": "noopener noreferrer"}, href)
    return slot(link) + rest


def mrkdwn(text: Any, names: Names | None = None) -> Markup:
    """Slack's mrkdwn as HTML: *bold*, _italic_, ~strike~, `code`, ```pre```, links,
    mentions, > quotes and newlines. Everything else is escaped text."""
    names = names or Names()
    source = str(text or "")
    slots: list[Markup] = []

    def slot(markup: Markup) -> str:
        slots.append(markup)
        return f"\x00{len(slots) - 1}\x00"

    source = source.replace("\x00", "")
    source = _FENCE.sub(
        lambda m: slot(tag("pre", {"class": "bk-pre"}, unescape_slack(m.group(1)))), source
    )
    source = _CODE.sub(
        lambda m: slot(tag("code", {"class": "bk-code"}, unescape_slack(m.group(1)))), source
    )
    source = _SPECIAL.sub(lambda m: slot(_special(m.group(1), names)), source)
    source = _BARE_URL.sub(lambda m: _bare_link(m.group(0), slot), source)
    html = str(escape(unescape_slack(source)))
    html = _SHORTCODE.sub(_shortcode, html)
    for pattern, element in _STYLES:
        html = pattern.sub(rf"<{element}>\1</{element}>", html)
    lines: list[str] = []
    quote: list[str] = []
    for line in html.split("\n"):
        if _QUOTE.match(line):
            quote.append(_QUOTE.sub("", line, count=1))
            continue
        if quote:
            lines.append('<blockquote class="bk-quote">' + "<br>".join(quote) + "</blockquote>")
            quote = []
        lines.append(line + "\n")
    if quote:
        lines.append('<blockquote class="bk-quote">' + "<br>".join(quote) + "</blockquote>")
    html = "".join(lines).rstrip("\n").replace("\n", "<br>")
    html = html.replace("</blockquote><br>", "</blockquote>")
    return Markup(_SLOT.sub(lambda m: str(slots[int(m.group(1))]), html))


def plain_text(value: Any) -> Markup:
    """plain_text: escaped, :emoji: shortcodes as characters, newlines kept."""
    raw = str(value or "")
    return Markup(_SHORTCODE.sub(_shortcode, str(escape(raw)).replace("\n", "<br>")))


def text_object(obj: Any, names: Names | None = None) -> Markup:
    if isinstance(obj, str):
        return plain_text(obj)
    if not isinstance(obj, dict):
        return Markup("")
    if obj.get("type") == "mrkdwn":
        return mrkdwn(obj.get("text"), names)
    return plain_text(obj.get("text"))


def raw_text(obj: Any) -> str:
    """The text of a text object without formatting (for <option> labels, alt texts)."""
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return str(obj or "")


# --- elements ----------------------------------------------------------------------------


@dataclass
class Slot:
    """Where an element is rendered: its block, its container, and (in a form) its name."""

    block_id: str
    container: Container
    name: str | None = None
    dispatch: bool = True
    dom_id: str | None = None

    def attrs(self, element: JSON) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            "id": self.dom_id,
            "data-action-id": element.get("action_id") or None,
            "data-block-id": self.block_id,
            "data-kind": element.get("type"),
            **self.container.attrs(),
        }
        if self.dispatch:
            attrs["class"] = "bk-interactive"
        if isinstance(element.get("confirm"), dict):
            confirm = element["confirm"]
            attrs["data-confirm"] = " ".join(
                part
                for part in (raw_text(confirm.get("title")), raw_text(confirm.get("text")))
                if part
            )
        return attrs


def _options(element: JSON) -> list[JSON]:
    return [o for o in element.get("options") or [] if isinstance(o, dict)]


def _initial(element: JSON, slot: Slot, ctx: Context) -> list[str]:
    """The values the element shows selected: what the user entered, else its initial_*."""
    if slot.name and slot.name in ctx.values:
        raw = ctx.values[slot.name]
        if isinstance(raw, (list, tuple)):
            return [str(v) for v in raw]
        return [] if raw is None else [str(raw)]
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons", "external_select"):
        option = element.get("initial_option")
        return [str(option.get("value"))] if isinstance(option, dict) else []
    if kind in ("multi_static_select", "checkboxes"):
        return [
            str(o.get("value")) for o in element.get("initial_options") or [] if isinstance(o, dict)
        ]
    single = {
        "users_select": "initial_user",
        "conversations_select": "initial_conversation",
        "channels_select": "initial_channel",
        "plain_text_input": "initial_value",
        "number_input": "initial_value",
        "email_text_input": "initial_value",
        "url_text_input": "initial_value",
        "datepicker": "initial_date",
        "timepicker": "initial_time",
        "datetimepicker": "initial_date_time",
    }
    multi = {
        "multi_users_select": "initial_users",
        "multi_conversations_select": "initial_conversations",
        "multi_channels_select": "initial_channels",
    }
    if kind in single:
        value = element.get(single[str(kind)])
        return [] if value in (None, "") else [str(value)]
    if kind in multi:
        return [str(v) for v in element.get(multi[str(kind)]) or []]
    return []


def _button(element: JSON, slot: Slot, ctx: Context) -> Markup:
    style = element.get("style")
    classes = ["bk-button"]
    if style in ("primary", "danger"):
        classes.append(f"bk-{style}")
    attrs = slot.attrs(element)
    attrs["class"] = " ".join([*classes, attrs.get("class", "")]).strip()
    attrs.update(
        {
            "type": "button",
            "data-value": element.get("value"),
            "data-url": safe_url(element.get("url"), relative=False),
        }
    )
    return tag("button", attrs, plain_text(raw_text(element.get("text"))))


def _option_tags(options: list[tuple[str, str]], selected: list[str]) -> Markup:
    return join(
        tag("option", {"value": value, "selected": value in selected}, label)
        for value, label in options
    )


def _select(element: JSON, slot: Slot, ctx: Context) -> Markup:
    kind = str(element.get("type"))
    multiple = kind.startswith("multi_")
    selected = _initial(element, slot, ctx)
    attrs = slot.attrs(element)
    attrs["class"] = ("bk-select " + attrs.get("class", "")).strip()
    attrs.update({"name": slot.name, "multiple": multiple})
    if multiple:
        attrs["size"] = "4"
    parts: list[Markup] = []
    if not multiple:
        placeholder_text = raw_text(element.get("placeholder")) or "Select an option"
        parts.append(tag("option", {"value": "", "selected": not selected}, placeholder_text))
    if kind in ("users_select", "multi_users_select"):
        parts.append(_option_tags(ctx.names.user_options(), selected))
    elif kind in (
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
    ):
        parts.append(_option_tags(ctx.names.channel_options(), selected))
    else:
        for option in _options(element):
            parts.append(
                _option_tags([(str(option.get("value")), raw_text(option.get("text")))], selected)
            )
        for group in element.get("option_groups") or []:
            if not isinstance(group, dict):
                continue
            pairs = [(str(o.get("value")), raw_text(o.get("text"))) for o in _options(group)]
            parts.append(
                tag(
                    "optgroup",
                    {"label": raw_text(group.get("label"))},
                    _option_tags(pairs, selected),
                )
            )
    return tag("select", attrs, join(parts))


def _overflow(element: JSON, slot: Slot, ctx: Context) -> Markup:
    attrs = slot.attrs(element)
    attrs["class"] = ("bk-overflow " + attrs.get("class", "")).strip()
    attrs["aria-label"] = "More actions"
    options = [(str(o.get("value")), raw_text(o.get("text"))) for o in _options(element)]
    return tag(
        "select",
        attrs,
        tag("option", {"value": "", "selected": True}, "⋯") + _option_tags(options, []),
    )


def _picker(element: JSON, slot: Slot, ctx: Context) -> Markup:
    kind = element.get("type")
    initial = _initial(element, slot, ctx)
    value = initial[0] if initial else None
    input_type = {"datepicker": "date", "timepicker": "time"}.get(str(kind), "datetime-local")
    if kind == "datetimepicker" and value and value.lstrip("-").isdigit():
        value = datetime.fromtimestamp(int(value), ctx.tz).strftime("%Y-%m-%dT%H:%M")
    attrs = slot.attrs(element)
    attrs["class"] = ("bk-picker " + attrs.get("class", "")).strip()
    attrs.update({"type": input_type, "name": slot.name, "value": value})
    return tag("input", attrs)


def _text_input(element: JSON, slot: Slot, ctx: Context) -> Markup:
    kind = element.get("type")
    initial = _initial(element, slot, ctx)
    value = initial[0] if initial else ""
    attrs = slot.attrs(element)
    attrs.update(
        {
            "name": slot.name,
            "placeholder": raw_text(element.get("placeholder")) or None,
            "maxlength": element.get("max_length"),
            "minlength": element.get("min_length"),
        }
    )
    interactive = " bk-interactive" if slot.dispatch else ""
    if kind == "plain_text_input" and element.get("multiline"):
        attrs["class"] = "bk-textarea" + interactive
        attrs["rows"] = "4"
        return tag("textarea", attrs, value)
    attrs["class"] = "bk-text" + interactive
    if kind == "number_input":
        decimal = bool(element.get("is_decimal_allowed"))
        attrs.update(
            type="number",
            step="any" if decimal else "1",
            min=element.get("min_value"),
            max=element.get("max_value"),
            inputmode="decimal" if decimal else "numeric",
        )
    else:
        attrs["type"] = {"email_text_input": "email", "url_text_input": "url"}.get(
            str(kind), "text"
        )
    attrs["value"] = value
    return tag("input", attrs)


RICH_TEXT_HINT = "*bold* _italic_ ~strike~, links, - and 1. lists"


def _rich_text_input(element: JSON, slot: Slot, ctx: Context) -> Markup:
    """A textarea; what is typed is sent as rich text the way Slack's composer formats it
    (*bold*, _italic_, ~strike~, web links, "- " and "1. " lists: sandbox/forms.py)."""
    if slot.name and slot.name in ctx.values:
        value = str(ctx.values[slot.name] or "")
    else:
        value = typing_from_rich_text(element.get("initial_value"))
    attrs = slot.attrs(element)
    attrs.update(
        {
            "name": slot.name,
            "class": "bk-textarea bk-rich-input",
            "rows": "5",
            "placeholder": raw_text(element.get("placeholder")) or RICH_TEXT_HINT,
        }
    )
    return tag("textarea", attrs, value)


def _choices(element: JSON, slot: Slot, ctx: Context) -> Markup:
    kind = element.get("type")
    input_type = "checkbox" if kind == "checkboxes" else "radio"
    selected = _initial(element, slot, ctx)
    name = slot.name or f"{slot.block_id}/{element.get('action_id') or ''}"
    items = []
    for option in _options(element):
        value = str(option.get("value"))
        attrs = slot.attrs(element)
        attrs.pop("id", None)
        attrs.update(
            {"type": input_type, "name": name, "value": value, "checked": value in selected}
        )
        label = text_object(option.get("text"), ctx.names)
        description = option.get("description")
        if description:
            label += tag("span", {"class": "bk-option-hint"}, text_object(description, ctx.names))
        items.append(tag("label", {"class": "bk-choice"}, tag("input", attrs) + label))
    group = {"class": f"bk-choices bk-{input_type}es", "role": "group", "id": slot.dom_id}
    return tag("div", group, join(items))


def _image_element(element: JSON, slot: Slot, ctx: Context) -> Markup:
    url = safe_url(element.get("image_url") or (element.get("slack_file") or {}).get("url"))
    if url is None:
        return tag("span", {"class": "bk-image-missing"}, element.get("alt_text") or "image")
    return tag("img", {"class": "bk-thumb", "src": url, "alt": element.get("alt_text") or ""})


def _file_input(element: JSON, slot: Slot, ctx: Context) -> Markup:
    """A file chooser; files sent with an earlier try stay attached (ticked) like in Slack."""
    max_files = int(element.get("max_files") or 10)
    types = [str(t).lstrip(".") for t in element.get("filetypes") or [] if str(t)]
    attrs = slot.attrs(element)
    attrs["class"] = "bk-file-input"  # Slack sends no block_actions for a file_input
    attrs.update(
        {
            "type": "file",
            "name": slot.name,
            "multiple": max_files > 1,
            "accept": ",".join(f".{t}" for t in types) or None,
        }
    )
    kept = ctx.values.get(slot.name or "") if slot.name else None
    items = [tag("input", attrs)]
    for file in kept if isinstance(kept, list) else []:
        if not isinstance(file, dict) or not file.get("id"):
            continue
        tick = {"type": "checkbox", "name": slot.name, "value": file["id"], "checked": True}
        items.append(
            tag("label", {"class": "bk-file-kept"}, tag("input", tick) + f"📎 {file.get('name')}")
        )
    limit = f"Up to {max_files} files" if max_files > 1 else "One file"
    if types:
        limit += f" ({', '.join(types)})"
    items.append(tag("span", {"class": "bk-option-hint"}, limit))
    return tag("div", {"class": "bk-file"}, join(items))


ELEMENTS: dict[str, Callable[[JSON, Slot, Context], Markup]] = {
    "button": _button,
    "static_select": _select,
    "multi_static_select": _select,
    "users_select": _select,
    "multi_users_select": _select,
    "conversations_select": _select,
    "multi_conversations_select": _select,
    "channels_select": _select,
    "multi_channels_select": _select,
    "overflow": _overflow,
    "datepicker": _picker,
    "timepicker": _picker,
    "datetimepicker": _picker,
    "plain_text_input": _text_input,
    "number_input": _text_input,
    "email_text_input": _text_input,
    "url_text_input": _text_input,
    "rich_text_input": _rich_text_input,
    "checkboxes": _choices,
    "radio_buttons": _choices,
    "image": _image_element,
    "file_input": _file_input,
}


def element_html(element: Any, slot: Slot, ctx: Context) -> Markup:
    if not isinstance(element, dict):
        return inline_placeholder(None)
    render = ELEMENTS.get(str(element.get("type")))
    if render is None:
        return inline_placeholder(element.get("type"))
    return render(element, slot, ctx)


# --- blocks ------------------------------------------------------------------------------


@dataclass
class Rendering:
    ctx: Context
    container: Container
    names_by_element: dict[int, str]

    def slot(
        self, block_id: str, element: Any, *, dispatch: bool = True, dom_id: str | None = None
    ) -> Slot:
        name = self.names_by_element.get(id(element)) if self.ctx.form else None
        return Slot(block_id, self.container, name, dispatch, dom_id)


def _section(block: JSON, block_id: str, r: Rendering) -> Markup:
    body = Markup("")
    if block.get("text"):
        body += tag("div", {"class": "bk-text-body"}, text_object(block["text"], r.ctx.names))
    fields = [f for f in block.get("fields") or [] if isinstance(f, dict)]
    if fields:
        body += tag(
            "div",
            {"class": "bk-fields"},
            join(tag("div", {"class": "bk-field"}, text_object(f, r.ctx.names)) for f in fields),
        )
    accessory = block.get("accessory")
    side = Markup("")
    if accessory is not None:
        side = tag(
            "div",
            {"class": "bk-accessory"},
            element_html(accessory, r.slot(block_id, accessory), r.ctx),
        )
    return tag(
        "div", {"class": "bk-section-row"}, tag("div", {"class": "bk-section-main"}, body) + side
    )


def _header(block: JSON, block_id: str, r: Rendering) -> Markup:
    return tag("h3", {"class": "bk-header-text"}, plain_text(raw_text(block.get("text"))))


def _context(block: JSON, block_id: str, r: Rendering) -> Markup:
    parts = []
    for element in block.get("elements") or []:
        if isinstance(element, dict) and element.get("type") == "image":
            parts.append(_image_element(element, r.slot(block_id, element), r.ctx))
        elif isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
            parts.append(
                tag("span", {"class": "bk-context-text"}, text_object(element, r.ctx.names))
            )
        else:
            parts.append(
                inline_placeholder(element.get("type") if isinstance(element, dict) else None)
            )
    return join(parts)


def _divider(block: JSON, block_id: str, r: Rendering) -> Markup:
    return tag("hr", {"class": "bk-hr"})


def _image(block: JSON, block_id: str, r: Rendering) -> Markup:
    """Slack shows an image block's title above the picture, and the picture as wide as the
    surface allows (up to its own size), not as a thumbnail."""
    url = safe_url(block.get("image_url") or (block.get("slack_file") or {}).get("url"))
    title = raw_text(block.get("title"))
    img = (
        tag("img", {"src": url, "alt": block.get("alt_text") or title or "", "loading": "lazy"})
        if url
        else tag("span", {"class": "bk-image-missing"}, block.get("alt_text") or "image")
    )
    caption = tag("figcaption", {}, plain_text(title)) if title else Markup("")
    return tag("figure", {"class": "bk-figure"}, caption + img)


def _actions(block: JSON, block_id: str, r: Rendering) -> Markup:
    return join(
        element_html(element, r.slot(block_id, element), r.ctx)
        for element in block.get("elements") or []
    )


def _input(block: JSON, block_id: str, r: Rendering) -> Markup:
    element = block.get("element")
    field_id = f"in-{r.container.view_id or r.container.ts}-{block_id}"
    slot = r.slot(block_id, element, dispatch=bool(block.get("dispatch_action")), dom_id=field_id)
    label = tag(
        "label", {"class": "bk-label", "for": field_id}, plain_text(raw_text(block.get("label")))
    )
    if block.get("optional"):
        label += tag("span", {"class": "bk-optional"}, "(optional)")
    parts = [tag("div", {"class": "bk-label-row"}, label), element_html(element, slot, r.ctx)]
    error = r.ctx.errors.get(block_id)
    if error:
        parts.append(tag("div", {"class": "bk-error", "role": "alert"}, error))
    if block.get("hint"):
        parts.append(tag("div", {"class": "bk-hint"}, text_object(block["hint"], r.ctx.names)))
    return join(parts)


_RICH_STYLES = (("code", "code"), ("bold", "strong"), ("italic", "em"), ("strike", "del"))


def _rich_inline(element: Any, names: Names) -> Markup:
    if not isinstance(element, dict):
        return Markup("")
    kind = element.get("type")
    if kind == "text":
        html = plain_text(element.get("text"))
    elif kind == "link":
        url = safe_url(element.get("url"), relative=False)
        label = element.get("text") or element.get("url") or ""
        html = (
            tag("a", {"href": url, "target": "_blank", "rel": "noopener noreferrer"}, label)
            if url
            else escape(label)
        )
    elif kind == "user":
        html = tag("span", {"class": "bk-mention"}, "@" + names.user(str(element.get("user_id"))))
    elif kind == "channel":
        html = tag(
            "span", {"class": "bk-mention"}, "#" + names.channel(str(element.get("channel_id")))
        )
    elif kind == "usergroup":
        html = tag("span", {"class": "bk-mention"}, "@group")
    elif kind == "broadcast":
        html = tag("span", {"class": "bk-mention"}, "@" + str(element.get("range") or "here"))
    elif kind == "emoji":
        unicode = element.get("unicode")
        if isinstance(unicode, str) and re.fullmatch(r"[0-9a-fA-F\-]+", unicode):
            html = escape("".join(chr(int(code, 16)) for code in unicode.split("-")))
        else:
            html = escape(emoji(str(element.get("name") or "")))
    elif kind == "date":
        html = escape(element.get("fallback") or str(element.get("timestamp") or ""))
    elif kind == "color":
        html = escape(element.get("value") or "")
    else:
        return inline_placeholder(kind)
    style = element.get("style")
    if not isinstance(style, dict):
        return html
    for key, wrapper in _RICH_STYLES:
        if style.get(key):
            html = tag(wrapper, {}, html)
    return html


def _rich_part(part: Any, names: Names) -> Markup:
    if not isinstance(part, dict):
        return Markup("")
    kind = part.get("type")
    inline = join(_rich_inline(e, names) for e in part.get("elements") or [])
    if kind == "rich_text_section":
        return tag("div", {"class": "bk-rich-section"}, inline)
    if kind == "rich_text_preformatted":
        return tag("pre", {"class": "bk-pre"}, inline)
    if kind == "rich_text_quote":
        return tag("blockquote", {"class": "bk-quote"}, inline)
    if kind == "rich_text_list":
        items = join(
            tag("li", {}, join(_rich_inline(e, names) for e in section.get("elements") or []))
            for section in part.get("elements") or []
            if isinstance(section, dict)
        )
        return tag("ol" if part.get("style") == "ordered" else "ul", {"class": "bk-list"}, items)
    return placeholder("rich text element", kind)


def _rich_text(block: JSON, block_id: str, r: Rendering) -> Markup:
    return join(_rich_part(part, r.ctx.names) for part in block.get("elements") or [])


BLOCKS: dict[str, Callable[[JSON, str, Rendering], Markup]] = {
    "section": _section,
    "header": _header,
    "context": _context,
    "divider": _divider,
    "image": _image,
    "actions": _actions,
    "input": _input,
    "rich_text": _rich_text,
}


def render_blocks(
    blocks: Any, *, ctx: Context | None = None, container: Container | None = None
) -> Markup:
    """The blocks of one message or view as HTML; a block that cannot be drawn is a
    visible placeholder, never an exception."""
    ctx = ctx or Context()
    container = container or Container()
    blocks = blocks if isinstance(blocks, list) else []
    names_by_element: dict[int, str] = {}
    for index, (block_id, element) in enumerate(input_elements({"blocks": blocks})):
        names_by_element[id(element)] = f"{block_id}/{action_id_of(element, block_id, index)}"
    rendering = Rendering(ctx, container, names_by_element)
    parts: list[Markup] = []
    for position, block in enumerate(blocks):
        if not isinstance(block, dict):
            parts.append(placeholder("block", None))
            continue
        kind = block.get("type")
        block_id = str(block.get("block_id") or f"block_{position}")
        render = BLOCKS.get(str(kind))
        if render is None:
            parts.append(placeholder("block", kind))
            continue
        try:
            body = render(block, block_id, rendering)
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError, OSError):
            # A malformed block (wrong JSON shapes) must not take the whole page down.
            body = placeholder("block", f"{kind} (malformed)")
        parts.append(tag("div", {"class": f"bk-block bk-{kind}", "data-block-id": block_id}, body))
    return join(parts)
