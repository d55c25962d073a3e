"""An admin's formatted text (the activity intro): paragraphs and lists of styled runs.

Platform-neutral: the chat adapters turn their own rich text into a `Doc`, the landing page
renders a `Doc` as HTML, and `plain_text` serves whatever shows plain text (previews, the
Open Graph description). Stored as JSON; a link is kept only if it is http, https or mailto.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
MAX_LINK = 2000


@dataclass(frozen=True)
class Run:
    """Text with one set of styles; `link` is a safe address or None."""

    text: str
    bold: bool = False
    italic: bool = False
    strike: bool = False
    link: str | None = None


Runs = tuple[Run, ...]


@dataclass(frozen=True)
class Paragraph:
    """Runs shown together; a "\n" inside a run is a line break."""

    runs: Runs


@dataclass(frozen=True)
class ItemList:
    """A bulleted or numbered list; `indent` nests it under the list before it."""

    ordered: bool
    items: tuple[Runs, ...]
    indent: int = 0


Block = Paragraph | ItemList
Doc = tuple[Block, ...]


def safe_link(url: object) -> str | None:
    """`url` if it is an http(s) or mailto address (never javascript:, data: …), else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > MAX_LINK or any(ord(c) < 32 or c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES:
        return None
    if parts.scheme.lower() != "mailto" and not parts.netloc:
        return None
    return url


def _runs_text(runs: Runs) -> str:
    return "".join(run.text for run in runs)


def plain_text(doc: Doc) -> str:
    """The words alone, lists as "• item" / "1. item" lines, for plain-text surfaces."""
    lines: list[str] = []
    for block in doc:
        if isinstance(block, Paragraph):
            lines.append(_runs_text(block.runs))
            continue
        pad = "   " * block.indent
        for number, item in enumerate(block.items, start=1):
            mark = f"{number}." if block.ordered else "•"
            lines.append(f"{pad}{mark} {_runs_text(item)}")
    return "\n".join(lines).strip()


def from_plain(text: str) -> Doc:
    """A plain intro (typed before rich text existed) as a one-paragraph doc."""
    return (Paragraph((Run(text),)),) if text else ()


def _run_json(run: Run) -> dict[str, Any]:
    data: dict[str, Any] = {"text": run.text}
    for style in ("bold", "italic", "strike"):
        if getattr(run, style):
            data[style] = True
    if run.link:
        data["link"] = run.link
    return data


def dumps(doc: Doc) -> str:
    """The doc as compact JSON for the database."""
    blocks: list[dict[str, Any]] = []
    for block in doc:
        if isinstance(block, Paragraph):
            blocks.append({"p": [_run_json(r) for r in block.runs]})
        else:
            items = [[_run_json(r) for r in item] for item in block.items]
            blocks.append({"list": items, "ordered": block.ordered, "indent": block.indent})
    return json.dumps(blocks, ensure_ascii=False, separators=(",", ":"))


def _run(data: object) -> Run | None:
    if not isinstance(data, dict) or not isinstance(data.get("text"), str) or not data["text"]:
        return None
    return Run(
        data["text"],
        bold=data.get("bold") is True,
        italic=data.get("italic") is True,
        strike=data.get("strike") is True,
        link=safe_link(data.get("link")),
    )


def _runs(data: object) -> Runs:
    return tuple(r for r in map(_run, data if isinstance(data, list) else []) if r is not None)


def loads(raw: str | None) -> Doc:
    """The stored JSON back as a doc; anything malformed is dropped, links re-checked."""
    try:
        data = json.loads(raw) if raw else []
    except ValueError:
        return ()
    blocks: list[Block] = []
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            continue
        if "p" in item:
            blocks.append(Paragraph(_runs(item["p"])))
        elif isinstance(item.get("list"), list):
            indent = item.get("indent")
            blocks.append(
                ItemList(
                    item.get("ordered") is True,
                    tuple(_runs(entry) for entry in item["list"]),
                    indent if isinstance(indent, int) and 0 <= indent <= 8 else 0,
                )
            )
    return tuple(blocks)


def _cut_runs(runs: Runs, room: int) -> tuple[Runs, int]:
    kept: list[Run] = []
    for run in runs:
        if room <= 0:
            break
        if len(run.text) > room:
            kept.append(Run(run.text[:room].rstrip() + "…", run.bold, run.italic, run.strike))
            return tuple(kept), 0
        kept.append(run)
        room -= len(run.text)
    return tuple(kept), room


def shorten(doc: Doc, limit: int) -> Doc:
    """At most about `limit` characters of words (a teaser), ending in "…" if cut."""
    blocks: list[Block] = []
    room = limit
    for block in doc:
        if room <= 0:
            break
        if isinstance(block, Paragraph):
            runs, room = _cut_runs(block.runs, room)
            blocks.append(Paragraph(runs))
            continue
        items: list[Runs] = []
        for item in block.items:
            if room <= 0:
                break
            runs, room = _cut_runs(item, room)
            items.append(runs)
        blocks.append(ItemList(block.ordered, tuple(items), block.indent))
    return tuple(blocks)
