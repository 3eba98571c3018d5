"""Trending hashtags and posts, computed from what this instance has seen lately.

Hashtags rank by the accounts using them, not by the posts: each account counts once
per tag, weighted by how recent its latest use is (half of it a day later), so a tag
one account repeats all week never outranks one that two accounts used today. Posts
rank by the distinct accounts that liked, boosted or answered them, weighted by the
post's age the same way. What may trend at all is store/trends.py's rule (public posts
of discoverable accounts that moderation shows).

The window's aggregates are the same for everyone, so this process computes them at
most once a minute per instance and keeps the TOP hashtags and posts; each request then
takes out, on current data, the authors its viewer must not see (blocks either way,
domain blocks, mutes) and those moderated or made undiscoverable since, and ranks what
is left. With `[trends] enabled = false` every list is empty.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from fedchirp.clock import utcnow
from fedchirp.services.context import Context
from fedchirp.store import Store
from fedchirp.store.ids import SEQUENCE_BITS, first_id_at
from fedchirp.store.models import Account, Status
from fedchirp.store.trends import TagUse

T = TypeVar("T")

HISTORY_DAYS = 7  # Mastodon's Tag history: a week, newest day first
TAG_HALF_LIFE_HOURS = 24.0
STATUS_WINDOW_DAYS = 3
STATUS_HALF_LIFE_HOURS = 12.0
MS_PER_DAY = 86_400_000
TOP = 200  # hashtags and posts kept from the window: offsets end there
CACHE_SECONDS = 60.0

# Per instance (its store), what _cached computed and until when (time.monotonic()).
_cache: WeakKeyDictionary[Store, dict[str, tuple[float, Any]]] = WeakKeyDictionary()


@dataclass(frozen=True)
class DayUse:
    day: int  # days since the epoch (UTC)
    uses: int  # posts
    accounts: int  # distinct accounts posting


@dataclass(frozen=True)
class TrendingTag:
    name: str
    score: float
    history: list[DayUse]  # HISTORY_DAYS entries, today first
    following: bool | None = None  # for a signed-in viewer


def _weight(status_id: int, now_ms: int, half_life_hours: float) -> float:
    """1 for a post of now, halving every half_life_hours of its age."""
    age_hours = max(now_ms - (status_id >> SEQUENCE_BITS), 0) / 3_600_000
    return 0.5 ** (age_hours / half_life_hours)


def _history(uses: list[TagUse], today: int) -> list[DayUse]:
    posts: dict[int, int] = defaultdict(int)
    accounts: dict[int, int] = defaultdict(int)
    for use in uses:
        posts[use.day] += use.uses
        accounts[use.day] += 1  # one row per account and day
    days = range(today, today - HISTORY_DAYS, -1)
    return [DayUse(day, posts[day], accounts[day]) for day in days]


def _by_tag(uses: Iterable[TagUse]) -> dict[str, list[TagUse]]:
    found: dict[str, list[TagUse]] = defaultdict(list)
    for use in uses:
        found[use.tag].append(use)
    return found


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _tag_score(uses: list[TagUse], now_ms: int) -> float:
    latest: dict[int, int] = {}
    for use in uses:
        latest[use.account_id] = max(latest.get(use.account_id, 0), use.last_status_id)
    return sum(_weight(sid, now_ms, TAG_HALF_LIFE_HOURS) for sid in latest.values())


async def _cached(ctx: Context, kind: str, compute: Callable[[], Awaitable[T]]) -> T:
    """compute()'s answer, kept CACHE_SECONDS by this process for this instance."""
    kept = _cache.setdefault(ctx.store, {})
    now = time.monotonic()
    found = kept.get(kind)
    if found is None or found[0] <= now:
        found = kept[kind] = (now + CACHE_SECONDS, await compute())
    return found[1]


@dataclass(frozen=True)
class TagWindow:
    """The TOP hashtags of the window as everyone sees them, and what a viewer's cut
    needs: their uses by tag and the tags of each account."""

    ranked: list[TrendingTag]
    uses: dict[str, list[TagUse]]
    tags_of: dict[int, set[str]]


async def _tag_window(ctx: Context) -> TagWindow:
    now = utcnow()
    by_tag = _by_tag(
        await ctx.store.trend_tag_uses(first_id_at(now - timedelta(days=HISTORY_DAYS)))
    )
    ranked = _ranked(by_tag, _ms(now))[:TOP]
    uses = {tag.name: by_tag[tag.name] for tag in ranked}
    tags_of: dict[int, set[str]] = defaultdict(set)
    for name, found in uses.items():
        for use in found:
            tags_of[use.account_id].add(name)
    return TagWindow(ranked, uses, dict(tags_of))


def _ranked(by_tag: dict[str, list[TagUse]], now_ms: int) -> list[TrendingTag]:
    today = now_ms // MS_PER_DAY
    ranked = [
        TrendingTag(name, _tag_score(found, now_ms), _history(found, today))
        for name, found in by_tag.items()
        if found
    ]
    return sorted(ranked, key=lambda tag: (-tag.score, tag.name))


async def tags(ctx: Context, viewer: Account | None, offset: int, limit: int) -> list[TrendingTag]:
    """Trending hashtags, best first, from offset on."""
    if not ctx.config.trends.enabled:
        return []
    window = await _cached(ctx, "tags", lambda: _tag_window(ctx))
    hidden = await ctx.store.trend_hidden_authors(viewer.id if viewer else None, window.tags_of)
    ranked = window.ranked
    if hidden:  # rank again the tags those authors used, without them
        touched = set().union(*(window.tags_of[a] for a in hidden))
        again = {
            name: [u for u in window.uses[name] if u.account_id not in hidden] for name in touched
        }
        kept = [tag for tag in ranked if tag.name not in touched]
        ranked = sorted(
            kept + _ranked(again, _ms(utcnow())), key=lambda tag: (-tag.score, tag.name)
        )
    ranked = ranked[offset : offset + limit]
    if viewer is None:
        return ranked
    followed = await ctx.store.trend_followed_tags(viewer.id, [t.name for t in ranked])
    return [TrendingTag(t.name, t.score, t.history, t.name in followed) for t in ranked]


async def _trending_status_ids(ctx: Context) -> list[int]:
    """The TOP posts of the window, best first, for anyone (before any viewer's cut)."""
    now = utcnow()
    found = await ctx.store.trend_status_engagement(
        first_id_at(now - timedelta(days=STATUS_WINDOW_DAYS))
    )
    now_ms = _ms(now)
    scores = {
        e.status_id: e.accounts * _weight(e.status_id, now_ms, STATUS_HALF_LIFE_HOURS)
        for e in found
    }
    return sorted(scores, key=lambda sid: (-scores[sid], -sid))[:TOP]


async def statuses(ctx: Context, viewer: Account | None, offset: int, limit: int) -> list[Status]:
    """Trending posts, best first, from offset on."""
    if not ctx.config.trends.enabled:
        return []
    ranked = await _cached(ctx, "statuses", lambda: _trending_status_ids(ctx))
    posts = await ctx.store.get_statuses(ranked)  # deleted ones are gone
    viewer_id = viewer.id if viewer else None
    hidden = await ctx.store.trend_hidden_authors(viewer_id, {p.account_id for p in posts.values()})
    shown = [posts[sid] for sid in ranked if sid in posts and posts[sid].account_id not in hidden]
    return shown[offset : offset + limit]
