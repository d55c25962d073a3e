"""WXBizMsgCrypt against WeCom's published sample values (加解密方案说明, 举例说明)."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings
from handlers.wecom.crypto import BadCallback, CallbackCrypto
from sandbox.wecom_crypto import CallbackSigner, signature

TOKEN = "QDG6eK"
CORP_ID = "wx5823bf96d3bd56c7"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"

# URL verification (GET) sample.
VERIFY = {
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "encrypt": (
        "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
    ),
}
# Message (POST) sample.
MESSAGE = {
    "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
    "timestamp": "1409659813",
    "nonce": "1372623149",
    "encrypt": (
        "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3"
        "QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48k"
        "zJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun"
        "1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5w"
        "LVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8"
        "Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
    ),
}


def crypto(corp_id: str = CORP_ID) -> CallbackCrypto:
    return CallbackCrypto(token=TOKEN, aes_key=AES_KEY, corp_id=corp_id)


def test_the_published_samples_decrypt() -> None:
    assert crypto().decrypt(**VERIFY) == "1616140317555161061"
    plain = crypto().decrypt(**MESSAGE)
    assert "<FromUserName><![CDATA[mycreate]]></FromUserName>" in plain
    assert "<Content><![CDATA[hello]]></Content>" in plain
    assert "<MsgId>4561255354251345929</MsgId>" in plain


@pytest.mark.parametrize(
    "change",
    [
        {"msg_signature": "0" * 40},
        {"msg_signature": "é" * 40},
        {"timestamp": "1409659814"},
        {"nonce": "1"},
        {"encrypt": MESSAGE["encrypt"][:-8] + "AAAAAA=="},
    ],
)
def test_anything_changed_breaks_the_signature(change: dict[str, str]) -> None:
    with pytest.raises(BadCallback, match="signature"):
        crypto().decrypt(**(MESSAGE | change))


def test_another_corp_id_is_refused() -> None:
    with pytest.raises(BadCallback, match="corp id"):
        crypto("ww_someone_else").decrypt(**MESSAGE)


def test_garbage_signed_correctly_is_refused_not_crashed() -> None:
    for encrypt in ("", "not base64!", "QUJD", "A" * 44, MESSAGE["encrypt"][:64]):
        query = {"timestamp": "1", "nonce": "2", "encrypt": encrypt}
        with pytest.raises(BadCallback):
            crypto().decrypt(msg_signature=signature(TOKEN, "1", "2", encrypt), **query)


def test_what_the_stand_in_signs_the_app_reads() -> None:
    signer = CallbackSigner(TOKEN, AES_KEY, CORP_ID)
    text = "<xml><Content><![CDATA[我的 & <b>]]></Content></xml>"
    query = signer.verification(text)
    assert (
        crypto().decrypt(
            msg_signature=query["msg_signature"],
            timestamp=query["timestamp"],
            nonce=query["nonce"],
            encrypt=query["echostr"],
        )
        == text
    )
    reply = crypto().encrypt("回复")
    sig = signature(TOKEN, "5", "6", reply)
    assert crypto().decrypt(msg_signature=sig, timestamp="5", nonce="6", encrypt=reply) == "回复"


def test_settings_take_all_five_or_none() -> None:
    with pytest.raises(SettingsError, match="WECOM_SECRET"):
        load_settings(_env_file=None, wecom_corp_id=CORP_ID, wecom_agent_id="1")
    with pytest.raises(SettingsError, match="EncodingAESKey"):
        load_settings(
            _env_file=None,
            wecom_corp_id=CORP_ID,
            wecom_agent_id="1",
            wecom_secret="s",
            wecom_token=TOKEN,
            wecom_aes_key=AES_KEY[:-1],
        )
    settings = load_settings(
        _env_file=None,
        wecom_corp_id=CORP_ID,
        wecom_agent_id="1",
        wecom_secret="s",
        wecom_token=TOKEN,
        wecom_aes_key=AES_KEY,
    )
    assert settings.wecom and not settings.slack
