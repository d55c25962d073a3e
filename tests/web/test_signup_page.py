"""The customer's page as a new customer finds it (issue 14 §5), over real HTTP: a sign-up
button at the top that jumps to the form, a form that comes back scrolled to itself, a
success page naming the activity and its time with an .ics file (parsed here as a
calendar app would), "you're signed up" when the same browser opens the link again (its
cookie, not its address), "Sign-ups are closed" once closed, and a favicon."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import aiohttp

from tests.conftest import ADMIN, EMPLOYEE, MOBILE_UA, SALES, Stack
from tests.flows import add_global_roster, create_activity, get_share_card, sign_up, view_landing

NAME = "Launch; Q&A, demos \\ 新品发布会 with a name long enough to be folded over lines"
INTRO = "Line one, with a comma;\nline two: 欢迎光临"
HEADERS = {"User-Agent": MOBILE_UA}


def unfold(ics: str) -> dict[str, str]:
    """RFC 5545 §3.1: CRLF lines, a continuation starts with one space or tab; values as
    a calendar app reads them (TEXT unescaped)."""
    assert ics.endswith("\r\n") and "\n" not in ics.replace("\r\n", "")
    raw = ics.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in raw)
    lines: list[str] = []
    for line in raw:
        if line[:1] in (" ", "\t"):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    fields: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        if name in fields and name in ("BEGIN", "END"):
            name += "2"
        fields[name] = re.sub(
            r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value
        )
    return fields


async def test_sign_up_page_calendar_and_coming_back(stack: Stack) -> None:
    await add_global_roster(stack, *SALES)
    activity_id = await create_activity(stack, name=NAME, headline="", intro=INTRO)
    card = await get_share_card(stack, EMPLOYEE, activity_id)

    page = await view_landing(stack, card.url)
    assert page.index('href="#signup"') < page.index('<section id="signup">')
    assert re.search(r'<form method="post" action="/s/[^"]+/signup#signup"', page)
    assert '<link rel="icon" href="/favicon.svg"' in page
    for path in ("/favicon.svg", "/favicon.ico"):
        async with stack.http.get(stack.app_url + path) as response:
            assert response.status == 200
            assert response.content_type == "image/svg+xml"
            assert (await response.read()).startswith(b"<svg")

    done = await sign_up(stack, card.url, {"name": "Wang Fang", "phone": "+86 138 0000 1111"})
    assert "You're signed up, Wang Fang!" in done
    assert "新品发布会" in done and re.search(r"\d\d:\d\d–\d\d:\d\d \(", done)
    link = re.search(r'href="(/s/[^"]+/calendar\.ics)" download', done)
    assert link
    async with stack.http.get(stack.app_url + link.group(1)) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        ics = await response.text()
    event = unfold(ics)
    assert (event["BEGIN"], event["BEGIN2"]) == ("VCALENDAR", "VEVENT")
    assert event["VERSION"] == "2.0" and event["PRODID"]
    assert event["SUMMARY"] == NAME
    assert event["DESCRIPTION"] == f"{INTRO}\n\n{card.url}"
    assert event["UID"] == f"sharetrail-activity-{activity_id}@127.0.0.1"
    activity = await stack.services.activity(activity_id)
    for field, moment in (("DTSTART", activity.starts_at), ("DTEND", activity.ends_at)):
        parsed = datetime.strptime(event[field], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        assert parsed == moment.replace(tzinfo=moment.tzinfo or UTC)
    stamp = datetime.strptime(event["DTSTAMP"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=5)

    again = await view_landing(stack, card.url)  # the same browser (cookie jar)
    assert "You're signed up" in again and "Sign up someone else" in again
    assert 'class="cta"' not in again
    # The same address without the cookie is somebody else.
    async with aiohttp.ClientSession() as stranger, stranger.get(card.url, headers=HEADERS) as r:
        fresh = await r.text()
    assert "You're signed up" not in fresh and 'class="cta"' in fresh

    since = stack.slack.mark()
    await stack.slack.send_slash_command(ADMIN, f"close {activity_id}")
    await stack.slack.wait_for_call("response_url", since=since)
    await stack.settle()
    closed = await view_landing(stack, card.url)
    assert "Sign-ups are closed" in closed and "ended" not in closed
    assert 'class="cta"' not in closed
