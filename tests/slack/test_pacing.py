"""The pacer spaces calls to Slack's budgets: bursts, per-channel limits, 429 penalties."""

from __future__ import annotations

import pytest

from handlers.slack.pacing import Budget, Pacer


def test_burst_then_steady_rate() -> None:
    now = [0.0]
    pacer = Pacer({"users.list": Budget(per_minute=60, burst=3)}, headroom=1, clock=lambda: now[0])
    assert [pacer.reserve("users.list") for _ in range(3)] == [0, 0, 0]
    assert pacer.reserve("users.list") == pytest.approx(1.0)  # 1 per second after the burst
    assert pacer.reserve("users.list") == pytest.approx(2.0)  # queued behind the previous one
    now[0] = 10.0
    assert pacer.reserve("users.list") == 0


def test_post_message_is_per_channel_within_a_workspace_budget() -> None:
    now = [0.0]
    pacer = Pacer(
        {
            "chat.postMessage": Budget(60, 1, per_channel=True),
            "chat.postMessage#workspace": Budget(120, 2),
        },
        headroom=1,
        clock=lambda: now[0],
    )
    assert pacer.reserve("chat.postMessage", "D1") == 0
    assert pacer.reserve("chat.postMessage", "D2") == 0  # another channel: its own budget
    assert pacer.reserve("chat.postMessage", "D3") == pytest.approx(0.5)  # workspace-wide
    assert pacer.reserve("chat.postMessage", "D1") >= 1.0  # same channel again


def test_unknown_methods_are_not_paced_and_penalty_holds_back() -> None:
    now = [0.0]
    pacer = Pacer({"chat.update": Budget(60, 10)}, headroom=1, clock=lambda: now[0])
    assert pacer.reserve("auth.test") == 0
    pacer.penalize("chat.update", retry_after=7)
    assert pacer.reserve("chat.update") == pytest.approx(7)
    now[0] = 8.0
    assert pacer.reserve("chat.update") == 0


def test_headroom_keeps_under_the_budget() -> None:
    now = [0.0]
    pacer = Pacer({"users.info": Budget(per_minute=100, burst=100)}, clock=lambda: now[0])
    assert sum(pacer.reserve("users.info") == 0 for _ in range(100)) == 97


def test_a_long_wait_is_reserved_and_reported() -> None:
    from handlers.slack.pacing import Paced

    now = [0.0]
    pacer = Pacer({"chat.postMessage": Budget(60, 1)}, headroom=1, clock=lambda: now[0])
    assert pacer.reserve("chat.postMessage", max_wait=0.25) == 0
    with pytest.raises(Paced) as paced:
        pacer.reserve("chat.postMessage", max_wait=0.25)
    assert paced.value.wait == pytest.approx(1.0)  # the slot at t=1 s is now taken
    with pytest.raises(Paced) as paced:
        pacer.reserve("chat.postMessage", max_wait=0.25)
    assert paced.value.wait == pytest.approx(2.0)
