"""Text the database can store: PostgreSQL's text type holds no NUL character, and UTF-8
(hence either database) no unpaired surrogate, which a JSON `\\ud800` escape produces."""

from __future__ import annotations


def storable(text: str) -> bool:
    """False for text that would fail inside the database driver instead of being saved."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
