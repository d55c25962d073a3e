"""A WeCom server-API stand-in (qyapi.weixin.qq.com/cgi-bin/) for the sandbox and the tests.

It answers like WeCom: every answer has errcode/errmsg; 41001 without a token, 40014 for
a token it never issued (or revoked), 42001 for an expired one; 60111 for an unknown
userid; 81013 when every recipient is unknown; 40058 for a template card WeCom would
refuse (no task_id, a task_id used before, more than 6 buttons, a key over 1024 bytes);
44004 / 45002 for empty / oversize text; 40009 for an image that is empty or over 10 MB,
40005 for one that is not PNG or JPEG; 40007 for an unknown media_id; 45009 for the next
N sends when a test calls `storm(N)`; message/recall takes a message back within 24 hours
(40058 for an unknown, already recalled or older msgid). It records every call (`calls`)
and keeps each member's chat (`chats`), and speaks to the app as WeCom does: callbacks signed and
encrypted with WXBizMsgCrypt (sandbox/wecom_crypto.py). Never imports bot/.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web

from sandbox.wecom_crypto import CallbackSigner

MAX_IMAGE = 10 * 1024 * 1024
TEXT_LIMIT = 2048
TOKEN_TTL = 7200
RECALL_WINDOW = 24 * 3600  # seconds: message/recall takes back messages this recent


@dataclass
class Member:
    userid: str
    name: str
    position: str = ""
    mobile: str = ""
    email: str = ""
    avatar: str = ""
    status: int = 1


@dataclass
class Sent:
    """One message in a member's chat, as the phone shows it."""

    msgid: str
    touser: str
    msgtype: str
    body: dict[str, Any]
    response_code: str = ""
    replaced: str = ""  # a tapped card's grey label (update_template_card)
    sent_at: float = field(default_factory=time.time)


@dataclass
class WeComStandIn:
    corp_id: str
    secret: str
    agent_id: int
    signer: CallbackSigner
    members: dict[str, Member] = field(default_factory=dict)
    app_url: str = ""  # where /wecom/callback is
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    chats: dict[str, list[Sent]] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expires (epoch s)
    media: dict[str, bytes] = field(default_factory=dict)
    task_ids: set[str] = field(default_factory=set)
    codes: dict[str, str] = field(default_factory=dict)  # OAuth code -> userid
    storm_left: int = 0
    gettoken_calls: int = 0
    _cards: dict[str, Sent] = field(default_factory=dict)  # response_code -> card
    _recent: dict[str, float] = field(default_factory=dict)  # duplicate check
    _called: asyncio.Event = field(default_factory=asyncio.Event)

    # test controls --------------------------------------------------------------------

    def add_member(self, userid: str, name: str, **fields: Any) -> Member:
        member = Member(userid, name, **fields)
        self.members[userid] = member
        return member

    def storm(self, count: int) -> None:
        """The next `count` message sends answer 45009 (frequency limit)."""
        self.storm_left = count

    def revoke_tokens(self) -> None:
        """Every token issued so far becomes invalid (40014), as when the secret is reset."""
        self.tokens.clear()

    def expire_tokens(self) -> None:
        """Every token issued so far has expired (42001)."""
        self.tokens = dict.fromkeys(self.tokens, 0.0)

    def record(self, method: str, payload: dict[str, Any]) -> None:
        self.calls.append((method, payload))
        self._called.set()

    async def next_call(self, timeout: float = 30.0) -> None:
        """Wait for the app's next API call (a retry the outbox scheduled, say)."""
        self._called.clear()
        async with asyncio.timeout(timeout):
            await self._called.wait()

    def sent(self, method: str = "message/send") -> list[dict[str, Any]]:
        return [payload for name, payload in self.calls if name == method]

    def chat(self, userid: str) -> list[Sent]:
        return self.chats.get(userid, [])

    def oauth_code(self, userid: str) -> str:
        code = secrets.token_hex(8)
        self.codes[code] = userid
        return code

    # speaking to the app --------------------------------------------------------------

    async def callback(
        self,
        http: aiohttp.ClientSession,
        fields: dict[str, str | int],
        *,
        corp_id: str | None = None,
        tamper: bool = False,
        envelope: tuple[dict[str, str], str] | None = None,
    ) -> tuple[int, str, tuple[dict[str, str], str]]:
        """POST one callback to the app; returns (status, body, the envelope to re-send)."""
        if envelope is None:
            inner = "".join(
                f"<{name}>{value}</{name}>"
                if isinstance(value, int)
                else f"<{name}><![CDATA[{value}]]></{name}>"
                for name, value in fields.items()
            )
            xml = f"<xml><ToUserName><![CDATA[{escape(self.corp_id)}]]></ToUserName>{inner}</xml>"
            envelope = self.signer.envelope(xml, agent_id=str(self.agent_id), corp_id=corp_id)
        query, body = envelope
        if tamper:
            query = {**query, "msg_signature": "0" * 40}
        async with http.post(f"{self.app_url}/wecom/callback", params=query, data=body) as answer:
            return answer.status, await answer.text(), envelope

    def _base(self, userid: str, msg_type: str) -> dict[str, str | int]:
        return {
            "FromUserName": userid,
            "CreateTime": int(time.time()),
            "MsgType": msg_type,
            "AgentID": self.agent_id,
        }

    async def send_text(self, http: aiohttp.ClientSession, userid: str, content: str) -> int:
        fields = self._base(userid, "text") | {
            "Content": content,
            "MsgId": str(secrets.randbelow(10**18)),
        }
        return (await self.callback(http, fields))[0]

    async def tap(self, http: aiohttp.ClientSession, userid: str, card: Sent, key: str) -> int:
        fields = self._base(userid, "event") | {
            "Event": "template_card_event",
            "EventKey": key,
            "TaskId": str(card.body.get("task_id", "")),
            "CardType": "button_interaction",
            "ResponseCode": card.response_code,
        }
        return (await self.callback(http, fields))[0]

    async def event(
        self, http: aiohttp.ClientSession, userid: str, event: str, key: str = ""
    ) -> int:
        fields = self._base(userid, "event") | {"Event": event, "EventKey": key}
        return (await self.callback(http, fields))[0]

    # the API ----------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_IMAGE + 64 * 1024)
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._authorized(self._send))
        app.router.add_post(
            "/cgi-bin/message/update_template_card", self._authorized(self._update_card)
        )
        app.router.add_post("/cgi-bin/message/recall", self._authorized(self._recall))
        app.router.add_post("/cgi-bin/media/upload", self._authorized(self._upload))
        app.router.add_get("/cgi-bin/user/get", self._authorized(self._user_get))
        app.router.add_get("/cgi-bin/auth/getuserinfo", self._authorized(self._getuserinfo))
        app.router.add_get("/connect/oauth2/authorize", self._authorize)
        return app

    async def _authorize(self, request: web.Request) -> web.Response:
        """WeCom's OAuth2 page (snsapi_base): inside WeCom the member is known and sent
        straight back; here the sandbox asks who is signing in (`userid` picks)."""
        query = request.query
        redirect = query.get("redirect_uri", "")
        problems = [
            query.get("appid") != self.corp_id and "appid",
            query.get("response_type") != "code" and "response_type",
            query.get("scope") not in ("snsapi_base", "snsapi_privateinfo") and "scope",
            not redirect.startswith(("http://", "https://")) and "redirect_uri",
            query.get("agentid", str(self.agent_id)) != str(self.agent_id) and "agentid",
        ]
        wrong = [p for p in problems if p]
        if wrong:
            return web.Response(status=400, text=f"invalid {', '.join(wrong)}")
        userid = query.get("userid")
        if userid in self.members:
            assert userid is not None
            sep = "&" if "?" in redirect else "?"
            target = (
                redirect
                + sep
                + urlencode({"code": self.oauth_code(userid), "state": query.get("state", "")})
            )
            raise web.HTTPFound(target)
        links = "".join(
            f'<li><a href="?{escape(urlencode({**query, "userid": m.userid}))}">'
            f"{escape(m.name)}（{escape(m.userid)}）</a></li>"
            for m in self.members.values()
        )
        page = (
            '<!doctype html><meta charset="utf-8"><title>企业微信授权</title>'
            f"<h1>以谁的身份打开？</h1><ul>{links}</ul>"
        )
        return web.Response(text=page, content_type="text/html")

    @staticmethod
    def _error(code: int, message: str) -> web.Response:
        return web.json_response({"errcode": code, "errmsg": message})

    @staticmethod
    def _ok(**fields: Any) -> web.Response:
        return web.json_response({"errcode": 0, "errmsg": "ok", **fields})

    async def _gettoken(self, request: web.Request) -> web.Response:
        if request.query.get("corpid") != self.corp_id:
            return self._error(40013, "invalid corpid")
        if request.query.get("corpsecret") != self.secret:
            return self._error(40001, "invalid credential")
        self.gettoken_calls += 1
        token = secrets.token_urlsafe(48)
        self.tokens[token] = time.time() + TOKEN_TTL
        return self._ok(access_token=token, expires_in=TOKEN_TTL)

    def _authorized(self, handler: Any) -> Any:
        async def checked(request: web.Request) -> web.Response:
            token = request.query.get("access_token")
            if not token:
                return self._error(41001, "access_token missing")
            if token not in self.tokens:
                return self._error(40014, "invalid access_token")
            if self.tokens[token] < time.time():
                return self._error(42001, "access_token expired")
            response: web.Response = await handler(request)
            return response

        return checked

    async def _json(self, request: web.Request) -> dict[str, Any] | None:
        try:
            payload = json.loads(await request.text())
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None

    async def _send(self, request: web.Request) -> web.Response:
        payload = await self._json(request)
        if payload is None:
            return self._error(47001, "data format error")
        self.record("message/send", payload)
        if self.storm_left > 0:
            self.storm_left -= 1
            return self._error(45009, "reach max api daily quota limit")
        if payload.get("agentid") != self.agent_id:
            return self._error(40056, "invalid agentid")
        users = [u for u in str(payload.get("touser", "")).split("|") if u]
        if users == ["@all"]:  # every member in the app's visible range
            users = list(self.members)
        known = [u for u in users if u in self.members]
        if not known:
            return self._error(81013, "user & party & tag all invalid")
        msgtype = payload.get("msgtype")
        body = payload.get(str(msgtype))
        if msgtype not in ("text", "markdown", "image", "template_card") or not isinstance(
            body, dict
        ):
            return self._error(40008, "invalid message type")
        problem = self._check_body(str(msgtype), body)
        if problem is not None:
            return self._error(*problem)
        if payload.get("enable_duplicate_check"):
            fingerprint = json.dumps([users, msgtype, body], sort_keys=True)
            window = float(payload.get("duplicate_check_interval", 1800))
            if time.time() - self._recent.get(fingerprint, -1e12) < window:
                return self._ok(msgid=secrets.token_urlsafe(47))  # dropped as a duplicate
        self._recent[json.dumps([users, msgtype, body], sort_keys=True)] = time.time()
        msgid = secrets.token_urlsafe(47)  # 63 characters, like WeCom's msgids
        response_code = ""
        if msgtype == "template_card":
            self.task_ids.add(str(body["task_id"]))
            response_code = secrets.token_urlsafe(16)
        for userid in known:
            sent = Sent(msgid, userid, str(msgtype), body, response_code)
            self.chats.setdefault(userid, []).append(sent)
            if response_code:
                self._cards[response_code] = sent
        invalid = "|".join(u for u in users if u not in self.members)
        extra = {"response_code": response_code} if response_code else {}
        return self._ok(invaliduser=invalid, msgid=msgid, **extra)

    def _check_body(self, msgtype: str, body: dict[str, Any]) -> tuple[int, str] | None:
        if msgtype in ("text", "markdown"):
            content = body.get("content")
            if not isinstance(content, str) or not content.strip():
                return 44004, "empty content"
            if len(content.encode()) > TEXT_LIMIT:
                return 45002, "content size out of limit"
        if msgtype == "image" and body.get("media_id") not in self.media:
            return 40007, "invalid media_id"
        if msgtype == "template_card":
            return self._check_card(body)
        return None

    def _check_card(self, card: dict[str, Any]) -> tuple[int, str] | None:
        if card.get("card_type") != "button_interaction":
            return 40058, "card_type must be button_interaction here"
        task = card.get("task_id")
        if not isinstance(task, str) or not task or len(task.encode()) > 128:
            return 40058, "task_id missing or too long"
        if any(not (c.isascii() and (c.isalnum() or c in "_-@")) for c in task):
            return 40058, "task_id has characters other than letters, digits and _-@"
        if task in self.task_ids:
            return 40058, "task_id already used"
        title = card.get("main_title", {})
        if not (isinstance(title, dict) and title.get("title")) and not card.get("sub_title_text"):
            return 40058, "main_title.title or sub_title_text required"
        buttons = card.get("button_list")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 6:
            return 40058, "button_list needs 1 to 6 buttons"
        for button in buttons:
            if not isinstance(button, dict) or not button.get("text") or not button.get("key"):
                return 40058, "every button needs text and key"
            if len(str(button["key"]).encode()) > 1024:
                return 40058, "button key over 1024 bytes"
        rows = card.get("horizontal_content_list", [])
        if not isinstance(rows, list) or len(rows) > 6:
            return 40058, "at most 6 horizontal_content_list rows"
        if any(not isinstance(r, dict) or not r.get("keyname") for r in rows):
            return 40058, "every row needs keyname"
        return None

    async def _update_card(self, request: web.Request) -> web.Response:
        payload = await self._json(request)
        if payload is None:
            return self._error(47001, "data format error")
        self.record("message/update_template_card", payload)
        if payload.get("agentid") != self.agent_id:
            return self._error(40056, "invalid agentid")
        card = self._cards.pop(str(payload.get("response_code", "")), None)
        if card is None:  # unknown, or used already (a response code works once)
            return self._error(40058, "invalid response_code")
        userids = payload.get("userids")
        if not isinstance(userids, list) or card.touser not in userids:
            return self._error(40058, "userids must name the card's member")
        replace = payload.get("button", {}).get("replace_name")
        if not isinstance(replace, str) or not replace:
            return self._error(40058, "button.replace_name required")
        card.replaced = replace
        return self._ok(invaliduser=[])

    async def _recall(self, request: web.Request) -> web.Response:
        """撤回应用消息: the message leaves every chat it was sent to, within 24 hours of
        sending; an unknown, recalled or older msgid is refused (40058, invalid parameter)."""
        payload = await self._json(request)
        if payload is None:
            return self._error(47001, "data format error")
        self.record("message/recall", payload)
        msgid = str(payload.get("msgid", ""))
        found = [
            (userid, sent)
            for userid, chat in self.chats.items()
            for sent in chat
            if sent.msgid == msgid
        ]
        if not found or any(time.time() - sent.sent_at > RECALL_WINDOW for _, sent in found):
            return self._error(40058, "invalid msgid, or sent over 24 hours ago")
        for userid, sent in found:
            self.chats[userid].remove(sent)
            if sent.response_code:
                self._cards.pop(sent.response_code, None)
        return self._ok()

    async def _upload(self, request: web.Request) -> web.Response:
        if request.query.get("type") != "image":
            return self._error(40005, "invalid file type")
        try:
            form = await request.post()
        except ValueError:
            return self._error(40006, "invalid file size")
        upload = form.get("media")
        if not isinstance(upload, web.FileField):
            return self._error(41005, "media data missing")
        data = upload.file.read()
        self.record("media/upload", {"filename": upload.filename, "size": len(data)})
        if not 5 <= len(data) <= MAX_IMAGE:
            return self._error(40009, "invalid image size")
        if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
            return self._error(40005, "invalid file type")
        media_id = secrets.token_urlsafe(24)
        self.media[media_id] = data
        return self._ok(type="image", media_id=media_id, created_at=str(int(time.time())))

    async def _user_get(self, request: web.Request) -> web.Response:
        userid = request.query.get("userid", "")
        self.record("user/get", {"userid": userid})
        member = self.members.get(userid)
        if member is None:
            return self._error(60111, "userid not found")
        fields = {
            "userid": member.userid,
            "name": member.name,
            "position": member.position,
            "mobile": member.mobile,
            "email": member.email,
            "avatar": member.avatar,
            "status": member.status,
        }
        # WeCom leaves out what the app may not see; so does the stand-in.
        return self._ok(**{k: v for k, v in fields.items() if v != ""})

    async def _getuserinfo(self, request: web.Request) -> web.Response:
        userid = self.codes.pop(request.query.get("code", ""), None)
        self.record("auth/getuserinfo", {"known": userid is not None})
        if userid is None:
            return self._error(40029, "invalid code")
        return self._ok(userid=userid, user_ticket=secrets.token_hex(8))
