"""The WeCom side of WXBizMsgCrypt: how the stand-in signs and encrypts the callbacks it
sends to the app (and reads the app's echo). Independent of handlers/ on purpose: the
app's own decryption is checked against this, and both against WeCom's sample values."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from xml.sax.saxutils import escape

from wechatpy.crypto import PrpCrypto


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


@dataclass(frozen=True)
class CallbackSigner:
    token: str
    aes_key: str  # the 43-character EncodingAESKey
    corp_id: str

    def encrypt(self, plain: str, *, corp_id: str | None = None) -> str:
        key = base64.b64decode(self.aes_key + "=")
        encrypted: bytes = PrpCrypto(key).encrypt(plain, corp_id or self.corp_id)
        return encrypted.decode()

    def verification(self, echo: str) -> dict[str, str]:
        """The query of WeCom's URL-verification GET for the plaintext `echo`."""
        stamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        encrypted = self.encrypt(echo)
        return {
            "msg_signature": signature(self.token, stamp, nonce, encrypted),
            "timestamp": stamp,
            "nonce": nonce,
            "echostr": encrypted,
        }

    def envelope(
        self, plain: str, *, agent_id: str, corp_id: str | None = None
    ) -> tuple[dict[str, str], str]:
        """A POST callback as WeCom sends it: query (msg_signature, timestamp, nonce) and
        the XML body carrying Encrypt."""
        stamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        encrypted = self.encrypt(plain, corp_id=corp_id)
        query = {
            "msg_signature": signature(self.token, stamp, nonce, encrypted),
            "timestamp": stamp,
            "nonce": nonce,
        }
        body = (
            f"<xml><ToUserName><![CDATA[{escape(self.corp_id)}]]></ToUserName>"
            f"<AgentID><![CDATA[{escape(agent_id)}]]></AgentID>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        return query, body
