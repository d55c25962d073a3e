"""The stand-in's Sign in with Slack answers as Slack does: the authorize page picks a
person and returns a one-time code; openid.connect.token checks the client and the code
and returns an id_token JWT with Slack's claims; openid.connect.userInfo needs its token."""

from __future__ import annotations

import warnings
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.web.console.oidc import authorize_url, id_token_claims
from sandbox.emulator import SlackEmulator
from sandbox.workspace import TEAM_ID

CLIENT = ("app.client", "app-secret")
REDIRECT = "http://127.0.0.1:9/console/callback"


async def code_for(emulator: SlackEmulator, api_url: str, user: str, nonce: str = "n1") -> str:
    url = authorize_url(
        api_url, client_id=CLIENT[0], redirect_uri=REDIRECT, state="s1", nonce=nonce
    )
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as page:
            assert page.status == 200 and "Alex Admin" in await page.text()
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        async with http.post(
            emulator.base_url + "/openid/connect/authorize",
            data={**query, "user": user},
            allow_redirects=False,
        ) as choice:
            assert choice.status == 302
            back = parse_qs(urlsplit(choice.headers["Location"]).query)
    assert back["state"] == ["s1"]
    return back["code"][0]


async def exchange(api_url: str, code: str, secret: str = CLIENT[1]) -> dict[str, object]:
    client = AsyncWebClient(base_url=api_url, retry_handlers=[])
    with warnings.catch_warnings():  # slack_sdk's BasicAuth (deprecated by aiohttp)
        warnings.simplefilter("ignore", DeprecationWarning)
        response = await client.openid_connect_token(
            client_id=CLIENT[0], client_secret=secret, code=code, redirect_uri=REDIRECT
        )
    return dict(response.data)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def registered(emulator: SlackEmulator) -> None:
    emulator.openid.register_client(*CLIENT)


async def test_code_for_tokens_and_user_info(emulator: SlackEmulator, api_url: str) -> None:
    tokens = await exchange(api_url, await code_for(emulator, api_url, "U_LI", nonce="abc"))
    assert tokens["token_type"] == "Bearer" and str(tokens["access_token"]).startswith("xoxp-")
    claims = id_token_claims(str(tokens["id_token"]))
    assert claims["aud"] == CLIENT[0] and claims["nonce"] == "abc"
    assert claims["https://slack.com/user_id"] == "U_LI" and claims["sub"] == "U_LI"
    assert claims["https://slack.com/team_id"] == TEAM_ID and claims["iss"] == "https://slack.com"
    info = await AsyncWebClient(
        token=str(tokens["access_token"]), base_url=api_url
    ).openid_connect_userInfo()
    assert info["https://slack.com/user_id"] == "U_LI" and info["name"] == "李雷"
    assert info["email"] == "lilei@example.com"


async def test_a_code_works_once_and_only_with_the_right_secret(
    emulator: SlackEmulator, api_url: str
) -> None:
    code = await code_for(emulator, api_url, "U_ANN")
    with pytest.raises(SlackApiError) as wrong:
        await exchange(api_url, code, secret="guess")
    assert wrong.value.response["error"] == "bad_client_secret"
    await exchange(api_url, code)
    with pytest.raises(SlackApiError) as again:
        await exchange(api_url, code)
    assert again.value.response["error"] == "invalid_code"
    with pytest.raises(SlackApiError) as made_up:
        await exchange(api_url, "made-up")
    assert made_up.value.response["error"] == "invalid_code"


async def test_user_info_needs_a_token_it_issued(api_url: str) -> None:
    for token, error in ((None, "not_authed"), ("xoxp-forged", "invalid_auth")):
        with pytest.raises(SlackApiError) as refused:
            await AsyncWebClient(token=token, base_url=api_url).openid_connect_userInfo()
        assert refused.value.response["error"] == error


async def test_authorize_page_refuses_an_unknown_app(emulator: SlackEmulator) -> None:
    url = authorize_url(
        emulator.base_url + "/api/", client_id="nope", redirect_uri=REDIRECT, state="s", nonce="n"
    )
    async with aiohttp.ClientSession() as http, http.get(url) as page:
        assert page.status == 400 and "invalid_client_id" in await page.text()
