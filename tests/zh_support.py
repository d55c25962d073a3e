"""Find English left on a surface shown in Chinese: any run of two ASCII words that is also
a run in some English msgid of the catalogue (so names, ids and URLs pass, our sentences not)."""

from __future__ import annotations

import functools
import html
import re
from typing import Any

from tools import i18n as catalogues

WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
ATTRS = re.compile(r'\b(?:title|placeholder|aria-label|alt|content)="([^"]*)"')
URL = re.compile(r"https?://\S+|\b[\w.+-]+@[\w-]+\.[\w.]+")
COMMAND = re.compile(r"/sharetrail(?: [a-z][a-z-]*)*")  # commands stay literal in every language


@functools.cache
def english_pairs() -> frozenset[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for message in catalogues.extract():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        for text in ids:
            words = [w.lower() for w in WORD.findall(re.sub(r"%\(\w+\)\w|\{\w*\}", " | ", text))]
            pairs.update(zip(words, words[1:], strict=False))
    return frozenset(pairs)


def page_text(body: str) -> str:
    """What a reader sees: text outside tags plus the attributes browsers show."""
    return " ".join([*ATTRS.findall(body), TAGS.sub(" \n ", body)])


def english_left(text: str, *, allow: tuple[str, ...] = ()) -> list[str]:
    """The English runs in `text` (HTML or plain); `allow` removes names and data first."""
    text = html.unescape(text)
    for value in allow:
        text = text.replace(value, " ")
    text = COMMAND.sub(" ", URL.sub(" ", text))
    found = []
    for chunk in re.split(r"[^A-Za-z'’ -]+", text):
        words = WORD.findall(chunk)
        for a, b in zip(words, words[1:], strict=False):
            if (a.lower(), b.lower()) in english_pairs():
                found.append(chunk.strip())
                break
    return found


def strings_of(value: Any) -> str:
    """Every string inside JSON-like data (Slack blocks, views), one per line."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(strings_of(v) for k, v in value.items() if k not in IDS)
    if isinstance(value, (list, tuple)):
        return "\n".join(strings_of(v) for v in value)
    return ""


IDS = {"action_id", "block_id", "callback_id", "value", "url", "image_url", "type", "style"}
