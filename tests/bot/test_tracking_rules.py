from datetime import date

import pytest

from bot.tracking import classify, visitor_hash

CHROME_MOBILE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36"
)
WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40 NetType/WIFI"
)
PREVIEW_BOTS = [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Slack-ImgProxy (+https://api.slack.com/robots)",
    "WhatsApp/2.23.20.0 A",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "TelegramBot (like TwitterBot)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Twitterbot/1.0",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]


@pytest.mark.parametrize("user_agent", PREVIEW_BOTS)
def test_preview_bots_are_not_people(user_agent: str) -> None:
    assert classify("GET", user_agent, {}).is_bot


@pytest.mark.parametrize(("user_agent", "kind"), [(CHROME_MOBILE, "mobile"), (WECHAT, "wechat")])
def test_browsers_are_people(user_agent: str, kind: str) -> None:
    result = classify("GET", user_agent, {})
    assert not result.is_bot
    assert result.ua_class == kind


def test_head_prefetch_and_empty_agent_never_count() -> None:
    assert classify("HEAD", CHROME_MOBILE, {}).is_bot
    assert classify("GET", CHROME_MOBILE, {"Purpose": "prefetch"}).is_bot
    assert classify("GET", CHROME_MOBILE, {"Sec-Purpose": "prefetch;prerender"}).is_bot
    assert classify("GET", "  ", {}).is_bot


def test_visitor_hash_rotates_daily_and_hides_the_ip() -> None:
    today = visitor_hash(b"k", "203.0.113.9", "UA", date(2026, 11, 25))
    assert today == visitor_hash(b"k", "203.0.113.9", "UA", date(2026, 11, 25))
    assert today != visitor_hash(b"k", "203.0.113.9", "UA", date(2026, 11, 26))
    assert today != visitor_hash(b"k", "203.0.113.10", "UA", date(2026, 11, 25))
    assert "203.0.113.9" not in today
