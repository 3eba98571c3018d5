"""Follows, and the home feed entries that come and go with them."""

from __future__ import annotations

from sqlalchemy import delete, exists, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from fedchirp.clock import now_iso
from fedchirp.store.counters import bump_account
from fedchirp.store.db import Queries
from fedchirp.store.dialect import insert_ignore
from fedchirp.store.models import FOLLOWER_VISIBLE, Account, Follow, Page
from fedchirp.store.query import newest_first, paged, record, records
from fedchirp.store.schema import (
    accounts,
    follows,
    home_feed,
    local_users,
    status_recipients,
    statuses,
)
from fedchirp.store.visibility import hidden_account

# Posts of a newly followed account that enter the follower's home feed at once
# (Mastodon merges a similar number when a follow starts).
FOLLOW_BACKFILL = 100


class FollowQueries(Queries):
    async def insert_follow(
        self, follower_id: int, followee_id: int, uri: str, state: str
    ) -> Follow:
        """Record a follow; an existing one for the same pair is kept (with its state)."""
        async with self.db.atomic() as db:
            inserted = (
                (
                    await db.execute(
                        insert_ignore(self.db.dialect, follows, ["follower_id", "followee_id"])
                        .values(
                            follower_id=follower_id,
                            followee_id=followee_id,
                            uri=uri,
                            state=state,
                            created_at=now_iso(),
                        )
                        .returning(follows)
                    )
                )
                .mappings()
                .first()
            )
            if inserted is None:
                found = await self.get_follow(follower_id, followee_id)
                assert found is not None
                return found
            if state == "accepted":
                await self._started(db, follower_id, followee_id)
        return record(Follow, inserted)  # type: ignore[return-value]

    async def get_follow(self, follower_id: int, followee_id: int) -> Follow | None:
        row = await self.db.one(
            select(follows).where(
                follows.c.follower_id == follower_id, follows.c.followee_id == followee_id
            )
        )
        return record(Follow, row)

    async def get_follow_by_id(self, follow_id: int) -> Follow | None:
        return record(Follow, await self.db.one(select(follows).where(follows.c.id == follow_id)))

    async def get_follow_by_uri(self, uri: str) -> Follow | None:
        return record(Follow, await self.db.one(select(follows).where(follows.c.uri == uri)))

    async def accept_follow(self, follow_id: int) -> None:
        """Accept a pending follow; the followee's recent posts enter the follower's feed."""
        async with self.db.atomic() as db:
            row = (
                await db.execute(
                    update(follows)
                    .where(follows.c.id == follow_id, follows.c.state == "pending")
                    .values(state="accepted")
                    .returning(follows.c.follower_id, follows.c.followee_id)
                )
            ).first()
            if row is not None:
                await self._started(db, row.follower_id, row.followee_id)

    async def delete_follow(self, follow_id: int) -> None:
        """End a follow; the followee's posts leave the follower's feed, except those
        addressed to the follower."""
        async with self.db.atomic() as db:
            row = (
                await db.execute(
                    delete(follows)
                    .where(follows.c.id == follow_id)
                    .returning(follows.c.follower_id, follows.c.followee_id, follows.c.state)
                )
            ).first()
            if row is not None:
                await self._unfeed(db, row.follower_id, row.followee_id)
                if row.state == "accepted":
                    await _count_follow(db, row.follower_id, row.followee_id, -1)

    async def _started(self, db: AsyncConnection, follower_id: int, followee_id: int) -> None:
        """A follow is accepted: count it, and fill the follower's feed."""
        await _count_follow(db, follower_id, followee_id, 1)
        await db.execute(self._backfill(follower_id, followee_id))

    @staticmethod
    async def _unfeed(db: AsyncConnection, follower_id: int, followee_id: int) -> None:
        await db.execute(
            delete(home_feed).where(
                home_feed.c.account_id == follower_id,
                home_feed.c.status_id.in_(
                    select(statuses.c.id).where(statuses.c.account_id == followee_id)
                ),
                ~exists().where(
                    status_recipients.c.status_id == home_feed.c.status_id,
                    status_recipients.c.account_id == follower_id,
                ),
            )
        )

    def _backfill(self, follower_id: int, followee_id: int):
        """The followee's newest posts that followers may see, into a local follower's feed."""
        recent = (
            select(literal(follower_id), statuses.c.id)
            .where(
                statuses.c.account_id == followee_id,
                statuses.c.visibility.in_(FOLLOWER_VISIBLE),
                exists().where(local_users.c.account_id == follower_id),
            )
            .order_by(statuses.c.id.desc())
            .limit(FOLLOW_BACKFILL)
        )
        return insert_ignore(self.db.dialect, home_feed).from_select(
            ["account_id", "status_id"], recent
        )

    async def follow_counts(self, account_id: int) -> tuple[int, int]:
        """(followers, following), counting accepted follows only."""
        stats = (await self.account_stats_of([account_id]))[account_id]
        return stats.followers_count, stats.following_count

    async def follow_page(
        self, account_id: int, direction: str, page: Page
    ) -> list[tuple[int, Account]]:
        """Accepted followers (direction='followers') or followees as (follow id, account),
        newest follow first, paged by follow id."""
        mine, theirs = (
            (follows.c.followee_id, follows.c.follower_id)
            if direction == "followers"
            else (follows.c.follower_id, follows.c.followee_id)
        )
        statement = (
            select(follows.c.id.label("follow_id"), accounts)
            .join(accounts, accounts.c.id == theirs)
            .where(mine == account_id, follows.c.state == "accepted")
        )
        pairs = []
        for row in await self.db.all(paged(statement, follows.c.id, page)):
            values = dict(row)
            follow_id = values.pop("follow_id")
            pairs.append((follow_id, record(Account, values)))
        return newest_first(pairs, page)  # type: ignore[arg-type]

    async def pending_follows(self, followee_id: int) -> list[Follow]:
        rows = await self.db.all(
            select(follows)
            .where(follows.c.followee_id == followee_id, follows.c.state == "pending")
            .order_by(follows.c.id)
        )
        return records(Follow, rows)

    async def remote_follower_inboxes(self, account_id: int) -> set[str]:
        """Distinct delivery inboxes (shared where offered) of accepted remote followers."""
        inbox = func.coalesce(accounts.c.shared_inbox_url, accounts.c.inbox_url)
        rows = await self.db.scalars(
            select(inbox)
            .distinct()
            .join(follows, follows.c.follower_id == accounts.c.id)
            .where(
                follows.c.followee_id == account_id,
                follows.c.state == "accepted",
                accounts.c.domain != "",
                accounts.c.suspended_at.is_(None),  # nothing goes to suspended accounts
                ~hidden_account(account_id, accounts.c.id),  # a block ended it; never send
            )
        )
        return set(rows)

    async def has_local_follower(self, account_id: int) -> bool:
        row = await self.db.one(
            select(literal(1))
            .select_from(follows)
            .join(local_users, local_users.c.account_id == follows.c.follower_id)
            .where(follows.c.followee_id == account_id, follows.c.state == "accepted")
            .limit(1)
        )
        return row is not None


async def _count_follow(
    db: AsyncConnection, follower_id: int, followee_id: int, change: int
) -> None:
    await bump_account(db, followee_id, followers_count=change)
    await bump_account(db, follower_id, following_count=change)
