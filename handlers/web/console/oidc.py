"""Sign in with Slack (OpenID Connect): the authorize URL, the code exchange, the identity.

Slack's authorize page is `{origin of SLACK_API_URL}/openid/connect/authorize`; the token
and userInfo calls go through SLACK_API_URL (DESIGN.md §7), so the sandbox's stand-in
serves sign-in too. The id_token comes straight from the token endpoint over the
connection we opened, so its claims are read without checking its signature (OpenID
Connect Core 3.1.3.7); its nonce, audience and expiry are checked.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.errors import Forbidden
from bot.i18n import _

log = logging.getLogger(__name__)

SCOPES = "openid profile email"
USER_ID_CLAIM = "https://slack.com/user_id"
TEAM_ID_CLAIM = "https://slack.com/team_id"
CLOCK_SKEW_S = 300


@dataclass(frozen=True)
class Identity:
    """The person Slack says signed in."""

    user_id: str
    team_id: str
    name: str
    email: str


def authorize_url(
    api_url: str, *, client_id: str, redirect_uri: str, state: str, nonce: str
) -> str:
    """Slack's authorize page on the origin of SLACK_API_URL."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(api_url))
    query = urlencode(
        {
            "response_type": "code",
            "scope": SCOPES,
            "client_id": client_id,
            "state": state,
            "nonce": nonce,
            "redirect_uri": redirect_uri,
        }
    )
    return f"{origin}/openid/connect/authorize?{query}"


def id_token_claims(id_token: str) -> dict[str, Any]:
    """The claims of a JWT (header.payload.signature); empty if it is not one."""
    parts = id_token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def check_claims(claims: dict[str, Any], *, client_id: str, nonce: str, now: float) -> None:
    """The id_token was issued for this app, this sign-in attempt, and is still valid."""
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise Forbidden(_("Slack signed you in for another app. Please try again."))
    if not nonce or claims.get("nonce") != nonce:
        raise Forbidden(_("This sign-in was not started here. Please try again."))
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires + CLOCK_SKEW_S < now:
        raise Forbidden(_("The sign-in took too long. Please try again."))


class SlackSignIn:
    """Talks to Slack's openid.connect.* methods through SLACK_API_URL."""

    def __init__(
        self,
        *,
        api_url: str,
        client_id: str,
        client_secret: str,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.api_url = api_url
        self.client_id = client_id
        self._secret = client_secret
        self._session = session

    def _client(self, token: str | None = None) -> AsyncWebClient:
        # No retry handlers: an authorization code is good for one exchange only.
        return AsyncWebClient(
            token=token, base_url=self.api_url, session=self._session, retry_handlers=[]
        )

    def authorize_url(self, *, redirect_uri: str, state: str, nonce: str) -> str:
        return authorize_url(
            self.api_url,
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            state=state,
            nonce=nonce,
        )

    async def _exchange(self, code: str, redirect_uri: str) -> AsyncSlackResponse:
        """openid.connect.token. slack_sdk sends the client credentials with aiohttp's
        BasicAuth, deprecated since aiohttp 3.12: that one warning is not ours to fix."""
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="BasicAuth is deprecated", category=DeprecationWarning
            )
            return await self._client().openid_connect_token(
                client_id=self.client_id,
                client_secret=self._secret,
                code=code,
                redirect_uri=redirect_uri,
                grant_type="authorization_code",
            )

    async def identify(self, *, code: str, redirect_uri: str, nonce: str) -> Identity:
        """Exchange the code for tokens and read who signed in; Forbidden if Slack says no."""
        try:
            tokens = await self._exchange(code, redirect_uri)
            check_claims(
                id_token_claims(str(tokens.get("id_token") or "")),
                client_id=self.client_id,
                nonce=nonce,
                now=time.time(),
            )
            info = await self._client(str(tokens["access_token"])).openid_connect_userInfo()
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            log.warning("Sign in with Slack refused: %s", error)
            raise Forbidden(_("Slack did not confirm who you are. Please try again.")) from None
        except (SlackClientError, aiohttp.ClientError, TimeoutError, KeyError) as exc:
            log.warning("Sign in with Slack failed: %s", type(exc).__name__)
            raise Forbidden(_("Slack could not be reached. Please try again.")) from None
        user_id, team_id = info.get(USER_ID_CLAIM), info.get(TEAM_ID_CLAIM)
        if not isinstance(user_id, str) or not isinstance(team_id, str):
            raise Forbidden(_("Slack did not say who you are. Please try again."))
        return Identity(
            user_id=user_id,
            team_id=team_id,
            name=str(info.get("name") or user_id),
            email=str(info.get("email") or ""),
        )
