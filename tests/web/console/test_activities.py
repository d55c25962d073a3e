"""Activities in the console, driven over real HTTP as the admin: create (checked by the
modal's own rules), publish to a channel of the stand-in, edit with the activity's own
roster, close. Bad input is a form with clear errors (never a 500); a missing or forged
CSRF token is a 403 and nothing changes."""

from __future__ import annotations

import re

import pytest

from store.models import OutboxMessage
from tests.conftest import ADMIN, Stack
from tests.web.console.conftest import Browser, SignIn

GOOD = {
    "name": "Spring launch",
    "starts_at": "2030-03-01T14:00",
    "ends_at": "2030-03-01T16:00",
    "material_type": "event_invitation",
    "headline": "Meet the team",
    "intro": "Coffee & demos <b>at 2</b>",
    "kpi_views": "500",
    "kpi_signups": "50",
    "kpi_attendance": "",
    "salespeople": "",
    "channel": "",
}


async def create(admin: Browser, **changes: str) -> tuple[int, str, str]:
    form = {**GOOD, **changes, "csrf": await admin.csrf("/console/activities/new")}
    return await admin.post("/console/activities/new", form)


async def test_admin_creates_and_publishes_in_a_channel(
    console_stack: Stack, signed_in: SignIn
) -> None:
    admin = await signed_in(ADMIN)
    since = console_stack.slack.mark()
    status, _, location = await create(admin, channel="C_MARKETING")
    assert status == 303 and re.fullmatch(r"/console/activities/\d+\?published=1", location)
    [activity] = await console_stack.services.activities()
    assert (activity.name, activity.status, activity.channel_id) == (
        "Spring launch",
        "published",
        "C_MARKETING",
    )
    assert activity.kpi_views == 500 and activity.kpi_attendance == 0
    # The admin's Slack time zone (America/Los_Angeles): 14:00 there is 22:00 UTC.
    assert activity.starts_at.hour == 22 and activity.tz == "America/Los_Angeles"
    post = await console_stack.slack.wait_for_call(
        "chat.postMessage", lambda c: c.args.get("channel") == "C_MARKETING", since=since
    )
    assert "Spring launch" in str(post.args["text"])
    assert console_stack.slack.last_message("C_MARKETING") is not None
    status, body, _ = await admin.get(location)
    assert status == 200 and "Coffee &amp; demos &lt;b&gt;at 2&lt;/b&gt;" in body
    status, body, _ = await admin.get("/console/activities")
    assert status == 200 and "Spring launch" in body and "published" in body


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "Give the activity a name."),
        ({"name": "x" * 201}, "name", "Keep the name under 200 characters."),
        ({"ends_at": "2030-03-01T13:00"}, "ends_at", "The end must be after the start."),
        ({"starts_at": ""}, "starts_at", "Pick a start date and time."),
        ({"starts_at": "yesterday"}, "starts_at", "Pick a start date and time."),
        ({"material_type": "billboard"}, "material_type", "Choose a material type."),
        ({"kpi_views": "abc"}, "kpi_views", "Targets must be whole numbers"),
        ({"kpi_signups": "1e23"}, "kpi_signups", "Targets must be whole numbers"),
        ({"kpi_views": "10000000000"}, "kpi_views", "Targets must be whole numbers"),
        ({"kpi_views": "-5"}, "kpi_views", "Targets must be whole numbers"),
        ({"salespeople": "bob"}, "salespeople", "is not a Slack user ID"),
        ({"channel": "#marketing"}, "channel", "Give a channel ID"),
        ({"intro": "x" * 3001}, "intro", "Keep the intro under 3000 characters."),
    ],
)
async def test_bad_input_is_a_form_with_the_modals_errors(
    console_stack: Stack, signed_in: SignIn, changes: dict[str, str], field: str, message: str
) -> None:
    admin = await signed_in(ADMIN)
    status, body, _ = await create(admin, **changes)
    assert status == 400
    assert f'id="f-{field}"' in body and f'id="e-{field}"' in body
    assert message in body
    assert await console_stack.services.activities() == []


async def test_garbage_forms_never_500(console_stack: Stack, signed_in: SignIn) -> None:
    admin = await signed_in(ADMIN)
    csrf = await admin.csrf()
    for path in ("/console/activities/new", "/console/activities/1", "/console/activities/x/close"):
        status, _, _ = await admin.post(path, {"csrf": csrf, "name": "\x00\ud800"[:1]})
        assert status in (400, 404), path
    async with admin.http.post(
        admin.app_url + "/console/activities/new",
        data=b"\xff\xfe=\xff",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=klingon"},
        allow_redirects=False,
    ) as response:
        assert response.status in (400, 403)
    for path in (
        "/console/activities/999999",
        "/console/activities/abc",
        "/console/activities/1e3",
    ):
        assert (await admin.get(path))[0] == 404, path


@pytest.mark.parametrize("csrf", [None, "", "forged-token"])
async def test_missing_or_forged_csrf_is_403_and_changes_nothing(
    console_stack: Stack, signed_in: SignIn, csrf: str | None
) -> None:
    admin = await signed_in(ADMIN)
    status, _, location = await create(admin)
    activity_id = int(location.rsplit("/", 1)[1])
    token = {} if csrf is None else {"csrf": csrf}
    since = console_stack.slack.mark()
    attempts = [
        ("/console/activities/new", {**GOOD, "name": "Another"}),
        (f"/console/activities/{activity_id}", {**GOOD, "name": "Renamed"}),
        (f"/console/activities/{activity_id}/publish", {"channel": "C_GENERAL"}),
        (f"/console/activities/{activity_id}/close", {}),
    ]
    for path, form in attempts:
        status, body, _ = await admin.post(path, {**form, **token})
        assert status == 403 and "This form has expired" in body, path
    [activity] = await console_stack.services.activities()
    assert (activity.name, activity.status) == ("Spring launch", "draft")
    assert not console_stack.slack.calls_to("chat.postMessage", since)


async def test_publish_later_edit_roster_and_close(console_stack: Stack, signed_in: SignIn) -> None:
    admin = await signed_in(ADMIN)
    _, _, location = await create(admin)
    activity_id = int(location.rsplit("/", 1)[1])
    csrf = await admin.csrf(location)

    status, body, _ = await admin.post(f"{location}/publish", {"csrf": csrf, "channel": "nope"})
    assert status == 400 and "Give a channel ID" in body
    status, _, back = await admin.post(
        f"{location}/publish", {"csrf": csrf, "channel": "C_GENERAL"}
    )
    assert (status, back) == (303, f"{location}?published=1")
    assert "Published in the channel." in (await admin.get(back))[1]
    assert (await console_stack.services.activity(activity_id)).channel_id == "C_GENERAL"

    since = console_stack.slack.mark()
    edited = {**GOOD, "name": "Spring launch 2", "salespeople": "U_SALES1 <@U_SALES2|sara>"}
    status, _, back = await admin.post(location, {**edited, "csrf": csrf})
    assert (status, back) == (303, f"{location}?saved=1")
    assert await console_stack.services.own_roster(activity_id) == ["U_SALES1", "U_SALES2"]
    assert (await console_stack.services.activity(activity_id)).name == "Spring launch 2"
    update = await console_stack.slack.wait_for_call("chat.update", since=since)
    assert "Spring launch 2" in str(update.args["text"])
    body = (await admin.get(location))[1]
    assert "Sam Sales (U_SALES1), Sara Seller (U_SALES2)" in body and "own roster" in body

    status, body, _ = await admin.post(location, {**edited, "ends_at": "", "csrf": csrf})
    assert status == 400 and "Pick an end date and time." in body
    status, body, _ = await admin.post(
        location, {**edited, "salespeople": "U_NOBODY", "csrf": csrf}
    )
    assert status == 400 and "U_NOBODY" in body
    assert await console_stack.services.own_roster(activity_id) == ["U_SALES1", "U_SALES2"]

    status, _, back = await admin.post(f"{location}/close", {"csrf": csrf})
    assert (status, back) == (303, f"{location}?closed=1")
    assert (await console_stack.services.activity(activity_id)).status == "closed"
    status, body, _ = await admin.post(f"{location}/close", {"csrf": csrf})
    assert status == 400 and "already closed" in body


async def test_health_in_words_for_admins(console_stack: Stack, signed_in: SignIn) -> None:
    async with console_stack.services.db.session() as session:
        session.add(
            OutboxMessage(
                key="lead:7:salesperson",
                kind="lead",
                payload="{}",
                status="failed",
                attempts=5,
                last_error="account_inactive",
            )
        )
    admin = await signed_in(ADMIN)
    status, body, _ = await admin.get("/console/health")
    assert status == 200
    assert "The database answers." in body
    assert "1 message could not be delivered and will not be retried." in body
    assert "A new sign-up DM could not be sent: that person&#39;s account is deactivated." in body
    assert "account_inactive" not in body


async def test_csv_download_is_the_export_with_a_bom(
    console_stack: Stack, signed_in: SignIn
) -> None:
    admin = await signed_in(ADMIN)
    _, _, location = await create(admin)
    activity_id = int(location.rsplit("/", 1)[1])
    await console_stack.services.share_card("U_LI", activity_id)  # 李雷 shares it
    async with admin.http.get(f"{admin.app_url}/console/activities/{activity_id}/export.csv") as r:
        assert r.status == 200 and r.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in r.headers["Content-Disposition"]
        raw = await r.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith(
        "employee_id,employee_name,views,unique_visitors,signups,attended,converted,points"
    )
    assert lines[1].startswith("U_LI,李雷,0,0,0,0,0,0")
    ann = await signed_in("U_ANN")
    assert (await ann.get(f"/console/activities/{activity_id}/export.csv"))[0] == 403
