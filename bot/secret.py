"""SHARETRAIL_SECRET: from the settings, else generated once and kept in the database."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError

from store.db import Database
from store.models import AppSecret

SECRET_NAME = "sharetrail_secret"


async def load_or_create_secret(db: Database, configured: str | None) -> str:
    if configured:
        return configured
    async with db.session() as session:
        stored = await session.get(AppSecret, SECRET_NAME)
        if stored is not None:
            return stored.value
    try:
        async with db.session() as session:
            session.add(AppSecret(name=SECRET_NAME, value=secrets.token_urlsafe(32)))
    except IntegrityError:
        pass  # Another process created it first; read theirs below.
    async with db.session() as session:
        stored = await session.get(AppSecret, SECRET_NAME)
        assert stored is not None
        return stored.value
