"""The sandbox's browser chat client, served next to the Web API emulator.

Pick who you are, then use ShareTrail as in Slack: channels and the app's DM rendered from
Block Kit, modals as real forms, the App Home tab, a composer for slash commands and thread
replies. Everything a person does goes through the emulator's user side
(`send_slash_command`, `click_button`, `submit_view`, …), so the app receives exactly
what Slack would send. Changes stream to the page as server-sent events; the page then
re-fetches the HTML of what is on screen.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
import jinja2
from aiohttp import web
from markupsafe import Markup
from multidict import MultiDictProxy

from sandbox.blockkit import Container, Context, Names, emoji, mrkdwn, render_blocks
from sandbox.delivery import Delivery
from sandbox.emulator import SlackEmulator
from sandbox.forms import action_id_of, input_elements
from sandbox.workspace import (
    BOT_USER_ID,
    JSON,
    Channel,
    Message,
    User,
    View,
    Workspace,
    dm_id,
)

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
HOME = "home"
KEEPALIVE_SECONDS = 15.0
MULTI_KINDS = frozenset(
    {
        "multi_static_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
        "checkboxes",
    }
)
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
# Slack's own words around the app's blocks, in the person's Slack language (Slack's client
# follows the user's locale); what the app says arrives already in their language.
SLACK_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "Channels": "频道",
        "Apps": "应用",
        "App Home": "应用主页",
        "Home": "主页",
        "You are": "当前身份",
        "switch": "切换",
        "Message {title} — or type /sharetrail help": "发送消息到 {title}，或输入 /sharetrail help",
        "Message": "消息",
        "Send": "发送",
        "Opening ShareTrail's App Home…": "正在打开 ShareTrail 的应用主页…",
        "This is the very beginning of {title}.": "这是 {title} 的开头。",
        "APP": "应用",
        "(edited)": "（已编辑）",
        "Only visible to you": "仅你可见",
        "Reply in thread": "在消息列中回复",
        "{n} reply": "{n} 条回复",
        "{n} replies": "{n} 条回复",
        "Reply…": "回复…",
        "Reply": "回复",
        "Close": "关闭",
        "Cancel": "取消",
    }
}


def language_of(user: User) -> str:
    """`zh` or `en`: the first part of the person's Slack locale (zh-CN, en-US)."""
    primary = user.locale.replace("_", "-").split("-")[0].lower()
    return primary if primary in SLACK_WORDS else "en"


def slack_words(user: User) -> Callable[..., str]:
    """Slack's word in the person's language, with `{placeholders}` filled in."""
    words = SLACK_WORDS.get(language_of(user), {})

    def say(text: str, **values: Any) -> str:
        return words.get(text, text).format(**values)

    return say


def user_tz(user: User) -> tzinfo:
    """The person's time zone, as Slack shows times (pickers, message times) in it."""
    try:
        return ZoneInfo(user.tz)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone(timedelta(seconds=user.tz_offset))


def to_epoch(raw: str, tz: tzinfo) -> int | None:
    """An HTML datetime-local value, read in the user's zone, as epoch seconds."""
    if not raw:
        return None
    if raw.lstrip("-").isdigit():
        return int(raw)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return int(moment.timestamp())


def entered_values(view: JSON, form: dict[str, list[str]], tz: tzinfo) -> dict[str, Any]:
    """What the user entered in a view's form, keyed "block_id/action_id" for `view_state`.

    Every element gets a key (an empty multi-select posts nothing, which must not fall
    back to its initial value); datetimepicker values become epoch seconds.
    """
    entered: dict[str, Any] = {}
    for index, (block_id, element) in enumerate(input_elements(view)):
        name = f"{block_id}/{action_id_of(element, block_id, index)}"
        kind = element.get("type")
        values = [v for v in form.get(name, []) if v != ""]
        if kind in MULTI_KINDS:
            entered[name] = values
        elif kind == "datetimepicker":
            entered[name] = to_epoch(values[0], tz) if values else None
        else:
            entered[name] = values[0] if values else None
    return entered


def _form_lists(post: MultiDictProxy[str | Any]) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {}
    for key in post:
        form[key] = [v for v in post.getall(key) if isinstance(v, str)]
    return form


@dataclass
class Remembered:
    """What the user typed in a modal, kept so an error answer does not wipe the form."""

    hash: str
    entered: dict[str, Any]


@dataclass
class SandboxUI:
    emulator: SlackEmulator
    templates: jinja2.Environment = field(
        default_factory=lambda: jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    )
    remembered: dict[str, Remembered] = field(default_factory=dict)
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def workspace(self) -> Workspace:
        return self.emulator.workspace

    # --- lookups ----------------------------------------------------------------------

    def person(self, request: web.Request) -> User:
        user = self.workspace.users.get(request.match_info["user"])
        if user is None or user.is_bot or user.deleted:
            raise web.HTTPNotFound(text="No such person in the sandbox workspace.")
        return user

    def channels_of(self, user: User) -> list[Channel]:
        return sorted(
            (c for c in self.workspace.visible_channels(user.id) if not c.is_im),
            key=lambda c: c.name,
        )

    def pane_of(self, request: web.Request, user: User) -> str:
        pane = request.match_info["pane"]
        if pane == HOME:
            return pane
        if pane == dm_id(user.id):  # a link to one's DM works before the app ever wrote
            return self.workspace.dm_with(user.id).id
        channel = self.workspace.channels.get(pane)
        if channel is None or (channel.is_im and channel.im_user != user.id):
            raise web.HTTPNotFound(text="No such conversation for this person.")
        return pane

    def default_pane(self, user: User) -> str:
        """The conversation with the newest message the person can see, like Slack's last."""
        best, newest = "", ""
        for channel in [*self.channels_of(user), self.workspace.dm_with(user.id)]:
            history = self.workspace.history(channel.id, viewer=user.id)
            latest = history[-1].ts if history else ""
            if not best or latest > newest:
                best, newest = channel.id, latest
        return best

    def title_of(self, pane: str, user: User) -> str:
        if pane == HOME:
            return f"ShareTrail · {slack_words(user)('Home')}"
        channel = self.workspace.channels[pane]
        return "ShareTrail" if channel.is_im else f"#{channel.name}"

    # --- rendering --------------------------------------------------------------------

    def names(self) -> Names:
        return Names.from_workspace(self.workspace)

    def author(self, message: Message) -> tuple[str, bool]:
        if message.user == BOT_USER_ID:
            return "ShareTrail", True
        if message.user == "USLACKBOT":
            return "Slackbot", True
        user = self.workspace.users.get(message.user)
        return (user.real_name if user else message.user), False

    def files_of(self, message: Message) -> list[dict[str, Any]]:
        files = []
        for file_id in message.files:
            file = self.workspace.files.get(file_id)
            if file is None:
                continue
            files.append(
                {
                    "name": file.name,
                    "title": file.title,
                    "url": urlsplit(file.url_private).path,  # any origin: a phone on the LAN
                    "is_image": file.mimetype in IMAGE_TYPES,
                    "size": f"{max(len(file.content) // 1024, 1)} KB",
                }
            )
        return files

    def message_view(
        self, message: Message, user: User, names: Names, replies: list[Message]
    ) -> dict[str, Any]:
        name, is_app = self.author(message)
        container = Container("message", channel=message.channel, ts=message.ts)
        ctx = Context(names=names, tz=user_tz(user))
        return {
            "ts": message.ts,
            "author": name,
            "initials": "".join(part[:1] for part in name.split()[:2]) or "?",
            "is_app": is_app,
            "time": datetime.fromtimestamp(float(message.ts), user_tz(user)).strftime("%H:%M"),
            "text": Markup("") if message.blocks else mrkdwn(message.text, names),
            "blocks": render_blocks(message.blocks, ctx=ctx, container=container),
            "unfurls": [  # the app's previews of the message's links (chat.unfurl)
                render_blocks(a.get("blocks"), ctx=ctx, container=container)
                for a in message.attachments
                if isinstance(a, dict)
            ],
            "files": self.files_of(message),
            "edited": message.edited,
            "ephemeral": message.ephemeral_to is not None,
            "reactions": [
                {"name": name, "emoji": emoji(name), "count": len(users)}
                for name, users in message.reactions.items()
            ],
            "replies": [self.message_view(r, user, names, []) for r in replies],
        }

    def render_pane(self, user: User, pane: str) -> str:
        names = self.names()
        if pane == HOME:
            home = self.workspace.home_of(user.id)
            blocks = Markup("")
            if home is not None:
                blocks = render_blocks(
                    home.view.get("blocks"),
                    ctx=Context(names=names, tz=user_tz(user)),
                    container=Container("view", view_id=home.id),
                )
            return self.templates.get_template("home.html").render(
                home=home, blocks=blocks, say=slack_words(user)
            )
        history = self.workspace.history(pane, viewer=user.id)
        replies: dict[str, list[Message]] = {}
        top: list[Message] = []
        for message in history:
            if message.thread_ts and message.thread_ts != message.ts:
                replies.setdefault(message.thread_ts, []).append(message)
            else:
                top.append(message)
        messages = [self.message_view(m, user, names, replies.get(m.ts, [])) for m in top]
        return self.templates.get_template("messages.html").render(
            say=slack_words(user),
            messages=messages,
            user=user,
            channel=pane,
            title=self.title_of(pane, user),
        )

    def top_modal(self, user: User) -> View | None:
        modals = self.workspace.open_modals(user.id)
        return modals[-1] if modals else None

    def modal_signature(self, user: User) -> str:
        modal = self.top_modal(user)
        if modal is None:
            return ""
        return f"{modal.id}:{modal.hash}:{json.dumps(modal.errors, sort_keys=True)}"

    def render_modals(self, user: User) -> str:
        modal = self.top_modal(user)
        if modal is None:
            return ""
        remembered = self.remembered.get(modal.id)
        values = remembered.entered if remembered and remembered.hash == modal.hash else {}
        ctx = Context(
            names=self.names(), errors=modal.errors, values=values, tz=user_tz(user), form=True
        )
        blocks = render_blocks(
            modal.view.get("blocks"), ctx=ctx, container=Container("view", view_id=modal.id)
        )
        view = modal.view

        def label(key: str, default: str) -> str:
            value = view.get(key)
            return str(value.get("text")) if isinstance(value, dict) else default

        return self.templates.get_template("modal.html").render(
            say=slack_words(user),
            user=user,
            modal=modal,
            title=label("title", "App"),
            submit=label("submit", "") if view.get("submit") else "",
            close=label("close", slack_words(user)("Cancel")),
            general_error=modal.errors.get(""),
            blocks=blocks,
        )

    def render_sidebar(self, user: User, pane: str) -> str:
        return self.templates.get_template("sidebar.html").render(
            say=slack_words(user),
            user=user,
            pane=pane,
            channels=self.channels_of(user),
            dm=self.workspace.dm_with(user.id),
            home=HOME,
        )

    # --- pages ------------------------------------------------------------------------

    async def pick(self, request: web.Request) -> web.StreamResponse:
        people = [u for u in self.workspace.users.values() if not u.is_bot and not u.deleted]
        html = self.templates.get_template("pick.html").render(
            people=people, console_url=self.emulator.console_url
        )
        return web.Response(text=html, content_type="text/html")

    async def start(self, request: web.Request) -> web.StreamResponse:
        user = self.person(request)
        raise web.HTTPFound(f"/u/{user.id}/{self.default_pane(user)}")

    async def client(self, request: web.Request) -> web.StreamResponse:
        user = self.person(request)
        pane = self.pane_of(request, user)
        if pane == HOME:  # Slack sends app_home_opened each time the tab is opened
            self.spawn(self.emulator.open_app_home(user.id), name=f"home:{user.id}")
        channel = self.workspace.channels.get(pane)
        html = self.templates.get_template("client.html").render(
            say=slack_words(user),
            lang=user.locale or "en",
            user=user,
            pane=pane,
            title=self.title_of(pane, user),
            topic=channel.topic if channel and not channel.is_im else "",
            composer=pane != HOME,
            sidebar=Markup(self.render_sidebar(user, pane)),
            pane_html=Markup(self.render_pane(user, pane)),
            modals=Markup(self.render_modals(user)),
            modal_signature=self.modal_signature(user),
        )
        return web.Response(text=html, content_type="text/html")

    async def fragment(self, request: web.Request) -> web.StreamResponse:
        """What is on screen, re-rendered: the page swaps in the parts that changed."""
        user = self.person(request)
        pane = self.pane_of(request, user)
        return web.json_response(
            {
                "sidebar": self.render_sidebar(user, pane),
                "pane": self.render_pane(user, pane),
                "modals": self.render_modals(user),
                "modal_signature": self.modal_signature(user),
            },
            headers={"Cache-Control": "no-store"},
        )

    # --- live updates -----------------------------------------------------------------

    def concerns(self, change: JSON, user: User) -> bool:
        if change.get("user") == user.id:
            return True
        channel = self.workspace.channels.get(str(change.get("channel") or ""))
        return channel is not None and (not channel.is_im or channel.im_user == user.id)

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: one `change` per workspace change this person can see."""
        user = self.person(request)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        queue = self.workspace.subscribe()
        try:
            await response.prepare(request)
            await response.write(b"retry: 1000\nevent: ready\ndata: {}\n\n")
            closing = asyncio.ensure_future(self.closing.wait())
            try:
                while not self.closing.is_set():
                    getter = asyncio.ensure_future(queue.get())
                    done, _ = await asyncio.wait(
                        {getter, closing},
                        timeout=KEEPALIVE_SECONDS,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    if getter not in done:
                        getter.cancel()
                        if not self.closing.is_set():
                            await response.write(b": keep-alive\n\n")
                        continue
                    change = getter.result()
                    if self.concerns(change, user):
                        data = json.dumps(change)
                        await response.write(f"event: change\ndata: {data}\n\n".encode())
            finally:
                closing.cancel()
        except ConnectionResetError:
            pass  # The tab was closed.
        finally:
            self.workspace.unsubscribe(queue)
        return response

    async def on_shutdown(self, _: web.Application) -> None:
        self.closing.set()
        for task in list(self.tasks):
            task.cancel()

    def spawn(self, work: Awaitable[Any], *, name: str) -> None:
        async def run() -> None:
            try:
                await work
            except (aiohttp.ClientError, LookupError, RuntimeError) as exc:
                log.warning("sandbox %s failed: %s", name, exc)

        task = asyncio.ensure_future(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # --- what people do ---------------------------------------------------------------

    async def act(
        self, request: web.Request, work: Callable[[], Awaitable[Delivery | None]]
    ) -> web.StreamResponse:
        """Run a user action; JSON for the page's fetch, a redirect back for a plain form."""
        wants_json = request.headers.get("X-Requested-With") == "fetch"
        error = ""
        try:
            delivery = await work()
        except LookupError as exc:
            error = f"That is no longer there ({exc})."
            delivery = None
        except aiohttp.ClientError as exc:
            error = f"Could not reach the app: {exc.__class__.__name__}."
            delivery = None
        if delivery is not None and not error:
            error = delivery_error(delivery)
        if wants_json:
            return web.json_response({"ok": not error, "error": error})
        if error:
            raise web.HTTPBadGateway(text=error)
        raise web.HTTPSeeOther(request.headers.get("Referer") or f"/u/{self.person(request).id}")

    async def say(self, request: web.Request) -> web.StreamResponse:
        user = self.person(request)
        form = await request.post()
        channel = str(form.get("channel") or "")
        text = str(form.get("text") or "").strip()
        thread_ts = str(form.get("thread_ts") or "") or None
        if channel not in self.workspace.channels:
            raise web.HTTPBadRequest(text="Unknown channel.")

        async def work() -> Delivery | None:
            if not text:
                return None
            if text.startswith("/") and thread_ts is None:
                command, _, rest = text.partition(" ")
                return await self.emulator.send_slash_command(
                    user.id, self.escape_mentions(rest.strip()), command=command, channel=channel
                )
            await self.emulator.say(user.id, channel, text, thread_ts=thread_ts)
            return None

        return await self.act(request, work)

    def escape_mentions(self, text: str) -> str:
        """@name and #channel as Slack sends them for a command with should_escape."""
        words = []
        for word in text.split(" "):
            if word.startswith("@") and len(word) > 1:
                found = next(
                    (u for u in self.workspace.users.values() if word[1:] in (u.name, u.id)),
                    None,
                )
                word = f"<@{found.id}|{found.name}>" if found else word
            elif word.startswith("#") and len(word) > 1:
                channel = self.workspace.channel_by_name(word[1:])
                word = f"<#{channel.id}|{channel.name}>" if channel else word
            words.append(word)
        return " ".join(words)

    async def action(self, request: web.Request) -> web.StreamResponse:
        user = self.person(request)
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="Send JSON.") from None
        if not isinstance(data, dict) or not data.get("action_id"):
            raise web.HTTPBadRequest(text="action_id is required.")
        view_id = str(data.get("view_id") or "") or None
        selected = data.get("selected")
        entered = None
        tz = user_tz(user)
        if data.get("kind") == "datetimepicker" and isinstance(selected, str):
            selected = to_epoch(selected, tz)
        if view_id and isinstance(data.get("entered"), dict):
            view = self.workspace.views.get(view_id)
            if view is not None:
                form = {
                    str(k): [str(x) for x in (v if isinstance(v, list) else [v])]
                    for k, v in data["entered"].items()
                }
                entered = entered_values(view.view, form, tz)

        channel = None if view_id else str(data.get("channel") or "") or None
        ts = None if view_id else str(data.get("ts") or "") or None
        block_id = str(data.get("block_id") or "") or None  # the row tapped, not the first

        async def work() -> Delivery:
            return await self.emulator.click_button(
                user.id,
                str(data["action_id"]),
                channel=channel,
                ts=ts,
                view_id=view_id,
                selected=selected,
                entered=entered,
                block_id=block_id,
            )

        return await self.act(request, work)

    async def submit(self, request: web.Request) -> web.StreamResponse:
        user = self.person(request)
        view = self.own_view(request, user)
        post = await request.post()
        entered = entered_values(view.view, _form_lists(post), user_tz(user))
        entered.update(self.attached_files(view, user, post))
        self.remembered[view.id] = Remembered(view.hash, entered)

        async def work() -> Delivery:
            return await self.emulator.submit_view(user.id, view.id, entered)

        return await self.act(request, work)

    def attached_files(
        self, view: View, user: User, post: MultiDictProxy[str | Any]
    ) -> dict[str, list[JSON]]:
        """Each file_input's files as Slack sends them: uploaded to the stand-in by the person.

        A new upload becomes a file of theirs; a ticked file id is one attached on an
        earlier try of this form (kept, as Slack keeps it when the app answers errors).
        """
        attached: dict[str, list[JSON]] = {}
        for index, (block_id, element) in enumerate(input_elements(view.view)):
            if element.get("type") != "file_input":
                continue
            name = f"{block_id}/{action_id_of(element, block_id, index)}"
            files: list[JSON] = []
            for value in post.getall(name, []):
                if isinstance(value, web.FileField) and value.filename:
                    content = value.file.read()
                    upload = self.emulator.user_file(
                        user.id, value.filename, content, mimetype=value.content_type or None
                    )
                    files.append(upload.to_json())
                elif isinstance(value, str):
                    kept = self.workspace.files.get(value)
                    if kept is not None and kept.user == user.id:
                        files.append(kept.to_json())
            attached[name] = files[: int(element.get("max_files") or 10)]
        return attached

    async def close(self, request: web.Request) -> web.StreamResponse:
        user = self.person(request)
        view = self.own_view(request, user)

        async def work() -> None:
            await self.emulator.close_view(user.id, view.id)
            self.remembered.pop(view.id, None)

        return await self.act(request, work)

    async def open_home(self, request: web.Request) -> web.StreamResponse:
        user = self.person(request)

        async def work() -> Delivery | None:
            deliveries = await self.emulator.open_app_home(user.id)
            return deliveries[-1] if deliveries else None

        return await self.act(request, work)

    def own_view(self, request: web.Request, user: User) -> View:
        view = self.workspace.views.get(request.match_info["view_id"])
        if view is None or view.user != user.id or view.closed:
            raise web.HTTPNotFound(text="This window is already closed.")
        return view


def delivery_error(delivery: Delivery) -> str:
    """What the person sees when the app did not take the request."""
    if delivery.timed_out:
        return "The app did not answer within 3 seconds (Slack would show a timeout)."
    if delivery.kind == "view_submission" and delivery.status == 0:
        return ""  # Slack refused it in the client: required fields, shown in the form
    if delivery.status != 200:
        return f"The app answered HTTP {delivery.status}."
    return ""


UI = web.AppKey("sandbox_ui", SandboxUI)


def attach_ui(app: web.Application, emulator: SlackEmulator) -> None:
    """Serve the chat client on the emulator's aiohttp app."""
    ui = SandboxUI(emulator)
    app[UI] = ui
    app.on_shutdown.append(ui.on_shutdown)
    app.router.add_get("/", ui.pick)
    app.router.add_static("/static/", STATIC_DIR)
    app.router.add_get("/u/{user}", ui.start)
    app.router.add_get("/u/{user}/events", ui.events)
    app.router.add_post("/u/{user}/say", ui.say)
    app.router.add_post("/u/{user}/action", ui.action)
    app.router.add_post("/u/{user}/home", ui.open_home)
    app.router.add_post("/u/{user}/views/{view_id}/submit", ui.submit)
    app.router.add_post("/u/{user}/views/{view_id}/close", ui.close)
    app.router.add_get("/u/{user}/{pane}", ui.client)
    app.router.add_get("/u/{user}/{pane}/fragment", ui.fragment)
