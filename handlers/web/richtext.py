"""An activity's formatted intro as safe HTML for the landing page.

Built from the doc's structure (bot/richtext.py), never from stored HTML: every word is
escaped by markupsafe, and a link is written only if it is still http, https or mailto.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from bot import richtext
from bot.activities import intro_doc
from store.models import Activity

_STYLE_TAGS = (("strike", "s"), ("italic", "em"), ("bold", "strong"))
_LINK = Markup('<a href="{}" rel="nofollow noopener noreferrer" target="_blank">{}</a>')


def _run_html(run: richtext.Run) -> Markup:
    html = escape(run.text).replace("\n", Markup("<br>"))
    for style, tag in _STYLE_TAGS:
        if getattr(run, style):
            html = Markup("<{0}>{1}</{0}>").format(Markup(tag), html)
    link = richtext.safe_link(run.link)
    if link:
        html = Markup(
            '<a href="{}" rel="nofollow noopener noreferrer" target="_blank">{}</a>'
        ).format(link, html)
    return Markup(html)


def _runs_html(runs: richtext.Runs) -> Markup:
    return Markup("").join(_run_html(run) for run in runs)


def _block_html(block: richtext.Block) -> Markup:
    if isinstance(block, richtext.Paragraph):
        return Markup("<p>{}</p>").format(_runs_html(block.runs))
    tag = Markup("ol" if block.ordered else "ul")
    items = Markup("").join(Markup("<li>{}</li>").format(_runs_html(item)) for item in block.items)
    # A nested list (Slack's `indent`), by a margin: no stylesheet change needed.
    indent = Markup(f' style="margin-left:{1.5 * block.indent}em"') if block.indent else Markup("")
    return Markup("<{0}{1}>{2}</{0}>").format(tag, indent, items)


def doc_html(doc: richtext.Doc) -> Markup:
    """A doc as HTML: paragraphs, lists, strong/em/s, links; no text is ever markup."""
    return Markup("").join(_block_html(block) for block in doc)


def intro_html(activity: Activity) -> Markup | None:
    """The formatted intro, or None for a plain one (the template shows that, escaped)."""
    if not activity.intro_rich:
        return None
    return doc_html(intro_doc(activity))
