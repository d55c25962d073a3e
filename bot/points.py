"""The reward rule table, in one place: every stat, report and export reads these."""

from __future__ import annotations

POINTS_PER = {
    "unique_visitor": 1,
    "signup": 10,
    "attended": 20,
    "converted": 50,
}

OUTCOMES: tuple[str, ...] = ("attended", "no_show", "converted")

# Which counters an outcome sets. A converted customer also attended the activity.
OUTCOME_COUNTERS: dict[str, dict[str, int]] = {
    "attended": {"attended": 1},
    "no_show": {},
    "converted": {"attended": 1, "converted": 1},
}


def outcome_points(outcome: str | None) -> int:
    if outcome is None:
        return 0
    return sum(POINTS_PER[counter] * n for counter, n in OUTCOME_COUNTERS[outcome].items())


def outcome_deltas(old: str | None, new: str) -> dict[str, int]:
    """Counter and points changes when a lead's outcome goes from `old` to `new`."""
    before = OUTCOME_COUNTERS[old] if old else {}
    after = OUTCOME_COUNTERS[new]
    deltas = {key: after.get(key, 0) - before.get(key, 0) for key in ("attended", "converted")}
    deltas["points"] = outcome_points(new) - outcome_points(old)
    return deltas
