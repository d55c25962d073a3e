"""A phone-shaped WeCom chat for the sandbox: each member's chat with the app.

It renders what the app sent through the stand-in (text, markdown, images, template cards
with their buttons, a tapped card's grey label), and speaks for the member the way WeCom
does: a button tap is a `template_card_event`, typed text a text message, opening the app
`enter_agent`, the app's menu `click` events, each POSTed to the app's /wecom/callback
signed and encrypted (sandbox/wecom_crypto.py). Server-rendered with escaping everywhere;
never imports bot/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web
from markupsafe import Markup, escape

from sandbox.wecom_api import Sent, WeComStandIn

STANDIN = web.AppKey("wecom_standin", WeComStandIn)
MENU = (
    ("menu_share_cards", "获取分享卡"),
    ("menu_my_numbers", "我的数据"),
    ("menu_console", "管理后台"),
)

PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>企业微信 · ShareTrail sandbox</title>
<style>
body {{ margin: 0; background: #e9ecef; font: 15px/1.45 -apple-system, "PingFang SC",
  "Noto Sans CJK SC", sans-serif; }}
.phone {{ max-width: 390px; min-height: 100vh; margin: 0 auto; background: #ededed;
  display: flex; flex-direction: column; box-shadow: 0 0 12px rgba(0,0,0,.15); }}
header {{ background: #f7f7f7; padding: 10px 12px; border-bottom: 1px solid #ddd;
  display: flex; gap: 8px; align-items: center; }}
header h1 {{ font-size: 16px; margin: 0; flex: 1; }}
header button, header a {{ white-space: nowrap; }}
.hint {{ color: #888; font-size: 13px; text-align: center; margin: auto 16px; }}
main {{ flex: 1; padding: 12px; display: flex; flex-direction: column; gap: 10px; }}
.bubble {{ background: #fff; border-radius: 6px; padding: 8px 10px; max-width: 85%;
  white-space: pre-wrap; word-break: break-word; }}
.card {{ background: #fff; border-radius: 8px; padding: 12px; max-width: 92%; }}
.card .src {{ color: #888; font-size: 12px; }} .card h2 {{ font-size: 16px; margin: 4px 0; }}
.card .desc {{ color: #888; font-size: 13px; }}
.card dl {{ display: grid; grid-template-columns: 5em 1fr; margin: 8px 0; font-size: 13px; }}
.card dt {{ color: #888; }} .card dd {{ margin: 0; }}
.card form {{ display: inline; }}
.card button {{ margin: 4px 4px 0 0; border: 1px solid #ccc; border-radius: 4px;
  background: #fff; padding: 6px 10px; }}
.card button.s1 {{ background: #2b6de5; color: #fff; border-color: #2b6de5; }}
.card button.s3 {{ background: #07c160; color: #fff; border-color: #07c160; }}
.card .done {{ color: #999; text-align: center; padding: 6px; background: #f5f5f5; }}
img.sent {{ max-width: 240px; border-radius: 6px; }}
footer {{ background: #f7f7f7; border-top: 1px solid #ddd; padding: 8px; }}
footer form {{ display: flex; gap: 6px; }} footer input[type=text] {{ flex: 1; padding: 6px; }}
nav {{ display: flex; gap: 6px; margin-top: 6px; }}
nav form {{ flex: 1; }} nav button {{ width: 100%; padding: 6px; }}
</style></head><body><div class="phone">
<header><h1>ShareTrail</h1>
<form method="get" action="/"><select name="u" onchange="this.form.submit()">{people}</select>
<noscript><button>切换</button></noscript></form>
<form method="post" action="/event"><input type="hidden" name="u" value="{user}">
<input type="hidden" name="event" value="enter_agent"><button>打开应用</button></form>
<a href="/?u={user}">刷新</a></header>
<main id="chat">{messages}</main>
<footer><form method="post" action="/say"><input type="hidden" name="u" value="{user}">
<input type="text" name="text" placeholder="发消息：帮助 / help" autocomplete="off">
<button>发送</button></form><nav>{menu}</nav></footer>
</div></body></html>"""


def render_message(message: Sent, user: str) -> Markup:
    if message.msgtype in ("text", "markdown"):
        return Markup('<div class="bubble">{}</div>').format(message.body.get("content", ""))
    if message.msgtype == "image":
        return Markup('<img class="sent" alt="分享卡" src="/media/{}">').format(
            message.body.get("media_id", "")
        )
    if message.msgtype == "template_card":
        return render_card(message, user)
    return Markup('<div class="bubble">[{}]</div>').format(message.msgtype)


def render_card(message: Sent, user: str) -> Markup:
    card = message.body
    title = card.get("main_title", {})
    rows = Markup("").join(
        Markup("<dt>{}</dt><dd>{}</dd>").format(r.get("keyname", ""), r.get("value", ""))
        for r in card.get("horizontal_content_list", [])
    )
    if message.replaced:
        buttons = Markup('<div class="done">{}</div>').format(message.replaced)
    else:
        buttons = Markup("").join(
            Markup(
                '<form method="post" action="/tap"><input type="hidden" name="u" value="{}">'
                '<input type="hidden" name="code" value="{}"><input type="hidden" name="key" '
                'value="{}"><button class="s{}">{}</button></form>'
            ).format(
                user, message.response_code, b.get("key", ""), b.get("style", 1), b.get("text")
            )
            for b in card.get("button_list", [])
        )
    return Markup(
        '<div class="card"><div class="src">{}</div><h2>{}</h2><div class="desc">{}</div>'
        "<dl>{}</dl>{}</div>"
    ).format(
        card.get("source", {}).get("desc", ""),
        title.get("title", ""),
        title.get("desc", ""),
        rows,
        buttons,
    )


def _user(standin: WeComStandIn, raw: str | None) -> str:
    if raw in standin.members:
        assert raw is not None
        return raw
    return next(iter(standin.members))


async def page(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    user = _user(standin, request.query.get("u"))
    people = Markup("").join(
        Markup('<option value="{}"{}>{}（{}）</option>').format(
            m.userid,
            Markup(" selected") if m.userid == user else "",
            m.name,
            m.position or m.userid,
        )
        for m in standin.members.values()
    )
    messages = Markup("").join(render_message(m, user) for m in standin.chat(user)) or Markup(
        '<p class="hint">还没有消息。点「打开应用」收到你的主页，或点下方「获取分享卡」，'
        "也可以发送「帮助」。<br>No messages yet: tap 打开应用 (open the app) or send help.</p>"
    )
    menu = Markup("").join(
        Markup(
            '<form method="post" action="/event"><input type="hidden" name="u" value="{}">'
            '<input type="hidden" name="event" value="click"><input type="hidden" name="key" '
            'value="{}"><button>{}</button></form>'
        ).format(user, key, label)
        for key, label in MENU
    )
    html = PAGE.format(people=people, user=escape(user), messages=messages, menu=menu)
    return web.Response(text=html, content_type="text/html")


def _back(user: str) -> web.Response:
    raise web.HTTPSeeOther(f"/?u={user}")


Settle = Callable[[], Awaitable[None]]
SETTLE: web.AppKey[Settle | None] = web.AppKey("wecom_settle")
HTTP = web.AppKey("wecom_http", aiohttp.ClientSession)


async def _settled(request: web.Request) -> None:
    """Let the app finish answering (its work runs after the callback's answer) before
    the chat is drawn again, when the runner says how."""
    wait = request.app[SETTLE]
    if wait is not None:
        await wait()


async def say(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    form = await request.post()
    user = _user(standin, str(form.get("u", "")))
    text = str(form.get("text", "")).strip()
    if text:
        await standin.send_text(request.app[HTTP], user, text)
        await _settled(request)
    return _back(user)


async def tap(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    form = await request.post()
    user = _user(standin, str(form.get("u", "")))
    code, key = str(form.get("code", "")), str(form.get("key", ""))
    card = next((m for m in standin.chat(user) if m.response_code == code), None)
    if card is not None and not card.replaced:
        await standin.tap(request.app[HTTP], user, card, key)
        await _settled(request)
    return _back(user)


async def event(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    form = await request.post()
    user = _user(standin, str(form.get("u", "")))
    name = str(form.get("event", ""))
    if name in ("enter_agent", "click"):
        await standin.event(request.app[HTTP], user, name, str(form.get("key", "")))
        await _settled(request)
    return _back(user)


async def media(request: web.Request) -> web.Response:
    data = request.app[STANDIN].media.get(request.match_info["media_id"])
    if data is None:
        raise web.HTTPNotFound()
    kind = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return web.Response(body=data, content_type=kind)


def attach_ui(app: web.Application, standin: WeComStandIn, settle: Settle | None = None) -> None:
    """Add the chat UI to the stand-in's app (one port for the API and the phone)."""
    app[STANDIN] = standin
    app[SETTLE] = settle

    async def client(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as http:
            app[HTTP] = http
            yield

    app.cleanup_ctx.append(client)
    app.router.add_get("/", page)
    app.router.add_post("/say", say)
    app.router.add_post("/tap", tap)
    app.router.add_post("/event", event)
    app.router.add_get("/media/{media_id}", media)
