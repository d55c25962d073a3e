"""Sign in with Slack (OpenID Connect), as the stand-in serves it.

`/openid/connect/authorize` shows a page to pick who signs in (like the sandbox's pick
page), then sends the browser back to the app's redirect_uri with a one-time code;
`openid.connect.token` exchanges it (client id and secret in HTTP Basic or the form, as
Slack accepts both) for an access token and an id_token JWT with Slack's claims;
`openid.connect.userInfo` answers for that access token. Errors are Slack's:
invalid_code, invalid_client_id, bad_client_secret, bad_redirect_uri, invalid_auth.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import jinja2
from aiohttp import web

from sandbox.workspace import JSON, TEAM_ID, User, Workspace

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
ISSUER = "https://slack.com"
CODE_TTL_S = 600  # Slack: codes expire after ten minutes
TOKEN_TTL_S = 12 * 3600
TEAM_NAME = "ShareTrail Sandbox"
TEAM_DOMAIN = "sharetrail-sandbox"
AUTHORIZE_PARAMS = ("client_id", "redirect_uri", "state", "nonce", "scope", "response_type")


class OpenIDError(Exception):
    """A Web API error answer for the openid.connect.* methods."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Grant:
    """A code handed to the browser, waiting for the app to exchange it."""

    user_id: str
    client_id: str
    redirect_uri: str
    nonce: str
    expires: float


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@dataclass
class OpenIDProvider:
    workspace: Workspace
    clients: dict[str, str] = field(default_factory=dict)  # client_id -> client_secret
    team_id: str = TEAM_ID  # the workspace people sign in to
    _codes: dict[str, Grant] = field(default_factory=dict)
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # -> (user, expiry)
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    templates: jinja2.Environment = field(
        default_factory=lambda: jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True
        )
    )

    def register_client(self, client_id: str, client_secret: str) -> None:
        """The app's credentials, as Slack's "Basic Information" shows them."""
        self.clients[client_id] = client_secret

    def attach(self, app: web.Application) -> None:
        app.router.add_get("/openid/connect/authorize", self.authorize_page)
        app.router.add_post("/openid/connect/authorize", self.authorize_choice)

    # --- the browser's side -------------------------------------------------------------

    def _request_problem(self, params: dict[str, str]) -> str | None:
        if params.get("response_type") != "code":
            return "response_type must be code"
        if "openid" not in params.get("scope", "").split():
            return "the scope must include openid"
        if params.get("client_id") not in self.clients:
            return "invalid_client_id: no app has this client id"
        redirect = urlsplit(params.get("redirect_uri", ""))
        if redirect.scheme not in ("http", "https") or not redirect.netloc:
            return "bad_redirect_uri: the redirect_uri must be an http(s) URL"
        return None

    def _people(self) -> list[User]:
        return [u for u in self.workspace.users.values() if not u.is_bot and not u.deleted]

    async def authorize_page(self, request: web.Request) -> web.Response:
        """Slack's consent screen: here, pick who you are."""
        params = {k: request.query.get(k, "") for k in AUTHORIZE_PARAMS}
        problem = self._request_problem(params)
        html = self.templates.get_template("authorize.html").render(
            problem=problem, params=params, people=self._people(), team=TEAM_NAME
        )
        return web.Response(text=html, content_type="text/html", status=400 if problem else 200)

    async def authorize_choice(self, request: web.Request) -> web.Response:
        """The person picked: back to the app with a one-time code (or error=access_denied)."""
        form = await request.post()
        params = {k: str(form.get(k, "")) for k in AUTHORIZE_PARAMS}
        problem = self._request_problem(params)
        if problem is not None:
            return web.Response(text=problem, status=400)
        query: dict[str, str] = {"state": params["state"]}
        user = self.workspace.users.get(str(form.get("user", "")))
        if form.get("cancel") or user is None or user.is_bot or user.deleted:
            query["error"] = "access_denied"
        else:
            code = secrets.token_urlsafe(24)
            self._codes[code] = Grant(
                user.id,
                params["client_id"],
                params["redirect_uri"],
                params["nonce"],
                time.time() + CODE_TTL_S,
            )
            query["code"] = code
        separator = "&" if "?" in params["redirect_uri"] else "?"
        location = params["redirect_uri"] + separator + urlencode(query)
        return web.Response(status=302, headers={"Location": location})

    # --- the app's side (Web API methods) -------------------------------------------------

    def _client_credentials(self, args: JSON, request: web.Request) -> tuple[str, str]:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise OpenIDError("invalid_client_id") from None
            client_id, _, client_secret = decoded.partition(":")
            return client_id, client_secret
        return str(args.get("client_id") or ""), str(args.get("client_secret") or "")

    def token(self, args: JSON, request: web.Request) -> JSON:
        """openid.connect.token: a code for an access token and an id_token."""
        client_id, client_secret = self._client_credentials(args, request)
        if client_id not in self.clients:
            raise OpenIDError("invalid_client_id")
        if not hmac.compare_digest(client_secret, self.clients[client_id]):
            raise OpenIDError("bad_client_secret")
        grant_type = str(args.get("grant_type") or "authorization_code")
        if grant_type != "authorization_code":
            raise OpenIDError("invalid_grant_type")
        grant = self._codes.pop(str(args.get("code") or ""), None)  # a code works once
        if grant is None or grant.expires < time.time() or grant.client_id != client_id:
            raise OpenIDError("invalid_code")
        if args.get("redirect_uri") and args["redirect_uri"] != grant.redirect_uri:
            raise OpenIDError("bad_redirect_uri")
        access_token = "xoxp-" + secrets.token_hex(16)
        self._tokens[access_token] = (grant.user_id, time.time() + TOKEN_TTL_S)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "id_token": self._id_token(grant, access_token),
        }

    def user_info(self, token: str | None) -> JSON:
        """openid.connect.userInfo for the access token the app sends."""
        if not token:
            raise OpenIDError("not_authed")
        held = self._tokens.get(token)
        if held is None or held[1] < time.time():
            raise OpenIDError("invalid_auth")
        user = self.workspace.users.get(held[0])
        if user is None or user.deleted:
            raise OpenIDError("account_inactive")
        return self._claims(user)

    def _claims(self, user: User) -> JSON:
        given, _, family = user.real_name.partition(" ")
        return {
            "sub": user.id,
            "https://slack.com/user_id": user.id,
            "https://slack.com/team_id": self.team_id,
            "email": user.email,
            "email_verified": bool(user.email),
            "date_email_verified": 1_700_000_000,
            "name": user.real_name,
            "picture": "",
            "given_name": given,
            "family_name": family,
            "locale": "en-US",
            "https://slack.com/team_name": TEAM_NAME,
            "https://slack.com/team_domain": TEAM_DOMAIN,
        }

    def _id_token(self, grant: Grant, access_token: str) -> str:
        """A JWT shaped as Slack's (signed here with HS256 under a key of this run)."""
        user = self.workspace.users[grant.user_id]
        now = int(time.time())
        digest = hashlib.sha256(access_token.encode()).digest()
        claims = {
            "iss": ISSUER,
            "aud": grant.client_id,
            "exp": now + 3600,
            "iat": now,
            "auth_time": now,
            "nonce": grant.nonce,
            "at_hash": _b64(digest[:16]),
            **self._claims(user),
        }
        header = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
        payload = _b64(json.dumps(claims).encode())
        signature = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"
