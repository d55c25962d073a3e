"""Directory backed by users.info, with a short cache so a burst of clicks costs one call."""

from __future__ import annotations

import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.directory import Profile
from bot.errors import NotFound
from bot.i18n import _
from handlers.slack.errors import slack_error

CACHE_SECONDS = 60.0


def profile_from_user(user: dict[str, object]) -> Profile:
    raw_profile = user.get("profile")
    profile: dict[str, object] = raw_profile if isinstance(raw_profile, dict) else {}

    def pick(*values: object) -> str:
        return next((str(v) for v in values if isinstance(v, str) and v.strip()), "")

    return Profile(
        user_id=str(user["id"]),
        name=pick(profile.get("real_name"), user.get("real_name"), profile.get("display_name"))
        or pick(user.get("name"), user.get("id")),
        title=pick(profile.get("title")),
        phone=pick(profile.get("phone")),
        email=pick(profile.get("email")),
        tz=pick(user.get("tz")) or "UTC",
        locale=pick(user.get("locale")),
        is_admin=bool(user.get("is_admin") or user.get("is_owner")),
        is_bot=bool(user.get("is_bot")),
        deleted=bool(user.get("deleted")),
    )


class SlackDirectory:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._cache: dict[str, tuple[float, Profile]] = {}

    async def profile(self, user_id: str) -> Profile:
        cached = self._cache.get(user_id)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            response = await self._client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            if slack_error(exc) in ("user_not_found", "users_not_found"):
                raise NotFound(_("Slack does not know the user {id}.").format(id=user_id)) from None
            raise
        user = response["user"]
        result = profile_from_user(user)
        self._cache[user_id] = (time.monotonic(), result)
        return result

    async def locale(self, user_id: str) -> str:
        """The person's Slack language tag (e.g. `zh-CN`), "" when Slack has none."""
        return (await self.profile(user_id)).locale
