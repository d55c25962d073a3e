"""slack-manifest.yml lets the console's Sign in with Slack work after one paste: the
callback is a redirect URL on the app's host, and the user scopes are exactly the ones
the console asks for."""

from __future__ import annotations

from urllib.parse import urlsplit

from handlers.web.console.oidc import SCOPES
from tests.test_manifest import manifest


def test_manifest_has_the_console_callback_and_openid_scopes() -> None:
    oauth = manifest()["oauth_config"]
    assert sorted(oauth["scopes"]["user"]) == sorted(SCOPES.split())
    [redirect] = oauth["redirect_urls"]
    request_url = urlsplit(manifest()["settings"]["event_subscriptions"]["request_url"])
    assert urlsplit(redirect).path == "/console/callback"
    assert urlsplit(redirect).netloc == request_url.netloc
