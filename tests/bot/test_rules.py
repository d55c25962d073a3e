from datetime import UTC, datetime, timedelta

import pytest

from bot.activities import ActivityDraft, validate_draft
from bot.errors import InvalidInput
from bot.leads import validate_signup
from bot.points import outcome_deltas, outcome_points

START = datetime(2026, 12, 1, 6, tzinfo=UTC)


def draft(**changes: object) -> ActivityDraft:
    base = ActivityDraft(
        name="Launch", starts_at=START, ends_at=START + timedelta(hours=2), material_type="video"
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_good_draft_has_no_errors() -> None:
    assert validate_draft(draft()) == {}


def test_draft_errors_name_each_field() -> None:
    errors = validate_draft(
        draft(
            name=" ",
            ends_at=START - timedelta(minutes=1),
            kpi_views=0,
            kpi_signups=-3,
            material_type="banner",
        )
    )
    assert set(errors) == {"name", "ends_at", "kpi_views", "kpi_signups", "material_type"}
    assert "after the start" in errors["ends_at"]


def test_signup_normalises_phone() -> None:
    form = validate_signup({"name": " Li Lei ", "phone": "+86 (138) 0013-8000"})
    assert (form.name, form.phone) == ("Li Lei", "+8613800138000")


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"name": "", "phone": "123456"}, {"name"}),
        ({"name": "A", "phone": "call me"}, {"phone"}),
        ({"name": "A", "phone": ""}, {"phone"}),
        ({"name": "A" * 101, "phone": "1234567"}, {"name"}),
        (
            {"name": "A", "phone": "1234567", "note": "x" * 1001, "company": "c" * 201},
            {"note", "company"},
        ),
    ],
)
def test_signup_validation(fields: dict[str, str], bad: set[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_signup(fields)
    assert set(caught.value.fields) == bad


def test_outcome_points_and_changes() -> None:
    assert outcome_points("attended") == 20
    assert outcome_points("converted") == 70  # converted implies attended
    assert outcome_points("no_show") == 0
    assert outcome_deltas(None, "attended") == {"attended": 1, "converted": 0, "points": 20}
    assert outcome_deltas("attended", "converted") == {"attended": 0, "converted": 1, "points": 50}
    assert outcome_deltas("converted", "no_show") == {
        "attended": -1,
        "converted": -1,
        "points": -70,
    }
