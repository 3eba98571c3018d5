"""A user's blocks, mutes and domain blocks: the rows, and the feed entries a block ends.

What they hide is decided in store/visibility.py (the one visibility predicate); here
they are written, listed and looked up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, literal, or_, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from fedchirp.clock import now_iso
from fedchirp.store.db import Queries
from fedchirp.store.dialect import insert_ignore, upsert
from fedchirp.store.models import Account, Follow, Page
from fedchirp.store.moderation_tables import account_domain_blocks, blocks, mutes
from fedchirp.store.query import newest_first, paged, record, records
from fedchirp.store.schema import accounts, follows, home_feed, statuses
from fedchirp.store.visibility import domain_blocked, hidden_account, muted


@dataclass(frozen=True)
class Block:
    id: int
    account_id: int
    target_account_id: int
    uri: str
    created_at: str


@dataclass(frozen=True)
class Mute:
    id: int
    account_id: int
    target_account_id: int
    hide_notifications: bool
    expires_at: float | None
    created_at: str


@dataclass(frozen=True)
class Standing:
    """The moderation half of a Mastodon Relationship, from the viewer's side."""

    blocking: bool
    blocked_by: bool
    muting: bool
    muting_notifications: bool
    domain_blocking: bool


class BlockQueries(Queries):
    # -- blocks -----------------------------------------------------------------

    async def insert_block(self, account_id: int, target_id: int, uri: str) -> Block | None:
        """Record that account blocks target, and take each one's posts (and boosts of
        them) out of the other's home feed; None if the block was there already."""
        async with self.db.atomic() as db:
            row = (
                (
                    await db.execute(
                        insert_ignore(self.db.dialect, blocks, ["account_id", "target_account_id"])
                        .values(
                            account_id=account_id,
                            target_account_id=target_id,
                            uri=uri,
                            created_at=now_iso(),
                        )
                        .returning(blocks)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            await _unfeed(db, account_id, target_id)
            await _unfeed(db, target_id, account_id)
        return record(Block, row)

    async def get_block(self, account_id: int, target_id: int) -> Block | None:
        row = await self.db.one(
            select(blocks).where(
                blocks.c.account_id == account_id, blocks.c.target_account_id == target_id
            )
        )
        return record(Block, row)

    async def get_block_by_uri(self, uri: str) -> Block | None:
        return record(Block, await self.db.one(select(blocks).where(blocks.c.uri == uri)))

    async def delete_block(self, block_id: int) -> None:
        await self.db.write(delete(blocks).where(blocks.c.id == block_id))

    async def blocked_accounts(self, account_id: int, page: Page) -> list[tuple[int, Account]]:
        """Accounts this one blocks as (block id, account), newest block first."""
        statement = (
            select(blocks.c.id.label("block_id"), accounts)
            .join(accounts, accounts.c.id == blocks.c.target_account_id)
            .where(blocks.c.account_id == account_id)
        )
        return _pairs(await self.db.all(paged(statement, blocks.c.id, page)), "block_id", page)

    async def hidden_accounts(self, viewer_id: int, account_ids: Iterable[int]) -> set[int]:
        """Which of these accounts a block (either way) or a domain block of the viewer
        separates from the viewer."""
        ids = list(set(account_ids))
        if not ids:
            return set()
        rows = await self.db.scalars(
            select(accounts.c.id).where(
                accounts.c.id.in_(ids), hidden_account(viewer_id, accounts.c.id)
            )
        )
        return set(rows)

    async def readers_kept_from(self, author_id: int, reader_ids: Iterable[int]) -> set[int]:
        """Which of these readers a block (either way) or their own domain block keeps
        from this author."""
        ids = list(set(reader_ids))
        if not ids:
            return set()
        rows = await self.db.scalars(
            select(accounts.c.id).where(
                accounts.c.id.in_(ids), hidden_account(accounts.c.id, literal(author_id))
            )
        )
        return set(rows)

    # -- mutes ------------------------------------------------------------------

    async def upsert_mute(
        self, account_id: int, target_id: int, hide_notifications: bool, expires_at: float | None
    ) -> None:
        """Mute target (again: the new settings and expiry replace the old ones)."""
        values = {
            "account_id": account_id,
            "target_account_id": target_id,
            "hide_notifications": int(hide_notifications),
            "expires_at": expires_at,
            "created_at": now_iso(),
        }
        await self.db.write(
            upsert(
                self.db.dialect,
                mutes,
                values,
                ["account_id", "target_account_id"],
                ["created_at"],
            )
        )

    async def delete_mute(self, account_id: int, target_id: int) -> None:
        await self.db.write(
            delete(mutes).where(
                mutes.c.account_id == account_id, mutes.c.target_account_id == target_id
            )
        )

    async def muted_accounts(
        self, account_id: int, page: Page, now: float
    ) -> list[tuple[Mute, Account]]:
        """Accounts this one mutes (mutes not expired by now), newest mute first."""
        statement = (
            select(
                mutes.c.id.label("mute_id"),
                mutes.c.hide_notifications.label("mute_hides_notifications"),
                mutes.c.expires_at.label("mute_expires_at"),
                mutes.c.created_at.label("mute_created_at"),
                accounts,
            )
            .join(accounts, accounts.c.id == mutes.c.target_account_id)
            .where(
                mutes.c.account_id == account_id,
                or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > now),
            )
        )
        pairs = []
        for row in await self.db.all(paged(statement, mutes.c.id, page)):
            values = dict(row)
            mute = Mute(
                id=values.pop("mute_id"),
                account_id=account_id,
                target_account_id=values["id"],
                hide_notifications=bool(values.pop("mute_hides_notifications")),
                expires_at=values.pop("mute_expires_at"),
                created_at=values.pop("mute_created_at"),
            )
            pairs.append((mute, record(Account, values)))
        return newest_first(pairs, page)  # type: ignore[arg-type]

    # -- domain blocks ----------------------------------------------------------

    async def insert_user_domain_block(self, account_id: int, domain: str) -> None:
        await self.db.write(
            insert_ignore(self.db.dialect, account_domain_blocks).values(
                account_id=account_id, domain=domain, created_at=now_iso()
            )
        )

    async def delete_user_domain_block(self, account_id: int, domain: str) -> None:
        await self.db.write(
            delete(account_domain_blocks).where(
                account_domain_blocks.c.account_id == account_id,
                account_domain_blocks.c.domain == domain,
            )
        )

    async def blocked_domains(self, account_id: int) -> list[str]:
        rows = await self.db.scalars(
            select(account_domain_blocks.c.domain)
            .where(account_domain_blocks.c.account_id == account_id)
            .order_by(account_domain_blocks.c.domain)
        )
        return list(rows)

    async def follows_with_user_blocked_domain(self, account_id: int, domain: str) -> list[Follow]:
        """Follows either way between this account and accounts on domain."""
        theirs = select(accounts.c.id).where(accounts.c.domain == domain)
        rows = await self.db.all(
            select(follows).where(
                or_(
                    (follows.c.follower_id == account_id) & follows.c.followee_id.in_(theirs),
                    (follows.c.followee_id == account_id) & follows.c.follower_id.in_(theirs),
                )
            )
        )
        return records(Follow, rows)

    # -- relationship -----------------------------------------------------------

    async def standing(self, viewer_id: int, target_id: int, now: float) -> Standing:
        """Whether viewer blocks, is blocked by, mutes or domain-blocks target: one read."""
        target = literal(target_id)
        row = await self.db.one(
            select(
                exists()
                .where(blocks.c.account_id == viewer_id, blocks.c.target_account_id == target)
                .label("blocking"),
                exists()
                .where(blocks.c.account_id == target, blocks.c.target_account_id == viewer_id)
                .label("blocked_by"),
                muted(viewer_id, target, now).label("muting"),
                muted(viewer_id, target, now, notifications=True).label("muting_notifications"),
                domain_blocked(viewer_id, target).label("domain_blocking"),
            )
        )
        assert row is not None
        return Standing(**{key: bool(value) for key, value in dict(row).items()})


async def _unfeed(db: AsyncConnection, reader_id: int, author_id: int) -> None:
    """Take author's posts, and boosts of them, out of reader's home feed."""
    original = statuses.alias("unfed_original")
    theirs = union(
        select(statuses.c.id).where(statuses.c.account_id == author_id),
        select(statuses.c.id)
        .join(original, original.c.id == statuses.c.reblog_of_id)
        .where(original.c.account_id == author_id),
    )
    await db.execute(
        delete(home_feed).where(
            home_feed.c.account_id == reader_id, home_feed.c.status_id.in_(theirs)
        )
    )


def _pairs(rows: Any, id_key: str, page: Page) -> list[tuple[int, Account]]:
    pairs = []
    for row in rows:
        values = dict(row)
        row_id = values.pop(id_key)
        pairs.append((row_id, record(Account, values)))
    return newest_first(pairs, page)  # type: ignore[arg-type]
