"""WeCom's server API (qyapi.weixin.qq.com/cgi-bin/): one client, one access token.

The token comes from `gettoken` (corp id + the app's secret), lives `expires_in` seconds
(7200) and is kept in the database (platform_tokens) so every replica uses the same one;
it is renewed REFRESH_MARGIN before it expires. When WeCom answers 40014 (invalid token:
the secret was reset, or another process fetched a new one elsewhere) or 42001 (expired),
the token is renewed once, under a lock, and the call repeated once: concurrent calls that
all saw the same stale token wait for that one renewal instead of each calling gettoken.

Every answer carries `errcode` (0 = ok) and `errmsg`; anything else raises WeComError.
Tokens travel in the query string: they are never logged (errors name the method only).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from store.db import Database
from store.tokens import read_token, save_token

log = logging.getLogger(__name__)

INVALID_TOKEN = 40014
EXPIRED_TOKEN = 42001
TOKEN_ERRORS = frozenset({INVALID_TOKEN, EXPIRED_TOKEN, 41001})
# Busy or over a frequency limit: nothing was done, later may work (WeCom 全局错误码).
RETRYABLE = frozenset({-1, 45009, 45033})
REFRESH_MARGIN = timedelta(minutes=5)


class WeComError(Exception):
    """WeCom answered with a non-zero errcode (or not at all: `code` None)."""

    def __init__(self, method: str, code: int | None, message: str = "") -> None:
        super().__init__(f"{method}: {code} {message}".strip())
        self.method = method
        self.code = code
        self.message = message

    @property
    def retryable(self) -> bool:
        return self.code is None or self.code in RETRYABLE


class WeComApi:
    def __init__(
        self,
        *,
        http: aiohttp.ClientSession,
        base_url: str,
        corp_id: str,
        secret: str,
        agent_id: str,
        db: Database,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = http
        self._base = base_url
        self._corp_id = corp_id
        self._secret = secret
        self.agent_id = int(agent_id) if agent_id.isdigit() else agent_id
        self._db = db
        self._clock = clock
        self._token: tuple[str, datetime] | None = None
        self._lock = asyncio.Lock()
        self._token_name = f"wecom:{corp_id}:{agent_id}"
        self.refreshes = 0  # gettoken calls made by this process (health, tests)

    # the access token -----------------------------------------------------------------

    def _fresh(self, token: tuple[str, datetime] | None, stale: str | None = None) -> bool:
        return token is not None and token[0] != stale and self._clock() < token[1] - REFRESH_MARGIN

    async def token(self, *, stale: str | None = None) -> str:
        """A token believed valid; with `stale`, one other than that rejected one."""
        cached = self._token
        if self._fresh(cached, stale):
            assert cached is not None
            return cached[0]
        async with self._lock:
            if self._fresh(self._token, stale):  # renewed while we waited
                assert self._token is not None
                return self._token[0]
            async with self._db.session() as session:
                shared = await read_token(session=session, name=self._token_name)
            if self._fresh(shared, stale):  # another replica renewed it
                self._token = shared
                assert shared is not None
                return shared[0]
            value, expires_in = await self._get_token()
            expires_at = self._clock() + timedelta(seconds=expires_in)
            async with self._db.session() as session:
                await save_token(
                    session=session, name=self._token_name, value=value, expires_at=expires_at
                )
            self._token = (value, expires_at)
            return value

    async def _get_token(self) -> tuple[str, int]:
        data = await self._request(
            "GET", "gettoken", params={"corpid": self._corp_id, "corpsecret": self._secret}
        )
        self.refreshes += 1
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeComError("gettoken", None, "no access_token in the answer")
        expires_in = data.get("expires_in")
        return token, int(expires_in) if isinstance(expires_in, int) else 7200

    # calls ------------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        *,
        payload: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        form: Callable[[], aiohttp.FormData] | None = None,
    ) -> dict[str, Any]:
        """POST `payload` as JSON (or `form`, multipart), GET without either; the token is
        added and renewed once if WeCom says it is invalid or expired."""
        token = await self.token()
        try:
            return await self._authorized(method, token, payload, params, form)
        except WeComError as exc:
            if exc.code not in TOKEN_ERRORS:
                raise
            log.info("WeCom refused the access token (%s); renewing it once", exc.code)
        token = await self.token(stale=token)
        return await self._authorized(method, token, payload, params, form)

    async def _authorized(
        self,
        method: str,
        token: str,
        payload: dict[str, Any] | None,
        params: dict[str, str] | None,
        form: Callable[[], aiohttp.FormData] | None,
    ) -> dict[str, Any]:
        query = {"access_token": token, **(params or {})}
        if form is not None:
            return await self._request("POST", method, params=query, data=form())
        if payload is not None:
            return await self._request("POST", method, params=query, payload=payload)
        return await self._request("GET", method, params=query)

    async def _request(
        self,
        verb: str,
        method: str,
        *,
        params: dict[str, str],
        payload: dict[str, Any] | None = None,
        data: aiohttp.FormData | None = None,
    ) -> dict[str, Any]:
        body: Any = data
        headers = {}
        if payload is not None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            async with self._http.request(
                verb, self._base + method, params=params, data=body, headers=headers
            ) as response:
                if response.status != 200:
                    raise WeComError(method, None, f"HTTP {response.status}")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise WeComError(method, None, type(exc).__name__) from None
        if not isinstance(answer, dict):
            raise WeComError(method, None, "not a JSON object")
        code = answer.get("errcode", 0)
        if code != 0:
            raise WeComError(
                method, int(code) if isinstance(code, int) else None, str(answer.get("errmsg", ""))
            )
        return answer

    # the methods ShareTrail uses --------------------------------------------------------

    async def send(
        self, touser: str, msgtype: str, body: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
        """message/send to one member; the answer has msgid (and response_code for
        interactive template cards)."""
        payload = {"touser": touser, "msgtype": msgtype, "agentid": self.agent_id, msgtype: body}
        payload.update(extra)
        answer = await self.call("message/send", payload=payload)
        if answer.get("invaliduser"):  # WeCom answers 0 when some recipients are unknown
            raise WeComError("message/send", 81013, "invalid user")
        return answer

    async def update_card(self, userid: str, response_code: str, replace_name: str) -> None:
        """Turn a tapped button_interaction card's buttons into one grey label."""
        await self.call(
            "message/update_template_card",
            payload={
                "userids": [userid],
                "agentid": self.agent_id,
                "response_code": response_code,
                "button": {"replace_name": replace_name},
            },
        )

    async def recall(self, msgid: str) -> None:
        """message/recall: take back an app message sent within the last 24 hours."""
        await self.call("message/recall", payload={"msgid": msgid})

    async def upload_image(self, png: bytes, filename: str) -> str:
        """media/upload (type image); the media_id lives three days."""

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("media", png, filename=filename, content_type="image/png")
            return data

        answer = await self.call("media/upload", params={"type": "image"}, form=form)
        media_id = answer.get("media_id")
        if not isinstance(media_id, str):
            raise WeComError("media/upload", None, "no media_id")
        return media_id

    async def user(self, userid: str) -> dict[str, Any]:
        return await self.call("user/get", params={"userid": userid})

    async def user_by_code(self, code: str) -> str:
        """auth/getuserinfo: the member an OAuth2 code (snsapi_base) belongs to."""
        answer = await self.call("auth/getuserinfo", params={"code": code})
        userid = answer.get("userid") or answer.get("UserId")
        if not isinstance(userid, str) or not userid:
            raise WeComError("auth/getuserinfo", None, "not a member of the company")
        return userid
