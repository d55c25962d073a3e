"""The rewards catalogue: what employees can spend points on (issue 15 §3).

Admins keep it in the console. A picture is checked (size, that it decodes as PNG, JPEG,
GIF or WebP, its pixel count) and stored re-encoded, never as uploaded: no metadata (GPS),
no script smuggled in a polyglot file, no decompression bomb reaching a browser.
Pictures live in the database so every replica serves them.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import InvalidInput, NotFound
from bot.i18n import _
from store.models import Reward, RewardPicture, utcnow

NAME_MAX = 120
COST_MAX = 1_000_000
STOCK_MAX = 100_000
PICTURE_MAX_BYTES = 2 * 1024 * 1024  # as uploaded
PICTURE_MAX_PIXELS = 25_000_000  # decoded (a 5000 x 5000 photo); more is refused
PICTURE_SIDE = 512  # stored at most this wide and high
PICTURE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}


@dataclass(frozen=True)
class RewardDraft:
    """A reward as the console's form gives it, checked."""

    name: str
    cost: int
    stock: int


def _whole(raw: str, *, low: int, high: int) -> int | None:
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    value = int(raw)
    return value if low <= value <= high else None


def validate_reward(fields: dict[str, str]) -> RewardDraft:
    """A draft from form text; InvalidInput naming every bad field, nothing stored."""
    errors: dict[str, str] = {}
    name = " ".join((fields.get("name") or "").split())
    if not name:
        errors["name"] = _("Give the reward a name.")
    elif len(name) > NAME_MAX:
        errors["name"] = _("At most {n} characters.").format(n=NAME_MAX)
    cost = _whole(fields.get("cost") or "", low=1, high=COST_MAX)
    if cost is None:
        errors["cost"] = _("The cost is a whole number of points from 1 to {max}.").format(
            max=f"{COST_MAX:,}"
        )
    stock = _whole(fields.get("stock") or "", low=0, high=STOCK_MAX)
    if stock is None:
        errors["stock"] = _("The stock is a whole number from 0 to {max}.").format(
            max=f"{STOCK_MAX:,}"
        )
    if errors:
        raise InvalidInput(_("Please fix the fields marked below."), errors)
    assert cost is not None and stock is not None
    return RewardDraft(name, cost, stock)


def clean_picture(data: bytes) -> tuple[bytes, str]:
    """The picture re-encoded (PNG, or JPEG for photos without transparency) at most
    PICTURE_SIDE square, and its type; InvalidInput for anything else."""
    if len(data) > PICTURE_MAX_BYTES:
        raise InvalidInput(
            _("The picture is larger than {mb} MB.").format(mb=PICTURE_MAX_BYTES // 2**20),
            {"picture": _("At most {mb} MB.").format(mb=PICTURE_MAX_BYTES // 2**20)},
        )
    refused = InvalidInput(
        _("The picture must be a PNG, JPEG, GIF or WebP image."),
        {"picture": _("Choose a PNG, JPEG, GIF or WebP image.")},
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in PICTURE_FORMATS:
                    raise refused
                width, height = image.size
                if width * height > PICTURE_MAX_PIXELS or not width or not height:
                    raise InvalidInput(
                        _("The picture has too many pixels."),
                        {"picture": _("At most {n} million pixels.").format(n=25)},
                    )
                image.seek(0)  # the first frame of an animation
                image.load()
                has_alpha = image.mode in ("RGBA", "LA", "P") and (
                    image.mode != "P" or "transparency" in image.info
                )
                picture = image.convert("RGBA" if has_alpha else "RGB")
    except InvalidInput:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,  # PIL raises it for some broken headers
        EOFError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise refused from None
    picture.thumbnail((PICTURE_SIDE, PICTURE_SIDE))
    out = io.BytesIO()
    if has_alpha:
        picture.save(out, format="PNG", optimize=True)
        return out.getvalue(), "image/png"
    picture.save(out, format="JPEG", quality=85)
    return out.getvalue(), "image/jpeg"


async def get_reward(*, session: AsyncSession, reward_id: int) -> Reward:
    reward = await session.get(Reward, reward_id)
    if reward is None:
        raise NotFound(_("There is no reward {id}.").format(id=reward_id))
    return reward


async def catalogue(*, session: AsyncSession, include_retired: bool = False) -> list[Reward]:
    """Rewards, cheapest first (retired ones last when included)."""
    statement = select(Reward)
    if not include_retired:
        statement = statement.where(col(Reward.active).is_(True))
    statement = statement.order_by(
        col(Reward.active).desc(), col(Reward.cost), col(Reward.name), col(Reward.id)
    )
    return list((await session.exec(statement)).all())


async def in_stock(*, session: AsyncSession) -> list[Reward]:
    """What an employee can pick from: active rewards with stock left."""
    return [r for r in await catalogue(session=session) if r.stock > 0]


async def _set_picture(session: AsyncSession, reward: Reward, picture: tuple[bytes, str]) -> None:
    assert reward.id is not None
    data, kind = picture
    stored = await session.get(RewardPicture, reward.id)
    if stored is None:
        session.add(RewardPicture(reward_id=reward.id, data=data))
    else:
        stored.data = data
        session.add(stored)
    reward.picture_type = kind
    reward.picture_version += 1
    session.add(reward)


async def create_reward(
    *,
    session: AsyncSession,
    draft: RewardDraft,
    picture: tuple[bytes, str] | None,
    by_user_id: str,
) -> Reward:
    reward = Reward(name=draft.name, cost=draft.cost, stock=draft.stock, created_by=by_user_id)
    session.add(reward)
    await session.flush()
    if picture is not None:
        await _set_picture(session, reward, picture)
    return reward


async def update_reward(
    *,
    session: AsyncSession,
    reward_id: int,
    draft: RewardDraft,
    picture: tuple[bytes, str] | None,
    active: bool,
) -> Reward:
    """An admin's edit. The stock is set as typed: redemptions already made keep their
    items (they were taken off the stock when redeemed)."""
    reward = await get_reward(session=session, reward_id=reward_id)
    reward.name, reward.cost, reward.stock = draft.name, draft.cost, draft.stock
    reward.active = active
    reward.updated_at = utcnow()
    session.add(reward)
    if picture is not None:
        await _set_picture(session, reward, picture)
    return reward


async def picture_of(*, session: AsyncSession, reward_id: int) -> tuple[bytes, str]:
    reward = await session.get(Reward, reward_id)
    stored = await session.get(RewardPicture, reward_id)
    if reward is None or stored is None or not reward.picture_type:
        raise NotFound(_("This reward has no picture."))
    return stored.data, reward.picture_type
