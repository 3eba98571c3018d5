"""Numbers for authors: followers over time, how far posts travelled, how they did."""

from __future__ import annotations

from dataclasses import dataclass

from fedchirp.services.context import Context
from fedchirp.services.errors import NotFound
from fedchirp.store.models import Account, Status


@dataclass(frozen=True)
class AccountReport:
    followers_by_day: list[tuple[str, int]]  # (YYYY-MM-DD, followers at the end of the day)
    received: dict[str, int]  # reblogs, favourites, replies from others
    deliveries: dict[str, int]  # delivered, failed, queued


@dataclass(frozen=True)
class PostReport:
    deliveries: dict[str, int]
    counts: dict[str, int]  # reblogs, favourites, replies


async def account_report(ctx: Context, account: Account) -> AccountReport:
    running, cumulative = 0, []
    for day, change in await ctx.store.follower_history(account.id):
        running += change
        cumulative.append((day, running))
    return AccountReport(
        followers_by_day=cumulative,
        received=await ctx.store.interactions_received(account.id),
        deliveries=await ctx.store.delivery_stats(account.id),
    )


async def post_report(ctx: Context, author: Account, status: Status) -> PostReport:
    """Only the author sees how their post did."""
    if status.account_id != author.id or status.reblog_of_id is not None:
        raise NotFound("post not found")
    return PostReport(
        deliveries=await ctx.store.delivery_stats(author.id, status.id),
        counts=await ctx.store.status_counts(status.id),
    )
