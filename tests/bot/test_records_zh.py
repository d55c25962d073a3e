"""The contact and check-in rules (bot/records.py) answer in the locale of the unit of work:
every field message of a bad contact or check-in is Chinese for a Chinese reader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import i18n
from bot.errors import InvalidInput
from bot.records import FileMeta, validate_check_in, validate_contact
from tests.zh_support import english_left

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def problems(call: object) -> InvalidInput:
    with i18n.use_locale("zh"), pytest.raises(InvalidInput) as raised:
        call()  # type: ignore[operator]
    return raised.value


@pytest.mark.parametrize(
    "contact",
    [
        {"kind": "fax", "at": None, "summary": "", "file": None},
        {
            "kind": "call",
            "at": NOW + timedelta(days=1),
            "summary": "x" * 5000,
            "file": FileMeta("F1", "deck.pdf", size=10**9),
        },
        {"kind": "call", "at": NOW - timedelta(days=3), "summary": "ok", "file": None},
    ],
)
def test_contact_errors_in_zh(contact: dict[str, object]) -> None:
    error = problems(
        lambda: validate_contact(**contact, now=NOW, lead_since=NOW - timedelta(days=1))  # type: ignore[arg-type]
    )
    text = "\n".join([str(error), *error.fields.values()])
    assert error.fields and str(error) == "请检查标出的内容。"
    assert english_left(text, allow=("deck.pdf", "x" * 5000)) == [], text


@pytest.mark.parametrize(
    "fields",
    [
        {"lat": "", "lon": "", "met_at": ""},
        {"lat": "91", "lon": "east", "accuracy": "-1", "met_at": "2026-12-06T10:00"},
        {"lat": "31.2", "lon": "121.4", "met_at": "2026-10-01T10:00", "note": "x" * 2000},
    ],
)
def test_check_in_errors_in_zh(fields: dict[str, str]) -> None:
    error = problems(lambda: validate_check_in(fields, tz=UTC, now=NOW))
    text = "\n".join([str(error), *error.fields.values()])
    assert error.fields and english_left(text, allow=("x" * 2000,)) == [], text
    with i18n.use_locale("en"), pytest.raises(InvalidInput) as english:
        validate_check_in(fields, tz=UTC, now=NOW)
    assert str(english.value) == "Please check the highlighted fields."
