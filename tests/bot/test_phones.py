"""Phone numbers in one format (bot/phones.py)."""

from __future__ import annotations

import pytest

from bot.phones import bare, dialable, display


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("+8613812345678", "+86 138 1234 5678"),
        ("+86 138-1234-5678", "+86 138 1234 5678"),
        ("138 1234 5678", "138 1234 5678"),
        ("13812345678", "138 1234 5678"),
        ("+1 (415) 555-0110", "+1 415 555 0110"),
        ("+442079460958", "+442079460958"),
        ("+86*****78", "+86*****78"),  # masked: as it is, and not a link
    ],
)
def test_one_format(typed: str, shown: str) -> None:
    assert display(typed) == shown
    assert display(display(typed)) == shown
    assert dialable(typed) == ("*" not in typed)
    if dialable(typed):
        assert bare(display(typed)) == bare(typed)
