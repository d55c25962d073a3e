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
