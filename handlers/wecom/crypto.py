"""WeCom's callback encryption (WXBizMsgCrypt), on wechatpy's well-kept cipher.

WeCom doc "加解密方案说明": the signature is SHA1 over the sorted token, timestamp, nonce
and Encrypt; the message is AES-256-CBC with the EncodingAESKey (IV = its first 16 bytes),
PKCS#7 to 32-byte blocks, over 16 random bytes + a 4-byte network-order length + the
message + the corp id. wechatpy's PrpCrypto does the AES layout (tests/wecom/test_crypto.py
checks it against WeCom's published sample values); the signature is compared here in
constant time, and every way a forged or garbled body can fail becomes one BadCallback.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from typing import Any

# wechatpy is imported on first use, not here: importing any part of it loads its whole API
# client (requests included), about 20 MB of RSS that a server without WeCom never needs.


def _cipher(key: bytes) -> Any:
    from wechatpy.crypto import PrpCrypto

    return PrpCrypto(key)


class BadCallback(Exception):
    """The request is not from WeCom (bad signature, wrong corp id) or cannot be read."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


class CallbackCrypto:
    def __init__(self, *, token: str, aes_key: str, corp_id: str) -> None:
        self._token = token
        self._key = base64.b64decode(aes_key + "=")  # checked by Settings: 32 bytes
        if len(self._key) != 32:
            raise ValueError("the EncodingAESKey must be 43 characters of base64")
        self._corp_id = corp_id

    def _check(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        expected = signature(self._token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected.encode(), msg_signature.lower().encode()):
            raise BadCallback("bad signature")

    def decrypt(self, *, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> str:
        """The plaintext of a signed Encrypt (or echostr); BadCallback if anything is off."""
        self._check(msg_signature, timestamp, nonce, encrypt)
        from wechatpy.exceptions import InvalidAppIdException

        try:
            plain: str = _cipher(self._key).decrypt(encrypt, self._corp_id)
        except InvalidAppIdException:
            raise BadCallback("wrong corp id") from None
        except (ValueError, TypeError, IndexError, struct.error, binascii.Error) as exc:
            # UnicodeDecodeError is a ValueError; cryptography raises ValueError on bad lengths.
            raise BadCallback(f"cannot decrypt ({type(exc).__name__})") from None
        return plain

    def encrypt(self, plain: str) -> str:
        """Base64 ciphertext of `plain` for this corp id (a passive reply; tests)."""
        encrypted: bytes = _cipher(self._key).encrypt(plain, self._corp_id)
        return encrypted.decode()
