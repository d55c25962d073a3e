"""Times in Slack in the reader's zone and language (issue 14 §1): a lead's timeline and a
check-in link's expiry, through Babel, in the zone users.info gives the person who opened it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot import i18n
from sandbox.workspace import Message
from tests.conftest import ADMIN, Stack
from tests.flows import latest_view, shown
from tests.records_flows import SALESPERSON, click_and_open, lead_setup, replay_click
from tests.slack.test_commands import reply_to

MODAL = "lead_timeline_modal"
LA = "America/Los_Angeles"  # U_SALES1's zone in the sandbox workspace


async def signed_up_at(stack: Stack) -> datetime:
    timeline = await stack.services.records.timeline(1, user_id=SALESPERSON)
    [signup] = [e for e in timeline.entries if e.kind == "signup"]
    return signup.at


async def timeline_text(stack: Stack, ts: str) -> str:
    # users.info is cached before the click, so the person's zone and language are known
    # within the middleware's bound even on a loaded machine.
    assert (await stack.services.directory.profile(SALESPERSON)).tz == LA
    view = await click_and_open(stack, SALESPERSON, "lead_timeline", MODAL, ts=ts)
    return shown(stack.slack.workspace.views[view.id].view)


async def test_a_salesperson_in_los_angeles_sees_the_timeline_in_local_time(
    stack: Stack,
) -> None:
    setup = await lead_setup(stack)
    text = await timeline_text(stack, setup.lead_dm.ts)
    at = await signed_up_at(stack)
    local = i18n.format_moment(at, LA, locale="en")
    assert f"{local}  ✍️ *Signed up* via" in text, text
    assert i18n.format_moment(at, "UTC", locale="en") not in text
    assert "UTC" not in text and "America/Los_Angeles" not in text


async def test_in_chinese_the_timeline_has_chinese_dates(stack: Stack) -> None:
    users = stack.slack.workspace.users
    users[SALESPERSON] = replace(users[SALESPERSON], locale="zh-CN")
    setup = await lead_setup(stack)
    text = await timeline_text(stack, setup.lead_dm.ts)
    at = await signed_up_at(stack)
    local = i18n.format_moment(at, LA, locale="zh")
    assert "年" in local and "月" in local  # e.g. 2026年12月4日 14:30
    assert local in text, text
    assert i18n.format_moment(at, "UTC", locale="zh") not in text


async def test_the_check_in_link_expires_at_a_time_in_the_readers_zone(stack: Stack) -> None:
    setup = await lead_setup(stack)
    assert (await stack.services.directory.profile(SALESPERSON)).tz == LA
    since = stack.slack.mark()
    await stack.slack.click_button(SALESPERSON, "check_in", ts=setup.lead_dm.ts)
    call = await stack.slack.wait_for_call(
        "chat.postMessage", lambda c: "checkin" in str(c.args.get("text")), since=since
    )
    words = shown(call.args["blocks"])
    link = await stack.services.records.check_in_link(1, user_id=SALESPERSON)
    # This second link expires a moment after the one sent: the same minute or the next.
    expected = {
        i18n.format_moment(link.expires_at - timedelta(minutes=k), LA, with_date=False)
        for k in (0, 1)
    }
    assert any(f"expires {e}" in words for e in expected), words
    assert "UTC" not in words
    assert datetime.now(UTC) < link.expires_at


async def test_the_salespersons_lead_lists_show_when_in_their_zone(stack: Stack) -> None:
    """App Home's "My leads" and `/sharetrail leads`, opened by the Los Angeles salesperson:
    each lead's sign-up time is theirs, in their language."""
    users = stack.slack.workspace.users
    users[SALESPERSON] = replace(users[SALESPERSON], locale="zh-CN")
    await lead_setup(stack)
    lead, _activity, _employee = await stack.services.lead_context(1)
    assert (await stack.services.directory.profile(SALESPERSON)).tz == LA
    local = i18n.format_moment(lead.created_at, LA, locale="zh")
    in_utc = i18n.format_moment(lead.created_at, "UTC", locale="zh")

    since = stack.slack.mark()
    deliveries = await stack.slack.open_app_home(SALESPERSON)
    assert [d.status for d in deliveries] == [200]
    await stack.slack.wait_for_call("views.publish", since=since)
    home = stack.slack.workspace.home_of(SALESPERSON)
    assert home is not None
    words = shown(home.view)
    assert local in words and in_utc not in words and "UTC" not in words, words

    answer = await reply_to(stack, SALESPERSON, "leads")
    assert local in answer and in_utc not in answer and "UTC" not in answer, answer


def thread_texts(stack: Stack, ts: str, since: int) -> list[str]:
    return [
        str(c.args.get("text"))
        for c in stack.slack.calls_to("chat.postMessage", since)
        if c.ok and c.args.get("thread_ts") == ts
    ]


async def log_call(stack: Stack, user: str, lead_dm: Message, at: datetime) -> str:
    """`user` logs a call through the lead DM's modal (an admin replays the salesperson's
    button, as in test_contacts); the post in the lead's thread."""
    since = stack.slack.mark()
    await replay_click(stack, user, lead_dm, "log_contact", "1")
    await stack.slack.wait_for_call("views.open", since=since)
    view = latest_view(stack, user, "log_contact_modal")
    assert view is not None
    ts = lead_dm.ts
    since = stack.slack.mark()
    delivery = await stack.slack.submit_view(
        user, view.id, {"contact_kind": "call", "contact_at": at, "contact_summary": "Called"}
    )
    assert delivery.status == 200 and delivery.json is None
    [posted] = await stack.slack.wait_until(lambda: thread_texts(stack, ts, since))
    return posted


async def test_a_contact_log_in_the_lead_thread_is_in_its_readers_zone(stack: Stack) -> None:
    setup = await lead_setup(stack)
    assert (await stack.services.directory.profile(SALESPERSON)).tz == LA
    at = datetime.now(UTC).replace(second=0, microsecond=0)
    posted = await log_call(stack, SALESPERSON, setup.lead_dm, at)
    assert i18n.format_moment(at, LA, locale="en") in posted, posted
    assert "UTC" not in posted
    # An admin logging one in the salesperson's thread does not impose their own zone:
    # Slack's date token shows each reader theirs.
    await stack.services.directory.profile(ADMIN)
    posted = await log_call(stack, ADMIN, setup.lead_dm, at)
    assert f"<!date^{int(at.timestamp())}^" in posted, posted
