"""Hypothesis strategies the fuzz tests share: any text, and any JSON value."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def any_text(max_size: int) -> st.SearchStrategy[str]:
    """Any text a JSON body or form can carry (no lone surrogates: they cannot be encoded)."""
    return st.text(st.characters(blacklist_categories=("Cs",)), max_size=max_size)


def json_scalars(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        text,
    )


def json_values(
    text: st.SearchStrategy[str], *, max_size: int, max_leaves: int
) -> st.SearchStrategy[Any]:
    """Nested lists and objects of scalars, as json.dumps writes them."""
    return st.recursive(
        json_scalars(text),
        lambda inner: (
            st.lists(inner, max_size=max_size) | st.dictionaries(text, inner, max_size=max_size)
        ),
        max_leaves=max_leaves,
    )
