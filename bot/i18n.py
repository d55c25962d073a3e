"""The one place user-facing strings are translated and dates, numbers and zones formatted.

Mark strings with `_("...")` and plurals with `ngettext("%(num)d sign-up", "%(num)d sign-ups",
n) % {"num": n}`; never an f-string inside `_()`. Strings defined at import time (tables of
labels) are marked with `N_("...")` and translated where they are shown with `_(label)`.

Whose language: the current unit of work's locale, kept in a contextvar (one value per asyncio
task, like Flask-Babel's `force_locale`), never a process-wide "current language". Entry points
set it with `use_locale(...)`; `translate(message, locale=...)` asks one locale explicitly.

The catalogues are assets/locale/{en,zh}/LC_MESSAGES/messages.po (English msgids; the en
catalogue is identity). They are compiled in memory on first use, once per process and locale,
so a fresh `pip install` shows Chinese with no build step and no binary .mo to merge.
`python -m tools.i18n update` adds newly marked strings; `tests/test_i18n_catalogue.py` fails on
any marked string without a zh translation.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES: tuple[str, ...] = ("en", "zh")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "assets" / "locale"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("sharetrail_locale", default=DEFAULT_LOCALE)
# The reader's IANA zone when one reader is known (a Slack request, a console page); None
# when not (a message for several readers), and times fall back to the activity's zone or UTC.
_zone: ContextVar[str | None] = ContextVar("sharetrail_zone", default=None)


# --- which locale -------------------------------------------------------------------------


def normalize_locale(tag: str | None) -> str | None:
    """`en`/`zh` for a language tag in any usual spelling (zh-CN, zh_Hans, en-US), else None."""
    if not tag:
        return None
    primary = re.split(r"[-_.@]", tag.strip(), maxsplit=1)[0].lower()
    return primary if primary in LOCALES else None


def supported(tag: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The supported locale for `tag`, or `default` when it names none."""
    return normalize_locale(tag) or default


def negotiate(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The locale a browser prefers (HTTP Accept-Language with q-values, RFC 9110 §12.5.4).

    Tags are tried by falling q (ties keep their order); q=0 means "not this one". `*` or no
    supported tag gives `default` (the activity's language on a landing page).
    """
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:32]):
        pieces = part.strip().split(";")
        tag = pieces[0].strip()
        quality = 1.0
        for param in pieces[1:]:
            name, _sep, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if tag and 0.0 < quality <= 1.0:
            ranked.append((-quality, index, tag))
    for _quality, _index, tag in sorted(ranked):
        if tag == "*":
            return default
        found = normalize_locale(tag)
        if found:
            return found
    return default


def current_locale() -> str:
    """The locale of the unit of work running now."""
    return _current.get()


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Run a block (a request, a Slack event, one recipient's message) in `locale`."""
    chosen = supported(locale)
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def set_locale(locale: str | None) -> str:
    """Set the locale for the rest of the current task and the tasks it starts (an entry
    point whose task is the unit of work, e.g. one Slack request)."""
    chosen = supported(locale)
    _current.set(chosen)
    return chosen


def viewer_zone() -> str | None:
    """The IANA zone of the one person this unit of work answers, if known."""
    return _zone.get()


@contextmanager
def use_zone(name: str | None) -> Iterator[str | None]:
    """Run a block for a reader in zone `name` (None: no one reader)."""
    token = _zone.set(name or None)
    try:
        yield name or None
    finally:
        _zone.reset(token)


def set_zone(name: str | None) -> str | None:
    """Set the reader's zone for the rest of the current task (see `set_locale`)."""
    _zone.set(name or None)
    return name or None


# --- catalogues ---------------------------------------------------------------------------


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> Translations:
    """The compiled catalogue of `locale`, loaded once per process."""
    path = LOCALE_DIR / supported(locale) / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=supported(locale), domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


def translate(message: str, *, locale: str | None = None) -> str:
    """`message` in `locale` (default: the current one)."""
    return translations(locale or _current.get()).gettext(message)


def gettext(message: str) -> str:
    """`message` in the current unit of work's language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for `n` in the current language (Chinese has one form; English two)."""
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` as meant in `context`: one English word, two Chinese ones ("Close" a
    dialog, 关闭; "Close" an activity, 结束)."""
    return str(translations(_current.get()).pgettext(context, message))


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark a string defined at import time; translate it with `_()` where it is shown."""
    return message


_ = gettext


# --- formatting ---------------------------------------------------------------------------


def zone(name: str | tzinfo | None) -> tzinfo:
    """A tzinfo for an IANA name; None is the reader's zone (`use_zone`), unknown or empty
    names are UTC."""
    if isinstance(name, tzinfo):
        return name
    if name is None:
        name = _zone.get()
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _aware(value: datetime) -> datetime:
    """The store keeps naive UTC; make it explicit before converting."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def format_datetime(
    value: datetime,
    tz: str | tzinfo | None = None,
    *,
    format: str = "medium",  # noqa: A002 - Babel's name
    locale: str | None = None,
) -> str:
    """A date and time in the viewer's zone and language (`short`, `medium`, `long` or a
    CLDR pattern)."""
    return dates.format_datetime(
        _aware(value), format=format, tzinfo=zone(tz), locale=locale or _current.get()
    )


def format_date(
    value: date | datetime,
    tz: str | tzinfo | None = None,
    *,
    format: str = "medium",  # noqa: A002 - Babel's name
    locale: str | None = None,
) -> str:
    """A date (a datetime is first moved into the viewer's zone)."""
    if isinstance(value, datetime):
        value = _aware(value).astimezone(zone(tz)).date()
    return dates.format_date(value, format=format, locale=locale or _current.get())


def format_time(
    value: datetime,
    tz: str | tzinfo | None = None,
    *,
    format: str = "short",  # noqa: A002 - Babel's name
    locale: str | None = None,
) -> str:
    """A time of day in the viewer's zone."""
    return dates.format_time(
        _aware(value), format=format, tzinfo=zone(tz), locale=locale or _current.get()
    )


def format_skeleton(
    skeleton: str,
    value: datetime,
    tz: str | tzinfo | None = None,
    *,
    locale: str | None = None,
) -> str:
    """A datetime by CLDR skeleton (e.g. `MMMEdHm`: "Fri, Dec 4, 14:30" / "12月4日周五 14:30")."""
    return dates.format_skeleton(
        skeleton, _aware(value), tzinfo=zone(tz), locale=locale or _current.get()
    )


def format_moment(
    value: datetime,
    tz: str | tzinfo | None = None,
    *,
    with_date: bool = True,
    locale: str | None = None,
) -> str:
    """A moment as people read it: "Dec 4, 2026, 2:30 PM" / "2026年12月4日 14:30" (only the
    time with `with_date=False`), in `tz`, else the reader's zone, else UTC."""
    chosen = locale or _current.get()
    time = dates.format_time(_aware(value), format="short", tzinfo=zone(tz), locale=chosen)
    if not with_date:
        return time
    day = format_skeleton("yMMMd", value, tz, locale=chosen)
    pattern = str(dates.get_datetime_format("medium", locale=chosen)).replace("'", "")
    return pattern.replace("{1}", day).replace("{0}", time)


def format_delta(value: timedelta, *, locale: str | None = None) -> str:
    """A duration in words ("30 minutes", "30分钟")."""
    return dates.format_timedelta(value, locale=locale or _current.get())


def format_number(value: float, *, locale: str | None = None) -> str:
    """A number with the locale's grouping ("12,345")."""
    return numbers.format_decimal(value, locale=locale or _current.get())


def format_percent(value: float, *, locale: str | None = None) -> str:
    """A ratio as a percentage (0.25 -> "25%")."""
    return numbers.format_percent(value, locale=locale or _current.get())


def zone_label(name: str | tzinfo | None, *, locale: str | None = None) -> str:
    """An activity's zone by its city ("Los Angeles time", "洛杉矶时间"), not its IANA id."""
    tz = zone(name)
    key = getattr(tz, "key", None) or str(tz)
    if key in ("UTC", "Etc/UTC", "UTC+00:00"):
        return "UTC"
    chosen = locale or _current.get()
    city = dates.get_timezone_location(tz, locale=chosen, return_city=True)
    return translate("%(city)s time", locale=chosen) % {"city": city}
