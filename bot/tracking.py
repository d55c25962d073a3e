"""Who counts as a view: the counting rules, in one place.

- Link-preview bots, crawlers, HEAD requests and browser prefetches are recorded but never
  counted, never rewarded and never announced.
- A visitor is the random id in their signed first-party cookie (handlers/web/visitors.py);
  the daily-salted hash of IP + user agent is stored beside the view for counting only and
  never links two people (the raw IP is never stored).
- Repeat views of the same visitor within REPEAT_WINDOW count once.
- Every counted view is counted, but points for views come from at most
  REWARDED_PER_NETWORK visitors per network (/24 IPv4, /64 IPv6) per share per day.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from crawlerdetect import CrawlerDetect
from sqlalchemy import select as sa_select
from sqlalchemy import tuple_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import ledger
from bot.points import rules_for_many
from store.bulk import BulkInsert, BulkUpdate, insert_rows, update_rows
from store.models import ShareVisitor, View, aware
from store.queries import StatChange, bump_stats

REPEAT_WINDOW = timedelta(minutes=30)
REWARDED_PER_NETWORK = 10
# The "many visitors from one network in a short time" window (bot/points_flags.py): new
# visitors are counted per network and minute (network_minutes), and a visit this soon
# after UTC midnight also under the previous day's network hash.
NETWORK_WINDOW = timedelta(minutes=10)

# Unfurlers and in-app previewers crawlerdetect may miss; matched case-insensitively.
KNOWN_UNFURLERS: tuple[str, ...] = (
    "slackbot",
    "slack-imgproxy",
    "whatsapp",
    "facebookexternalhit",
    "facebookcatalog",
    "telegrambot",
    "linkedinbot",
    "twitterbot",
    "discordbot",
    "skypeuripreview",
    "microsoftpreview",
    "teams",
    "redditbot",
    "embedly",
    "pinterest",
    "vkshare",
    "applebot",
    "googlebot",
    "bingpreview",
    "viber",
    "line/",
    "kakaotalk-scrap",
    "iframely",
    "outlook",
)

_crawler_detect = CrawlerDetect()


def _is_crawler(user_agent: str) -> bool:
    lowered = user_agent.lower()
    if any(marker in lowered for marker in KNOWN_UNFURLERS):
        return True
    return bool(_crawler_detect.isCrawler(user_agent))


def warm_up() -> None:
    """Compile crawlerdetect's patterns now rather than on the first customer's request."""
    _is_crawler("Mozilla/5.0 warm-up")


def ua_class(user_agent: str) -> str:
    lowered = user_agent.lower()
    if "micromessenger" in lowered or "wxwork" in lowered:
        return "wechat"
    if "ipad" in lowered or "tablet" in lowered:
        return "tablet"
    if "mobile" in lowered or "android" in lowered or "iphone" in lowered:
        return "mobile"
    return "desktop"


@dataclass(frozen=True)
class Classification:
    is_bot: bool
    ua_class: str
    reason: str


def classify(method: str, user_agent: str, headers: Mapping[str, str]) -> Classification:
    """Decide whether a request is a person looking at the page."""
    if method.upper() == "HEAD":
        return Classification(True, "head", "HEAD request")
    purpose = (headers.get("Purpose", "") + " " + headers.get("Sec-Purpose", "")).lower()
    if "prefetch" in purpose or "prerender" in purpose:
        return Classification(True, "prefetch", "prefetch")
    return _classify_agent(user_agent)


@lru_cache(maxsize=4096)
def _classify_agent(user_agent: str) -> Classification:
    """The user agent's part of `classify`, kept per agent: a burst comes from few of them."""
    if not user_agent.strip():
        return Classification(True, "unknown", "no user agent")
    if _is_crawler(user_agent):
        return Classification(True, "bot", "crawler or link preview")
    return Classification(False, ua_class(user_agent), "human")


@lru_cache(maxsize=8)
def _daily_salt(secret: bytes, day: date) -> bytes:
    return hmac.digest(secret, day.isoformat().encode(), "sha256")


def visitor_hash(secret: bytes, ip: str, user_agent: str, day: date) -> str:
    """Salted, daily-rotating hash of IP + UA: links a visitor within a day, never the IP."""
    salt = _daily_salt(secret, day)
    return hashlib.sha256(salt + ip.encode() + b"\0" + user_agent.encode()).hexdigest()[:32]


_IPV6_TEXT = re.compile(r"[0-9A-Fa-f:]{2,39}")


def network_of(ip: str) -> str:
    """The address's network as one household or office sees it: the /24 of an IPv4
    address (also IPv4-mapped IPv6), the /64 of an IPv6 one; an unreadable address as is.
    Plain dotted and colon forms are cut as text (on every landing request: the
    ipaddress module costs tens of microseconds a call); anything else goes through it."""
    if ":" not in ip:
        octets = ip.split(".")
        if len(octets) == 4 and all(o.isdigit() and len(o) <= 3 for o in octets):
            return f"{int(octets[0])}.{int(octets[1])}.{int(octets[2])}"
    else:
        prefix = _ipv6_prefix(ip)
        if prefix is not None:
            return prefix
    return _network_slowly(ip)


def _ipv6_prefix(ip: str) -> str | None:
    """The first four groups of an IPv6 address in full ("2001:0db8:0000:0000"); None for
    forms left to the ipaddress module (zones, embedded IPv4, anything malformed)."""
    if not _IPV6_TEXT.fullmatch(ip):
        return None
    head, compressed, tail = ip.partition("::")
    groups = head.split(":") if head else []
    if compressed:
        rest = tail.split(":") if tail else []
        missing = 8 - len(groups) - len(rest)
        if missing < 1 or "::" in tail:
            return None
        groups += ["0"] * missing + rest
    if len(groups) != 8 or "" in groups or max(map(len, groups)) > 4:
        return None
    if not int(groups[0], 16) and not any(int(g, 16) for g in groups[1:5]):
        return None  # ::/80 holds the IPv4-mapped and -compatible forms: the slow path
    a, b, c, d = groups[:4]
    return f"{a:0>4}:{b:0>4}:{c:0>4}:{d:0>4}".lower()


def _network_slowly(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        return str(address).rsplit(".", 1)[0]  # the first three octets: the /24
    return address.exploded[:19]  # the first four groups of eight: the /64


def network_hash(secret: bytes, ip: str, day: date) -> str:
    """Salted, daily-rotating hash of the address's network: caps points, never the IP."""
    salt = _daily_salt(secret, day)
    return hashlib.blake2b(network_of(ip).encode(), key=salt, digest_size=12).hexdigest()


def window_networks(
    secret: bytes, ip: str, at: datetime, *, today: str | None = None
) -> tuple[str, ...]:
    """The keys a new visitor from `ip` at `at` counts under in the network-burst window:
    the day's network hash (`today`, when the caller has it already), and the previous
    day's while NETWORK_WINDOW reaches back into it (the hash rotates at UTC midnight; a
    burst across it must stay one network)."""
    if today is None:
        today = network_hash(secret, ip, at.date())
    earlier = (at - NETWORK_WINDOW).date()
    if earlier == at.date():
        return (today,)
    return (today, network_hash(secret, ip, earlier))


def minute_of(moment: datetime) -> datetime:
    """The UTC minute a moment falls in."""
    return aware(moment).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Visit:
    """One landing page request, already classified."""

    share_id: int
    activity_id: int
    employee_id: int
    source: str
    visitor_key: str
    visitor_hash: str
    classification: Classification
    at: datetime
    is_own: bool = False
    network: str = ""  # network_hash of the client's address (the points cap)
    window_networks: tuple[str, ...] = ()  # window_networks(): the burst flag's keys


@dataclass(frozen=True)
class ViewResult:
    view_id: int
    counted: bool
    first_visit: bool
    visits: int
    lead_id: int | None

    @property
    def announce(self) -> bool:
        """Tell the employee: a counted view is a first visit or one after the repeat window."""
        return self.counted


async def record_view(*, session: AsyncSession, visit: Visit) -> ViewResult:
    """Store a view and, if it counts, update the roll-up and the points ledger."""
    (result,) = await record_views(session=session, visits=[visit])
    return result


async def record_beacon(
    *,
    session: AsyncSession,
    share_id: int,
    visitor_key: str,
    dwell_ms: int | None = None,
    scroll_pct: int | None = None,
    clicks: list[str] | None = None,
) -> View | None:
    """Attach the page's interaction data to this visitor's latest view (maxima, click union)."""
    view = (
        await session.exec(
            select(View)
            .where(View.share_id == share_id, View.visitor_key == visitor_key)
            .order_by(col(View.at).desc(), col(View.id).desc())
            .limit(1)
        )
    ).first()
    if view is None:
        return None
    if dwell_ms is not None:
        view.dwell_ms = max(view.dwell_ms or 0, dwell_ms)
    if scroll_pct is not None:
        view.scroll_pct = max(view.scroll_pct or 0, scroll_pct)
    if clicks:
        view.clicks = ",".join(sorted(set(filter(None, view.clicks.split(","))) | set(clicks)))
    session.add(view)
    return view


_VISITORS = ShareVisitor.__table__  # type: ignore[attr-defined]


@dataclass
class _VisitorState:
    """A share_visitors row as the batch sees it (plain values: no ORM objects to flush).

    A visitor first seen in this batch is inserted as already counted once, at its first
    visit (`stored`); the row is updated only if the batch takes it further than that.
    `first_seen` is the moment of the first counted view (per-day unique visitors are read
    from it): a row a sign-up made before any view (visits 0) takes it from that view."""

    id: int
    visits: int
    last_counted_at: datetime
    first_seen: datetime
    lead_id: int | None
    stored: tuple[int, datetime, datetime]  # (visits, last_counted_at, first_seen) as stored

    @property
    def changed(self) -> bool:
        return (self.visits, self.last_counted_at, self.first_seen) != self.stored


async def _visitor_states(
    session: AsyncSession, humans: list[Visit]
) -> dict[tuple[int, str], _VisitorState]:
    """Insert the share_visitors rows first seen in this batch; read the others."""
    first_seen: dict[tuple[int, str], datetime] = {}
    for v in humans:
        first_seen.setdefault((v.share_id, v.visitor_key), v.at)
    if not first_seen:
        return {}
    inserted = await insert_rows(
        session,
        _NEW_VISITORS,
        [(share_id, key, at, at, 1) for (share_id, key), at in sorted(first_seen.items())],
    )
    states: dict[tuple[int, str], _VisitorState] = {}
    for share_id, key, row_id in inserted:
        at = first_seen[(share_id, key)]
        # Seen as "not yet counted" by the rules below, which count it at `at`.
        states[(share_id, key)] = _VisitorState(row_id, 0, at, at, None, stored=(1, at, at))
    known = sorted(set(first_seen) - set(states))
    columns = (
        _VISITORS.c.share_id,
        _VISITORS.c.visitor_key,
        _VISITORS.c.id,
        _VISITORS.c.visits,
        _VISITORS.c.last_counted_at,
        _VISITORS.c.first_seen,
        _VISITORS.c.lead_id,
    )
    for chunk in range(0, len(known), 400):
        wanted = known[chunk : chunk + 400]
        rows = await session.exec(  # type: ignore[call-overload]  # a Core select of columns
            sa_select(*columns).where(
                tuple_(_VISITORS.c.share_id, _VISITORS.c.visitor_key).in_(wanted)
            )
        )
        for share_id, key, row_id, visits, last, first, lead_id in rows:
            states[(share_id, key)] = _VisitorState(
                row_id, visits, last, first, lead_id, stored=(visits, last, first)
            )
    return states


_NEW_VISITORS = BulkInsert(
    table="share_visitors",
    columns=("share_id", "visitor_key", "first_seen", "last_counted_at", "visits"),
    returning=("share_id", "visitor_key", "id"),
    on_conflict=("share_id", "visitor_key"),
    datetime_columns=("first_seen", "last_counted_at"),
)
_COUNTED_AGAIN = BulkUpdate(
    table="share_visitors",
    columns=("visits", "last_counted_at", "first_seen"),
    key="id",
    datetime_columns=("last_counted_at", "first_seen"),
)
_VIEW_COLUMNS = (
    "share_id",
    "activity_id",
    "employee_id",
    "visitor_key",
    "visitor_hash",
    "ua_class",
    "is_bot",
    "is_own",
    "counted",
    "source",
    "lead_id",
    "clicks",
    "at",
)
# The columns that tell a batch's views apart (see _insert_views), by position in a row.
_VIEW_IDENTITY = ("share_id", "visitor_key", "counted", "is_bot", "is_own", "source")
_IDENTITY_AT = tuple(_VIEW_COLUMNS.index(name) for name in _VIEW_IDENTITY)
_NEW_VIEWS = BulkInsert(
    table="views",
    columns=_VIEW_COLUMNS,
    returning=("id", *_VIEW_IDENTITY),
    datetime_columns=("at",),
)
_NETWORK_MINUTES = BulkInsert(
    table="network_minutes",
    columns=("share_id", "network", "minute", "visitors"),
    on_conflict=("share_id", "network", "minute"),
    add_on_conflict=("visitors",),
    datetime_columns=("minute",),
)
_NETWORK_VISITORS = BulkInsert(
    table="network_visitors",
    columns=("share_id", "network", "day", "visitors"),
    returning=("share_id", "network", "visitors"),
    on_conflict=("share_id", "network", "day"),
    add_on_conflict=("visitors",),
    datetime_columns=("day",),
)


async def _insert_views(session: AsyncSession, rows: Sequence[tuple[Any, ...]]) -> list[int]:
    """Insert the views in multi-row statements and return their ids in `rows` order.

    RETURNING order is not guaranteed, so the rows come back with the columns that tell
    them apart and are matched up here; rows equal in all of those are interchangeable (ids
    are handed out in ascending order among them, as the database assigned them)."""
    inserted = await insert_rows(session, _NEW_VIEWS, rows)
    ids: dict[tuple[object, ...], list[int]] = {}
    for row_id, *key in sorted(inserted, key=lambda r: int(r[0]), reverse=True):
        # SQLite hands booleans back as 0/1, equal (and hashing equal) to False/True.
        ids.setdefault(tuple(key), []).append(int(row_id))
    return [ids[tuple(row[at] for at in _IDENTITY_AT)].pop() for row in rows]


async def _rewarded(session: AsyncSession, firsts: list[Visit]) -> set[int]:
    """Which new visitors (by `id()` of their Visit) earn points: the first
    REWARDED_PER_NETWORK of each (share, network, day). The counters are bumped first and
    read back from the same statement, so concurrent batches (and replicas) share one cap
    under the row's lock. A visit of unknown network (an internal caller) is not capped."""
    groups: dict[tuple[int, str], list[Visit]] = {}
    for visit in firsts:
        groups.setdefault((visit.share_id, visit.network), []).append(visit)
    rewarded = {id(v) for (_, network), group in groups.items() if not network for v in group}
    capped = sorted(key for key in groups if key[1])  # one lock order for every writer
    if not capped:
        return rewarded
    rows = [(s, n, groups[(s, n)][0].at.date(), len(groups[(s, n)])) for s, n in capped]
    for share_id, network, total in await insert_rows(session, _NETWORK_VISITORS, rows):
        group = groups[(share_id, network)]
        before = int(total) - len(group)
        allowed = max(0, REWARDED_PER_NETWORK - before)
        rewarded.update(id(visit) for visit in group[:allowed])
    return rewarded


async def _count_network_minutes(session: AsyncSession, firsts: list[Visit]) -> None:
    """Add the new visitors to their (share, network, minute) counters: the sliding window
    of the network-burst flag."""
    counts: dict[tuple[int, str, datetime], int] = {}
    for visit in firsts:
        for network in visit.window_networks or ((visit.network,) if visit.network else ()):
            key = (visit.share_id, network, minute_of(visit.at))
            counts[key] = counts.get(key, 0) + 1
    if counts:  # one lock order for every writer
        await insert_rows(
            session, _NETWORK_MINUTES, [(*key, n) for key, n in sorted(counts.items())]
        )


async def record_views(*, session: AsyncSession, visits: list[Visit]) -> list[ViewResult]:
    """`record_view` for a whole batch, set-based: a handful of statements, not dozens per
    view, on SQLAlchemy Core (the ORM's per-row bookkeeping was most of the cost). Same
    rows, same roll-up, same results, in the order of `visits`."""
    if not visits:
        return []
    humans = [v for v in visits if not v.classification.is_bot and not v.is_own]
    state = await _visitor_states(session, humans)
    results: list[tuple[bool, bool, int, int | None]] = []
    deltas: dict[tuple[int, str], dict[str, int]] = {}
    owners: dict[tuple[int, str], tuple[int, int]] = {}
    points: list[ledger.Entry] = []
    for visit in visits:
        counted = first = False
        visits_so_far, lead_id = 0, None
        if not visit.classification.is_bot and not visit.is_own:
            visitor = state[(visit.share_id, visit.visitor_key)]
            lead_id = visitor.lead_id
            first = visitor.visits == 0
            counted = first or visit.at - aware(visitor.last_counted_at) >= REPEAT_WINDOW
            if counted:
                if first:
                    visitor.first_seen = visit.at
                visitor.visits += 1
                visitor.last_counted_at = visit.at
            visits_so_far = visitor.visits
        results.append((counted, first, visits_so_far, lead_id))
    firsts = [v for v, (_, first, _, _) in zip(visits, results, strict=True) if first]
    rewarded = await _rewarded(session, firsts)
    await _count_network_minutes(session, firsts)
    newly = [
        visit
        for visit, (counted, first, _, _) in zip(visits, results, strict=True)
        if counted and first and id(visit) in rewarded
    ]
    rules = await rules_for_many(session=session, activity_ids={v.activity_id for v in newly})
    asks: dict[tuple[int, date], tuple[int, int]] = {}
    for visit in newly:
        share_day = (visit.share_id, visit.at.date())
        asked, _ = asks.get(share_day, (0, 0))
        rule = rules[visit.activity_id]
        asks[share_day] = (asked + rule.unique_visitor, rule.daily_cap)
    allowed = await ledger.cap_daily(session, asks)
    for visit, (counted, first, _, _) in zip(visits, results, strict=True):
        if counted:
            key = (visit.share_id, visit.source)
            owners[key] = (visit.activity_id, visit.employee_id)
            bucket = deltas.setdefault(key, {"views": 0, "unique_visitors": 0, "points": 0})
            bucket["views"] += 1
            if first:
                bucket["unique_visitors"] += 1
            if first and id(visit) in rewarded:
                today = (visit.share_id, visit.at.date())
                earned = min(rules[visit.activity_id].unique_visitor, allowed[today])
                allowed[today] -= earned
                if not earned:
                    continue
                bucket["points"] += earned
                points.append(
                    ledger.Entry(
                        visit.employee_id,
                        earned,
                        "unique_visitor",
                        f"visitor:{visit.share_id}:{visit.visitor_key}",
                        activity_id=visit.activity_id,
                        share_id=visit.share_id,
                        at=visit.at,
                    )
                )
    changed = sorted((v for v in state.values() if v.changed), key=lambda v: v.id)  # lock order
    await update_rows(
        session,
        _COUNTED_AGAIN,
        [(v.visits, v.last_counted_at, v.first_seen, v.id) for v in changed],
    )
    view_rows = [
        (
            v.share_id,
            v.activity_id,
            v.employee_id,
            v.visitor_key,
            v.visitor_hash,
            v.classification.ua_class,
            v.classification.is_bot,
            v.is_own,
            counted,
            v.source,
            lead_id,
            "",
            v.at,
        )
        for v, (counted, _, _, lead_id) in zip(visits, results, strict=True)
    ]
    view_ids = await _insert_views(session, view_rows)
    await bump_stats(
        session,
        [
            StatChange(share_id, source, *owners[(share_id, source)], bucket)
            for (share_id, source), bucket in deltas.items()
        ],
    )
    await ledger.post(session, points)
    return [
        ViewResult(view_id, counted, first, visits_so_far, lead_id)
        for view_id, (counted, first, visits_so_far, lead_id) in zip(view_ids, results, strict=True)
    ]
