"""One share per (employee, activity): the employee's tracked link."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.codes import DEFAULT_SOURCE, ShareCodec
from bot.errors import InvalidInput
from bot.i18n import _
from store.models import Activity, Employee, Share


async def get_or_create_share(
    *, session: AsyncSession, activity: Activity, employee: Employee
) -> Share:
    """The employee's share for the activity; tapping twice returns the same one."""
    if activity.status == "closed":
        raise InvalidInput(
            _("“{name}” is closed; it no longer takes new shares.").format(name=activity.name)
        )
    assert activity.id is not None and employee.id is not None
    query = select(Share).where(Share.activity_id == activity.id, Share.employee_id == employee.id)
    share = (await session.exec(query)).first()
    if share is not None:
        return share
    try:
        async with session.begin_nested():
            share = Share(activity_id=activity.id, employee_id=employee.id)
            session.add(share)
    except IntegrityError:
        # A double tap raced us to the unique (employee, activity) row: use theirs.
        share = (await session.exec(query)).one()
    return share


def share_url(codec: ShareCodec, base_url: str, share_id: int, source: str = DEFAULT_SOURCE) -> str:
    return f"{base_url}/s/{codec.encode(share_id, source)}"


def short_url(url: str) -> str:
    """The link as printed under the QR code: no scheme."""
    return url.split("://", 1)[-1]
