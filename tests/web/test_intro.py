"""The activity intro is rich text: typed in the modal (rich_text_input), shown formatted
and safe on the landing page and in Slack; plain intros from before are shown escaped."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup
from sqlmodel import select

from bot import richtext
from bot.activities import ActivityDraft
from handlers.slack import blocks
from handlers.web.richtext import doc_html
from sandbox.blockkit import Context, render_blocks
from sandbox.forms import rich_text_from_typing, typing_from_rich_text
from store.models import Activity
from tests.conftest import ADMIN, EMPLOYEE, Stack
from tests.flows import create_activity, get_share_card, view_landing


def text(words: str, **style: bool) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "text", "text": words}
    if style:
        element["style"] = style
    return element


def link(url: str, words: str, **style: bool) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "link", "url": url, "text": words}
    if style:
        element["style"] = style
    return element


def items(style: str, *words: str) -> dict[str, Any]:
    sections = [{"type": "rich_text_section", "elements": [text(w)]} for w in words]
    return {"type": "rich_text_list", "style": style, "indent": 0, "elements": sections}


# What Slack sends in view_submission state for the intro an admin formatted in the modal.
HOSTILE_INTRO: dict[str, Any] = {
    "type": "rich_text",
    "elements": [
        {
            "type": "rich_text_section",
            "elements": [
                text("Dress code", bold=True),
                text(": smart casual, "),
                text("no ties", italic=True),
                text(", "),
                text("suits", strike=True),
                text("\n<script>alert(1)</script> <!here> *not bold* "),
                {"type": "broadcast", "range": "channel"},
                text(" "),
                link("javascript:alert(1)", "click me"),
                text(" "),
                link("https://example.com/agenda?a=1&b=2", "Agenda", italic=True),
                text(" or "),
                link("mailto:events@example.com", "write to us"),
                text(" "),
                link("data:text/html,<b>x</b>", "data"),
                text("\n"),
            ],
        },
        items("bullet", "Badge", "Laptop"),
        items("ordered", "Coffee", "Talks"),
    ],
}


async def test_the_modal_takes_rich_text_and_the_landing_page_shows_it_safely(
    stack: Stack,
) -> None:
    """Modal → signed view_submission → landing HTML built from the structure."""
    activity_id = await create_activity(stack, intro=HOSTILE_INTRO)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    html = await view_landing(stack, card.url)
    intro = re.search(r'<div class="intro rich">(.*?)</div>', html, re.S)
    assert intro, html
    shown = intro.group(1)
    assert "<strong>Dress code</strong>: smart casual, <em>no ties</em>, <s>suits</s><br>" in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;!here&gt; *not bold* @channel" in shown
    assert "<script" not in shown and "javascript:" not in html and "data:text" not in html
    assert "click me" in shown and "data" in shown  # unsafe links lose the link, not the words
    assert (
        '<a href="https://example.com/agenda?a=1&amp;b=2" rel="nofollow noopener noreferrer" '
        'target="_blank"><em>Agenda</em></a>'
    ) in shown
    assert '<a href="mailto:events@example.com"' in shown
    assert "<ul><li>Badge</li><li>Laptop</li></ul><ol><li>Coffee</li><li>Talks</li></ol>" in shown
    assert len(re.findall(r"<a ", shown)) == 2

    # The plain rendering serves the previews: no tags, no markup.
    description = re.search(r'<meta name="description" content="([^"]*)"', html)
    assert description and description.group(1).startswith("Dress code: smart casual, no ties")
    async with stack.runtime.db.session() as session:
        activity = (await session.exec(select(Activity))).one()
    assert activity.intro.splitlines()[-4:] == ["• Badge", "• Laptop", "1. Coffee", "2. Talks"]

    # In Slack the admin's formatting stays, the words stay as typed.
    announcement = stack.slack.last_message("C_MARKETING")
    assert announcement is not None
    [rich] = [b for b in announcement.blocks if "Dress code" in str(b)]
    elements = [e for part in rich["elements"] for e in part["elements"]]
    assert text("Dress code", bold=True) in elements
    assert any("<!here>" in e.get("text", "") and not e.get("style") for e in elements)
    urls = [e["url"] for e in elements if e["type"] == "link"]
    assert urls == ["https://example.com/agenda?a=1&b=2", "mailto:events@example.com"]
    assert not any(e["type"] == "broadcast" for e in elements)


async def test_a_plain_intro_from_before_is_shown_escaped(stack: Stack) -> None:
    activity_id = await create_activity(stack)
    async with stack.runtime.db.session() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None
        activity.intro, activity.intro_rich = "*Dress code* <b>x</b> <!here>\nline two", None
        session.add(activity)
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    html = await view_landing(stack, card.url)
    assert (
        '<div class="intro">*Dress code* &lt;b&gt;x&lt;/b&gt; &lt;!here&gt;\nline two</div>' in html
    )
    assert "<strong>" not in html


def test_the_modal_offers_a_rich_text_input_and_the_sandbox_renders_it() -> None:
    modal = blocks.activity_modal()
    [intro] = [b for b in modal["blocks"] if b["block_id"] == "intro"]
    assert intro["element"]["type"] == "rich_text_input"
    html = str(render_blocks(modal["blocks"], ctx=Context(form=True)))
    assert re.search(r'<textarea[^>]*name="intro/value"', html), html


def test_typing_in_the_sandbox_becomes_rich_text_like_slacks_composer() -> None:
    typed = "*Dress code*: smart\nSee https://example.com/x\n- one\n- two\n1. first"
    value = rich_text_from_typing(typed)
    assert typing_from_rich_text(value) == typed
    assert value["elements"][0]["elements"][0] == text("Dress code", bold=True)
    assert [part["type"] for part in value["elements"]] == [
        "rich_text_section",
        "rich_text_list",
        "rich_text_list",
    ]


def test_stored_links_are_checked_again_when_shown() -> None:
    """A doc from the database is never trusted: an unsafe link (written there by anything)
    is dropped on load and on rendering."""
    stored = '[{"p":[{"text":"x","link":"javascript:alert(1)"},{"text":"<i>","bold":true}]}]'
    doc = richtext.loads(stored)
    assert doc == (richtext.Paragraph((richtext.Run("x"), richtext.Run("<i>", bold=True))),)
    forged = (richtext.Paragraph((richtext.Run("y", link="javascript:alert(1)"),)),)
    assert doc_html(forged) == Markup("<p>y</p>")
    assert doc_html(doc) == Markup("<p>x<strong>&lt;i&gt;</strong></p>")


async def test_an_edit_in_the_console_keeps_or_drops_the_formatting(stack: Stack) -> None:
    """The console edits the plain text: unchanged, the formatting stays; changed, the new
    text is shown as typed (a textarea has no formatting to offer)."""
    activity_id = await create_activity(stack, intro=HOSTILE_INTRO)
    activity = await stack.services.activity(activity_id)

    def draft(intro: str) -> ActivityDraft:
        return ActivityDraft(
            name=activity.name,
            starts_at=activity.starts_at,
            ends_at=activity.ends_at,
            material_type=activity.material_type,
            headline=activity.headline,
            intro=intro,
        )

    kept = await stack.services.update_activity(
        activity_id, draft(activity.intro), by_user_id=ADMIN
    )
    assert kept.intro_rich == activity.intro_rich
    edited = await stack.services.update_activity(
        activity_id, draft("*Dress code*: <b>none</b>"), by_user_id=ADMIN
    )
    assert edited.intro_rich is None
    card = await get_share_card(stack, EMPLOYEE, activity_id)
    html = await view_landing(stack, card.url)
    assert '<div class="intro">*Dress code*: &lt;b&gt;none&lt;/b&gt;</div>' in html
