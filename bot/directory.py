"""People as the chat platform knows them; the platform adapter implements Directory."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import Employee, utcnow


@dataclass(frozen=True)
class Profile:
    user_id: str
    name: str
    title: str = ""
    phone: str = ""
    email: str = ""
    tz: str = "UTC"
    locale: str = ""  # the chat profile's language tag (Slack: users.info include_locale)
    is_admin: bool = False
    is_bot: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class NotifySettings:
    """What an employee asked to hear: live DMs (`me notify on|off`), the daily digest
    (`me notify digest on|off`)."""

    live: bool = True
    digest: bool = False


class Directory(Protocol):
    async def profile(self, user_id: str) -> Profile:
        """The user's current profile; raises NotFound for an unknown user."""
        ...


async def upsert_employee(*, session: AsyncSession, profile: Profile) -> Employee:
    """Cache the profile on the employee row (created on first sight)."""
    employee = (
        await session.exec(select(Employee).where(Employee.user_id == profile.user_id))
    ).first()
    if employee is None:
        employee = Employee(user_id=profile.user_id)
    employee.name = profile.name
    employee.title = profile.title
    employee.phone = profile.phone
    employee.email = profile.email
    employee.tz = profile.tz
    employee.is_admin = profile.is_admin
    employee.updated_at = utcnow()
    session.add(employee)
    await session.flush()
    return employee


async def known_admins(*, session: AsyncSession, admin_ids: Iterable[str] = ()) -> list[str]:
    """Every admin the bot knows: ADMIN_USER_IDS plus the people whose cached profile says
    they are workspace admins (stored by upsert_employee whenever the directory is read)."""
    stored = (
        await session.exec(select(Employee.user_id).where(col(Employee.is_admin).is_(True)))
    ).all()
    return sorted((set(admin_ids) | set(stored)) - {""})


async def employee_by_user(*, session: AsyncSession, user_id: str) -> Employee | None:
    return (await session.exec(select(Employee).where(Employee.user_id == user_id))).first()
