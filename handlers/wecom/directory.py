"""People as WeCom knows them (user/get). WeCom hides mobile and e-mail from apps without
the permission (and, for apps made after 2022-06-20, even the name): whatever is missing
is left empty, and the share card leaves that line out."""

from __future__ import annotations

from bot.directory import Profile
from bot.errors import NotFound
from bot.i18n import _
from bot.platforms import wecom_userid
from handlers.wecom.api import WeComApi, WeComError

UNKNOWN_USER = frozenset({60111, 60103, 46004})  # userid not found / invalid / not a member
LEFT = frozenset({2, 5})  # status: disabled, left the company
TIME_ZONE = "Asia/Shanghai"  # user/get has no time zone; WeCom companies are mostly in China


class WeComDirectory:
    def __init__(self, api: WeComApi) -> None:
        self._api = api

    async def profile(self, user_id: str) -> Profile:
        userid = wecom_userid(user_id)
        try:
            data = await self._api.user(userid)
        except WeComError as exc:
            if exc.code in UNKNOWN_USER:
                raise NotFound(_("WeCom has no member {userid}.").format(userid=userid)) from None
            raise

        def field(name: str) -> str:
            value = data.get(name)
            return value.strip() if isinstance(value, str) else ""

        return Profile(
            user_id=user_id,
            name=field("name") or userid,
            title=field("position"),
            phone=field("mobile"),
            email=field("email") or field("biz_mail"),
            tz=TIME_ZONE,
            deleted=data.get("status") in LEFT,
        )
