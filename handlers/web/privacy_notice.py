"""The privacy line under the sign-up form (issue 15 §4): PRIVACY_NOTICE_EN / _ZH in the
page's language (empty: the built-in line from the catalogues) and a link to PRIVACY_URL."""

from __future__ import annotations

import jinja2

from bot import i18n
from bot.i18n import _
from bot.settings import Settings


def install(env: jinja2.Environment, settings: Settings) -> None:
    """`privacy_notice()` and `privacy_url` for the templates."""
    configured = {"en": settings.privacy_notice_en, "zh": settings.privacy_notice_zh}

    def privacy_notice() -> str:
        text = configured.get(i18n.current_locale(), "").strip()
        return text or _("We use your details only to contact you about this activity.")

    env.globals["privacy_notice"] = privacy_notice
    env.globals["privacy_url"] = settings.privacy_url
