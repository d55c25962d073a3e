"""Block Kit → HTML: every block and element the sandbox draws, mrkdwn, and escaping."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sandbox.blockkit import Container, Context, Names, mrkdwn, render_blocks, text_object
from sandbox.forms import view_state
from sandbox.workspace import seeded_workspace

NAMES = Names.from_workspace(seeded_workspace())
MESSAGE = Container("message", channel="C_MARKETING", ts="1700000000.000100")
VIEW = Container("view", view_id="V000001")


class Tags(HTMLParser):
    """Start tags with their attributes, and the text, of an HTML fragment."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in wanted.items())
        ]

    def one(self, tag: str, **attrs: str) -> dict[str, str | None]:
        found = self.find(tag, **attrs)
        assert len(found) == 1, (tag, attrs, self.tags)
        return found[0]

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def render(*blocks: Any, ctx: Context | None = None, container: Container = MESSAGE) -> Tags:
    html = render_blocks(list(blocks), ctx=ctx or Context(names=NAMES), container=container)
    return Tags(str(html))


def md(value: str) -> str:
    return str(mrkdwn(value, NAMES))


def plain(value: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": value, "emoji": True}


def option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label), "value": value}


def form(*blocks: Any, **ctx: Any) -> Tags:
    return render(*blocks, ctx=Context(names=NAMES, form=True, **ctx), container=VIEW)


def input_block(block_id: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(f"Label {block_id}"),
        "element": {"action_id": "value", **element},
        **extra,
    }


# --- mrkdwn ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("*bold*", "<strong>bold</strong>"),
        ("_italic_", "<em>italic</em>"),
        ("~strike~", "<del>strike</del>"),
        ("`code *not bold*`", '<code class="bk-code">code *not bold*</code>'),
        ("```a *b*\n<c>```", '<pre class="bk-pre">a *b*\n&lt;c&gt;</pre>'),
        ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
        ("a &lt;b&gt; &amp;lt; c", "a &lt;b&gt; &amp;lt; c"),
        ("line one\nline two", "line one<br>line two"),
        (
            "> quoted\n&gt; more\nafter",
            '<blockquote class="bk-quote">quoted<br>more</blockquote>after',
        ),
        (
            "<!here> <!channel>",
            '<span class="bk-mention">@here</span> <span class="bk-mention">@channel</span>',
        ),
        ("done :white_check_mark: :unknown_one:", "done ✅ :unknown_one:"),
    ],
)
def test_mrkdwn_basics(source: str, html: str) -> None:
    assert md(source) == html


def test_mrkdwn_links_mentions_and_channels() -> None:
    tags = Tags(
        md(
            "<https://example.com/a?b=1&amp;c=2|the page> <mailto:x@y.z> <@U_LI> "
            "<@U_NOPE|ghost> <#C_MARKETING|old-name> <#C_UNKNOWN|elsewhere>"
        )
    )
    link = tags.find("a")[0]
    assert link["href"] == "https://example.com/a?b=1&c=2"
    assert link["target"] == "_blank" and "noopener" in str(link["rel"])
    assert tags.find("a")[1]["href"] == "mailto:x@y.z"
    assert "the page" in tags.plain and "x@y.z" in tags.plain
    assert "@李雷" in tags.plain and "@ghost" in tags.plain
    assert "#marketing" in tags.plain and "#elsewhere" in tags.plain


def test_bare_urls_are_links_without_trailing_punctuation() -> None:
    tags = Tags(md("Your link: https://share.example.com/s/AbC_d-1. Thanks"))
    assert tags.one("a")["href"] == "https://share.example.com/s/AbC_d-1"
    assert tags.plain.endswith(". Thanks")


@pytest.mark.parametrize(
    "evil",
    [
        "<script>alert(1)</script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<javascript:alert(1)|click me>",
        '<https://ok.example/"onmouseover="alert(1)|x>',
        "*<img src=x onerror=alert(1)>*",
    ],
)
def test_mrkdwn_never_lets_markup_or_script_links_through(evil: str) -> None:
    html = md(evil)
    tags = Tags(html)
    assert not tags.find("script") and not tags.find("img")
    assert "javascript:" not in "".join(str(a.get("href")) for a in tags.find("a"))
    assert all(set(a) <= {"href", "target", "rel"} for a in tags.find("a"))


def test_plain_text_is_escaped_and_keeps_newlines() -> None:
    assert str(text_object(plain("<b>hi</b>\nthere"))) == "&lt;b&gt;hi&lt;/b&gt;<br>there"
    assert str(text_object({"type": "mrkdwn", "text": "*x*"})) == "<strong>x</strong>"


# --- blocks ----------------------------------------------------------------------------


def test_section_with_text_fields_and_button_accessory() -> None:
    tags = render(
        {
            "type": "section",
            "block_id": "s1",
            "text": {"type": "mrkdwn", "text": "*Hello* <@U_ANN>"},
            "fields": [
                {"type": "mrkdwn", "text": "*When*\nTomorrow"},
                {"type": "plain_text", "text": "Where: <online>"},
            ],
            "accessory": {
                "type": "button",
                "text": plain("Open"),
                "action_id": "open_it",
                "value": "42",
            },
        }
    )
    assert tags.one("div", class_="bk-block bk-section")["data-block-id"] == "s1"
    assert len(tags.find("div", class_="bk-field")) == 2
    assert "Hello @Ann Lee" in tags.plain and "Where: <online>" in tags.plain
    button = tags.one("button")
    assert button["data-action-id"] == "open_it" and button["data-value"] == "42"
    assert button["data-block-id"] == "s1" and button["data-container"] == "message"
    assert button["data-channel"] == "C_MARKETING" and button["data-ts"] == MESSAGE.ts


def test_header_context_divider_and_image() -> None:
    tags = render(
        {"type": "header", "text": plain("📣 Launch <now>")},
        {
            "type": "context",
            "elements": [
                {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "logo"},
                {"type": "mrkdwn", "text": "_small print_"},
            ],
        },
        {"type": "divider"},
        {
            "type": "image",
            "image_url": "https://example.com/card.png",
            "alt_text": "the card",
            "title": plain("Card title"),
        },
        {"type": "image", "slack_file": {"url": "/files/F1/card.png"}, "alt_text": "file"},
    )
    assert tags.one("h3")["class"] == "bk-header-text"
    assert "📣 Launch <now>" in tags.plain
    assert tags.one("img", alt="logo")["src"] == "https://example.com/a.png"
    assert tags.find("em")
    assert tags.one("hr")["class"] == "bk-hr"
    assert tags.one("img", alt="the card")["src"] == "https://example.com/card.png"
    assert "Card title" in tags.plain
    assert tags.one("img", alt="file")["src"] == "/files/F1/card.png"


def test_image_with_a_script_url_is_not_loaded() -> None:
    tags = render({"type": "image", "image_url": "javascript:alert(1)", "alt_text": "x"})
    assert not tags.find("img")
    assert "x" in tags.plain


def test_actions_buttons_with_styles_urls_and_confirm() -> None:
    tags = render(
        {
            "type": "actions",
            "block_id": "acts",
            "elements": [
                {"type": "button", "text": plain("Go"), "action_id": "go", "style": "primary"},
                {
                    "type": "button",
                    "text": plain("Delete"),
                    "action_id": "del",
                    "style": "danger",
                    "value": 'x"><script>',
                    "confirm": {"title": plain("Sure?"), "text": plain("It is gone.")},
                },
                {
                    "type": "button",
                    "text": plain("Docs"),
                    "action_id": "docs",
                    "url": "https://example.com/docs",
                },
                {
                    "type": "button",
                    "text": plain("Bad"),
                    "action_id": "bad",
                    "url": "javascript:alert(1)",
                },
            ],
        }
    )
    go, delete, docs, bad = tags.find("button")
    assert "bk-primary" in str(go["class"]) and "bk-interactive" in str(go["class"])
    assert "bk-danger" in str(delete["class"])
    assert delete["data-value"] == 'x"><script>' and not tags.find("script")
    assert delete["data-confirm"] == "Sure? It is gone."
    assert docs["data-url"] == "https://example.com/docs"
    assert "data-url" not in bad


def test_actions_selects_pickers_and_overflow() -> None:
    tags = render(
        {
            "type": "actions",
            "block_id": "pick",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "share_link_for",
                    "placeholder": plain("Where will you post it?"),
                    "options": [option("wechat", "WeChat"), option("email", "Email")],
                    "option_groups": [
                        {"label": plain("Social"), "options": [option("linkedin", "LinkedIn")]}
                    ],
                    "initial_option": option("email", "Email"),
                },
                {"type": "users_select", "action_id": "who", "initial_user": "U_HAN"},
                {"type": "multi_users_select", "action_id": "whom"},
                {"type": "conversations_select", "action_id": "where"},
                {"type": "datepicker", "action_id": "day", "initial_date": "2026-12-01"},
                {"type": "timepicker", "action_id": "time", "initial_time": "14:30"},
                {"type": "datetimepicker", "action_id": "moment", "initial_date_time": 1796140800},
                {
                    "type": "overflow",
                    "action_id": "more",
                    "options": [option("edit", "Edit"), option("delete", "Delete")],
                },
            ],
        }
    )
    selects = {s["data-action-id"]: s for s in tags.find("select")}
    assert set(selects) == {"share_link_for", "who", "whom", "where", "more"}
    assert all("bk-interactive" in str(s["class"]) for s in selects.values())
    assert selects["whom"]["multiple"] is None and "multiple" in selects["whom"]
    values = [o["value"] for o in tags.find("option")]
    assert {"wechat", "email", "linkedin", "U_HAN", "U_ANN", "C_MARKETING", "edit"} <= set(values)
    assert "U_BOT" not in values and "U_GONE" not in values  # no bots, no deleted users
    assert tags.one("optgroup")["label"] == "Social"
    assert tags.one("option", value="email")["selected"] is None  # the initial option
    assert "selected" in tags.find("option", value="U_HAN")[0]
    assert "Where will you post it?" in tags.plain
    inputs = {i["data-action-id"]: i for i in tags.find("input")}
    assert inputs["day"]["type"] == "date" and inputs["day"]["value"] == "2026-12-01"
    assert inputs["time"]["type"] == "time" and inputs["time"]["value"] == "14:30"
    assert inputs["moment"]["type"] == "datetime-local"
    assert inputs["moment"]["value"] == "2026-12-01T16:00"  # shown in the context's zone (UTC)
    assert "bk-overflow" in str(selects["more"]["class"])


def test_checkboxes_and_radio_buttons_in_actions() -> None:
    tags = render(
        {
            "type": "actions",
            "block_id": "c",
            "elements": [
                {
                    "type": "checkboxes",
                    "action_id": "boxes",
                    "options": [option("a", "A"), option("b", "B")],
                    "initial_options": [option("b", "B")],
                },
                {
                    "type": "radio_buttons",
                    "action_id": "radio",
                    "options": [{**option("x", "X"), "description": plain("the x one")}],
                },
            ],
        }
    )
    boxes = tags.find("input", type="checkbox")
    assert [b["value"] for b in boxes] == ["a", "b"]
    assert "checked" in boxes[1] and "checked" not in boxes[0]
    assert tags.one("input", type="radio")["data-action-id"] == "radio"
    assert "the x one" in tags.plain


def test_input_blocks_label_hint_optional_and_error() -> None:
    tags = form(
        input_block(
            "name",
            {"type": "plain_text_input", "max_length": 200, "placeholder": plain("Spring webinar")},
            hint=plain("Shown to customers"),
        ),
        input_block("intro", {"type": "plain_text_input", "multiline": True}, optional=True),
        errors={"name": "Give the activity a name."},
    )
    name = tags.one("input", name="name/value")
    assert name["type"] == "text" and name["maxlength"] == "200"
    assert name["placeholder"] == "Spring webinar"
    assert tags.one("label", **{"for": str(name["id"])})
    assert "bk-interactive" not in str(name["class"])  # inputs only send on submit
    assert tags.one("textarea", name="intro/value")
    assert "Label name" in tags.plain and "Shown to customers" in tags.plain
    assert tags.plain.count("(optional)") == 1
    assert tags.one("div", class_="bk-error")["role"] == "alert"
    assert "Give the activity a name." in tags.plain


def test_input_elements_are_real_form_controls() -> None:
    moment = int(datetime(2026, 12, 1, 14, 0, tzinfo=ZoneInfo("America/Los_Angeles")).timestamp())
    tags = render(
        input_block(
            "views",
            {
                "type": "number_input",
                "is_decimal_allowed": False,
                "initial_value": "100",
                "min_value": "1",
            },
        ),
        input_block("day", {"type": "datepicker"}),
        input_block("time", {"type": "timepicker"}),
        input_block("starts", {"type": "datetimepicker", "initial_date_time": moment}),
        input_block(
            "kind",
            {
                "type": "static_select",
                "options": [option("poster", "Poster"), option("video", "Video")],
            },
        ),
        input_block("owner", {"type": "users_select"}),
        input_block("sales", {"type": "multi_users_select", "initial_users": ["U_SALES1"]}),
        input_block(
            "channel", {"type": "conversations_select", "initial_conversation": "C_MARKETING"}
        ),
        input_block("flags", {"type": "checkboxes", "options": [option("vip", "VIP")]}),
        input_block(
            "size",
            {"type": "radio_buttons", "options": [option("s", "Small"), option("l", "Large")]},
        ),
        ctx=Context(names=NAMES, form=True, tz=ZoneInfo("America/Los_Angeles")),
        container=VIEW,
    )
    views = tags.one("input", name="views/value")
    assert (views["type"], views["step"], views["value"], views["min"]) == (
        "number",
        "1",
        "100",
        "1",
    )
    assert tags.one("input", name="day/value")["type"] == "date"
    assert tags.one("input", name="time/value")["type"] == "time"
    starts = tags.one("input", name="starts/value")
    assert starts["type"] == "datetime-local" and starts["value"] == "2026-12-01T14:00"
    assert [o["value"] for o in tags.find("option")][:3] == ["", "poster", "video"]
    assert "multiple" in tags.one("select", name="sales/value")
    assert "selected" in tags.find("option", value="U_SALES1")[-1]
    channel_options = [o for o in tags.find("option", value="C_MARKETING") if "selected" in o]
    assert channel_options
    assert tags.one("input", name="flags/value")["type"] == "checkbox"
    assert len(tags.find("input", name="size/value", type="radio")) == 2


def test_form_names_are_the_keys_view_state_accepts() -> None:
    view = {
        "type": "modal",
        "blocks": [
            input_block("name", {"type": "plain_text_input"}),
            {
                "type": "input",
                "block_id": "kind",
                "label": plain("Kind"),
                "element": {"type": "static_select", "options": [option("poster", "Poster")]},
            },
            {
                "type": "input",
                "label": plain("No block id"),
                "element": {"type": "plain_text_input"},
            },
        ],
    }
    tags = Tags(str(render_blocks(view["blocks"], ctx=Context(form=True), container=VIEW)))
    names = [str(a["name"]) for t, a in tags.tags if t in ("input", "select") and a.get("name")]
    entered = dict(zip(names, ["Launch", "poster", "third"], strict=True))
    state = view_state(view, entered)["values"]
    assert state["name"]["value"]["value"] == "Launch"
    assert state["kind"]["kind_1"]["selected_option"]["value"] == "poster"
    assert state["block_2"]["block_2_2"]["value"] == "third"


def test_entered_values_are_shown_again_after_an_error() -> None:
    tags = form(
        input_block("name", {"type": "plain_text_input", "initial_value": "old"}),
        input_block("sales", {"type": "multi_users_select"}),
        values={"name/value": "typed <b>", "sales/value": ["U_SALES2"]},
    )
    assert tags.one("input", name="name/value")["value"] == "typed <b>"
    assert "selected" in tags.one("option", value="U_SALES2")


def test_input_with_dispatch_action_sends_on_change() -> None:
    tags = form(
        input_block(
            "q", {"type": "static_select", "options": [option("a", "A")]}, dispatch_action=True
        )
    )
    select = tags.one("select")
    assert "bk-interactive" in str(select["class"]) and select["data-view-id"] == "V000001"


def test_rich_text_sections_lists_quotes_and_preformatted() -> None:
    tags = render(
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Hi ", "style": {"bold": True}},
                        {"type": "user", "user_id": "U_HAN"},
                        {"type": "text", "text": " see "},
                        {"type": "channel", "channel_id": "C_GENERAL"},
                        {"type": "link", "url": "https://example.com", "text": "this"},
                        {"type": "emoji", "name": "tada", "unicode": "1f389"},
                        {"type": "text", "text": "<x>", "style": {"code": True, "italic": True}},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "ordered",
                    "elements": [
                        {
                            "type": "rich_text_section",
                            "elements": [{"type": "text", "text": "one"}],
                        },
                        {
                            "type": "rich_text_section",
                            "elements": [{"type": "text", "text": "two"}],
                        },
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "bullet",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "dot"}]}
                    ],
                },
                {"type": "rich_text_quote", "elements": [{"type": "text", "text": "wise"}]},
                {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "a  b"}]},
            ],
        }
    )
    assert tags.find("strong") and tags.find("code") and tags.find("em")
    assert "@韩梅梅" in tags.plain and "#general" in tags.plain and "🎉" in tags.plain
    assert tags.one("a")["href"] == "https://example.com"
    assert len(tags.find("li")) == 3 and tags.find("ol") and tags.find("ul")
    assert tags.find("blockquote") and tags.find("pre")
    assert "<x>" in tags.plain and not tags.find("x")


# --- what the renderer does not know ------------------------------------------------------


def test_unknown_blocks_and_elements_are_visible_placeholders() -> None:
    tags = render(
        {"type": "video", "title": plain("Demo")},
        {"type": "actions", "elements": [{"type": "workflow_button", "action_id": "wf"}]},
        "not a block",
        {"type": "section", "text": {"type": "mrkdwn", "text": "still here"}},
    )
    placeholders = tags.find("div", class_="bk-unsupported") + tags.find(
        "span", class_="bk-unsupported"
    )
    assert len(placeholders) == 3
    assert "Unsupported block: video" in tags.plain
    assert "Unsupported element: workflow_button" in tags.plain
    assert "still here" in tags.plain


def test_malformed_blocks_do_not_break_the_page() -> None:
    tags = render(
        {"type": "section", "fields": "not a list"},
        {"type": "actions", "elements": [{"type": "static_select", "options": [None, 3]}]},
        {"type": "context", "elements": [None, {"type": "mrkdwn", "text": "ok"}]},
        {"type": "input", "label": plain("L"), "element": None},
        {"type": "header", "text": {"type": "plain_text", "text": None}},
    )
    assert "ok" in tags.plain
    blocks = [a for t, a in tags.tags if t == "div" and "bk-block" in str(a.get("class"))]
    assert len(blocks) == 5  # each drawn (or replaced by a placeholder) in its own box


def test_script_in_every_text_position_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    tags = render(
        {"type": "header", "text": plain(evil)},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": evil},
            "fields": [{"type": "plain_text", "text": evil}],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": evil}]},
        {
            "type": "actions",
            "block_id": '"><script>',
            "elements": [
                {"type": "button", "text": plain(evil), "action_id": evil, "value": evil},
                {"type": "static_select", "action_id": "s", "options": [option(evil, evil)]},
            ],
        },
        {"type": "image", "image_url": "https://example.com/x.png", "alt_text": evil},
        {
            "type": "input",
            "label": plain(evil),
            "hint": plain(evil),
            "element": {"type": "plain_text_input", "action_id": "v", "initial_value": evil},
        },
        {"type": evil},
    )
    assert not tags.find("script")
    html = str(render_blocks([{"type": "header", "text": plain(evil)}, {"type": evil}]))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_names_without_a_workspace_fall_back_to_ids() -> None:
    assert "@U_X" in Tags(str(mrkdwn("<@U_X>"))).plain
    assert "#C_X" in Tags(str(mrkdwn("<#C_X>"))).plain
    assert Names().user_options() == []


def test_datetimepicker_shows_epoch_in_the_viewer_zone() -> None:
    epoch = int(datetime(2026, 12, 1, 22, 0, tzinfo=UTC).timestamp())
    tags = render(
        input_block("when", {"type": "datetimepicker", "initial_date_time": epoch}),
        ctx=Context(form=True, tz=ZoneInfo("Asia/Shanghai")),
        container=VIEW,
    )
    assert tags.one("input", name="when/value")["value"] == "2026-12-02T06:00"


def test_file_input_is_a_file_chooser_that_keeps_earlier_files() -> None:
    one = input_block("proof", {"type": "file_input", "action_id": "f", "max_files": 1})
    many = input_block(
        "docs", {"type": "file_input", "action_id": "g", "filetypes": ["pdf", "png"]}
    )
    kept = [{"id": "F000007", "name": "<b>notes</b>.pdf"}]
    tags = form(one, many, values={"proof/f": kept})
    [single] = tags.find("input", type="file", name="proof/f")
    assert "multiple" not in single and single["id"] == "in-V000001-proof"
    [several] = tags.find("input", type="file", name="docs/g")
    assert "multiple" in several and several["accept"] == ".pdf,.png"
    [tick] = tags.find("input", type="checkbox", name="proof/f")
    assert tick["value"] == "F000007" and "checked" in tick
    assert "📎 <b>notes</b>.pdf" in "".join(tags.text)  # the name is text, not markup
    assert "bk-interactive" not in (single.get("class") or "")  # no block_actions for files
