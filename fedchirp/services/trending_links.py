"""Trending links (GET /api/v1/trends/links): the link preview cards that public posts
of the last TREND_DAYS days shared, most distinct accounts first, each with its daily
history (newest day first), as Mastodon's TrendsLink. Posts of suspended and silenced
accounts do not count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fedchirp.clock import to_iso, utcnow
from fedchirp.services.context import Context
from fedchirp.store.cards import PreviewCard

TREND_DAYS = 7


@dataclass(frozen=True)
class DayShares:
    day: datetime  # midnight UTC
    accounts: int
    uses: int


@dataclass(frozen=True)
class TrendingLink:
    card: PreviewCard
    history: list[DayShares]  # TREND_DAYS days, newest first


def _days() -> list[datetime]:
    today = utcnow().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=n) for n in range(TREND_DAYS)]


async def trending_links(ctx: Context, limit: int, offset: int) -> list[TrendingLink]:
    days = _days()
    since = to_iso(days[-1])
    shares = await ctx.store.preview_cards_trending(since, limit, offset)
    daily = await ctx.store.preview_card_daily_shares([s.card.id for s in shares], since)
    return [
        TrendingLink(
            share.card,
            [
                DayShares(day, *daily.get((share.card.id, day.strftime("%Y-%m-%d")), (0, 0)))
                for day in days
            ],
        )
        for share in shares
    ]
