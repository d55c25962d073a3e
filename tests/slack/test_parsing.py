import pytest

from bot.errors import InvalidInput
from handlers.slack.parsing import parse_channel, parse_id, parse_user, parse_users


def test_escaped_and_plain_forms() -> None:
    assert parse_user("<@U123ABC|ann>") == "U123ABC"
    assert parse_user("<@W999>") == "W999"
    assert parse_user("U123ABC") == "U123ABC"
    assert parse_user("@ann") is None
    assert parse_channel("<#C024BE7LR|general>") == "C024BE7LR"
    assert parse_channel("<#C024BE7LR>") == "C024BE7LR"
    assert parse_channel("#general") is None


def test_parse_users_rejects_non_mentions() -> None:
    assert parse_users(["<@U1AA|a>", "<@U2BB>"]) == ["U1AA", "U2BB"]
    with pytest.raises(InvalidInput):
        parse_users(["bob"])
    with pytest.raises(InvalidInput):
        parse_users([])


@pytest.mark.parametrize("bad", [None, "x", "-1", "1.5", "9" * 12, "²", "١٢", "1_0", " 1"])
def test_parse_id_rejects(bad: str | None) -> None:
    with pytest.raises(InvalidInput):
        parse_id(bad)


def test_parse_id_accepts_hash() -> None:
    assert parse_id("#12") == 12
