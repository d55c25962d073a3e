import pytest

from bot.codes import PUSH_SOURCES, ShareCodec, Signer
from bot.errors import Gone, NotFound


def test_share_code_round_trips_every_source() -> None:
    codec = ShareCodec("k")
    for share_id in (1, 255, 65_536, 2**40):
        for source in PUSH_SOURCES:
            ref = codec.decode(codec.encode(share_id, source))
            assert (ref.share_id, ref.source) == (share_id, source)


def test_code_is_url_safe_and_short() -> None:
    code = ShareCodec("k").encode(12345, "wechat")
    assert len(code) <= 20
    assert code.replace("-", "").replace("_", "").isalnum()


@pytest.mark.parametrize("mutate", [lambda c: c[:-1], lambda c: c + "A", lambda c: "B" + c[1:]])
def test_forged_or_truncated_code_is_not_found(mutate) -> None:  # type: ignore[no-untyped-def]
    code = ShareCodec("k").encode(7)
    with pytest.raises(NotFound):
        ShareCodec("k").decode(mutate(code))


def test_code_signed_with_another_secret_is_not_found() -> None:
    with pytest.raises(NotFound):
        ShareCodec("other").decode(ShareCodec("k").encode(7))


@pytest.mark.parametrize("garbage", ["", "x", "../../etc", "a" * 200, "!!!!!!!!!!!!!!!!", "é" * 16])
def test_garbage_codes_are_not_found(garbage: str) -> None:
    with pytest.raises(NotFound):
        ShareCodec("k").decode(garbage)


def test_source_cannot_be_swapped_without_the_key() -> None:
    codec = ShareCodec("k")
    qr, dm = codec.encode(9, "card_qr"), codec.encode(9, "dm")
    assert qr != dm
    assert codec.decode(dm).source == "dm"


def test_signer_expiry_and_forgery() -> None:
    signer = Signer("k", "purpose")
    token = signer.sign("lead-1", ttl_seconds=60, now=1000)
    assert signer.unsign(token, now=1059) == "lead-1"
    with pytest.raises(Gone):
        signer.unsign(token, now=1061)
    with pytest.raises(NotFound):
        Signer("k", "other-purpose").unsign(token, now=1000)
    with pytest.raises(NotFound):
        signer.unsign(token.replace("lead-1", "lead-2"), now=1000)


@pytest.mark.parametrize(
    "token", ["a.b.é", "é.1.abc", "1..李", "x.y.\udcff", "\udcff.1.x", "a.b.c\n"]
)
def test_signer_refuses_any_text_as_not_found(token: str) -> None:
    with pytest.raises(NotFound):
        Signer("k", "purpose").unsign(token)


def test_signer_round_trips_non_ascii_values() -> None:
    signer = Signer("k", "purpose")
    assert signer.unsign(signer.sign("李.é")) == "李.é"


def test_share_code_with_a_trailing_newline_is_not_found() -> None:
    codec = ShareCodec("k")
    with pytest.raises(NotFound):
        codec.decode(codec.encode(7) + "\n")
