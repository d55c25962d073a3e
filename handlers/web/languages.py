"""Which language a web request is answered in, and the templates' gettext and formatters.

Each request runs in its own asyncio task, so the locale set here (a contextvar, bot/i18n.py)
is that request's alone. Routes that know better (a landing page falls back to its activity's
language, the console to the signed-in person's) narrow it with `bot.i18n.use_locale`.
"""

from __future__ import annotations

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from bot import i18n


def request_locale(request: web.Request, default: str) -> str:
    """The browser's preferred supported language (Accept-Language), else `default`."""
    return i18n.negotiate(request.headers.get("Accept-Language"), default)


def middleware(default: str) -> web.middleware:  # type: ignore[valid-type]
    """Answer every request in the browser's language (else LANGUAGE), error pages included."""

    @web.middleware
    async def languages(request: web.Request, handler: Handler) -> web.StreamResponse:
        with i18n.use_locale(request_locale(request, default)):
            return await handler(request)

    return languages


def install(env: jinja2.Environment) -> None:
    """`_()`, `ngettext()` and `{% trans %}` look up the current request's catalogue."""
    if "jinja2.ext.InternationalizationExtension" not in env.extensions:
        env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.globals["current_locale"] = i18n.current_locale
    env.globals["html_lang"] = lambda: "zh-CN" if i18n.current_locale() == "zh" else "en"
    env.filters["datetime"] = i18n.format_datetime
    env.filters["date"] = i18n.format_date
    env.filters["time"] = i18n.format_time
    env.filters["moment"] = i18n.format_moment  # "Dec 4, 2026, 2:30 PM": the reader's zone
    env.filters["number"] = i18n.format_number
    env.filters["zone"] = i18n.zone_label
