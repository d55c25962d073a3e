"""The sandbox's Slack workspace: users, channels, messages, views and files in memory.

Shapes follow Slack's Web API JSON so the emulator can return them as they are. Every
change is published to subscribers (the browser UI streams them as server-sent events)
and, when a journal is attached (`sandbox.persistence`), written through to disk so the
workspace outlives a restart.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

JSON = dict[str, Any]
TEAM_ID = "T_SANDBOX"
BOT_USER_ID = "U_BOT"
BOT_ID = "B_SHARETRAIL"


@dataclass
class User:
    id: str
    name: str
    real_name: str
    title: str = ""
    phone: str = ""
    email: str = ""
    tz: str = "UTC"
    tz_offset: int = 0
    locale: str = "en-US"
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    is_restricted: bool = False
    deleted: bool = False

    def to_json(self, *, include_locale: bool = False) -> JSON:
        initials = "".join(part[:1] for part in self.real_name.split()[:2]) or self.real_name[:1]
        user: JSON = {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_offset": self.tz_offset,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_bot": self.is_bot,
            "is_restricted": self.is_restricted,
            "is_app_user": False,
            "profile": {
                "real_name": self.real_name,
                "display_name": self.name,
                "title": self.title,
                "phone": self.phone,
                "email": self.email,
                "initials": initials,
                "team": TEAM_ID,
            },
        }
        if include_locale:  # Slack sends `locale` only when asked (users.info include_locale)
            user["locale"] = self.locale
        return user


@dataclass
class Channel:
    id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_im: bool = False
    im_user: str = ""
    topic: str = ""
    is_private: bool = False  # only its members see it (the bot too: channel_not_found)

    def to_json(self) -> JSON:
        data: JSON = {
            "id": self.id,
            "created": 1_700_000_000,
            "is_im": self.is_im,
            "is_channel": not self.is_im,
            "is_private": self.is_private,
            "is_archived": False,
            "is_member": BOT_USER_ID in self.members,
        }
        if self.is_im:
            data["user"] = self.im_user
        else:
            data.update(name=self.name, topic={"value": self.topic}, num_members=len(self.members))
        return data


@dataclass
class File:
    id: str
    name: str
    title: str
    content: bytes
    mimetype: str
    user: str
    url_private: str
    channels: list[str] = field(default_factory=list)
    shares: dict[str, list[str]] = field(default_factory=dict)  # channel -> message ts

    def to_json(self) -> JSON:
        shares: dict[str, JSON] = {}
        for channel, stamps in self.shares.items():
            kind = "private" if channel.startswith(("D", "G")) else "public"
            shares.setdefault(kind, {})[channel] = [{"ts": ts} for ts in stamps]
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "mimetype": self.mimetype,
            "filetype": self.name.rsplit(".", 1)[-1].lower() if "." in self.name else "binary",
            "size": len(self.content),
            "user": self.user,
            "url_private": self.url_private,
            "url_private_download": self.url_private,
            "permalink": self.url_private,
            "channels": list(self.channels),
            "shares": shares,
        }


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str = ""
    blocks: list[JSON] = field(default_factory=list)
    thread_ts: str | None = None
    files: list[str] = field(default_factory=list)
    ephemeral_to: str | None = None
    metadata: JSON | None = None
    edited: bool = False
    deleted: bool = False
    reactions: dict[str, list[str]] = field(default_factory=dict)
    attachments: list[JSON] = field(default_factory=list)  # app unfurls (chat.unfurl)

    @property
    def is_bot(self) -> bool:
        return self.user == BOT_USER_ID

    def to_json(self, workspace: Workspace | None = None, *, metadata: bool = True) -> JSON:
        """Slack's shape; `metadata=False` as conversations.* answer it unless asked for
        with include_all_metadata."""
        data: JSON = {"type": "message", "ts": self.ts, "user": self.user, "text": self.text}
        if self.is_bot:
            data["bot_id"] = BOT_ID
        if self.blocks:
            data["blocks"] = self.blocks
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.metadata and metadata:
            data["metadata"] = self.metadata
        if self.edited:
            data["edited"] = {"user": self.user, "ts": self.ts}
        if self.reactions:
            data["reactions"] = [
                {"name": name, "users": users, "count": len(users)}
                for name, users in self.reactions.items()
            ]
        if self.attachments:
            data["attachments"] = self.attachments
        if self.files and workspace is not None:
            files = [workspace.files[f] for f in self.files if f in workspace.files]
            data["files"] = [f.to_json() for f in files]
        return data


@dataclass
class View:
    id: str
    user: str
    view: JSON
    hash: str
    root_id: str
    previous_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    closed: bool = False

    @property
    def type(self) -> str:
        return str(self.view.get("type", "modal"))

    def to_json(self, team_id: str = TEAM_ID) -> JSON:
        data = dict(self.view)
        data.update(
            id=self.id,
            team_id=team_id,
            hash=self.hash,
            root_view_id=self.root_id,
            previous_view_id=self.previous_id,
            app_id="A_SHARETRAIL",
            bot_id=BOT_ID,
        )
        data.setdefault("private_metadata", "")
        data.setdefault("callback_id", "")
        data.setdefault("state", {"values": {}})
        return data


class Journal(Protocol):
    """Where every change is written through (`sandbox.persistence.WorkspaceStore`)."""

    def save_user(self, user: User) -> None: ...
    def save_channel(self, channel: Channel) -> None: ...
    def save_message(self, message: Message) -> None: ...
    def save_view(self, view: View) -> None: ...
    def save_file(self, file: File, *, content: bool) -> None: ...
    def delete_file(self, file_id: str) -> None: ...
    def save_next_id(self, next_id: int) -> None: ...


def dm_id(user_id: str) -> str:
    """The id of the app's DM with a user: stable, so a link to it works before it opens."""
    return f"D_{user_id}"


class Workspace:
    """All of the workspace's state; the emulator and the UI both read and change it.

    Change it through these methods (or call `changed`/`file_changed`/`channel_changed`
    after changing an object in place), so an attached journal sees every change.
    """

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[Message]] = {}
        self.views: dict[str, View] = {}
        self.home_views: dict[str, str] = {}
        self.files: dict[str, File] = {}
        self.deleted_files: set[str] = set()
        self._dms: dict[str, str] = {}  # user id → their DM channel with the app
        self.next_id = 1  # the number in the next new_id
        self._last_ts = 0.0
        self._subscribers: set[asyncio.Queue[JSON]] = set()
        self.journal: Journal | None = None

    # identifiers -------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        number, self.next_id = self.next_id, self.next_id + 1
        if self.journal is not None:
            self.journal.save_next_id(self.next_id)
        return f"{prefix}{number:06d}"

    def resume(self, *, next_id: int, last_ts: float) -> None:
        """Carry on after a restored workspace: no id is handed out twice, ts keep rising."""
        self.next_id = next_id
        self._last_ts = max(self._last_ts, last_ts)
        for channel in self.channels.values():
            if channel.is_im:
                self._dms[channel.im_user] = channel.id
        for view in self.views.values():
            if view.type == "home":
                self.home_views[view.user] = view.id

    def new_ts(self) -> str:
        """Message timestamps, unique and increasing like Slack's."""
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    # people and places -------------------------------------------------------------

    def add_user(self, user: User) -> User:
        self.users[user.id] = user
        if self.journal is not None:
            self.journal.save_user(user)
        return user

    def add_channel(self, channel: Channel) -> Channel:
        self.channels[channel.id] = channel
        self.messages.setdefault(channel.id, [])
        self.channel_changed(channel)
        return channel

    def channel_changed(self, channel: Channel) -> None:
        """A channel's members or topic were changed in place."""
        if self.journal is not None:
            self.journal.save_channel(channel)

    def join(self, channel: Channel, user_id: str) -> None:
        if user_id not in channel.members:
            channel.members.append(user_id)
            self.channel_changed(channel)

    def channel_by_name(self, name: str) -> Channel | None:
        name = name.lstrip("#")
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def dm_with(self, user_id: str) -> Channel:
        """The bot's DM channel with a user, opened on first use (like conversations.open)."""
        known = self._dms.get(user_id)
        if known is not None:
            return self.channels[known]
        channel = Channel(
            id=dm_id(user_id),
            name=f"dm-{user_id}",
            members=[BOT_USER_ID, user_id],
            is_im=True,
            im_user=user_id,
        )
        self.add_channel(channel)
        self._dms[user_id] = channel.id
        self.publish({"type": "channel_created", "channel": channel.id})
        return channel

    def visible_channels(self, user_id: str) -> list[Channel]:
        return [
            c
            for c in self.channels.values()
            if (c.im_user == user_id if c.is_im else not c.is_private or user_id in c.members)
        ]

    # messages ----------------------------------------------------------------------

    def post(self, message: Message) -> Message:
        self.messages.setdefault(message.channel, []).append(message)
        if self.journal is not None:
            self.journal.save_message(message)
        self.publish({"type": "message", "channel": message.channel, "ts": message.ts})
        return message

    def find_message(self, channel: str, ts: str) -> Message | None:
        return next(
            (m for m in self.messages.get(channel, []) if m.ts == ts and not m.deleted), None
        )

    def history(self, channel: str, viewer: str | None = None) -> list[Message]:
        """Top-level and thread messages in time order; ephemerals only for their user."""
        return [
            m
            for m in self.messages.get(channel, [])
            if not m.deleted and (m.ephemeral_to is None or m.ephemeral_to == viewer)
        ]

    def changed(self, message: Message) -> None:
        """A message was edited, deleted or reacted to in place."""
        if self.journal is not None:
            self.journal.save_message(message)
        self.publish({"type": "message_changed", "channel": message.channel, "ts": message.ts})

    # files -------------------------------------------------------------------------

    def add_file(self, file: File) -> File:
        self.files[file.id] = file
        if self.journal is not None:
            self.journal.save_file(file, content=True)
        return file

    def remove_file(self, file_id: str) -> None:
        """files.delete: the file and its bytes are gone; messages that shared it show it no
        more (Slack leaves a "This file was deleted" tombstone in their place)."""
        self.files.pop(file_id, None)
        self.deleted_files.add(file_id)
        if self.journal is not None:
            self.journal.delete_file(file_id)
        for messages in self.messages.values():
            for message in messages:
                if file_id in message.files:
                    self.changed(message)

    def file_changed(self, file: File) -> None:
        """A file's title or channels were changed in place (its bytes never change)."""
        if self.journal is not None:
            self.journal.save_file(file, content=False)

    # views -------------------------------------------------------------------------

    def open_view(self, user: str, view: JSON, *, previous: View | None = None) -> View:
        view_id = self.new_id("V")
        opened = View(
            id=view_id,
            user=user,
            view=view,
            hash=self.new_ts(),
            root_id=previous.root_id if previous else view_id,
            previous_id=previous.id if previous else None,
        )
        self.views[view_id] = opened
        self._save_view(opened)
        self.publish({"type": "view_opened", "user": user, "view_id": view_id})
        return opened

    def update_view(self, existing: View, view: JSON) -> View:
        existing.view = view
        existing.hash = self.new_ts()
        existing.errors = {}
        self._save_view(existing)
        self.publish({"type": "view_updated", "user": existing.user, "view_id": existing.id})
        return existing

    def close_view(self, existing: View, *, all_in_stack: bool = False) -> None:
        for view in self.views.values():
            if view.id == existing.id or (all_in_stack and view.root_id == existing.root_id):
                view.closed = True
                self._save_view(view)
        self.publish({"type": "view_closed", "user": existing.user, "view_id": existing.id})

    def _save_view(self, view: View) -> None:
        if self.journal is not None:
            self.journal.save_view(view)

    def open_modals(self, user: str) -> list[View]:
        return [
            v for v in self.views.values() if v.user == user and not v.closed and v.type == "modal"
        ]

    def publish_home(self, user: str, view: JSON) -> View:
        existing_id = self.home_views.get(user)
        if existing_id and existing_id in self.views:
            home = self.update_view(self.views[existing_id], view)
        else:
            home = self.open_view(user, view)
            self.home_views[user] = home.id
        self.publish({"type": "home_updated", "user": user, "view_id": home.id})
        return home

    def home_of(self, user: str) -> View | None:
        view_id = self.home_views.get(user)
        return self.views.get(view_id) if view_id else None

    # change feed -------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[JSON]:
        queue: asyncio.Queue[JSON] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[JSON]) -> None:
        self._subscribers.discard(queue)

    def publish(self, change: JSON) -> None:
        for queue in list(self._subscribers):
            if queue.full():  # a stalled browser tab must not hold the workspace back
                self._subscribers.discard(queue)
                continue
            queue.put_nowait(change)


def add_people(ws: Workspace, count: int, *, prefix: str = "U_P") -> list[str]:
    """`count` more employees (for broadcasts and load), all in #general."""
    ids = []
    for n in range(count):
        user = ws.add_user(
            User(
                f"{prefix}{n:05d}",
                f"person{n}",
                f"Person {n:05d}",
                "Employee",
                email=f"person{n}@example.com",
            )
        )
        ids.append(user.id)
    ws.channels["C_GENERAL"].members.extend(ids)
    ws.channel_changed(ws.channels["C_GENERAL"])
    return ids


def seeded_workspace() -> Workspace:
    """A small company: an admin, employees (two with Chinese names), two salespeople."""
    ws = Workspace()
    people = [
        User(
            "U_ADMIN",
            "alex",
            "Alex Admin",
            "Marketing Director",
            "+1 415 555 0100",
            "alex@example.com",
            "America/Los_Angeles",
            -28800,
            is_admin=True,
            is_owner=True,
        ),
        User(
            "U_LI",
            "lilei",
            "李雷",
            "市场经理",
            "+86 138 0013 8000",
            "lilei@example.com",
            "Asia/Shanghai",
            28800,
            locale="zh-CN",
        ),
        User(
            "U_HAN",
            "hanmeimei",
            "韩梅梅",
            "客户成功经理",
            "+86 139 0013 9000",
            "hanmeimei@example.com",
            "Asia/Shanghai",
            28800,
        ),
        User(
            "U_ANN",
            "ann",
            "Ann Lee",
            "Account Manager",
            "+1 415 555 0101",
            "ann@example.com",
            "America/Los_Angeles",
            -28800,
        ),
        User(
            "U_BOB",
            "bob",
            "Bob Smith",
            "Solutions Engineer",
            "+1 415 555 0102",
            "bob@example.com",
            "America/New_York",
            -18000,
        ),
        User(
            "U_SALES1",
            "sam",
            "Sam Sales",
            "Senior Account Executive",
            "+1 415 555 0110",
            "sam@example.com",
            "America/Los_Angeles",
            -28800,
        ),
        User(
            "U_SALES2",
            "sara",
            "Sara Seller",
            "Account Executive",
            "+1 415 555 0111",
            "sara@example.com",
            "America/Chicago",
            -21600,
        ),
        User(
            "U_GUEST",
            "gina",
            "Gina Guest",
            "Contractor",
            "",
            "gina@partner.example",
            is_restricted=True,
        ),
        User("U_GONE", "former", "Former Employee", "", "", "", deleted=True),
        User(BOT_USER_ID, "sharetrail", "ShareTrail", is_bot=True),
    ]
    for person in people:
        ws.add_user(person)
    everyone = [u.id for u in people if not u.deleted]
    ws.add_channel(Channel("C_MARKETING", "marketing", list(everyone), topic="Campaigns"))
    ws.add_channel(Channel("C_GENERAL", "general", list(everyone), topic="Company-wide"))
    return ws
