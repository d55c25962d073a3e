"""/sharetrail subcommands through signed slash-command requests."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from sandbox.delivery import sign
from tests.conftest import ADMIN, EMPLOYEE, SALES, SIGNING_SECRET, Stack
from tests.flows import add_global_roster, create_activity, dm_count, wait_for_dm


async def reply_to(stack: Stack, user: str, text: str, channel: str = "C_GENERAL") -> str:
    """The app's ephemeral answer (through response_url) to `/sharetrail text`."""
    since = stack.slack.mark()
    delivery = await stack.slack.send_slash_command(user, text, channel=channel)
    assert delivery.status == 200 and not delivery.timed_out, delivery
    await stack.slack.wait_for_call("response_url", since=since)
    message = stack.slack.last_message(channel, viewer=user)
    assert message is not None and message.ephemeral_to == user
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


@pytest.mark.parametrize(
    "text",
    [
        "new",
        "publish 1",
        "close 1",
        "sales add <@U_BOB|bob>",
        "sales remove <@U_SALES1>",
        "export 1",
        "health",
    ],
)
async def test_admin_subcommands_refuse_non_admins(stack: Stack, text: str) -> None:
    await add_global_roster(stack, *SALES)
    activity_id = await create_activity(stack)
    assert activity_id == 1
    calls_before = stack.slack.mark()

    answer = await reply_to(stack, EMPLOYEE, text)

    assert "admin" in answer.lower()
    made = {c.method for c in stack.slack.calls[calls_before:]}
    assert made <= {"response_url", "users.info"}, made
    assert (await stack.services.activity(1)).status == "published"
    assert await stack.services.salespeople() == list(SALES)


async def test_health_is_for_admins_only(stack: Stack) -> None:
    """Queue sizes and delivery failures are internals: a non-admin learns none of them."""
    await create_activity(stack)
    refused = await reply_to(stack, EMPLOYEE, "health")
    assert "Only ShareTrail admins" in refused
    for internal in ("database", "messages", "queued", "pending", "activities:", "failed"):
        assert internal not in refused.lower(), refused
    told = await reply_to(stack, ADMIN, "health")
    assert "The database answers" in told and "messages sent so far" in told


async def test_bad_signature_is_401_and_changes_nothing(stack: Stack) -> None:
    body = b"command=%2Fsharetrail&text=new&user_id=U_ADMIN&trigger_id=1.2"
    now = str(int(time.time()))
    cases = [
        (now, "v0=" + "0" * 64),
        (now, sign("wrong-secret", now, body)),
        (str(int(time.time()) - 3600), sign(SIGNING_SECRET, str(int(time.time()) - 3600), body)),
    ]
    for timestamp, signature in cases:
        delivery = await stack.slack.endpoint.post(
            "command",
            body,
            "application/x-www-form-urlencoded",
            signature=signature,
            timestamp=timestamp,
        )
        assert delivery.status == 401
    assert stack.slack.calls == []


async def test_help_and_unknown_subcommand(stack: Stack) -> None:
    answer = await reply_to(stack, ADMIN, "help")  # an admin is shown every command
    for word in (
        "new",
        "list",
        "publish",
        "close",
        "sales",
        "stats",
        "leaderboard",
        "export",
        "me",
        "lead",
        "health",
    ):
        assert word in answer
    assert "don't know `frobnicate`" in await reply_to(stack, EMPLOYEE, "frobnicate")


async def test_sales_roster_accepts_escaped_and_plain_forms(stack: Stack) -> None:
    assert "U_SALES1" in await reply_to(stack, ADMIN, "sales add <@U_SALES1|sam> U_SALES2")
    listing = await reply_to(stack, ADMIN, "sales list")
    assert "<@U_SALES1>" in listing and "<@U_SALES2>" in listing
    await reply_to(stack, ADMIN, "sales remove <@U_SALES2>")
    assert await stack.services.salespeople() == ["U_SALES1"]
    assert "is not a person" in await reply_to(stack, ADMIN, "sales add bob")


async def test_list_publish_close(stack: Stack) -> None:
    activity_id = await create_activity(stack, channel_id=None)
    assert "Spring launch webinar" in await reply_to(stack, EMPLOYEE, "list")

    answer = await reply_to(stack, ADMIN, f"publish {activity_id} <#C_GENERAL|general>")
    assert "Published" in answer
    post = stack.slack.last_message("C_GENERAL")
    assert post is not None and post.ephemeral_to is None and post.blocks

    answer = await reply_to(stack, ADMIN, f"close {activity_id}")
    assert "Closed" in answer
    assert (await stack.services.activity(activity_id)).status == "closed"
    assert "not an activity number" in await reply_to(stack, ADMIN, "close abc")
    assert "There is no activity 99" in await reply_to(stack, ADMIN, "close 99")


async def test_stats_leaderboard_me_health(stack: Stack) -> None:
    activity_id = await create_activity(stack)
    assert "Spring launch webinar" in await reply_to(stack, EMPLOYEE, f"stats {activity_id}")
    assert "Spring launch webinar" in await reply_to(stack, EMPLOYEE, "stats")
    assert "Leaderboard" in await reply_to(stack, ADMIN, f"leaderboard {activity_id}")
    assert "Leaderboard" in await reply_to(stack, ADMIN, "leaderboard")
    assert "numbers" in await reply_to(stack, EMPLOYEE, "me")
    assert "now off" in await reply_to(stack, EMPLOYEE, "me notify off")
    assert "me notify on" in await reply_to(stack, EMPLOYEE, "me notify maybe")
    assert "database" in (await reply_to(stack, ADMIN, "health")).lower()


async def test_export_uploads_csv_with_design_columns(stack: Stack) -> None:
    activity_id = await create_activity(stack)
    before = dm_count(stack, ADMIN)
    reply = await reply_to(stack, ADMIN, f"export {activity_id}")
    assert "The CSV of *Spring launch webinar* is in our direct message." in reply
    message = await wait_for_dm(
        stack, ADMIN, r"Export of Spring launch webinar \(activity 1\): 0 employees", since=before
    )
    # Asked inside that DM, the answer does not send the admin to the DM they are in.
    dm = stack.slack.workspace.dm_with(ADMIN).id
    reply = await reply_to(stack, ADMIN, f"export {activity_id}", channel=dm)
    assert "is above" in reply and "direct message" not in reply
    file = stack.slack.workspace.files[message.files[0]]
    assert file.name.endswith(".csv")
    header = next(csv.reader(io.StringIO(file.content.decode("utf-8"))))
    assert header[:8] == [
        "employee_id",
        "employee_name",
        "views",
        "unique_visitors",
        "signups",
        "attended",
        "converted",
        "points",
    ]
    assert all(h.startswith(("views_", "signups_")) for h in header[8:])


async def test_help_by_role_mentions_and_health_in_words(stack: Stack) -> None:
    """help lists each person's commands; a typed-out `@Sam Sales` gets the working form;
    health speaks in sentences with its thresholds."""
    employee_help = await reply_to(stack, EMPLOYEE, "help")
    assert "/sharetrail me" in employee_help
    assert "For salespeople" not in employee_help and "For admins" not in employee_help
    await add_global_roster(stack, SALES[0])
    sales_help = await reply_to(stack, SALES[0], "help")
    assert "/sharetrail leads" in sales_help and "*Attended*" in sales_help
    assert "For admins" not in sales_help
    admin_help = await reply_to(stack, ADMIN, "help")
    assert "For salespeople" in admin_help and "/sharetrail export ID" in admin_help

    reply = await reply_to(stack, ADMIN, "sales add @Sam Sales")
    assert "`@Sam Sales` reached me as text, not as a mention" in reply
    assert "pick the person" in reply

    health = await reply_to(stack, ADMIN, "health")
    assert "✅ The database answers." in health
    assert "messages sent so far" in health or "message sent so far" in health
    assert "when more than 100 messages wait" in health
    assert "messages_pending" not in health
