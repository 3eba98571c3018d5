"""Trending hashtags and posts, computed from what this instance has seen lately.

Hashtags rank by the accounts using them, not by the posts: each account counts once
per tag, weighted by how recent its latest use is (half of it a day later), so a tag
one account repeats all week never outranks one that two accounts used today. Posts
rank by the distinct accounts that liked, boosted or answered them, weighted by the
post's age the same way. What may trend at all is store/trends.py's rule (public posts
of discoverable accounts that moderation shows, less what the viewer blocks or mutes).

The aggregates are over the last days' rows only (index ranges), cheap at the scale of
one instance; with `[trends] enabled = false` every list is empty.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from fedchirp.clock import utcnow
from fedchirp.services.context import Context
from fedchirp.store.ids import SEQUENCE_BITS, first_id_at
from fedchirp.store.models import Account, Status
from fedchirp.store.trends import TagUse

HISTORY_DAYS = 7  # Mastodon's Tag history: a week, newest day first
TAG_HALF_LIFE_HOURS = 24.0
STATUS_WINDOW_DAYS = 3
STATUS_HALF_LIFE_HOURS = 12.0
MS_PER_DAY = 86_400_000


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


def _tag_score(uses: list[TagUse], now_ms: int) -> float:
    latest: dict[int, int] = {}
    for use in uses:
        latest[use.account_id] = max(latest.get(use.account_id, 0), use.last_status_id)
    return sum(_weight(sid, now_ms, TAG_HALF_LIFE_HOURS) for sid in latest.values())


async def tags(ctx: Context, viewer: Account | None, offset: int, limit: int) -> list[TrendingTag]:
    """Trending hashtags, best first, from offset on."""
    if not ctx.config.trends.enabled:
        return []
    now = utcnow()
    now_ms = int(now.timestamp() * 1000)
    since = first_id_at(now - timedelta(days=HISTORY_DAYS))
    by_tag: dict[str, list[TagUse]] = defaultdict(list)
    for use in await ctx.store.trend_tag_uses(since, viewer.id if viewer else None):
        by_tag[use.tag].append(use)
    today = now_ms // MS_PER_DAY
    ranked = sorted(
        (
            TrendingTag(name, _tag_score(uses, now_ms), _history(uses, today))
            for name, uses in by_tag.items()
        ),
        key=lambda tag: (-tag.score, tag.name),
    )[offset : offset + limit]
    if viewer is None:
        return ranked
    followed = await ctx.store.trend_followed_tags(viewer.id, [t.name for t in ranked])
    return [TrendingTag(t.name, t.score, t.history, t.name in followed) for t in ranked]


async def statuses(ctx: Context, viewer: Account | None, offset: int, limit: int) -> list[Status]:
    """Trending posts, best first, from offset on."""
    if not ctx.config.trends.enabled:
        return []
    now = utcnow()
    now_ms = int(now.timestamp() * 1000)
    since = first_id_at(now - timedelta(days=STATUS_WINDOW_DAYS))
    found = await ctx.store.trend_status_engagement(since, viewer.id if viewer else None)
    scores = {
        e.status_id: e.accounts * _weight(e.status_id, now_ms, STATUS_HALF_LIFE_HOURS)
        for e in found
    }
    chosen = sorted(scores, key=lambda sid: (-scores[sid], -sid))[offset : offset + limit]
    posts = await ctx.store.get_statuses(chosen)
    return [posts[sid] for sid in chosen if sid in posts]
