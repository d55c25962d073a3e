"""The activity modal: inline validation errors, creation with and without a channel."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN, Stack
from tests.flows import activity_form, dm_count, in_days, open_activity_modal, wait_for_dm


@pytest.mark.parametrize(
    ("overrides", "block_id"),
    [
        ({"ends_at": in_days(6)}, "ends_at"),
        ({"kpi_views": "0"}, "kpi_views"),
        ({"kpi_signups": "-5"}, "kpi_signups"),
        ({"kpi_attendance": "2.5"}, "kpi_attendance"),
        # Above the 32-bit KPI column: the insert overflowed after the modal had closed.
        ({"kpi_views": str(10**23)}, "kpi_views"),
        ({"kpi_signups": "1000000001"}, "kpi_signups"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
    ],
)
async def test_invalid_form_shows_inline_errors(
    stack: Stack, overrides: dict[str, object], block_id: str
) -> None:
    view = await open_activity_modal(stack)

    delivery = await stack.slack.submit_view(ADMIN, view.id, activity_form(**overrides))

    assert delivery.status == 200
    assert delivery.json["response_action"] == "errors"
    assert block_id in delivery.json["errors"]
    assert view.errors[block_id]
    assert not view.closed
    assert await stack.services.activities() == []


async def test_activity_without_channel_is_a_draft(stack: Stack) -> None:
    view = await open_activity_modal(stack)
    before = dm_count(stack, ADMIN)
    delivery = await stack.slack.submit_view(ADMIN, view.id, activity_form(channel_id=None))
    assert delivery.status == 200 and view.closed
    note = await wait_for_dm(stack, ADMIN, "Created activity", since=before)
    assert "/sharetrail publish 1" in note.text
    (activity,) = await stack.services.activities()
    assert activity.status == "draft" and activity.kpi_views == 100
