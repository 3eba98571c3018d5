"""Counters of accounts and statuses, changed in the unit that changes what they count.

Rendering a page then reads them with the rows instead of counting: Mastodon keeps
account_stats and status_stats for the same reason. Every write that adds or
removes a post, a boost, a reply, a like or an accepted follow calls a bump here
on its own transaction; deleting an account takes back what its rows counted
elsewhere before the rows go (store/accounts.py).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from fedchirp.store.db import Queries
from fedchirp.store.dialect import insert_ignore
from fedchirp.store.models import AccountStats, StatusStats
from fedchirp.store.query import Prepared, Read, ids_param
from fedchirp.store.schema import account_stats, favourites, follows, status_stats, statuses


async def bump_account(
    db: AsyncConnection, account_id: int, last_status_at: str | None = None, **changes: int
) -> None:
    """Add changes (statuses_count=1, followers_count=-1, ...) to an account's counters."""
    await _bump(db, account_stats, account_id, changes, last_status_at)


async def bump_status(db: AsyncConnection, status_id: int, **changes: int) -> None:
    """Add changes (replies_count=1, ...) to a status's counters."""
    await _bump(db, status_stats, status_id, changes)


async def _bump(
    db: AsyncConnection,
    table: Table,
    key_value: int,
    changes: dict[str, int],
    last_status_at: str | None = None,
) -> None:
    changed = {name: change for name, change in changes.items() if change}
    if not changed:
        return
    names = tuple(sorted(changed))
    create, add = _bump_statements(db.dialect.name, table, names, last_status_at is not None)
    params: dict[str, Any] = {f"by_{name}": change for name, change in changed.items()}
    params["key_value"] = key_value
    if last_status_at is not None:
        params["new_last"] = last_status_at
    await db.execute(create, {"key_value": key_value})
    await db.execute(add, params)


@functools.lru_cache(maxsize=64)
def _bump_statements(
    dialect: str, table: Table, names: tuple[str, ...], with_last: bool
) -> tuple[Any, Any]:
    """The counter row's insert (if missing) and the update adding by_<name> to each
    named counter; built once per shape: a bump comes with every post, like and follow,
    and building these cost more than running them."""
    [key] = table.primary_key.columns  # account_id or status_id
    values: dict[str, Any] = {name: table.c[name] + bindparam(f"by_{name}") for name in names}
    if with_last:  # only ever moves forward
        latest, new = table.c.last_status_at, bindparam("new_last")
        values["last_status_at"] = case((latest.is_(None) | (latest < new), new), else_=latest)
    create = insert_ignore(dialect, table).values({key.name: bindparam("key_value")})
    return create, update(table).where(key == bindparam("key_value")).values(values)


S = TypeVar("S", AccountStats, StatusStats)

# Read for every page of statuses: prepared once (store/query.py Prepared).
_ACCOUNT_STATS_OF = Prepared(
    select(account_stats).where(account_stats.c.account_id.in_(ids_param()))
)
_STATUS_STATS_OF = Prepared(select(status_stats).where(status_stats.c.status_id.in_(ids_param())))


def account_stats_read(account_ids: Iterable[int]) -> Read[dict[int, AccountStats]]:
    ids = list(set(account_ids))
    return Read(_ACCOUNT_STATS_OF, {"ids": ids}, lambda rows: _by_key(ids, rows, AccountStats))


def status_stats_read(status_ids: Iterable[int]) -> Read[dict[int, StatusStats]]:
    ids = list(set(status_ids))
    return Read(_STATUS_STATS_OF, {"ids": ids}, lambda rows: _by_key(ids, rows, StatusStats))


def _by_key(ids: list[int], rows: list[dict[str, Any]], stats: type[S]) -> dict[int, S]:
    """Counters by their row's key (its first column); zeros for ids never counted."""
    found = {key: stats() for key in ids}
    for row in rows:
        key, *values = row.values()
        found[key] = stats(*values)
    return found


class CounterQueries(Queries):
    async def account_stats_of(self, account_ids: Iterable[int]) -> dict[int, AccountStats]:
        """The counters of many accounts (zeros for one never counted)."""
        return await self.db.read(account_stats_read(account_ids))

    async def status_stats_of(self, status_ids: Iterable[int]) -> dict[int, StatusStats]:
        """The counters of many statuses (zeros for one never counted)."""
        return await self.db.read(status_stats_read(status_ids))


async def uncount_account(db: AsyncConnection, account_id: int) -> None:
    """Take back what an account's follows, likes, boosts and replies counted on others,
    before its rows are deleted (the cascade does not touch the counters)."""
    accepted = follows.c.state == "accepted"
    followed = select(follows.c.followee_id).where(follows.c.follower_id == account_id, accepted)
    followers = select(follows.c.follower_id).where(follows.c.followee_id == account_id, accepted)
    liked = select(favourites.c.status_id).where(favourites.c.account_id == account_id)
    boosted = select(statuses.c.reblog_of_id).where(
        statuses.c.account_id == account_id, statuses.c.reblog_of_id.is_not(None)
    )
    for table, key, column, chosen in (
        (account_stats, account_stats.c.account_id, "followers_count", followed),
        (account_stats, account_stats.c.account_id, "following_count", followers),
        (status_stats, status_stats.c.status_id, "favourites_count", liked),
        (status_stats, status_stats.c.status_id, "reblogs_count", boosted),
    ):
        await db.execute(update(table).where(key.in_(chosen)).values({column: table.c[column] - 1}))
    replies = (
        select(func.count())
        .where(statuses.c.in_reply_to_id == status_stats.c.status_id)
        .where(statuses.c.account_id == account_id)
        .scalar_subquery()
    )
    answered = select(statuses.c.in_reply_to_id).where(statuses.c.account_id == account_id)
    await db.execute(
        update(status_stats)
        .where(status_stats.c.status_id.in_(answered))
        .values(replies_count=status_stats.c.replies_count - replies)
    )
