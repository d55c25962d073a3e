"""Fixtures for the Slack adapter's tests (the `stack` itself is in tests/conftest.py)."""

from __future__ import annotations

import pytest

from handlers import main

SLACK_TIMEOUT_S = 1.0


@pytest.fixture
def slack_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    """The app gives up on a Slack call after 1 s instead of 10: the timeout of the shared
    aiohttp session every Web API client uses (slack_sdk ignores its own `timeout` when
    given a session). Request it before `stack`, which builds the session."""
    monkeypatch.setattr(main, "SLACK_TIMEOUT_S", SLACK_TIMEOUT_S)
    return SLACK_TIMEOUT_S
