"""A modal's file_input over the UI's HTTP form post: a refused try keeps the file attached."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, tzinfo
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import select

from sandbox.ui import user_tz
from sandbox.workspace import View
from store.models import ContactRecord
from tests.sandbox.test_browser import with_a_lead
from tests.sandbox.test_restart import FETCH, Runs

NOTES = b"call notes\n" * 100


@pytest.fixture
async def runs(tmp_path: Path) -> AsyncIterator[Runs]:
    runs = Runs(tmp_path)
    yield runs
    await runs.stop()


def contact_form(
    summary: str, *, tz: tzinfo, upload: bool = False, keep: tuple[str, ...] = ()
) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("contact_kind/value", "email")
    # Now, in the salesperson's zone as the pane reads it: not before the lead signed up.
    form.add_field("contact_at/value", datetime.now(tz).strftime("%Y-%m-%dT%H:%M"))
    form.add_field("contact_summary/value", summary)
    if upload:
        form.add_field("contact_file/value", NOTES, filename="notes.txt", content_type="text/plain")
    for file_id in keep:
        form.add_field("contact_file/value", file_id)
    return form


async def test_a_file_stays_attached_after_a_refused_try_and_reaches_the_app(
    runs: Runs,
) -> None:
    sandbox = await runs.start()
    slack = sandbox.emulator
    salesperson, lead_ts = await with_a_lead(sandbox)
    await slack.click_button(salesperson, "log_contact", channel=f"D_{salesperson}", ts=lead_ts)
    modals: list[View] = await slack.wait_until(lambda: slack.workspace.open_modals(salesperson))
    modal = modals[-1]
    tz = user_tz(slack.workspace.users[salesperson])
    submit = f"{sandbox.ui_url}/u/{salesperson}/views/{modal.id}/submit"
    someone_elses = slack.user_file("U_ANN", "private.txt", b"not yours")

    async with aiohttp.ClientSession() as http:
        async with http.post(
            submit, data=contact_form("", tz=tz, upload=True), headers=FETCH
        ) as answer:
            assert answer.status == 200 and (await answer.json())["ok"]
        assert modal.errors == {"contact_summary": "Please complete this required field."}
        [uploaded] = [f for f in slack.workspace.files.values() if f.name == "notes.txt"]
        assert uploaded.user == salesperson and uploaded.content == NOTES
        fragment = f"{sandbox.ui_url}/u/{salesperson}/D_{salesperson}/fragment"
        async with http.get(fragment) as response:
            modals_html = (await response.json())["modals"]
        assert f'value="{uploaded.id}" checked' in modals_html and "📎 notes.txt" in modals_html

        keep = [someone_elses.id, uploaded.id]  # one file at most: the foreign one first
        form = contact_form("Sent the deck.", tz=tz, keep=tuple(keep))
        async with http.post(submit, data=form, headers=FETCH) as answer:
            assert answer.status == 200 and (await answer.json())["ok"]

    delivery = next(d for d in reversed(slack.deliveries) if d.kind == "view_submission")
    async with sandbox.runtime.db.session() as session:
        [record] = (await session.exec(select(ContactRecord))).all()
    assert (record.kind, record.file_id, record.file_name) == ("email", uploaded.id, "notes.txt")
    assert b"private.txt" not in delivery.request  # another person's file is never sent
