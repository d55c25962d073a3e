import pytest

from bot.text import storable


@pytest.mark.parametrize("text", ["", "Wang Wei", "李雷", "😀 emoji", "tab\tand\nnewline"])
def test_text_the_database_holds(text: str) -> None:
    assert storable(text)


@pytest.mark.parametrize("text", ["a\x00b", "\x00", "lone \ud800", "李\udfff"])
def test_text_it_cannot(text: str) -> None:
    assert not storable(text)
