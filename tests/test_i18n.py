"""bot/i18n.py: catalogues, locale choice, plurals and formatting in the viewer's zone."""

from __future__ import annotations

import asyncio
import tomllib
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch
from pathlib import Path

import pytest

from bot import i18n
from bot.settings import Settings
from tools import i18n as catalogues

ROOT = Path(__file__).resolve().parent.parent


def test_every_marked_string_has_a_zh_translation() -> None:
    # Fails when a string is marked with _() / {% trans %} but not translated: run
    # `python -m tools.i18n update`, then fill the empty msgstr in assets/locale/zh/....po.
    assert catalogues.problems("zh") == []


def test_catalogues_ship_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["assets"]
    for locale in i18n.LOCALES:
        relative = f"locale/{locale}/LC_MESSAGES/messages.po"
        assert (ROOT / "assets" / relative).is_file()
        assert any(fnmatch(relative, pattern) for pattern in patterns), relative


def test_lookup_per_locale() -> None:
    assert i18n.translate("Leads", locale="zh") == "线索"
    assert i18n.translate("Leads", locale="en") == "Leads"
    assert i18n.translate("never marked", locale="zh") == "never marked"
    with i18n.use_locale("zh-CN"):
        assert i18n._("Leads") == "线索"
        assert i18n.current_locale() == "zh"
    assert i18n.current_locale() == "en"


async def test_concurrent_units_of_work_keep_their_own_language() -> None:
    both = asyncio.Event()
    arrived = 0

    async def serve(locale: str) -> str:
        nonlocal arrived
        with i18n.use_locale(locale):
            arrived += 1
            if arrived == 2:
                both.set()
            await both.wait()  # the other task has set its locale meanwhile
            return i18n._("Leads")

    assert await asyncio.gather(serve("zh"), serve("en")) == ["线索", "Leads"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR, en;q=0.5, zh;q=0.7", "zh"),  # q-values, not order
        ("zh;q=0, en", "en"),  # q=0: "not this one"
        ("zh-Hant-TW", "zh"),
        ("de, fr", "ja-default"),
        ("*", "ja-default"),
        ("", "ja-default"),
        ("zh;q=abc, en;q=0.1", "en"),
        (";;;,,,q=", "ja-default"),
    ],
)
def test_accept_language(header: str, expected: str) -> None:
    assert i18n.negotiate(header, "ja-default") == expected


def test_plurals() -> None:
    def signups(n: int) -> str:
        return i18n.ngettext("%(num)d sign-up", "%(num)d sign-ups", n) % {"num": n}

    with i18n.use_locale("en"):
        assert [signups(1), signups(2)] == ["1 sign-up", "2 sign-ups"]
    # Chinese has one form: the catalogue's Plural-Forms is nplurals=1.
    assert i18n.translations("zh").ngettext("{n} message sent so far.", "x", 1) == (
        "目前已发送 {n} 条消息。"
    )
    assert i18n.translations("zh").ngettext("{n} message sent so far.", "x", 5) == (
        "目前已发送 {n} 条消息。"
    )


def test_dates_numbers_and_zones_in_the_viewers_zone() -> None:
    at = datetime(2026, 12, 4, 22, 30)  # naive UTC, as the store keeps it
    assert i18n.format_time(at, "Asia/Shanghai", locale="en") == "6:30\u202fAM"
    assert i18n.format_time(at, "America/Los_Angeles", locale="zh") == "14:30"
    assert i18n.format_date(at, "Asia/Shanghai", locale="zh") == "2026年12月5日"
    assert i18n.format_date(at, "America/Los_Angeles", locale="en") == "Dec 4, 2026"
    assert "2026" in i18n.format_datetime(at.replace(tzinfo=UTC), "bogus/zone", locale="en")
    assert i18n.format_number(12345, locale="en") == "12,345"
    assert i18n.format_delta(timedelta(minutes=30), locale="zh") == "30分钟"
    assert i18n.zone_label("America/Los_Angeles", locale="en") == "Los Angeles time"
    assert i18n.zone_label("America/Los_Angeles", locale="zh") == "洛杉矶时间"
    assert i18n.zone_label("UTC", locale="zh") == "UTC"


@pytest.mark.parametrize(
    ("value", "expected"), [("zh", "zh"), ("zh_CN.UTF-8:en", "zh"), ("en_US:en", "en")]
)
def test_language_setting(value: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", value)
    assert Settings(_env_file=None).language == expected  # type: ignore[call-arg]


def test_language_setting_refuses_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "fr")
    with pytest.raises(ValueError, match="en or zh"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_no_marked_literal_hides_inside_an_f_string() -> None:
    """Babel's extractor reads an f-string as one token: `f"*{_('Top 10')}*"` never reaches
    the catalogue, so it stays English in every language while `check` passes."""
    import ast

    root = Path(__file__).resolve().parent.parent
    marks = {"_", "gettext", "ngettext", "pgettext", "N_", "translate"}
    hidden = []
    for folder in ("bot", "handlers", "sandbox"):
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.JoinedStr):
                    continue
                for call in ast.walk(node):
                    if (
                        isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Name)
                        and call.func.id in marks
                        and any(
                            isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                            for arg in call.args
                        )
                    ):
                        hidden.append(f"{path.relative_to(root)}:{call.lineno}")
    assert hidden == []
