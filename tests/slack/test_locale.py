"""Whose language in Slack: the person's Slack locale (users.info include_locale), else LANGUAGE."""

from __future__ import annotations

from handlers.slack.app import person_locale
from tests.conftest import Stack


async def test_a_persons_language_comes_from_their_slack_locale(stack: Stack) -> None:
    services = stack.services
    assert await person_locale(services, "U_LI", "en") == "zh"  # zh-CN in their profile
    assert await person_locale(services, "U_ANN", "zh") == "en"  # en-US
    assert await person_locale(services, "U_NOBODY", "zh") == "zh"  # unknown: LANGUAGE
    assert await person_locale(services, None, "en") == "en"
    asked = [c for c in stack.slack.calls_to("users.info") if c.args.get("user") == "U_LI"]
    assert asked and all(str(c.args.get("include_locale")).lower() in ("true", "1") for c in asked)
    assert (await services.directory.profile("U_LI")).tz == "Asia/Shanghai"


async def test_a_slow_users_info_does_not_hold_up_the_answer(stack: Stack) -> None:
    """Slack's 3 seconds (ack, trigger_id) are not spent waiting for a locale: past a short
    bound the request goes on in LANGUAGE and the lookup is cached for next time."""
    stack.slack.faults.add(
        "users.info", "slow", delay=4.0, where=lambda args: args.get("user") == "U_LI"
    )
    await stack.slack.send_slash_command("U_LI", "help", channel="C_GENERAL")
    # Answered inside Slack's 3 s (the stand-in says operation_timeout otherwise), in
    # LANGUAGE (en here) since the locale was not known in time.
    [answer] = await stack.slack.wait_until(
        lambda: stack.slack.workspace.history("C_GENERAL", viewer="U_LI")
    )
    assert answer.text.startswith("*ShareTrail commands*"), answer.text
    await stack.settle()  # the lookup went on in the background and was cached
    assert await person_locale(stack.services, "U_LI", "en") == "zh"
