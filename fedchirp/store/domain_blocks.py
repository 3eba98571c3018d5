"""The instance's domain blocks, and what a block does to the rows of that domain.

A block covers its domain and every subdomain (Mastodon's rule). Its effect on
accounts is stamped on them, as Mastodon does: suspending or silencing a domain sets
accounts.suspended_at / silenced_at to the block's created_at on each of its
accounts (one UPDATE), so every read filters on a column of the author's row (a
primary-key lookup), and lifting the block clears exactly the stamps it set (an
admin's own suspension of one account, with another time, stays).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.sql import ColumnElement

from fedchirp.store.db import Queries
from fedchirp.store.outbound import DELIVER, add_outcomes, delivery_activity_id
from fedchirp.store.query import record, records
from fedchirp.store.schema import accounts, domain_blocks, follows, jobs, media_attachments


@dataclass(frozen=True)
class DomainBlock:
    id: int
    domain: str
    severity: str  # noop | silence | suspend
    reject_media: bool
    reject_reports: bool
    private_comment: str
    public_comment: str
    obfuscate: bool
    created_at: str


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def domain_covers(column: Any, domain: str) -> ColumnElement[bool]:
    """column (a host, maybe with :port) is domain, a subdomain of it, or (when domain
    names no port) either of those on any port."""
    escaped = _like_escaped(domain)
    patterns = [f"%.{escaped}"]
    if ":" not in domain:
        patterns += [f"{escaped}:%", f"%.{escaped}:%"]
    return or_(column == domain, *(column.like(p, escape="\\") for p in patterns))


def _inbox_on(domain: str) -> ColumnElement[bool]:
    """An inbox URL whose host the domain covers."""
    column = jobs.c.lane  # a delivery job's lane is its inbox
    escaped = _like_escaped(domain)
    ends = ["/%"] + ([":%"] if ":" not in domain else [])
    starts = ["%://", "%://%."]
    return or_(*(column.like(f"{s}{escaped}{e}", escape="\\") for s in starts for e in ends))


class DomainBlockQueries(Queries):
    async def domain_blocks(self) -> list[DomainBlock]:
        """Every block, oldest first (a few thousand at most, even for big blocklists)."""
        rows = await self.db.all(select(domain_blocks).order_by(domain_blocks.c.id))
        return records(DomainBlock, rows)

    async def get_domain_block(self, block_id: int) -> DomainBlock | None:
        row = await self.db.one(select(domain_blocks).where(domain_blocks.c.id == block_id))
        return record(DomainBlock, row)

    async def get_domain_block_by_domain(self, domain: str) -> DomainBlock | None:
        row = await self.db.one(select(domain_blocks).where(domain_blocks.c.domain == domain))
        return record(DomainBlock, row)

    async def insert_domain_block(self, values: dict[str, Any]) -> DomainBlock:
        rows = await self.db.write_returning(
            insert(domain_blocks).values(**values).returning(domain_blocks)
        )
        return record(DomainBlock, rows[0])  # type: ignore[return-value]

    async def update_domain_block(self, block_id: int, values: dict[str, Any]) -> DomainBlock:
        rows = await self.db.write_returning(
            update(domain_blocks)
            .where(domain_blocks.c.id == block_id)
            .values(**values)
            .returning(domain_blocks)
        )
        return record(DomainBlock, rows[0])  # type: ignore[return-value]

    async def delete_domain_block(self, block_id: int) -> None:
        await self.db.write(delete(domain_blocks).where(domain_blocks.c.id == block_id))

    async def stamp_domain_accounts(self, domain: str, column: str, at: str) -> int:
        """Set suspended_at or silenced_at on the domain's accounts not stamped yet."""
        stamped = accounts.c[column]
        result = await self.db.write(
            update(accounts)
            .where(accounts.c.domain != "", domain_covers(accounts.c.domain, domain))
            .where(stamped.is_(None))
            .values({column: at})
        )
        return result.rowcount

    async def unstamp_domain_accounts(self, domain: str, column: str, at: str) -> int:
        """Clear the stamps a block made at `at` (not those of another decision)."""
        stamped = accounts.c[column]
        result = await self.db.write(
            update(accounts)
            .where(accounts.c.domain != "", domain_covers(accounts.c.domain, domain))
            .where(stamped == at)
            .values({column: None})
        )
        return result.rowcount

    async def follows_with_domain(self, domain: str) -> list[int]:
        """Ids of the follows either way between local accounts and the domain's."""
        remote = select(accounts.c.id).where(
            accounts.c.domain != "", domain_covers(accounts.c.domain, domain)
        )
        return await self.db.scalars(
            select(follows.c.id).where(
                or_(follows.c.follower_id.in_(remote), follows.c.followee_id.in_(remote))
            )
        )

    async def clear_domain_media(self, domain: str) -> int:
        """Forget the domain's media: its accounts' avatars and headers, and the remote
        attachments of their posts (links only: no file of ours goes). Returns how many
        attachments went."""
        remote = select(accounts.c.id).where(
            accounts.c.domain != "", domain_covers(accounts.c.domain, domain)
        )
        await self.db.write(
            update(accounts).where(accounts.c.id.in_(remote)).values(avatar_url="", header_url="")
        )
        result = await self.db.write(
            delete(media_attachments).where(
                media_attachments.c.account_id.in_(remote),
                media_attachments.c.remote_url.is_not(None),
            )
        )
        return result.rowcount

    async def drop_deliveries_to(self, domain: str, reason: str, at: str) -> int:
        """Fail the queued deliveries to the domain's inboxes (dead jobs, counted as failed
        on their activities); they are never sent."""
        async with self.db.atomic():
            dropped = await self.db.write_returning(
                update(jobs)
                .where(jobs.c.queue == DELIVER, jobs.c.state == "queued", _inbox_on(domain))
                .values(state="dead", last_error=reason, finished_at=at, lease_until=0)
                .returning(jobs.c.payload)
            )
            failed = Counter(delivery_activity_id(row["payload"]) for row in dropped)
            await add_outcomes(self.db, {key: (0, n) for key, n in failed.items()})
        return len(dropped)


def by_domain(blocks: Iterable[DomainBlock]) -> dict[str, DomainBlock]:
    return {block.domain: block for block in blocks}
