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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
    """A moment every reader sees in their own time zone (Slack's date token)."""

    moment: datetime
    fmt: str = "{date_short_pretty} {time}"


@dataclass(frozen=True)
class Quote:
    """Typed words set apart as a quote (a note, a summary): its own paragraph."""

    text: str


Piece = str | Said | Bold | Italic | Code | Mention | ChannelRef | Link | Date | Quote


def _fallback(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


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
        stamp = int(piece.moment.timestamp())
        return f"<!date^{stamp}^{piece.fmt}|{_fallback(piece.moment)}>"
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
        return {
            "type": "date",
            "timestamp": int(piece.moment.timestamp()),
            "format": piece.fmt,
            "fallback": _fallback(piece.moment),
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
