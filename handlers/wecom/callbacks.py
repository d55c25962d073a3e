"""WeCom's callback XML: the outer envelope (Encrypt) and the decrypted message or event.

Bodies are parsed before anything else is known about them, so a document with a DOCTYPE
or entity declaration is refused outright (WeCom never sends one; ElementTree resolves no
external entities, and refusing declarations also rules out entity expansion).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree

MAX_XML_BYTES = 64 * 1024


class MalformedCallback(Exception):
    """Not the XML WeCom sends."""


def _parse(xml: str) -> ElementTree.Element:
    if len(xml.encode()) > MAX_XML_BYTES or "<!" in xml.replace("<![CDATA[", ""):
        raise MalformedCallback("not a WeCom callback")
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        raise MalformedCallback("not well-formed XML") from None
    if root.tag != "xml":
        raise MalformedCallback("not a WeCom callback")
    return root


def _text(root: ElementTree.Element, name: str) -> str:
    element = root.find(name)
    return (element.text or "").strip() if element is not None else ""


def encrypted_part(body: str) -> str:
    """The Encrypt element of a POSTed callback."""
    encrypt = _text(_parse(body), "Encrypt")
    if not encrypt:
        raise MalformedCallback("no Encrypt element")
    return encrypt


@dataclass(frozen=True)
class Callback:
    """A decrypted message (MsgType text…) or event (MsgType event)."""

    from_user: str  # the member's WeCom userid
    create_time: int
    msg_type: str
    event: str = ""
    event_key: str = ""
    content: str = ""
    msg_id: str = ""
    task_id: str = ""
    response_code: str = ""
    agent_id: str = ""

    @property
    def dedupe_key(self) -> str:
        """The same for every time WeCom re-sends this callback (it re-sends three times
        when it gets no answer within 5 s): MsgId for messages; for events, which have none,
        FromUserName + CreateTime + Event (+ the key tapped, so two taps in a second are two)."""
        if self.msg_id:
            return f"wecom:msg:{self.msg_id}"
        return f"wecom:event:{self.from_user}:{self.create_time}:{self.event}:{self.event_key}"


def parse_callback(xml: str) -> Callback:
    root = _parse(xml)
    sender = _text(root, "FromUserName")
    msg_type = _text(root, "MsgType")
    if not sender or not msg_type:
        raise MalformedCallback("no FromUserName or MsgType")
    created = _text(root, "CreateTime")
    return Callback(
        from_user=sender,
        create_time=int(created) if created.isdigit() else 0,
        msg_type=msg_type,
        event=_text(root, "Event"),
        event_key=_text(root, "EventKey"),
        content=_text(root, "Content"),
        msg_id=_text(root, "MsgId"),
        task_id=_text(root, "TaskId"),
        response_code=_text(root, "ResponseCode"),
        agent_id=_text(root, "AgentID"),
    )
