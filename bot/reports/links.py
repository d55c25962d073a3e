"""Signed, short-lived chart URLs: how a chart reaches a Slack image block.

Slack's image blocks take a public `image_url` that Slack's servers fetch (and cache); a
`slack_file` would mean uploading a new file on every App Home open, files the viewer may
not even be allowed to see. So the landing server draws the chart on request, behind a URL
signed with the server's secret (nobody can ask for another activity's numbers) that
expires (a forwarded link stops working). The App Home is re-published on every open, so
its links are always fresh; a weekly report keeps its images for REPORT_TTL.

Slack fetches the image without the viewer's language (no Accept-Language of theirs), so
the link carries the locale the chart is drawn in, under the same signature.
"""

from __future__ import annotations

from bot.codes import Signer
from bot.errors import NotFound
from bot.i18n import DEFAULT_LOCALE, LOCALES, supported

PURPOSE = "chart-link"
HOME_TTL = 24 * 3600
REPORT_TTL = 35 * 24 * 3600
KINDS = ("daily", "funnel", "sources", "top")


class ChartLinks:
    def __init__(self, secret: str, public_base_url: str) -> None:
        self._signer = Signer(secret, PURPOSE)
        self._base = public_base_url.rstrip("/")

    def url(
        self,
        activity_id: int,
        kind: str,
        *,
        ttl_seconds: int = HOME_TTL,
        locale: str = DEFAULT_LOCALE,
    ) -> str:
        """A signed link to one chart, drawn in `locale` whoever fetches it."""
        value = f"{activity_id}-{kind}-{supported(locale)}"
        token = self._signer.sign(value, ttl_seconds=ttl_seconds)
        return f"{self._base}/charts/{token}.png"

    def read(self, token: str) -> tuple[int, str, str]:
        """(activity id, kind, locale) of a signed token; NotFound if forged, Gone if expired.
        A link made before links carried a locale is drawn in DEFAULT_LOCALE."""
        value = self._signer.unsign(token)
        activity, _, rest = value.partition("-")
        kind, _, locale = rest.partition("-")
        if not activity.isdigit() or kind not in KINDS or (locale and locale not in LOCALES):
            raise NotFound("invalid chart link")
        return int(activity), kind, locale or DEFAULT_LOCALE
