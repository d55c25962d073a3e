"""The points rules, in one place: the defaults table, an activity's own rules, and what
each outcome is worth. Every message, page, stat and export reads the rules from here."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import InvalidInput
from bot.i18n import _
from store.models import PointRules, utcnow

# THE defaults table: an activity without rules of its own uses these.
DEFAULT_RULES: dict[str, int] = {
    "unique_visitor": 1,
    "signup": 10,
    "attended": 20,
    "converted": 50,
    # Points from visitors and sign-ups per employee per activity per (UTC) day.
    "daily_cap": 200,
}
RULE_FIELDS: tuple[str, ...] = tuple(DEFAULT_RULES)
RULE_MAX = 100_000

# Sign-up points are pending until the lead has an outcome or this many days pass.
HOLD_DAYS = 14

OUTCOMES: tuple[str, ...] = ("attended", "no_show", "converted")

# Which counters an outcome sets. A converted customer also attended the activity.
OUTCOME_COUNTERS: dict[str, dict[str, int]] = {
    "attended": {"attended": 1},
    "no_show": {},
    "converted": {"attended": 1, "converted": 1},
}


@dataclass(frozen=True)
class Rules:
    """An activity's points rules."""

    unique_visitor: int = DEFAULT_RULES["unique_visitor"]
    signup: int = DEFAULT_RULES["signup"]
    attended: int = DEFAULT_RULES["attended"]
    converted: int = DEFAULT_RULES["converted"]
    daily_cap: int = DEFAULT_RULES["daily_cap"]

    def per(self, counter: str) -> int:
        return int(getattr(self, counter))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def as_dict_text(self) -> dict[str, str]:
        """As a form would post them (validate_rules reads them back)."""
        return {name: str(value) for name, value in asdict(self).items()}


DEFAULTS = Rules()

# Kept for readers of the old constant: the defaults, by counter.
POINTS_PER = {
    name: DEFAULT_RULES[name] for name in ("unique_visitor", "signup", "attended", "converted")
}


def validate_rules(fields: dict[str, str]) -> Rules:
    """Rules from form text (console form, Slack modal); blanks take the default;
    InvalidInput naming every bad field, nothing stored on error."""
    values: dict[str, int] = {}
    errors: dict[str, str] = {}
    for name in RULE_FIELDS:
        raw = (fields.get(name) or "").strip()
        if not raw:
            values[name] = DEFAULT_RULES[name]
            continue
        try:
            value = int(raw)
        except ValueError:
            errors[name] = _("Please enter a whole number.")
            continue
        if not 0 <= value <= RULE_MAX:
            errors[name] = _("Please enter a number from 0 to %(max)d.") % {"max": RULE_MAX}
            continue
        values[name] = value
    if errors:
        raise InvalidInput(_("Please check the points rules."), errors)
    return Rules(**values)


async def rules_for(*, session: AsyncSession, activity_id: int | None) -> Rules:
    if activity_id is None:
        return DEFAULTS
    row = await session.get(PointRules, activity_id)
    if row is None:
        return DEFAULTS
    return Rules(**{name: int(getattr(row, name)) for name in RULE_FIELDS})


async def rules_for_many(*, session: AsyncSession, activity_ids: set[int]) -> dict[int, Rules]:
    """Rules for several activities in one query (the tracking writer's batch)."""
    found: dict[int, Rules] = dict.fromkeys(activity_ids, DEFAULTS)
    if activity_ids:
        rows = await session.exec(
            select(PointRules).where(col(PointRules.activity_id).in_(sorted(activity_ids)))
        )
        for row in rows:
            found[row.activity_id] = Rules(**{n: int(getattr(row, n)) for n in RULE_FIELDS})
    return found


async def set_rules(
    *, session: AsyncSession, activity_id: int, rules: Rules, by_user_id: str
) -> None:
    row = await session.get(PointRules, activity_id)
    if row is None:
        row = PointRules(activity_id=activity_id, **rules.as_dict())  # type: ignore[arg-type]
    for name, value in rules.as_dict().items():
        setattr(row, name, value)
    row.updated_by = by_user_id
    row.updated_at = utcnow()
    session.add(row)


def outcome_points(outcome: str | None, rules: Rules = DEFAULTS) -> int:
    if outcome is None:
        return 0
    return sum(rules.per(counter) * n for counter, n in OUTCOME_COUNTERS[outcome].items())


def outcome_deltas(old: str | None, new: str, rules: Rules = DEFAULTS) -> dict[str, int]:
    """Counter and points changes when a lead's outcome goes from `old` to `new`."""
    before = OUTCOME_COUNTERS[old] if old else {}
    after = OUTCOME_COUNTERS[new]
    deltas = {key: after.get(key, 0) - before.get(key, 0) for key in ("attended", "converted")}
    deltas["points"] = outcome_points(new, rules) - outcome_points(old, rules)
    return deltas


def rules_line(rules: Rules) -> str:
    """The rules in one line, the same wherever they are mentioned (post, stats, home, console)."""
    return _(
        "Points: %(visitor)d per unique visitor, %(signup)d per sign-up (pending until the "
        "lead has an outcome or %(days)d days pass), %(attended)d per attendee, "
        "%(converted)d per conversion; at most %(cap)d a day from visitors and sign-ups."
    ) % {
        "visitor": rules.unique_visitor,
        "signup": rules.signup,
        "days": HOLD_DAYS,
        "attended": rules.attended,
        "converted": rules.converted,
        "cap": rules.daily_cap,
    }
