"""Charts inline in console pages: matplotlib's SVG, made safe to put in our HTML.

The charts carry names customers and employees typed. matplotlib draws text as glyph
paths but also writes each text as an XML comment, and an SVG inline in HTML is read by
the HTML parser, not an XML one. So the SVG is parsed and written out again keeping only
drawing elements and attributes on an allow-list: no comments, scripts, foreignObject,
event handlers or outside links; text is escaped on the way out. Ids get a per-chart
prefix so several charts on one page do not share clip paths or glyphs.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET

from markupsafe import Markup, escape

log = logging.getLogger(__name__)

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ELEMENTS = frozenset(
    {"svg", "g", "defs", "path", "use", "clipPath", "rect", "circle", "ellipse", "line",
     "polyline", "polygon", "style"}
)  # fmt: skip
ATTRIBUTES = frozenset(
    {"id", "d", "x", "y", "width", "height", "viewBox", "transform", "style", "clip-path",
     "fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin", "opacity",
     "fill-opacity", "stroke-opacity", "cx", "cy", "r", "rx", "ry", "x1", "x2", "y1", "y2",
     "points", "version", "preserveAspectRatio", "class"}
)  # fmt: skip
_LOCAL_URL = re.compile(r"url\(#([A-Za-z0-9_.:-]+)\)")
_UNSAFE_STYLE = re.compile(r"url\((?!#)|expression|@import|javascript:", re.IGNORECASE)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def safe_svg(content: bytes, *, prefix: str, label: str) -> Markup:
    """`content` (an SVG file) as markup for inline use; an unreadable file is left out."""
    try:
        root = ET.fromstring(content)  # comments and processing instructions are dropped
    except ET.ParseError:
        log.warning("a chart could not be read as SVG; left out")
        return Markup("")
    if _local(root.tag) != "svg":
        return Markup("")
    return Markup("".join(_write(root, prefix, label=label)))


def _clean_attributes(element: ET.Element, prefix: str) -> list[tuple[str, str]]:
    kept: list[tuple[str, str]] = []
    for raw_name, value in element.attrib.items():
        name = _local(raw_name)
        if name == "href":
            if value.startswith("#"):
                kept.append(("href", "#" + prefix + value[1:]))
            continue
        if name not in ATTRIBUTES:
            continue
        if name == "id":
            value = prefix + value
        elif "url(" in value:
            if _UNSAFE_STYLE.search(value):
                continue
            value = _LOCAL_URL.sub(lambda m: f"url(#{prefix}{m.group(1)})", value)
        elif name == "style" and _UNSAFE_STYLE.search(value):
            continue
        kept.append((name, value))
    return kept


def _write(element: ET.Element, prefix: str, *, label: str = "") -> list[str]:
    tag = _local(element.tag)
    if tag not in ELEMENTS:
        return []
    attributes = _clean_attributes(element, prefix)
    if tag == "svg":  # scales with the page: the viewBox keeps the proportions
        attributes = [(n, v) for n, v in attributes if n not in ("width", "height")]
        attributes += [("xmlns", SVG_NS), ("role", "img"), ("aria-label", label)]
        attributes += [("class", "chart")]
    out = [f"<{tag}"]
    out += [f' {name}="{escape(value)}"' for name, value in attributes]
    out.append(">")
    if tag == "style":
        css = element.text or ""
        if not _UNSAFE_STYLE.search(css) and "<" not in css:
            out.append(str(escape(css)).replace("&#34;", '"').replace("&#39;", "'"))
    else:
        for child in element:
            out += _write(child, prefix)
    out.append(f"</{tag}>")
    return out
