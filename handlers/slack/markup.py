"""Typed text in Slack: escaped in mrkdwn, verbatim in rich_text (DESIGN.md section 6).

Slack reads `&`, `<` and `>` in every mrkdwn text as markup (links, mentions, `<!channel>`);
those three, and only those, are escaped ("Formatting text for app surfaces"). Escaping does
not stop `*bold*`, `_x_`, `~x~`, backticks or `>` quotes from being formatted, so where
someone's words are shown (a customer's name or note, a salesperson's summary, an admin's
activity name) a message is built from pieces: our own words (plain `str`, `Bold`, `Code`,
mentions, dates, links) and `Said(...)` for what someone typed. `message()` renders them
twice: the `text` fallback (push notifications), escaped; and a rich_text block, where typed
words are unstyled text elements that Slack shows exactly as typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot import i18n, richtext

Block = dict[str, Any]


def escape(value: str) -> str:
    """Escape text for mrkdwn: Slack's three control characters, nothing else."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain_text(value: str, limit: int = 150) -> dict[str, Any]:
    """A plain_text object for typed words: never formatted, `:codes:` left as typed."""
    return {"type": "plain_text", "text": value[:limit] or " ", "emoji": False}


@dataclass(frozen=True)
class Said:
    """Words someone typed: shown verbatim, never styled in blocks. `strong` marks them bold
    in the `text` fallback only (escaped there, so still no link or mention)."""

    text: str
    strong: bool = False


@dataclass(frozen=True)
class Bold:
    """Our own words, bold."""

    text: str


@dataclass(frozen=True)
class Italic:
    """Our own words, italic."""

    text: str


@dataclass(frozen=True)
class Code:
    """Our own identifiers (a push source, a command), in code style."""

    text: str


@dataclass(frozen=True)
class Mention:
    """A Slack user, shown as their name."""

    user_id: str


@dataclass(frozen=True)
class ChannelRef:
    """A Slack channel, shown as its name."""

    channel_id: str


@dataclass(frozen=True)
class Link:
    """A link we made; its label may be typed (a file name) and stays verbatim."""

    url: str
    label: str


@dataclass(frozen=True)
class Date:
    """A moment in the reader's time zone and language: Babel text when one reader is known
    (`bot.i18n.use_zone`: a modal, an ephemeral, a DM answering them), else Slack's date
    token (each reader's own zone) with a Babel fallback in `tz` (the activity's) or UTC."""

    moment: datetime
    fmt: str = "{date_short_pretty} {time}"
    tz: str | None = None


@dataclass(frozen=True)
class Quote:
    """Typed words set apart as a quote (a note, a summary): its own paragraph."""

    text: str


Piece = str | Said | Bold | Italic | Code | Mention | ChannelRef | Link | Date | Quote


SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, **slots: Piece) -> list[Piece]:
    """A translated sentence with `{name}` slots as pieces: our words between the slots stay
    `str`, each slot becomes its piece (typed words stay `Said`), wherever the language puts
    it: `fill(_("{name} signed up"), name=Said(customer))`."""
    pieces: list[Piece] = []

    def add(piece: Piece) -> None:
        if isinstance(piece, str) and pieces and isinstance(pieces[-1], str):
            pieces[-1] += piece  # plain words (numbers too) stay one run of text
        else:
            pieces.append(piece)

    position = 0
    for match in SLOT.finditer(template):
        if match.start() > position:
            add(template[position : match.start()])
        add(slots[match.group(1)])
        position = match.end()
    if position < len(template):
        add(template[position:])
    return pieces


def _with_date(piece: Date) -> bool:
    return "{date" in piece.fmt


def _reader_text(piece: Date) -> str | None:
    """The moment for the one known reader, in their zone; None when no reader is known."""
    reader = i18n.viewer_zone()
    if reader is None:
        return None
    return i18n.format_moment(piece.moment, reader, with_date=_with_date(piece))


def _fallback(piece: Date) -> str:
    """For clients that cannot show the token: in the activity's zone (else UTC), named."""
    where = piece.tz or "UTC"
    when = i18n.format_moment(piece.moment.astimezone(UTC), where, with_date=_with_date(piece))
    return f"{when} {i18n.zone_label(where)}"


def _mrkdwn_piece(piece: Piece) -> str:
    if isinstance(piece, Said) and piece.strong and piece.text:
        return f"*{escape(piece.text)}*"
    if isinstance(piece, str | Said):
        return escape(piece if isinstance(piece, str) else piece.text)
    if isinstance(piece, Bold):
        return f"*{escape(piece.text)}*"
    if isinstance(piece, Italic):
        return f"_{escape(piece.text)}_"
    if isinstance(piece, Code):
        return f"`{escape(piece.text)}`"
    if isinstance(piece, Mention):
        return f"<@{piece.user_id}>"
    if isinstance(piece, ChannelRef):
        return f"<#{piece.channel_id}>"
    if isinstance(piece, Link):  # a bare address is linked by Slack and stays copyable
        return piece.url if piece.label == piece.url else f"<{piece.url}|{escape(piece.label)}>"
    if isinstance(piece, Date):
        words = _reader_text(piece)
        if words is not None:
            return escape(words)
        stamp = int(piece.moment.timestamp())
        return f"<!date^{stamp}^{piece.fmt}|{_fallback(piece)}>"
    return "\n> " + escape(piece.text).replace("\n", "\n> ") + "\n"


def mrkdwn(pieces: Iterable[Piece]) -> str:
    """The pieces as one mrkdwn string (a `text` fallback): typed words escaped."""
    text = "".join(_mrkdwn_piece(piece) for piece in pieces)
    return text.replace("\n\n> ", "\n> ").strip("\n")


def _element(piece: Piece) -> dict[str, Any] | None:
    if isinstance(piece, str | Said):
        value = piece if isinstance(piece, str) else piece.text
        return {"type": "text", "text": value} if value else None
    if isinstance(piece, Bold | Italic | Code):
        style = {Bold: "bold", Italic: "italic", Code: "code"}[type(piece)]
        return {"type": "text", "text": piece.text, "style": {style: True}} if piece.text else None
    if isinstance(piece, Mention):
        return {"type": "user", "user_id": piece.user_id}
    if isinstance(piece, ChannelRef):
        return {"type": "channel", "channel_id": piece.channel_id}
    if isinstance(piece, Link):
        return {"type": "link", "url": piece.url, "text": piece.label or piece.url}
    if isinstance(piece, Date):
        words = _reader_text(piece)
        if words is not None:
            return {"type": "text", "text": words}
        return {
            "type": "date",
            "timestamp": int(piece.moment.timestamp()),
            "format": piece.fmt,
            "fallback": _fallback(piece),
        }
    raise TypeError(f"not an inline piece: {piece!r}")


def _trim(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop the line breaks a paragraph starts or ends with (a quote is its own paragraph)."""
    if elements and elements[0]["type"] == "text":
        elements[0] = {**elements[0], "text": elements[0]["text"].lstrip("\n")}
    if elements and elements[-1]["type"] == "text":
        elements[-1] = {**elements[-1], "text": elements[-1]["text"].rstrip("\n")}
    return [e for e in elements if e["type"] != "text" or e["text"]]


def rich_text(pieces: Iterable[Piece]) -> Block:
    """The pieces as one rich_text block: typed words are unstyled text elements."""
    parts: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []

    def flush() -> None:
        section = _trim(current)
        if section:
            parts.append({"type": "rich_text_section", "elements": section})
        current.clear()

    for piece in pieces:
        if isinstance(piece, Quote):
            flush()
            if piece.text:
                quote = [{"type": "text", "text": piece.text}]
                parts.append({"type": "rich_text_quote", "elements": quote})
            continue
        element = _element(piece)
        if element is not None:
            current.append(element)
    flush()
    if not parts:
        parts.append({"type": "rich_text_section", "elements": [{"type": "text", "text": " "}]})
    return {"type": "rich_text", "elements": parts}


def compose(*pieces: Piece) -> tuple[str, list[Block]]:
    """(text fallback, blocks) of a message that shows typed words verbatim."""
    return mrkdwn(pieces), [rich_text(pieces)]


# --- an admin's formatted text (the activity intro) -------------------------------------
# The modal's rich_text_input sends a rich_text block; bot/richtext.py keeps its bold,
# italics, strike, safe links and lists. Shown back in Slack as rich_text with those styles.

_STYLES = ("bold", "italic", "strike")


def _run_of(element: object) -> richtext.Run | None:
    """One inline element of Slack rich text as a run; mentions and the like become words."""
    if not isinstance(element, dict):
        return None
    kind = element.get("type")
    raw_style = element.get("style")
    style: dict[str, Any] = raw_style if isinstance(raw_style, dict) else {}
    bold, italic, strike = (style.get(name) is True for name in _STYLES)
    if kind == "text":
        words = str(element.get("text") or "")
    elif kind == "link":
        url = str(element.get("url") or "")
        words = str(element.get("text") or url)
        link = richtext.safe_link(url)
        return richtext.Run(words, bold, italic, strike, link) if words else None
    elif kind == "emoji":
        unicode = str(element.get("unicode") or "")
        try:
            words = "".join(chr(int(code, 16)) for code in unicode.split("-") if code)
        except ValueError:
            words = ""
        words = words or f":{element.get('name') or ''}:"
    elif kind == "user":
        words = f"@{element.get('user_id') or ''}"
    elif kind == "channel":
        words = f"#{element.get('channel_id') or ''}"
    elif kind == "broadcast":
        words = f"@{element.get('range') or 'here'}"
    elif kind == "date":
        words = str(element.get("fallback") or "")
    else:
        words = str(element.get("text") or "")
    return richtext.Run(words, bold, italic, strike) if words else None


def _runs_of(section: object) -> richtext.Runs:
    elements = section.get("elements") if isinstance(section, dict) else None
    runs = [run for run in map(_run_of, elements or []) if run is not None]
    if runs:  # Slack ends a paragraph with its line break
        last = runs[-1]
        runs[-1] = richtext.Run(
            last.text.rstrip("\n"), last.bold, last.italic, last.strike, last.link
        )
    return tuple(run for run in runs if run.text)


def doc_from_rich_text(value: object) -> richtext.Doc:
    """A rich_text_input's value as a doc (sections and quotes as paragraphs, lists kept)."""
    parts = value.get("elements") if isinstance(value, dict) else None
    blocks: list[richtext.Block] = []
    for part in parts if isinstance(parts, list) else []:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("rich_text_section", "rich_text_quote", "rich_text_preformatted"):
            runs = _runs_of(part)
            if runs:
                blocks.append(richtext.Paragraph(runs))
        elif kind == "rich_text_list":
            items = tuple(r for r in (_runs_of(s) for s in part.get("elements") or []) if r)
            indent = part.get("indent")
            if items:
                blocks.append(
                    richtext.ItemList(
                        part.get("style") == "ordered",
                        items,
                        indent if isinstance(indent, int) and 0 <= indent <= 8 else 0,
                    )
                )
    return tuple(blocks)


def _styled(run: richtext.Run) -> dict[str, Any]:
    element: dict[str, Any] = (
        {"type": "link", "url": run.link, "text": run.text}
        if run.link
        else {"type": "text", "text": run.text}
    )
    style = {name: True for name in _STYLES if getattr(run, name)}
    if style:
        element["style"] = style
    return element


def doc_block(doc: richtext.Doc) -> Block:
    """A doc as one rich_text block: the admin's styles kept, every word as typed."""
    parts: list[dict[str, Any]] = []
    for index, block in enumerate(doc):
        if isinstance(block, richtext.Paragraph):
            elements = [_styled(run) for run in block.runs]
            if index + 1 < len(doc) and isinstance(doc[index + 1], richtext.Paragraph):
                elements.append({"type": "text", "text": "\n"})
            if elements:
                parts.append({"type": "rich_text_section", "elements": elements})
            continue
        sections = [
            {"type": "rich_text_section", "elements": [_styled(run) for run in item]}
            for item in block.items
            if item
        ]
        if sections:
            style = "ordered" if block.ordered else "bullet"
            parts.append(
                {
                    "type": "rich_text_list",
                    "style": style,
                    "indent": block.indent,
                    "elements": sections,
                }
            )
    if not parts:
        parts.append({"type": "rich_text_section", "elements": [{"type": "text", "text": " "}]})
    return {"type": "rich_text", "elements": parts}
