"""GET and POST /wecom/callback (DESIGN.md section 8).

WeCom waits 5 seconds for an answer and re-sends a callback it got none for (three times
in all), so the answer is immediate: verify, decrypt, record the callback as seen (in the
database, so every replica agrees), answer an empty 200, and do the work afterwards. A
callback already seen is answered and not done again.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.service import ShareTrail
from handlers.wecom.callbacks import MalformedCallback, encrypted_part, parse_callback
from handlers.wecom.crypto import BadCallback, CallbackCrypto
from handlers.wecom.events import WeComBot

log = logging.getLogger(__name__)

WECOM_CRYPTO = web.AppKey("wecom_crypto", CallbackCrypto)
WECOM_BOT = web.AppKey("wecom_bot", WeComBot)
SIGNED = ("msg_signature", "timestamp", "nonce")


def _signed_query(request: web.Request, *extra: str) -> dict[str, str] | None:
    values = {name: request.query.get(name, "") for name in (*SIGNED, *extra)}
    return values if all(values.values()) else None


async def verify_url(request: web.Request) -> web.StreamResponse:
    """WeCom's URL verification: answer the decrypted echostr."""
    query = _signed_query(request, "echostr")
    if query is None:
        return web.Response(status=400, text="missing msg_signature, timestamp, nonce or echostr")
    try:
        echo = request.app[WECOM_CRYPTO].decrypt(
            msg_signature=query["msg_signature"],
            timestamp=query["timestamp"],
            nonce=query["nonce"],
            encrypt=query["echostr"],
        )
    except BadCallback as exc:
        log.warning("refused a WeCom URL verification: %s", exc)
        return web.Response(status=403, text="invalid signature")
    return web.Response(text=echo, content_type="text/plain")


async def receive(request: web.Request) -> web.StreamResponse:
    query = _signed_query(request)
    if query is None:
        return web.Response(status=400, text="missing msg_signature, timestamp or nonce")
    try:
        body = (await request.read()).decode("utf-8")
        plain = request.app[WECOM_CRYPTO].decrypt(
            msg_signature=query["msg_signature"],
            timestamp=query["timestamp"],
            nonce=query["nonce"],
            encrypt=encrypted_part(body),
        )
    except (UnicodeDecodeError, MalformedCallback) as exc:
        return web.Response(
            status=400, text=str(exc) if isinstance(exc, MalformedCallback) else "body is not UTF-8"
        )
    except BadCallback as exc:
        log.warning("refused a WeCom callback: %s", exc)
        return web.Response(status=403, text="invalid signature")
    try:
        callback = parse_callback(plain)
    except MalformedCallback as exc:
        return web.Response(status=400, text=str(exc))
    bot = request.app[WECOM_BOT]
    services: ShareTrail = bot.services
    if not await services.first_delivery(callback.dedupe_key):
        log.info("acknowledged a callback WeCom re-sent")
        return web.Response(text="")
    services.tasks.spawn(bot.handle(callback), name="wecom-callback")
    return web.Response(text="")


def register(app: web.Application) -> None:
    app.router.add_get("/wecom/callback", verify_url)
    app.router.add_post("/wecom/callback", receive)
