"""The one place user-facing strings are marked for translation.

Today `_` and `ngettext` pass English through; when the Babel catalogues land they become
lookups in the viewer's catalogue, and `pybabel extract` finds every string marked here
(Python) and by `{% trans %}` / `_()` in the Jinja2 templates, with no rewrite.
"""

from __future__ import annotations


def gettext(message: str) -> str:
    """The message in the viewer's language (English until the catalogues exist)."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n` (English rules until the catalogues exist)."""
    return singular if n == 1 else plural


_ = gettext
