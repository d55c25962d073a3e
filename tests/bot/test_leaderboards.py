"""Competition ranks and seasons, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import InvalidInput
from bot.leaderboards import competition_ranks, parse_season

NOW = datetime(2026, 12, 4, 19, tzinfo=UTC)


def test_competition_ranks() -> None:
    assert competition_ranks([]) == []
    assert competition_ranks([50, 30, 30, 10]) == [1, 2, 2, 4]
    assert competition_ranks([5, 5, 5]) == [1, 1, 1]
    assert competition_ranks([9, 8, 8, 8, 1, 1]) == [1, 2, 2, 2, 5, 5]


def test_seasons() -> None:
    december = parse_season("month", None, now=NOW)
    assert (december.label, december.start, december.end) == (
        "2026-12",
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    q4 = parse_season("quarter", None, now=NOW)
    assert (q4.label, q4.start, q4.end) == (
        "2026-Q4",
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    q1 = parse_season("quarter", "2027q1", now=NOW)
    assert (q1.start, q1.end) == (
        datetime(2027, 1, 1, tzinfo=UTC),
        datetime(2027, 4, 1, tzinfo=UTC),
    )
    assert parse_season("month", "2026-02", now=NOW).end == datetime(2026, 3, 1, tzinfo=UTC)
    for kind, when in (
        ("month", "2026-00"),
        ("month", "26-1"),
        ("quarter", "2026-Q0"),
        ("week", None),
    ):
        with pytest.raises(InvalidInput):
            parse_season(kind, when, now=NOW)
