"""Cutting text to Slack's 3,000 characters a section never splits an entity, a mention or
a link, and prefers a line boundary (the builders are pure: no network here)."""

from __future__ import annotations

import re

import pytest

from handlers.slack.blocks import section

BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


@pytest.mark.parametrize(
    "mrkdwn",
    [
        "x" * 2997 + "&lt;b&gt;",
        "a <@U123ABC|ann> " * 300,
        "y" * 2990 + " <https://example.com/a/long/path|the link text>",
        "*Leaderboard*\n" + "\n".join(f"{n}. <@U{n:05d}> — *{n} pts*" for n in range(200)),
    ],
)
def test_a_section_cut_keeps_every_token_whole(mrkdwn: str) -> None:
    shown = section(mrkdwn)["text"]["text"]
    assert len(shown) <= 3000 and shown.endswith("…")
    body = shown.removesuffix("…")
    assert mrkdwn.startswith(body)
    assert not BROKEN_ENTITY.search(body)
    assert body.count("<") == body.count(">")


def test_a_list_is_cut_after_a_whole_line() -> None:
    lines = [f"{n}. <@U{n:05d}> — *{n} pts*" for n in range(200)]
    shown = section("\n".join(lines))["text"]["text"].removesuffix("…")
    assert shown.split("\n") == lines[: len(shown.split("\n"))]
