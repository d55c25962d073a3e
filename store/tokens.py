"""Access tokens a chat platform issued, in the database so every replica uses one."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import PlatformToken, aware


async def read_token(*, session: AsyncSession, name: str) -> tuple[str, datetime] | None:
    row = await session.get(PlatformToken, name)
    return None if row is None else (row.value, aware(row.expires_at))


async def save_token(*, session: AsyncSession, name: str, value: str, expires_at: datetime) -> None:
    row = await session.get(PlatformToken, name)
    if row is None:
        row = PlatformToken(name=name, value=value, expires_at=expires_at)
    row.value, row.expires_at = value, expires_at
    session.add(row)
