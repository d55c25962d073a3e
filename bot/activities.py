"""Activities: validation of the admin's draft, creation, publishing, closing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import i18n, richtext
from bot.errors import InvalidInput, NotFound
from store.models import Activity, RosterEntry

MATERIAL_TYPES: dict[str, str] = {
    "poster": i18n.N_("Poster"),
    "article": i18n.N_("Article"),
    "video": i18n.N_("Video"),
    "event_invitation": i18n.N_("Event invitation"),
}
STATUSES = ("draft", "published", "closed")
NAME_MAX = 200
HEADLINE_MAX = 300
INTRO_MAX = 3000
# KPI columns are 32-bit integers on PostgreSQL (64-bit on SQLite): a bigger target is a
# field error, not a database overflow after the modal has closed.
KPI_MAX = 1_000_000_000


def kpi_error() -> str:
    """The message for a KPI target that is not a whole number in range (translated now)."""
    return i18n._("Targets must be whole numbers from 1 to {max}.").format(
        max=i18n.format_number(KPI_MAX)
    )


@dataclass
class ActivityDraft:
    """What the admin typed into the activity modal, already parsed from the platform."""

    name: str
    starts_at: datetime | None
    ends_at: datetime | None
    material_type: str | None
    headline: str = ""
    intro: str = ""  # plain text; with `intro_doc`, its plain rendering
    intro_doc: richtext.Doc | None = None  # the formatting, when the platform sends some
    kpi_views: int | None = None
    kpi_signups: int | None = None
    kpi_attendance: int | None = None
    salespeople: list[str] = field(default_factory=list)
    channel_id: str | None = None
    tz: str = "UTC"
    language: str = ""  # en or zh; empty: the language of whoever creates it


def parse_target(raw: str) -> tuple[int | None, bool]:
    """A KPI target as typed (Slack's number_input, the console's number field):
    (value, ok); empty is (None, True), not a whole number (None, False)."""
    text = raw.strip()
    if not text:
        return None, True
    try:
        return int(text), True
    except ValueError:
        return None, False


def validate_draft(draft: ActivityDraft) -> dict[str, str]:
    """Field name -> message for every problem; empty when the draft is good."""
    errors: dict[str, str] = {}
    if not draft.name.strip():
        errors["name"] = i18n._("Give the activity a name.")
    elif len(draft.name) > NAME_MAX:
        errors["name"] = i18n._("Keep the name under {n} characters.").format(n=NAME_MAX)
    if draft.starts_at is None:
        errors["starts_at"] = i18n._("Pick a start date and time.")
    if draft.ends_at is None:
        errors["ends_at"] = i18n._("Pick an end date and time.")
    if draft.starts_at and draft.ends_at and draft.ends_at <= draft.starts_at:
        errors["ends_at"] = i18n._("The end must be after the start.")
    if draft.material_type not in MATERIAL_TYPES:
        errors["material_type"] = i18n._("Choose a material type.")
    if len(draft.headline) > HEADLINE_MAX:
        errors["headline"] = i18n._("Keep the headline under {n} characters.").format(
            n=HEADLINE_MAX
        )
    if len(draft.intro) > INTRO_MAX:
        errors["intro"] = i18n._("Keep the intro under {n} characters.").format(n=INTRO_MAX)
    for name in ("kpi_views", "kpi_signups", "kpi_attendance"):
        value = getattr(draft, name)
        if value is not None and not 0 < value <= KPI_MAX:
            errors[name] = kpi_error()
    return errors


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def create_activity(
    *, session: AsyncSession, draft: ActivityDraft, created_by: str
) -> Activity:
    errors = validate_draft(draft)
    if errors:
        raise InvalidInput(i18n._("The activity has problems."), errors)
    assert draft.starts_at is not None and draft.ends_at is not None
    assert draft.material_type is not None
    activity = Activity(
        name=draft.name.strip(),
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        tz=draft.tz,
        language=i18n.supported(draft.language, i18n.current_locale()),
        material_type=draft.material_type,
        headline=draft.headline.strip() or draft.name.strip(),
        intro=draft.intro.strip(),
        intro_rich=richtext.dumps(draft.intro_doc) if draft.intro_doc else None,
        kpi_views=draft.kpi_views or 0,
        kpi_signups=draft.kpi_signups or 0,
        kpi_attendance=draft.kpi_attendance or 0,
        created_by=created_by,
    )
    session.add(activity)
    await session.flush()
    assert activity.id is not None
    for user_id in dict.fromkeys(draft.salespeople):
        session.add(RosterEntry(user_id=user_id, activity_id=activity.id))
    await session.flush()
    return activity


def _edited_intro_rich(activity: Activity, draft: ActivityDraft) -> str | None:
    """The formatting after an edit: new formatting if the form sent some; kept if only the
    plain text came back unchanged (the console's textarea); dropped if that text changed."""
    if draft.intro_doc is not None:
        return richtext.dumps(draft.intro_doc)
    return activity.intro_rich if draft.intro.strip() == activity.intro else None


async def update_activity(
    *, session: AsyncSession, activity_id: int, draft: ActivityDraft
) -> Activity:
    """Apply an edited draft, by the same rules as a new one; the activity's own roster
    becomes `draft.salespeople` (empty: the global roster)."""
    errors = validate_draft(draft)
    if errors:
        raise InvalidInput(i18n._("The activity has problems."), errors)
    assert draft.starts_at is not None and draft.ends_at is not None
    assert draft.material_type is not None
    activity = await get_activity(session=session, activity_id=activity_id)
    activity.name = draft.name.strip()
    activity.starts_at = draft.starts_at
    activity.ends_at = draft.ends_at
    activity.material_type = draft.material_type
    if draft.language:
        activity.language = i18n.supported(draft.language)
    activity.headline = draft.headline.strip() or draft.name.strip()
    activity.intro_rich = _edited_intro_rich(activity, draft)
    activity.intro = draft.intro.strip()
    activity.kpi_views = draft.kpi_views or 0
    activity.kpi_signups = draft.kpi_signups or 0
    activity.kpi_attendance = draft.kpi_attendance or 0
    session.add(activity)
    wanted = list(dict.fromkeys(draft.salespeople))
    entries = (
        await session.exec(select(RosterEntry).where(RosterEntry.activity_id == activity_id))
    ).all()
    for entry in entries:
        if entry.user_id not in wanted:
            await session.delete(entry)
    present = {entry.user_id for entry in entries}
    for user_id in wanted:
        if user_id not in present:
            session.add(RosterEntry(user_id=user_id, activity_id=activity_id))
    await session.flush()
    return activity


async def get_activity(*, session: AsyncSession, activity_id: int) -> Activity:
    activity = await session.get(Activity, activity_id)
    if activity is None:
        raise NotFound(i18n._("There is no activity {id}.").format(id=activity_id))
    return activity


async def list_activities(*, session: AsyncSession, include_closed: bool = True) -> list[Activity]:
    statement = select(Activity).order_by(col(Activity.id).desc())
    if not include_closed:
        statement = statement.where(Activity.status != "closed")
    return list((await session.exec(statement)).all())


async def mark_published(
    *, session: AsyncSession, activity_id: int, channel_id: str, message_ts: str
) -> Activity:
    activity = await get_activity(session=session, activity_id=activity_id)
    activity.status = "published"
    activity.channel_id = channel_id
    activity.message_ts = message_ts
    session.add(activity)
    return activity


async def close_activity(*, session: AsyncSession, activity_id: int) -> Activity:
    activity = await get_activity(session=session, activity_id=activity_id)
    if activity.status == "closed":
        raise InvalidInput(i18n._("Activity {id} is already closed.").format(id=activity_id))
    activity.status = "closed"
    session.add(activity)
    return activity


def intro_doc(activity: Activity) -> richtext.Doc:
    """The intro with its formatting; a plain one (typed before rich text) as one paragraph."""
    if activity.intro_rich:
        return richtext.loads(activity.intro_rich)
    return richtext.from_plain(activity.intro)


def format_when(activity: Activity) -> str:
    """'Tue, Dec 1, 2026 14:00–16:00 (Shanghai time)' / '2026年12月1日周二 14:00–16:00（上海时间）',
    in the activity's own zone, named by its city in the reader's language."""
    tz = zone(activity.tz)
    start = activity.starts_at.astimezone(tz)
    end = activity.ends_at.astimezone(tz)
    day = f"{i18n.format_skeleton('yMMMEd', start, tz)} {i18n.format_skeleton('Hm', start, tz)}"
    end_text = i18n.format_skeleton("Hm", end, tz)
    if end.date() != start.date():
        end_text = f"{i18n.format_skeleton('MMMd', end, tz)} {end_text}"
    return i18n._("{time} ({zone})").format(time=f"{day}–{end_text}", zone=i18n.zone_label(tz))
