import ipaddress
import random
from datetime import date

import pytest

from bot.tracking import classify, network_of, visitor_hash

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


def reference_network(ip: str) -> str:
    """network_of by the ipaddress module alone: /24, /64, IPv4-mapped as IPv4."""
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        return str(address).rsplit(".", 1)[0]
    return address.exploded[:19]


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("198.51.100.7", "198.51.100"),
        ("::ffff:198.51.100.7", "198.51.100"),
        ("2001:db8:aa:bb:1::2", "2001:0db8:00aa:00bb"),
        ("2001:DB8:AA:BB::", "2001:0db8:00aa:00bb"),
        ("fe80::1%eth0", "fe80:0000:0000:0000"),
        ("not an address", "not an address"),
    ],
)
def test_network_is_the_24_or_the_64(ip: str, network: str) -> None:
    assert network_of(ip) == network


def test_network_of_agrees_with_the_ipaddress_module() -> None:
    """The text fast path (every landing request) cuts exactly what ipaddress would."""
    rng = random.Random(13)
    for _ in range(5000):
        kind = rng.random()
        if kind < 0.3:
            address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(
                rng.getrandbits(32)
            )
        elif kind < 0.5:
            address = ipaddress.IPv6Address((0xFFFF << 32) | rng.getrandbits(32))  # mapped
        elif kind < 0.8:
            address = ipaddress.IPv6Address(rng.getrandbits(16) << 112 | rng.getrandbits(16))
        else:
            address = ipaddress.IPv6Address(rng.getrandbits(128))
        for text in {str(address), address.exploded, str(address).upper()}:
            assert network_of(text) == reference_network(text), text
