"""Announcing an activity to everyone by DM (`publish ID --dm-all`).

Every recipient is one outbox row, keyed by (activity, person): asking twice never DMs
anyone twice, and the paced sender delivers them as fast as the platform allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import outbox as outbox_mod
from bot.activities import format_when, get_activity
from bot.errors import InvalidInput
from bot.i18n import _, current_locale, supported, use_locale
from bot.notifications import ActivityAnnounced, AnnouncementClosed
from store.models import Activity, Broadcast, OutboxMessage


def batch_name(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


@dataclass(frozen=True)
class BroadcastStatus:
    broadcast: Broadcast
    activity_name: str
    queued: int  # new recipients (people already announced to are skipped)
    sent: int
    failed: int

    @property
    def done(self) -> bool:
        return self.sent + self.failed >= self.queued


async def create_broadcast(
    *, session: AsyncSession, activity_id: int, requested_by: str
) -> Broadcast:
    activity = await get_activity(session=session, activity_id=activity_id)
    if activity.status == "closed":
        raise InvalidInput(
            _("Activity {id} is closed; there is nothing to announce.").format(id=activity_id)
        )
    broadcast = Broadcast(activity_id=activity_id, requested_by=requested_by)
    session.add(broadcast)
    await session.flush()
    return broadcast


async def queue_recipients(
    *,
    session: AsyncSession,
    broadcast_id: int,
    user_ids: list[str],
    locales: Mapping[str, str] | None = None,
) -> int:
    """One announcement per person not told yet, in their language (`locales`: language
    tags by person, from the platform's profiles) else the activity's; returns how many
    were added."""
    broadcast = await session.get(Broadcast, broadcast_id)
    assert broadcast is not None
    activity = await get_activity(session=session, activity_id=broadcast.activity_id)
    fallback = activity.language or current_locale()
    when: dict[str, str] = {}

    def announced(user_id: str) -> ActivityAnnounced:
        locale = supported((locales or {}).get(user_id), fallback)
        if locale not in when:
            with use_locale(locale):
                when[locale] = format_when(activity)
        return ActivityAnnounced(
            user_id, broadcast.activity_id, activity.name, when[locale], broadcast_id, locale
        )

    queued = await outbox_mod.enqueue_many(
        session=session,
        batch=batch_name(broadcast_id),
        events=[(f"announce:{activity.id}:{user_id}", announced(user_id)) for user_id in user_ids],
    )
    broadcast.total += queued
    session.add(broadcast)
    return queued


async def broadcast_status(*, session: AsyncSession, broadcast_id: int) -> BroadcastStatus:
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise InvalidInput(_("There is no broadcast {id}.").format(id=broadcast_id))
    activity = await get_activity(session=session, activity_id=broadcast.activity_id)
    counts = await outbox_mod.batch_progress(session=session, batch=batch_name(broadcast_id))
    return BroadcastStatus(
        broadcast, activity.name, broadcast.total, counts.get("sent", 0), counts.get("failed", 0)
    )


async def unfinished(*, session: AsyncSession) -> list[Broadcast]:
    return list(
        await session.exec(
            select(Broadcast)
            .where(col(Broadcast.finished_at).is_(None))
            .order_by(col(Broadcast.id))
        )
    )


async def finish(*, session: AsyncSession, broadcast_id: int) -> None:
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is not None and broadcast.finished_at is None:
        broadcast.finished_at = datetime.now(UTC)
        session.add(broadcast)


async def set_progress_message(
    *, session: AsyncSession, broadcast_id: int, channel: str, ts: str
) -> None:
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is not None:
        broadcast.progress_channel, broadcast.progress_ts = channel, ts
        session.add(broadcast)


async def queue_closed_announcements(*, session: AsyncSession, activity: Activity) -> int:
    """Redraw every announcement DM of a closed activity without its share card button
    (through the outbox: paced, retried, once each); returns how many were queued."""
    assert activity.id is not None
    sent = (
        await session.exec(
            select(OutboxMessage).where(
                col(OutboxMessage.key).startswith(f"announce:{activity.id}:"),
                OutboxMessage.status == "sent",
                col(OutboxMessage.ts).is_not(None),
            )
        )
    ).all()
    when: dict[str | None, str] = {}

    def closed(row: OutboxMessage) -> AnnouncementClosed:
        announced = outbox_mod.decode(row.kind, row.payload)
        locale = announced.locale if isinstance(announced, ActivityAnnounced) else None
        if locale not in when:  # the DM is redrawn in the language it was sent in
            with use_locale(locale or activity.language or current_locale()):
                when[locale] = format_when(activity)
        assert activity.id is not None
        return AnnouncementClosed(
            row.key.rsplit(":", 1)[-1],  # announce:{activity}:{user}
            str(row.channel),
            str(row.ts),
            activity.id,
            activity.name,
            when[locale],
            locale,
        )

    events = [
        (f"announce-closed:{activity.id}:{row.id}", closed(row)) for row in sent if row.channel
    ]
    for key, event in events:
        await outbox_mod.enqueue(session=session, key=key, event=event)
    return len(events)
