"""The console's cookies: the signed session, and the sign-in attempt that binds `state`
and `nonce` to the browser that started it. Both signed with the project's Signer."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from dataclasses import dataclass

from aiohttp import web

from bot.codes import Signer
from bot.errors import DomainError

SESSION_COOKIE = "st_console"
ATTEMPT_COOKIE = "st_console_signin"
COOKIE_PATH = "/console"
SESSION_TTL_S = 12 * 3600
ATTEMPT_TTL_S = 10 * 60
NAME_MAX = 60  # the name shown in the header; the cookie stays well under 4 KB


@dataclass(frozen=True)
class Session:
    """Who is signed in, and the CSRF token every form of theirs carries."""

    user_id: str
    name: str
    csrf: str


@dataclass(frozen=True)
class Attempt:
    """A sign-in this browser started: Slack must send back the same state."""

    state: str
    nonce: str
    next_path: str


def _pack(data: dict[str, str]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unpack(text: str) -> dict[str, str] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return data


def _read(signer: Signer, request: web.Request, name: str) -> dict[str, str] | None:
    token = request.cookies.get(name)
    if not token:
        return None
    try:
        return _unpack(signer.unsign(token))
    except (DomainError, ValueError):  # forged (NotFound), expired (Gone), garbled
        return None


def _set(response: web.StreamResponse, name: str, value: str, *, ttl: int, secure: bool) -> None:
    response.set_cookie(
        name,
        value,
        max_age=ttl,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=secure,
    )


def same_token(given: str, expected: str) -> bool:
    """Constant-time comparison of two tokens (any text: compared as bytes)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


class Cookies:
    """Reads and writes the console's signed cookies."""

    def __init__(self, secret: str, *, secure: bool) -> None:
        self._sessions = Signer(secret, "console-session")
        self._attempts = Signer(secret, "console-sign-in")
        self.secure = secure

    def session(self, request: web.Request) -> Session | None:
        data = _read(self._sessions, request, SESSION_COOKIE)
        if not data or not data.get("u") or not data.get("c"):
            return None
        return Session(user_id=data["u"], name=data.get("n", ""), csrf=data["c"])

    def start_session(self, response: web.StreamResponse, *, user_id: str, name: str) -> None:
        value = _pack({"u": user_id, "n": name[:NAME_MAX], "c": secrets.token_urlsafe(24)})
        token = self._sessions.sign(value, ttl_seconds=SESSION_TTL_S)
        _set(response, SESSION_COOKIE, token, ttl=SESSION_TTL_S, secure=self.secure)

    def end_session(self, response: web.StreamResponse) -> None:
        response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)

    def attempt(self, request: web.Request) -> Attempt | None:
        data = _read(self._attempts, request, ATTEMPT_COOKIE)
        if not data or not data.get("s") or not data.get("o"):
            return None
        return Attempt(state=data["s"], nonce=data["o"], next_path=data.get("p", ""))

    def start_attempt(self, response: web.StreamResponse, next_path: str) -> Attempt:
        attempt = Attempt(secrets.token_urlsafe(24), secrets.token_urlsafe(24), next_path)
        value = _pack({"s": attempt.state, "o": attempt.nonce, "p": next_path})
        token = self._attempts.sign(value, ttl_seconds=ATTEMPT_TTL_S)
        _set(response, ATTEMPT_COOKIE, token, ttl=ATTEMPT_TTL_S, secure=self.secure)
        return attempt

    def end_attempt(self, response: web.StreamResponse) -> None:
        response.del_cookie(ATTEMPT_COOKIE, path=COOKIE_PATH)
