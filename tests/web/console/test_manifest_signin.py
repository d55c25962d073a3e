"""slack-manifest.yml lets the console's Sign in with Slack work after one paste: the
callback is a redirect URL on the app's host, and the user scopes are exactly the ones
the console asks for, plus files:write for the installing admin's token (SLACK_ADMIN_TOKEN:
erasure deletes files people uploaded)."""

from __future__ import annotations

from urllib.parse import urlsplit

from handlers.web.console.oidc import SCOPES
from tests.test_manifest import manifest


def test_manifest_has_the_console_callback_and_openid_scopes() -> None:
    oauth = manifest()["oauth_config"]
    assert sorted(oauth["scopes"]["user"]) == sorted([*SCOPES.split(), "files:write"])
    assert "files:write" not in SCOPES.split()  # signing in asks for who, nothing more
    [redirect] = oauth["redirect_urls"]
    request_url = urlsplit(manifest()["settings"]["event_subscriptions"]["request_url"])
    assert urlsplit(redirect).path == "/console/callback"
    assert urlsplit(redirect).netloc == request_url.netloc
